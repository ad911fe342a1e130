//! What a server process runs, as a hash: its `bin/` script and its part's generated files, with
//! the release directory's path taken out. A deploy restarts a server (the ZEO server) only when
//! this changed: a new commit of the app's code does not restart the one ZEO server every client
//! depends on.

use std::path::Path;

use drover_core::deploy::plan::ServiceSpec;
use sha2::{Digest, Sha256};

use crate::app::paths::AppPaths;

/// The most bytes read from a part's directory.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}

/// The fingerprint of `spec` in the app's current release; none for programs outside it.
pub fn of(paths: &AppPaths, spec: &ServiceSpec) -> Option<String> {
    if Path::new(&spec.script).is_absolute() {
        return None;
    }
    let release = std::fs::canonicalize(paths.current()).ok()?;
    let release_text = release.to_string_lossy().into_owned();
    let mut inputs = vec![release.join("bin").join(&spec.script)];
    let mut part = Vec::new();
    files(&release.join("parts").join(&spec.name), &mut part);
    part.sort();
    inputs.extend(part);
    let mut hash = Sha256::new();
    let mut read = 0;
    for file in inputs {
        let bytes = std::fs::read(&file).ok()?;
        read += bytes.len() as u64;
        if read > MAX_BYTES {
            return None;
        }
        let relative = file.strip_prefix(&release).unwrap_or(&file).to_string_lossy().into_owned();
        hash.update(relative.as_bytes());
        hash.update(b"\0");
        hash.update(String::from_utf8_lossy(&bytes).replace(&release_text, "$RELEASE").as_bytes());
        hash.update(b"\0");
    }
    hash.update(spec.args.join("\0").as_bytes());
    Some(hex::encode(hash.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(paths: &AppPaths, name: &str, conf: &str) {
        let dir = paths.release(name);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::create_dir_all(dir.join("parts/zeoserver/etc")).unwrap();
        let script = format!("#!/bin/sh\nexec runzeo -C {}/parts/zeoserver/etc/zeo.conf\n", dir.display());
        std::fs::write(dir.join("bin/zeoserver"), script).unwrap();
        std::fs::write(dir.join("parts/zeoserver/etc/zeo.conf"), conf).unwrap();
        paths.switch_current(name).unwrap();
    }

    #[test]
    fn the_same_server_in_another_release_has_the_same_fingerprint() {
        let root = tempfile::tempdir().unwrap();
        let paths = AppPaths::new(root.path(), "site");
        std::fs::create_dir_all(paths.releases()).unwrap();
        let spec = ServiceSpec {
            name: "zeoserver".into(),
            script: "zeoserver".into(),
            args: vec!["fg".into()],
            client: false,
            ready: None,
        };
        release(&paths, "20260101000000", "address 127.0.0.2:8001\n");
        let first = of(&paths, &spec).unwrap();
        release(&paths, "20260102000000", "address 127.0.0.2:8001\n");
        assert_eq!(of(&paths, &spec).unwrap(), first, "only the release path differs");
        release(&paths, "20260103000000", "address 127.0.0.9:8001\n");
        assert_ne!(of(&paths, &spec).unwrap(), first, "its configuration changed");
        let absolute = ServiceSpec { script: "/usr/sbin/haproxy".into(), ..spec };
        assert_eq!(of(&paths, &absolute), None);
    }
}
