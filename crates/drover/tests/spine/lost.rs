//! Agents that die are noticed in seconds, not at the heartbeat timeout: a killed local agent (its
//! process gone) and a killed registered one (its long-poll connection dropped and not back) make
//! their instance `connection_lost` at once, the command it was running fails naming the cause,
//! and an event says why. A restart brings the instance back.
//!
//! Regression: a `kill -9` of an agent in the middle of a deploy was reported only 282 s later,
//! when the heartbeat timeout ran out, and the deploy waited all that time.

use std::time::{Duration, Instant};

use drover_proto::events::Event;

use crate::ONLINE_WAIT;
use crate::support::{self, HostAgent, TestStack, eventually};

/// Far longer than any wait below: nothing here may be the heartbeat timeout's doing.
const SILENCE_TIMEOUT_SECS: f64 = 600.0;
/// How long noticing a gone agent may take on a loaded machine (two heartbeat intervals of 5 s,
/// or the 1 s pid check, plus slack).
const NOTICED: Duration = Duration::from_secs(60);

async fn events(stack: &TestStack) -> Vec<Event> {
    stack.client().events("demo", None, Duration::ZERO, 100).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_agent_is_lost_in_seconds_and_its_command_fails_naming_the_cause() {
    let options = support::Options { heartbeat_timeout_secs: SILENCE_TIMEOUT_SECS, ..support::Options::default() };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.cli_ok(&["layer", "update", "--stack", "demo", "web", "--auto-healing", "off"]);
    stack.create_online_instance("demo", &["web"]);

    // A command runs on it when its agent is killed.
    let exec = tokio::task::spawn_blocking({
        let (url, token) = (stack.url(), stack.admin_token());
        move || support::cli_with(&url, &token, &["exec", "--stack", "demo", "--", "sleep", "300"])
    });
    let client = stack.client();
    let command = eventually(ONLINE_WAIT, "the exec command to run", || async {
        let deployments = client.deployments("demo").await.ok()?;
        let exec = deployments.iter().find(|d| d.kind == "execute")?;
        let command = client.deployment(exec.id).await.ok()?.commands.into_iter().next()?;
        (command.status == "running").then_some(command)
    })
    .await;
    let pid = stack.agent_pid("demo", "web1").unwrap();
    support::kill_group(pid);
    let killed = Instant::now();

    stack.wait_status("demo", "web1", "connection_lost", NOTICED).await;
    let took = killed.elapsed();
    let cause = format!("its local agent (pid {pid}) is no longer running");
    let failed = eventually(NOTICED, "the command to fail", || async {
        let c = client.command(command.id).await.ok()?;
        (c.status == "failed").then_some(c)
    })
    .await;
    assert!(failed.reason.as_deref().is_some_and(|r| r.contains(&cause)), "{failed:?}");
    let out = exec.await.unwrap();
    assert_ne!(out.status.code(), Some(0), "the exec reports the failure");
    let lost = events(&stack).await;
    assert!(
        lost.iter().any(|e| e.kind == "lost" && e.instance.as_deref() == Some("web1") && e.message.contains(&cause)),
        "{lost:#?}"
    );
    println!("a killed local agent was noticed after {took:?}");

    // Without auto-healing it stays lost until someone starts it.
    let out = stack.cli(&["instance", "start", "--stack", "demo", "web1", "--wait"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    stack.wait_status("demo", "web1", "online", ONLINE_WAIT).await;
    assert_ne!(stack.agent_pid("demo", "web1"), Some(pid), "a new agent runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_agent_whose_connection_drops_is_lost_in_seconds() {
    let options = support::Options { heartbeat_timeout_secs: SILENCE_TIMEOUT_SECS, ..support::Options::default() };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("demo", &[("web", "custom")]);
    let root = stack.dir.path().join("host-edge");
    let join = stack.join_file(&["--stack", "demo", "--layer", "web"]);
    let agent = HostAgent::start(&root, &join, &["--stack", "demo", "--layer", "web"], &[]);
    let host = eventually(ONLINE_WAIT, "the host to come online", || async {
        let instances = stack.client().instances("demo").await.ok()?;
        instances.into_iter().find(|i| i.status == "online").map(|i| i.hostname)
    })
    .await;

    drop(agent); // SIGKILL to its process group
    let killed = Instant::now();
    stack.wait_status("demo", &host, "connection_lost", NOTICED).await;
    let took = killed.elapsed();
    let lost = events(&stack).await;
    assert!(lost.iter().any(|e| e.kind == "lost" && e.message.contains("connection dropped")), "{lost:#?}");
    println!("a killed registered agent was noticed after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_healing_brings_a_killed_agent_back_and_a_layer_without_it_stays_lost() {
    // Healing waits out the heartbeat timeout after the loss (an agent may come back by itself).
    let options = support::Options { heartbeat_timeout_secs: 5.0, ..support::Options::default() };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("demo", &[("web", "custom"), ("manual", "custom")]);
    stack.cli_ok(&["layer", "update", "--stack", "demo", "manual", "--auto-healing", "off"]);
    let healed = stack.create_online_instance("demo", &["web"]);
    let manual = stack.create_online_instance("demo", &["manual"]);
    let (healed_pid, manual_pid) =
        (stack.agent_pid("demo", &healed).unwrap(), stack.agent_pid("demo", &manual).unwrap());
    support::kill_group(healed_pid);
    support::kill_group(manual_pid);

    stack.wait_status("demo", &healed, "connection_lost", NOTICED).await;
    stack.wait_status("demo", &manual, "connection_lost", NOTICED).await;
    // No one acts: the auto-healing layer's instance comes back with a new agent.
    stack.wait_status("demo", &healed, "online", ONLINE_WAIT).await;
    assert_ne!(stack.agent_pid("demo", &healed), Some(healed_pid), "a new agent runs");
    let said = events(&stack).await;
    let healing = said.iter().find(|e| e.kind == "healing" && e.instance.as_deref() == Some(healed.as_str()));
    assert!(
        healing.is_some_and(|e| e.message.contains(&healed) && e.message.contains("connection_lost")),
        "the event says why: {said:#?}"
    );
    // The other, past the same timeout, is still lost: its layer has auto-healing off.
    assert_eq!(stack.instance("demo", &manual).await.status, "connection_lost");
    assert!(!said.iter().any(|e| e.kind == "healing" && e.instance.as_deref() == Some(manual.as_str())), "{said:#?}");

    let out = stack.cli_ok(&["events", "--stack", "demo"]);
    assert!(out.contains("healing") && out.contains(&healed), "{out}");
}
