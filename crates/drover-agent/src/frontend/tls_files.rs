//! The certificate (with its chain) and key nginx serves, written 0600 under the frontend's
//! `shared/tls`, each named by its content's hash: a new certificate is a new path, so
//! `nginx.conf` changes with it and nginx reloads (SIGHUP, no request dropped), while the running
//! nginx keeps its old files until the new config is in force.

use std::path::{Path, PathBuf};

use drover_core::frontend::TlsFiles;
use drover_core::frontend::tls::SslSettings;
use sha2::{Digest, Sha256};

/// The directory of the files under the frontend's `shared`.
pub fn dir(shared: &Path) -> PathBuf {
    shared.join("tls")
}

fn name(certificate: &str, key: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(certificate.as_bytes());
    hash.update([0]);
    hash.update(key.as_bytes());
    hex::encode(&hash.finalize()[..8])
}

/// Writes the files `ssl` asks for (when they are not there yet); their paths. No settings: no
/// files (empty paths).
pub fn write(shared: &Path, ssl: Option<&SslSettings>) -> Result<TlsFiles, String> {
    let Some(ssl) = ssl else { return Ok(TlsFiles::default()) };
    let dir = dir(shared);
    let stem = name(&ssl.certificate, &ssl.certificate_key);
    let (cert, key) = (dir.join(format!("{stem}.crt")), dir.join(format!("{stem}.key")));
    for (path, text) in [(&cert, &ssl.certificate), (&key, &ssl.certificate_key)] {
        if std::fs::read_to_string(path).is_ok_and(|old| &old == text) {
            continue;
        }
        crate::private_file::write_private(path, text.as_bytes())
            .map_err(|e| format!("failed to write {}: {e}", path.display()))?;
    }
    Ok(TlsFiles {
        certificate: cert.to_string_lossy().into_owned(),
        certificate_key: key.to_string_lossy().into_owned(),
    })
}

/// Removes the files the config in force no longer names (an older certificate, or every file
/// once HTTPS is off).
pub fn remove_unused(shared: &Path, in_use: &TlsFiles) {
    let Ok(entries) = std::fs::read_dir(dir(shared)) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let used = [&in_use.certificate, &in_use.certificate_key].iter().any(|p| Path::new(p.as_str()) == path);
        if !used {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn ssl(cert: &str) -> SslSettings {
        SslSettings {
            certificate: cert.into(),
            certificate_key: "KEY".into(),
            hsts: None,
            redirect_http: true,
            https_port: 443,
        }
    }

    #[test]
    fn files_are_private_named_by_content_and_old_ones_go() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(write(root.path(), None).unwrap().certificate, "");
        let first = write(root.path(), Some(&ssl("CERT1"))).unwrap();
        assert_eq!(std::fs::read_to_string(&first.certificate).unwrap(), "CERT1");
        for path in [&first.certificate, &first.certificate_key] {
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{path}");
        }
        assert_eq!(write(root.path(), Some(&ssl("CERT1"))).unwrap().certificate, first.certificate);
        let second = write(root.path(), Some(&ssl("CERT2"))).unwrap();
        assert_ne!(second.certificate, first.certificate);
        remove_unused(root.path(), &second);
        assert!(!Path::new(&first.certificate).exists() && Path::new(&second.certificate_key).exists());
        remove_unused(root.path(), &TlsFiles::default());
        assert!(!Path::new(&second.certificate).exists());
    }
}
