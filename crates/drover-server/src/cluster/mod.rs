//! Several servers, one control plane. Every `drover server` on one PostgreSQL store serves the
//! API and the agents' long-polls; the work that must happen once (sweeps, heartbeat timeouts,
//! healing, schedules, scaling, Configure coalescing) runs on one leader at a time, the holder of
//! a PostgreSQL advisory lock ([`leader`]). What one server keeps in memory and another must
//! know goes over `NOTIFY` ([`bus`]). The CA and the admin token are shared through the store
//! ([`keys`]). Each server's row in `servers` says who is up, who leads and each one's load
//! ([`members`]). On SQLite there is one server, always the leader.

pub mod bus;
pub mod keys;
pub mod leader;
pub mod members;

use tokio::sync::watch;

use bus::Outbox;

/// This server's place in the control plane.
pub struct Cluster {
    /// Unique among the servers: host name, pid and a random suffix.
    pub id: String,
    /// The URL agents and clients use for this server.
    pub url: String,
    /// When this server started (Unix ms).
    pub started_at: i64,
    /// Reaches the other servers (nothing on SQLite).
    pub outbox: Outbox,
    /// The PostgreSQL store's URL (none on SQLite, where this server is always the leader).
    pub database_url: Option<String>,
    leading: watch::Sender<bool>,
}

impl Cluster {
    /// This server, not leading yet.
    pub fn new(url: String, outbox: Outbox, database_url: Option<String>) -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let host = match host.trim() {
            "" => "host",
            name => name,
        };
        let id = format!("{host}-{}-{:04x}", std::process::id(), rand::random::<u16>());
        Self { id, url, started_at: crate::time::now_ms(), outbox, database_url, leading: watch::channel(false).0 }
    }

    /// Whether this server leads now.
    pub fn is_leader(&self) -> bool {
        *self.leading.borrow()
    }

    fn set_leading(&self, leading: bool) {
        self.leading.send_replace(leading);
    }
}
