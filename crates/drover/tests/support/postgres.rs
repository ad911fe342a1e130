//! `Postgres`: a PostgreSQL cluster of the test's own (Debian's `postgresql` binaries, never a
//! system service): `initdb` in a temporary directory, `postgres` listening on 127.0.0.1 and a free
//! port with its socket in that directory, run as the `postgres` user when the test is root
//! (`runuser -u postgres --`). Dropping it stops the postmaster by its pid (fast shutdown, then
//! SIGKILL) and removes the directory.
//!
//! The superuser `postgres` logs in without a password over the cluster's own socket only; TCP
//! logins need a password (scram-sha-256), so a client that connects works only if it was given
//! the right one. Passwords reach `psql` on its standard input, never in argv or the environment.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long the cluster may take to start or stop.
const WAIT: Duration = Duration::from_secs(60);

/// A running PostgreSQL cluster.
pub struct Postgres {
    dir: tempfile::TempDir,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    bin: PathBuf,
    child: Option<Child>,
}

/// Whether the test runs as root.
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The directory of `initdb` and `postgres`: `DROVER_POSTGRES_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DROVER_POSTGRES_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("postgres").exists() && bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!("PostgreSQL is not installed: run scripts/deps.sh (Debian's postgresql), or set DROVER_POSTGRES_BIN")
    })
}

/// `program` as the `postgres` user when root (PostgreSQL refuses to run as root), else as is.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A string literal of SQL.
pub fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// An identifier of SQL.
pub fn sql_identifier(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Postgres {
    /// Makes and starts a cluster; returns once it accepts connections.
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::Builder::new().prefix("drover-pg-").tempdir().unwrap();
        if is_root() {
            let status = Command::new("chown").args(["postgres:postgres"]).arg(dir.path()).status().unwrap();
            assert!(status.success(), "chown postgres {}", dir.path().display());
        }
        let data = dir.path().join("data");
        let out = as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-E", "UTF8", "--no-sync", "--auth-local=trust", "--auth-host=scram-sha-256"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = super::free_port();
        let log = std::fs::File::create(dir.path().join("postgres.log")).unwrap();
        let child = as_postgres(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut pg = Self { dir, port, bin, child: Some(child) };
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = pg.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("postgres exited ({status}) while starting:\n{}", pg.log());
            }
            if pg.try_sql("postgres", "SELECT 1").is_ok_and(|o| o.trim() == "1") {
                return pg;
            }
            assert!(Instant::now() < deadline, "postgres did not accept connections within {WAIT:?}:\n{}", pg.log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The host clients connect to.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The directory of the cluster's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the cluster logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    /// Runs `sql` in `database` as the superuser (over the socket, the SQL on standard input):
    /// the unaligned, tuples-only output, or psql's error.
    pub fn try_sql(&self, database: &str, sql: &str) -> Result<String, String> {
        let mut child = as_postgres(&self.bin.join("psql"))
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", database])
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        child.stdin.take().unwrap().write_all(sql.as_bytes()).map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// [`Self::try_sql`], panicking on an error.
    pub fn sql(&self, database: &str, sql: &str) -> String {
        self.try_sql(database, sql).unwrap_or_else(|e| panic!("SQL failed in {database}: {e}\n{sql}"))
    }

    /// Creates a role that logs in with `password` and a database it owns.
    pub fn create_database(&self, name: &str, user: &str, password: &str) {
        let role = sql_identifier(user);
        self.sql("postgres", &format!("CREATE ROLE {role} LOGIN PASSWORD {};", sql_literal(password)));
        self.sql("postgres", &format!("CREATE DATABASE {} OWNER {role};", sql_identifier(name)));
    }

    /// The postmaster's pid, from its pid file (our child, or the child of our `runuser`).
    pub fn postmaster_pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid")).ok()?;
        let pid: i32 = text.lines().next()?.trim().parse().ok()?;
        let ours = self.child.as_ref()?.id() as i32;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let ppid: i32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
        (pid == ours || ppid == ours).then_some(pid)
    }

    /// Stops the cluster: a fast shutdown (SIGINT to the postmaster), SIGKILL if it lingers.
    pub fn stop(&mut self) {
        // Read before the child is taken: the pid file's pid is checked against it.
        let postmaster = self.postmaster_pid();
        let Some(mut child) = self.child.take() else { return };
        let postmaster = postmaster.unwrap_or(child.id() as i32);
        let _ = kill(Pid::from_raw(postmaster), Signal::SIGINT);
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            // Done when the postmaster is gone (it is not our child when `runuser` started it).
            if child.try_wait().ok().flatten().is_some() && !alive(postmaster) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("postgres {postmaster} did not stop within {WAIT:?}: killing it");
        let _ = kill(Pid::from_raw(postmaster), Signal::SIGKILL);
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Whether `pid` runs (a zombie does not count).
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().to_owned()))
        .is_some_and(|rest| !rest.starts_with('Z'))
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
