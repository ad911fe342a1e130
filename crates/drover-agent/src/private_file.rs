//! The one way the agent writes a file that may hold secrets or must never be seen half
//! written (its credential, the stack configuration, deploy keys, service state, the journal,
//! release records): a temporary file beside it with mode 0600, synced, then renamed over it.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Writes `contents` to `path` atomically, readable only by the owner; creates the parent
/// directory when it is missing.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A name of its own per write: two commands writing the same file at once (a Setup and a
    // Configure) must not rename each other's temporary file away.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// At agent start: makes everything the agent and its children (buildout, the services, nginx,
/// HAProxy) create from now on private to this user (umask 077: services run as the agent's own
/// user, so nothing needs group or other access), and takes group and other access away from
/// the secret-holding files an older agent left readable: its credential, the stack
/// configuration, the journal, each release's `deploy.cfg` and record, the frontend's configs.
pub fn make_private(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let state = root.join("var/lib/drover");
    let mut files = vec![state.join("agent.json"), state.join("stack-config.json")];
    let listed = |dir: &Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect()
    };
    files.extend(listed(&state.join("commands")));
    for app in listed(&root.join("srv/www")) {
        for release in listed(&app.join("releases")) {
            files.push(release.join("deploy.cfg"));
            files.push(release.join(".drover/release.json"));
        }
        files.push(app.join("shared/haproxy.cfg"));
        files.push(app.join("shared/nginx.conf"));
    }
    for file in files {
        let Ok(meta) = std::fs::symlink_metadata(&file) else { continue };
        if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            let private = std::fs::Permissions::from_mode(meta.permissions().mode() & 0o700);
            if let Err(e) = std::fs::set_permissions(&file, private) {
                tracing::warn!("failed to make {} private: {e}", file.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn writes_whole_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/secret.json");
        write_private(&path, b"one").unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let names: Vec<_> =
            std::fs::read_dir(path.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, ["secret.json"], "no temporary file is left");
    }

    #[test]
    fn takes_access_away_from_old_secret_files() {
        let root = tempfile::tempdir().unwrap();
        let cfg = root.path().join("srv/www/site/releases/r1/deploy.cfg");
        let other = root.path().join("srv/www/site/releases/r1/README");
        for path in [&cfg, &other] {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let old_umask = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
        make_private(root.path());
        nix::sys::stat::umask(old_umask);
        assert_eq!(std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&other).unwrap().permissions().mode() & 0o777, 0o644, "not a secret file");
    }
}
