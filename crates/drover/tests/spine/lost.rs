//! Heartbeats: a killed agent makes its instance connection_lost; a restart brings it back.

use std::time::Duration;

use crate::ONLINE_WAIT;
use crate::support::{self, Options, TestStack};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_agent_is_connection_lost_then_online_after_restart() {
    let options = Options { heartbeat_timeout_secs: 5.0, agent_heartbeat_secs: 0.5, ..Options::default() };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.create_online_instance("demo", &["web"]);
    let pid = stack.agent_pid("demo", "web1").unwrap();
    support::kill_group(pid);

    let lost_at = std::time::Instant::now();
    stack.wait_status("demo", "web1", "connection_lost", Duration::from_secs(60)).await;
    // Not before the timeout has passed (allowing for the last heartbeat's age).
    assert!(lost_at.elapsed() >= Duration::from_secs(4), "lost after only {:?}", lost_at.elapsed());

    let out = stack.cli(&["instance", "start", "--stack", "demo", "web1", "--wait"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    stack.wait_status("demo", "web1", "online", ONLINE_WAIT).await;
    assert_ne!(stack.agent_pid("demo", "web1"), Some(pid), "a new agent runs");
}
