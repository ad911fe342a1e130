//! Re-adoption after a reboot-like reuse of a service's pid: the process that now has the pid is
//! a stranger (another start time), so it is never signalled, and the service is started again.
//!
//! Regression: the agent used to trust a live pid from `shared/run/<service>.json`, so the app
//! was never restarted and the next stop killed an unrelated process group.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{TestStack, client_status, eventually, kill_group};

const WAIT: Duration = Duration::from_secs(120);

/// Whether `pid` is alive and not a zombie.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_service_pid_is_left_alone_and_the_service_started_again() {
    let mut stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    stack.create_zeo_and_client_instance("demo");
    let address = stack.instance("demo", "zeoserver1").await.address.unwrap();
    let c1 = format!("{address}:8081");
    stack.create_demo_app("demo", &["clients"]);
    let out = stack.cli(&["deploy", "--stack", "demo", "site", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let before = eventually(WAIT, "client1", || client_status(&c1)).await;
    let old_pid = before["pid"].as_i64().unwrap() as i32;
    let state_path = stack.instance_root("demo", "zeoserver1").join("srv/www/site/shared/run/client1.json");
    let state: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(state["pid"], old_pid, "{state:#}");
    assert!(state["identity"]["start_ticks"].as_u64().is_some(), "the spawn recorded who the process is: {state:#}");

    // The agent goes away (as in a reboot), and so does the service; another process, the leader
    // of its own group as services are, now has the pid the state file names.
    let agent = stack.agent_pid("demo", "zeoserver1").unwrap();
    stack.stop_server();
    kill_group(agent);
    kill_group(old_pid);
    eventually(WAIT, "client1 and the agent to be gone", || async { (!alive(old_pid) && !alive(agent)).then_some(()) })
        .await;
    let mut stranger = Command::new("sleep").arg("300").process_group(0).stdin(Stdio::null()).spawn().unwrap();
    let stranger_pid = stranger.id() as i32;
    let mut reused = state.clone();
    reused["pid"] = stranger_pid.into();
    std::fs::write(&state_path, reused.to_string()).unwrap();

    // The server starts a new agent, which re-adopts what the state files name.
    stack.start_server().await;
    eventually(WAIT, "a new agent", || async { stack.agent_pid("demo", "zeoserver1").filter(|p| *p != agent) }).await;
    let back = eventually(WAIT, "client1 to be started again", || async {
        client_status(&c1).await.filter(|s| s["pid"].as_i64().is_some_and(|p| p != i64::from(stranger_pid)))
    })
    .await;
    assert_ne!(back["pid"], before["pid"]);
    let state: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(state["pid"], back["pid"], "the state file names the new process: {state:#}");
    let agent_log = std::fs::read_to_string(stack.instance_root("demo", "zeoserver1").join("agent.log")).unwrap();
    assert!(agent_log.contains("now belongs to another process"), "{agent_log}");

    // Stopping the app's services (the instance) leaves the stranger alone too.
    stack.cli_ok(&["instance", "stop", "--stack", "demo", "zeoserver1", "--wait"]);
    assert!(stranger.try_wait().unwrap().is_none(), "the stranger was not signalled");
    assert!(alive(stranger_pid));

    kill_group(stranger_pid);
    let _ = stranger.wait();
}
