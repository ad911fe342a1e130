//! The server's settings, from `drover server` flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The default cap on one command's stored output: 16 MiB.
pub const DEFAULT_COMMAND_LOG_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where the store, certificates, tokens and local instances live.
    pub data_dir: PathBuf,
    /// The store: a PostgreSQL database, or (none) SQLite in the data dir.
    pub database: Option<drover_core::database_url::Database>,
    /// The HTTPS listen address (default 127.0.0.1:7443; port 0 picks a free one).
    pub listen: SocketAddr,
    /// The URL agents and clients use; default `https://<listen address>`.
    pub advertise_url: Option<String>,
    /// Extra names or addresses for the server certificate.
    pub extra_sans: Vec<String>,
    /// Silence after which an instance is `connection_lost`.
    pub heartbeat_timeout: Duration,
    /// Heartbeat interval given to the local agents the server starts.
    pub agent_heartbeat_interval: Duration,
    /// How long the Shutdown phase may run before the instance is stopped anyway.
    pub shutdown_timeout: Duration,
    /// Finished command logs kept per instance.
    pub command_logs_kept: usize,
    /// The `drover` binary the local provider runs as `drover agent`.
    pub agent_binary: PathBuf,
    /// The binary served to agents that upgrade (`GET /agent/binary`); default the running
    /// executable, `--agent-binary` for operators who ship another build.
    pub served_binary: PathBuf,
    /// The first loopback address given to local instances (then upward within its /24).
    pub local_first_address: std::net::Ipv4Addr,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Most output kept per command, in bytes: past it the log keeps its tail behind one marker
    /// line, and agents buffer no more than this.
    pub command_log_max_bytes: u64,
    /// Largest command result accepted, in bytes: an app's result carries every kept release's
    /// `deploy.cfg`, so it gets more room than other requests.
    pub result_body_limit: usize,
    /// Test-only: a file holding the Unix time (seconds) schedules are read at, instead of the
    /// clock, so a test can move through a week of schedule in seconds.
    pub schedule_clock_file: Option<PathBuf>,
    /// Connection limits: header-read and idle timeouts, the connection cap, request rates.
    pub limits: ConnectionLimits,
}

/// What one client may take of the server: time, connections, requests.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time a connection gets to send a whole request head once it may send one.
    pub header_read_timeout: Duration,
    /// Time a keep-alive connection may sit with no request in flight and no byte of a new one
    /// (a request being served, such as an agent's long-poll, is never cut by it).
    pub idle_timeout: Duration,
    /// The most connections served at once; past it new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// Requests per credential (or per address without one).
    pub rate: drover_core::rate_limit::Limit,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(90),
            max_connections: 4096,
            rate: drover_core::rate_limit::Limit { per_second: 100.0, burst: 500.0 },
        }
    }
}

impl ServerConfig {
    /// Defaults for `data_dir`, using the running executable as the agent binary.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            database: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 7443)),
            advertise_url: None,
            extra_sans: Vec::new(),
            heartbeat_timeout: Duration::from_secs(300),
            agent_heartbeat_interval: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(120),
            command_logs_kept: 30,
            agent_binary: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("drover")),
            served_binary: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("drover")),
            local_first_address: drover_core::address::DEFAULT_FIRST,
            body_limit: 1024 * 1024,
            command_log_max_bytes: DEFAULT_COMMAND_LOG_MAX_BYTES,
            result_body_limit: 64 * 1024 * 1024,
            schedule_clock_file: None,
            limits: ConnectionLimits::default(),
        }
    }
}
