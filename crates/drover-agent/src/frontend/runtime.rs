//! HAProxy's runtime API: one command per connection over its local 0600 Unix socket, whose path
//! comes from [`sockets`]. Agents of other instances reach it only through the server's relay.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use drover_core::frontend::sockets::{self, Sockets};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The frontend's Unix sockets of the instance at `root` (core's [`Sockets`]: short whatever
/// the root's length), their directories created 0700 and owned by this agent's user. Every
/// user of those sockets (HAProxy's command line and config, the agent's own calls) gets them
/// from here.
pub fn sockets(root: &Path) -> Result<Sockets, String> {
    // The same root however it was spelled, so an agent restarted with another spelling finds
    // the sockets its HAProxy listens on.
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    // `/proc/self` belongs to the process's effective user (no unsafe `geteuid` needed).
    let uid =
        std::fs::metadata("/proc/self").map(|m| m.uid()).map_err(|e| format!("failed to read /proc/self: {e}"))?;
    let system = Path::new(sockets::SYSTEM_RUNTIME_BASE);
    let run_writable = private_dir(system, uid).is_ok();
    let base = sockets::runtime_base(run_writable, uid);
    if !run_writable {
        private_dir(&base, uid)?;
    }
    let sockets = Sockets::new(&base, &root);
    private_dir(&sockets.dir, uid)?;
    Ok(sockets)
}

/// Makes `dir` a directory of `uid`'s only (0700): created so, or an existing one checked (not a
/// symlink, not another user's) and its mode narrowed.
fn private_dir(dir: &Path, uid: u32) -> Result<(), String> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("failed to create {}: {e}", dir.display())),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("failed to read {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!(
            "{} is not a directory; remove it so the agent can create its socket directory",
            dir.display()
        ));
    }
    if meta.uid() != uid {
        return Err(format!(
            "{} belongs to uid {}, not to this agent's user (uid {uid}); remove it or run the agent as its owner",
            dir.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("failed to make {} private: {e}", dir.display()))?;
    }
    Ok(())
}

/// How long one runtime API call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut stream: S,
    command: &str,
) -> std::io::Result<String> {
    stream.write_all(format!("{command}\n").as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer)
}

/// Runs a command on the runtime API's UNIX socket.
pub async fn unix(path: &Path, command: &str) -> Result<String, String> {
    let call = async {
        let stream = tokio::net::UnixStream::connect(path).await?;
        exchange(stream, command).await
    };
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(format!("HAProxy runtime API at {}: {e}", path.display())),
        Err(_) => Err(format!("HAProxy runtime API at {}: no answer", path.display())),
    }
}

/// One server of a backend in `show stat`.
struct ServerRow<'a> {
    name: &'a str,
    /// Current sessions.
    scur: u64,
    /// `UP`, `DOWN`, `DRAIN`, `MAINT`, `UP 1/3`, `no check`, …
    status: &'a str,
}

/// The servers of `backend` in a `show stat` answer (not its FRONTEND and BACKEND rows); none
/// when `csv` is not one.
fn servers<'a>(csv: &'a str, backend: &str) -> Option<Vec<ServerRow<'a>>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next()?.trim_start_matches("# ").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (pxname, svname, scur, status) = (col("pxname")?, col("svname")?, col("scur")?, col("status")?);
    let rows = lines
        .map(|l| l.split(',').collect::<Vec<&str>>())
        .filter(|f| f.get(pxname) == Some(&backend))
        .map(|f| ServerRow {
            name: f.get(svname).copied().unwrap_or_default(),
            scur: f.get(scur).and_then(|v| v.parse().ok()).unwrap_or(0),
            status: f.get(status).copied().unwrap_or_default(),
        })
        .filter(|row| row.name != "FRONTEND" && row.name != "BACKEND")
        .collect();
    Some(rows)
}

/// A server's current sessions and status from `show stat`.
pub fn server_stat(csv: &str, backend: &str, server: &str) -> Option<(u64, String)> {
    servers(csv, backend)?.into_iter().find(|row| row.name == server).map(|row| (row.scur, row.status.to_owned()))
}

/// What `show stat` says of the other servers of `backend` than `server`.
#[derive(Debug, PartialEq, Eq)]
pub struct Others {
    /// How many there are.
    pub total: usize,
    /// How many take new requests: `UP` (also `UP 1/3`, going down but still serving) or
    /// `no check`.
    pub serving: usize,
}

/// The other servers of `backend` than `server`, from `show stat`; none when `csv` is not a
/// `show stat` answer.
pub fn others(csv: &str, backend: &str, server: &str) -> Option<Others> {
    let others: Vec<ServerRow> = servers(csv, backend)?.into_iter().filter(|row| row.name != server).collect();
    let serving = others
        .iter()
        .filter(|row| row.status == "UP" || row.status.starts_with("UP ") || row.status == "no check")
        .count();
    Some(Others { total: others.len(), serving })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_socket_directory_is_private_and_the_same_each_time() {
        let root = tempfile::tempdir().unwrap();
        let first = super::sockets(root.path()).unwrap();
        let again = super::sockets(&root.path().join(".")).unwrap();
        assert_eq!(first, again, "the same root, however spelled");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&first.dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}", first.dir.display());
        std::fs::remove_dir(&first.dir).unwrap();
    }

    #[test]
    fn reads_a_server_from_show_stat() {
        let csv = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status\n\
                   plone,FRONTEND,,,0,0,4096,0,0,0,0,0,0,,,,,OPEN\n\
                   plone,clients1-client1,0,0,2,3,2,40,0,0,,0,,0,0,0,0,DRAIN\n\
                   plone,BACKEND,0,0,2,3,410,40,0,0,0,0,,0,0,0,0,UP\n";
        assert_eq!(super::server_stat(csv, "plone", "clients1-client1"), Some((2, "DRAIN".to_owned())));
        assert_eq!(super::server_stat(csv, "plone", "clients9-client1"), None);
    }

    #[test]
    fn counts_the_other_servers_that_take_requests() {
        let header = "# pxname,svname,scur,status\n";
        let rows = |statuses: &[(&str, &str)]| {
            let mut csv = format!("{header}plone,FRONTEND,0,OPEN\n");
            for (name, status) in statuses {
                csv.push_str(&format!("plone,{name},0,{status}\n"));
            }
            csv.push_str("stats,BACKEND,0,UP\nplone,BACKEND,0,UP\n");
            csv
        };
        let me = "clients1-client1";
        // (each server's status, how many others, how many of them serve)
        type Case<'a> = (&'a [(&'a str, &'a str)], usize, usize);
        let cases: &[Case] = &[
            (&[(me, "UP")], 0, 0),
            (&[(me, "UP"), ("clients2-client1", "UP")], 1, 1),
            (&[(me, "UP"), ("clients2-client1", "DOWN")], 1, 0),
            (&[(me, "UP"), ("clients2-client1", "DOWN 1/2")], 1, 0),
            (&[(me, "UP"), ("clients2-client1", "UP 1/3")], 1, 1),
            (&[(me, "UP"), ("clients2-client1", "DRAIN"), ("clients2-client2", "MAINT")], 2, 0),
            (&[(me, "DRAIN"), ("clients2-client1", "no check"), ("clients2-client2", "UP")], 2, 2),
        ];
        for (statuses, total, serving) in cases {
            let got = super::others(&rows(statuses), "plone", me);
            assert_eq!(got, Some(super::Others { total: *total, serving: *serving }), "{statuses:?}");
        }
        assert_eq!(super::others("Unknown command.", "plone", me), None);
        assert_eq!(super::others("", "plone", me), None);
    }
}
