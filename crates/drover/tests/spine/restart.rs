//! A server restart while a command runs: nothing lost, nothing run twice.

use std::time::Duration;

use crate::exec_request;
use crate::support::{TestStack, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_running_across_a_server_restart_completes_exactly_once() {
    let mut stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.create_online_instance("demo", &["web"]);
    let gate = stack.dir.path().join("gate");
    let script = format!(
        "echo run >> \"$DROVER_ROOT/runs\"; echo started; while [ ! -e {} ]; do sleep 0.1; done; echo finished",
        gate.display()
    );
    let client = stack.client();
    let deployment = client.create_deployment("demo", &exec_request(&["sh", "-c", &script], &[], &[])).await.unwrap();
    let id = deployment.commands[0].id;
    eventually(Duration::from_secs(30), "the command to run", || async {
        client.command(id).await.ok().filter(|c| c.status == "running")
    })
    .await;

    stack.stop_server();
    // While the server is down the command finishes; its output and result wait in the agent.
    std::fs::write(&gate, "go").unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stack.start_server().await;

    let client = stack.client();
    let done = eventually(Duration::from_secs(60), "the result to arrive", || async {
        client.command(id).await.ok().filter(|c| c.status == "successful")
    })
    .await;
    assert_eq!(done.exit_code, Some(0));
    let log = client.command_log(id, 0, Duration::ZERO).await.unwrap();
    assert_eq!(log.data, "started\nfinished\n", "output sent once, in order");
    let runs = std::fs::read_to_string(stack.instance_root("demo", "web1").join("runs")).unwrap();
    assert_eq!(runs, "run\n", "the command ran exactly once");
    // The agent was re-adopted, not replaced, and the instance is still online.
    assert_eq!(stack.instance("demo", "web1").await.status, "online");
    assert!(stack.server_log().contains("re-adopted local agent"), "{}", stack.server_log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_starts_local_agents_that_died_meanwhile() {
    let mut stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.create_online_instance("demo", &["web"]);
    stack.create_online_instance("demo", &["web"]);
    let web1 = stack.agent_pid("demo", "web1").unwrap();
    let web2 = stack.agent_pid("demo", "web2").unwrap();
    stack.stop_server();
    crate::support::kill_group(web2);
    stack.start_server().await;
    let restarted = eventually(Duration::from_secs(60), "web2's agent to be started again", || async {
        stack.agent_pid("demo", "web2").filter(|p| *p != web2)
    })
    .await;
    assert_eq!(stack.agent_pid("demo", "web1"), Some(web1), "web1's agent was re-adopted");
    let out = stack.cli_ok(&["exec", "--stack", "demo", "--", "true"]);
    assert!(out.contains("web1") && out.contains("web2"), "{out}");
    assert_ne!(restarted, web2);
}
