//! `Memcached`: a memcached of the test's own (Debian's `memcached`, never the system service) on
//! 127.0.0.1 and a free port, TCP only. Dropping it stops it by its pid (SIGTERM, then SIGKILL).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const WAIT: Duration = Duration::from_secs(30);

/// A running memcached.
pub struct Memcached {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    child: Option<Child>,
}

impl Memcached {
    /// Starts memcached; returns once it answers `stats`.
    pub fn start() -> Self {
        let port = super::free_port();
        let mut command = Command::new("memcached");
        command.args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0", "-m", "16"]);
        if super::postgres::is_root() {
            // memcached refuses to keep root: it runs as `nobody`.
            command.args(["-u", "nobody"]);
        }
        let child =
            command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap_or_else(|e| {
                panic!("failed to start memcached ({e}): run scripts/deps.sh (Debian's memcached)")
            });
        let mut mc = Self { port, child: Some(child) };
        let deadline = Instant::now() + WAIT;
        while mc.try_stats().is_err() {
            if let Some(status) = mc.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("memcached exited ({status}) while starting");
            }
            assert!(Instant::now() < deadline, "memcached did not answer within {WAIT:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
        mc
    }

    /// `host:port`, as `cache_servers` takes it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn try_stats(&self) -> std::io::Result<Vec<(String, String)>> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(b"stats\r\n")?;
        let mut out = Vec::new();
        for line in BufReader::new(stream).lines() {
            let line = line?;
            if line == "END" {
                return Ok(out);
            }
            let mut words = line.split_whitespace();
            if let (Some("STAT"), Some(name), Some(value)) = (words.next(), words.next(), words.next()) {
                out.push((name.to_owned(), value.to_owned()));
            }
        }
        Err(std::io::Error::other("memcached closed the connection before END"))
    }

    /// One counter of `stats` (e.g. `cmd_set`).
    pub fn stat(&self, name: &str) -> u64 {
        let stats = self.try_stats().unwrap();
        stats.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.parse().ok()).unwrap_or_else(|| {
            panic!("memcached has no counter {name}: {stats:?}");
        })
    }

    /// Stops it by its pid.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        self.stop();
    }
}
