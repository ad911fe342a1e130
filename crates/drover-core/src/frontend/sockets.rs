//! Where the frontend's Unix sockets live. A socket path has a hard length limit (HAProxy 2.6
//! refuses one over 97 bytes with "socket path … too long", the kernel one over 107), and an
//! instance root (`<data-dir>/instances/<stack>/<hostname>`) can alone be longer than that. So
//! the sockets live in a short runtime directory named by a hash of the instance root, whatever
//! the data dir, stack and instance names are. The agent picks the base (it knows whether `/run`
//! is writable) and creates the directories 0700; everything that opens these sockets gets their
//! paths from [`Sockets::new`].

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The longest socket path HAProxy 2.6 accepts (`sizeof(sun_path) - 1` less its own margin).
pub const MAX_SOCKET_PATH: usize = 97;

/// The base of runtime directories for an agent that may write `/run` (root).
pub const SYSTEM_RUNTIME_BASE: &str = "/run/drover";

/// The base of runtime directories: `/run/drover` when `/run` is writable, else
/// `/tmp/drover-<uid>` (per user, so users never share one).
pub fn runtime_base(run_writable: bool, uid: u32) -> PathBuf {
    if run_writable { PathBuf::from(SYSTEM_RUNTIME_BASE) } else { PathBuf::from(format!("/tmp/drover-{uid}")) }
}

/// 16 hex digits of a 64-bit FNV-1a hash of the instance root's bytes. FNV rather than a
/// `std` hasher because the name must stay the same across agent builds (a running HAProxy keeps
/// its socket); the roots are the admin's own, so collision resistance is not needed.
fn key(instance_root: &Path) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in instance_root.as_os_str().as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The frontend's Unix sockets of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sockets {
    /// `<base>/<16 hex>`: created 0700 by the agent.
    pub dir: PathBuf,
    /// HAProxy's master CLI (`haproxy -W -S <path>`).
    pub master: PathBuf,
    /// HAProxy's runtime API, admin level (`stats socket`), for the agent on this instance.
    pub stats: PathBuf,
}

impl Sockets {
    /// The sockets of the instance at `instance_root` under the runtime `base`.
    pub fn new(base: &Path, instance_root: &Path) -> Self {
        let dir = base.join(key(instance_root));
        Self { master: dir.join("haproxy-master.sock"), stats: dir.join("haproxy.sock"), dir }
    }

    /// Every socket path.
    pub fn all(&self) -> [&Path; 2] {
        [&self.master, &self.stats]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_paths_stay_short_whatever_the_names() {
        let stack = "s".repeat(32);
        let host = "h".repeat(32);
        let data_dir = format!("/var/lib/{}", "d".repeat(51));
        assert_eq!(data_dir.len(), 60);
        // (instance root, runtime base)
        let roots = [
            format!("{data_dir}/instances/{stack}/{host}"),
            format!("{data_dir}/instances/{stack}/{}", "g".repeat(32)),
            "/var/lib/drover/instances/production/frontend-eu1".to_owned(),
            "/".to_owned(),
        ];
        let bases = [runtime_base(true, 0), runtime_base(false, u32::MAX)];
        let mut dirs = std::collections::BTreeSet::new();
        for base in &bases {
            for root in &roots {
                let sockets = Sockets::new(base, Path::new(root));
                assert!(sockets.dir.starts_with(base), "{sockets:?}");
                for path in sockets.all() {
                    let len = path.as_os_str().len();
                    assert!(len <= MAX_SOCKET_PATH, "{} is {len} bytes, for {root}", path.display());
                }
                assert_eq!(sockets, Sockets::new(base, Path::new(root)), "the same root, the same sockets");
                dirs.insert(sockets.dir);
            }
        }
        assert_eq!(dirs.len(), roots.len() * bases.len(), "each root its own directory: {dirs:?}");
    }

    #[test]
    fn the_base_depends_on_whether_run_is_writable() {
        let cases = [(true, 0, "/run/drover"), (true, 1000, "/run/drover"), (false, 1000, "/tmp/drover-1000")];
        for (writable, uid, want) in cases {
            assert_eq!(runtime_base(writable, uid), Path::new(want), "{writable} {uid}");
        }
    }

    #[test]
    fn the_key_is_stable() {
        // Pinned: a change would leave running HAProxies' sockets where no agent looks.
        assert_eq!(key(Path::new("")), "cbf29ce484222325");
        assert_eq!(key(Path::new("a")), "af63dc4c8601ec8c");
    }
}
