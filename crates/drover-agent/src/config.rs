//! The agent's settings, from `drover agent` flags.

use std::path::PathBuf;
use std::time::Duration;

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The file holding the join token (`-`: standard input); read only until the agent has
    /// enrolled, then removed. Never the token itself: argv and the environment are readable by
    /// other processes.
    pub join_file: Option<PathBuf>,
    /// Overrides the server URL from the token or the saved enrollment.
    pub server_url: Option<String>,
    /// The stack to join.
    pub stack: Option<String>,
    /// The instance to enroll as (created by the server beforehand, or registered now).
    pub instance: Option<String>,
    /// Layers for a newly registered host.
    pub layers: Vec<String>,
    /// Where everything the agent writes lives (default `/`).
    pub root: PathBuf,
    /// The address this instance's services bind (default 127.0.0.1).
    pub address: String,
    /// Time between heartbeats.
    pub heartbeat_interval: Duration,
    /// Reported CPU count (default: this machine's).
    pub cpu_count: Option<u32>,
}

impl AgentConfig {
    /// `<root>/var/lib/drover`: the agent's own state.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join("var/lib/drover")
    }
}
