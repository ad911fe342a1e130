//! `GET /servers`: the control plane's members.

use serde::{Deserialize, Serialize};

/// One `drover server` process of the control plane, as it last reported itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServerMember {
    /// Unique among the servers: host name, pid and a random suffix.
    pub id: String,
    /// The URL agents and clients use for it.
    pub url: String,
    /// Its process id on its host.
    pub pid: i64,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it last reported (RFC 3339).
    pub seen_at: String,
    /// Seconds since it last reported (it reports every 2 s; more than 10 means it is gone).
    pub silent_secs: u64,
    /// Whether it runs the work that must happen once (sweeps, timeouts, schedules, scaling).
    pub leader: bool,
    /// Agents holding a command long-poll open on it.
    pub agents: i64,
    /// Its CPU use over the last report period, percent of one core.
    pub cpu_percent: f64,
    /// Its resident memory, bytes.
    pub rss_bytes: i64,
    /// Whether this is the server that answered.
    pub answering: bool,
}
