//! Stopping and starting instances: Shutdown first, then the agent; Setup again on start.

use crate::ONLINE_WAIT;
use crate::support::TestStack;

fn alive(pid: i32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_runs_shutdown_then_stops_the_agent_and_start_brings_it_back() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.create_online_instance("demo", &["web"]);
    let pid = stack.agent_pid("demo", "web1").unwrap();

    stack.cli_ok(&["instance", "stop", "--stack", "demo", "web1", "--wait"]);
    assert_eq!(stack.instance("demo", "web1").await.status, "stopped");
    assert!(!alive(pid), "the agent process is gone");
    let deployments = stack.client().deployments("demo").await.unwrap();
    let shutdown = deployments.iter().find(|d| d.kind == "shutdown").expect("a Shutdown deployment");
    assert_eq!(shutdown.status, "successful");
    // A stopped instance gets no commands.
    let out = stack.cli(&["exec", "--stack", "demo", "--instance", "web1", "--", "true"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    stack.cli_ok(&["instance", "start", "--stack", "demo", "web1", "--wait"]);
    stack.wait_status("demo", "web1", "online", ONLINE_WAIT).await;
    let setups = stack.client().deployments("demo").await.unwrap().iter().filter(|d| d.kind == "setup").count();
    assert_eq!(setups, 2, "Setup runs on every start");
    let out = stack.cli(&["instance", "delete", "--stack", "demo", "web1"]);
    assert_eq!(out.status.code(), Some(2), "an online instance is not deleted");
    stack.cli_ok(&["instance", "stop", "--stack", "demo", "web1", "--wait"]);
    stack.cli_ok(&["instance", "delete", "--stack", "demo", "web1"]);
    assert!(!stack.instance_root("demo", "web1").exists(), "the local root is removed");
    assert!(stack.client().instances("demo").await.unwrap().is_empty());
}
