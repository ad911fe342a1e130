//! The supervisor and the deploy lock: services outlive agent restarts, crashed ones come back,
//! a build cut short by a killed agent changes nothing, concurrent deploys wait or are refused.

use std::time::Duration;

use serde_json::Value;

use crate::support::{TestStack, client_status, eventually, kill_group};

const WAIT: Duration = Duration::from_secs(120);

fn deployment(stack: &TestStack, args: &[&str]) -> (Option<i32>, Value) {
    let out = stack.cli(args);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), json)
}

/// Stops the server, kills the instance's agent (its process group, with any build it runs),
/// starts the server again, and waits for it to have started a new agent. (With the server up, a
/// killed agent makes its instance `connection_lost` at once: see `lost.rs`.)
async fn restart_agent(stack: &mut TestStack, host: &str) {
    let old = stack.agent_pid("demo", host).unwrap();
    stack.stop_server();
    kill_group(old);
    stack.start_server().await;
    eventually(WAIT, "a new agent", || async { stack.agent_pid("demo", host).filter(|p| *p != old) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_outlive_agent_restarts_and_interrupted_builds_change_nothing() {
    let mut stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    stack.create_zeo_and_client_instance("demo");
    let address = stack.instance("demo", "zeoserver1").await.address.unwrap();
    let (c1, c2) = (format!("{address}:8081"), format!("{address}:8082"));
    let repo = stack.create_demo_app("demo", &["clients"]);
    let (code, d) = deployment(&stack, &["deploy", "--stack", "demo", "site", "--wait", "--json"]);
    assert_eq!(code, Some(0), "{d:#}");
    let before = eventually(WAIT, "client1", || client_status(&c1)).await;
    let release = before["release"].as_str().unwrap().to_owned();

    // An agent restart re-adopts the clients instead of restarting them.
    restart_agent(&mut stack, "zeoserver1").await;
    stack.wait_status("demo", "zeoserver1", "online", WAIT).await;
    let after = client_status(&c1).await.expect("client1 still answers");
    assert_eq!(after["pid"], before["pid"], "client1 was not restarted");
    // The instance was online all along, so the new agent may still be starting: wait for its
    // word (it hashes its own executable for its version before it adopts anything).
    let agent_log = stack.instance_root("demo", "zeoserver1").join("agent.log");
    eventually(WAIT, "the new agent to re-adopt the services", || async {
        std::fs::read_to_string(&agent_log).ok().filter(|log| log.contains("re-adopted service")).map(|_| ())
    })
    .await;

    // A crashed client is restarted by the (new) agent's supervisor.
    let pid = before["pid"].as_i64().unwrap() as i32;
    kill_group(pid);
    let back = eventually(WAIT, "client1 to come back", || async {
        client_status(&c1).await.filter(|s| s["pid"].as_i64() != Some(i64::from(pid)))
    })
    .await;
    assert_eq!(back["release"], release.as_str());

    // A build cut short by a killed agent: current and the clients stay, the deployment fails.
    stack.cli_ok(&["app", "update", "--stack", "demo", "site", "--env", "DEMO_BUILD_DELAY=600"]);
    repo.write_and_commit("release-mark.txt", "slow", "slow build");
    let (code, d) = deployment(&stack, &["deploy", "--stack", "demo", "site", "--json"]);
    assert_eq!(code, Some(0), "{d:#}");
    let command = d["commands"][0]["id"].as_i64().unwrap();
    let client = stack.client();
    eventually(WAIT, "the build to be under way", || async {
        let log = client.command_log(command, 0, Duration::ZERO).await.ok()?;
        log.data.contains("bin/buildout").then_some(())
    })
    .await;
    restart_agent(&mut stack, "zeoserver1").await;
    let client = stack.client();
    let failed = eventually(WAIT, "the interrupted command to fail", || async {
        client.command(command).await.ok().filter(|c| c.status == "failed")
    })
    .await;
    assert!(failed.reason.as_deref().unwrap_or_default().contains("agent restarted"), "{failed:?}");
    assert_eq!(client_status(&c2).await.expect("client2 answers")["release"], release.as_str());
    let releases = client.releases("demo", "site").await.unwrap();
    assert_eq!(releases.iter().find(|r| r.current).unwrap().name, release);

    // The lock: a second deploy is refused while one runs, a third waits for it.
    stack.cli_ok(&["app", "update", "--stack", "demo", "site", "--env", "DEMO_BUILD_DELAY=5"]);
    let (code, first) = deployment(&stack, &["deploy", "--stack", "demo", "site", "--json"]);
    assert_eq!(code, Some(0), "{first:#}");
    let out = stack.cli(&["deploy", "--stack", "demo", "site"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("locked by deployment {}", first["id"])), "{stderr}");
    let (code, waited) =
        deployment(&stack, &["deploy", "--stack", "demo", "site", "--lock-wait", "600", "--wait", "--json"]);
    assert_eq!(code, Some(0), "{waited:#}");
    let first = stack.client().deployment(first["id"].as_i64().unwrap()).await.unwrap();
    assert_eq!(first.status, "successful", "the lock was waited for, not broken");
    assert!(first.finished_at.as_deref().unwrap() <= waited["created_at"].as_str().unwrap());
    let now = stack.client().releases("demo", "site").await.unwrap();
    let current = now.iter().find(|r| r.current).unwrap();
    eventually(WAIT, "client1 on the new release", || async {
        client_status(&c1).await.filter(|s| s["release"] == current.name.as_str() && s["mark"] == "slow")
    })
    .await;

    // Stopping the instance stops its services (Shutdown); starting it brings them back (the
    // deploy that follows Setup finds nothing to build and starts them).
    stack.cli_ok(&["instance", "stop", "--stack", "demo", "zeoserver1", "--wait"]);
    assert!(client_status(&c1).await.is_none(), "client1 stopped with its instance");
    assert!(stack.service_pids().is_empty(), "no service is left recorded as running");
    stack.cli_ok(&["instance", "start", "--stack", "demo", "zeoserver1", "--wait"]);
    eventually(WAIT, "client1 after the start", || async {
        client_status(&c1).await.filter(|s| s["release"] == current.name.as_str())
    })
    .await;
}
