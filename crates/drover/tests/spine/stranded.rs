//! Nothing stranded by a server crash: the follow-up of a committed result (the next batch of a
//! rolling deploy, the app lock, the end of Setup) and a stop in progress are carried on when the
//! server starts again. And the services each agent supervises are seen in `drover status`.
//!
//! A crash between a result's commit and its follow-up is a window of microseconds, so these
//! tests make it wide: the server is killed (SIGKILL), and the database is put in the state such
//! a crash leaves (with the database's own tool, `sqlite3` or `psql`) before the server starts again.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use crate::ONLINE_WAIT;
use crate::support::{TestStack, eventually, kill_group};

// Builds of the demo app share two loaded cores with other tests: generous.
const WAIT: Duration = Duration::from_secs(300);

fn json(stack: &TestStack, args: &[&str]) -> Value {
    let out = stack.cli_ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {out}"))
}

fn service<'a>(status: &'a Value, host: &str, name: &str) -> Option<&'a Value> {
    let instance = status["instances"].as_array()?.iter().find(|i| i["hostname"] == host)?;
    instance["services"].as_array()?.iter().find(|s| s["app"] == "site" && s["name"] == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_deploy_cut_by_a_crash_finishes_after_restart_and_status_shows_services() {
    let mut stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    for layers in [["zeoserver", "clients"].as_slice(), &["clients"]] {
        let mut args = vec!["instance", "create", "--stack", "demo", "--cpu-count", "1", "--wait"];
        for l in layers {
            args.extend(["--layer", l]);
        }
        stack.cli_ok(&args);
    }
    stack.create_demo_app("demo", &["zeoserver", "clients"]);

    // A rolling deploy: clients1 first, then zeoserver1. zeoserver1's agent is frozen first
    // (SIGSTOP: its process and its connection stay, so the instance stays online), so the
    // second batch, once released, stays pending.
    let frozen = stack.agent_pid("demo", "zeoserver1").unwrap();
    kill(Pid::from_raw(-frozen), Signal::SIGSTOP).unwrap();
    let d = json(&stack, &["deploy", "--stack", "demo", "site", "--rolling", "--json"]);
    let id = d["id"].as_i64().unwrap();
    let client = stack.client();
    let first = eventually(WAIT, "the first batch to finish", || async {
        let d = client.deployment(id).await.ok()?;
        d.commands
            .into_iter()
            .find(|c| c.instance == "clients1" && !matches!(c.status.as_str(), "pending" | "acknowledged" | "running"))
    })
    .await;
    assert_eq!(first.status, "successful", "{first:#?}");

    // The crash: the first batch's result is committed, the release of the second is lost.
    stack.kill_server();
    let held = stack.store_sql(&format!(
        "UPDATE commands SET released = 0 WHERE deployment_id = {id} AND status = 'pending' \
         AND instance_id = (SELECT id FROM instances WHERE hostname = 'zeoserver1') RETURNING id;"
    ));
    assert_eq!(held.lines().count(), 1, "zeoserver1's command was released and still pending: {held:?}");
    assert_eq!(stack.store_sql("SELECT COUNT(*) FROM app_locks"), "1", "the deployment holds the app's lock");

    // The frozen agent goes (the restarted server starts a new one); after the restart the
    // second batch runs, the deployment ends and the lock is free.
    kill_group(frozen);
    stack.start_server().await;
    let client = stack.client();
    let done = eventually(WAIT, "the deployment to finish", || async {
        let d = client.deployment(id).await.ok()?;
        (d.status != "running").then_some(d)
    })
    .await;
    assert_eq!(done.status, "successful", "{done:#?}\n{}", stack.server_log());
    assert!(done.commands.iter().all(|c| c.status == "successful"), "{done:#?}");
    assert_eq!(stack.store_sql("SELECT COUNT(*) FROM app_locks"), "0", "the app's lock is free");

    // Each instance's services are in `drover status` and `instance show`: state, pid, uptime,
    // restarts, as the latest heartbeat reported them.
    let pid = stack.service_pid("demo", "zeoserver1", "client1").unwrap();
    let status = eventually(WAIT, "client1 of zeoserver1 in drover status", || async {
        let status = json(&stack, &["status", "demo", "--json"]);
        let s = service(&status, "zeoserver1", "client1")?;
        (s["state"] == "running" && s["pid"] == pid).then_some(status)
    })
    .await;
    let zeo = service(&status, "zeoserver1", "zeoserver").expect("the ZEO server is listed");
    assert_eq!(zeo["state"], "running", "{status:#}");
    let c1 = service(&status, "zeoserver1", "client1").unwrap();
    assert!(c1["uptime_secs"].is_u64() && c1["started_at"].is_string(), "{c1}");
    assert_eq!(c1["restarts"], 0, "{c1}");
    assert!(service(&status, "clients1", "client1").is_some(), "clients1's client is listed too: {status:#}");
    let text = stack.cli_ok(&["status", "demo"]);
    assert!(text.contains("services:") && text.contains("RESTARTS"), "{text}");
    let line = text.lines().find(|l| l.starts_with("zeoserver1") && l.contains("client1")).unwrap_or_default();
    assert!(line.contains("running") && line.contains(&pid.to_string()), "{text}");

    // A client that dies is restarted by the supervisor, and the count shows it.
    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    let shown = eventually(WAIT, "the restart to show in instance show", || async {
        let shown = json(&stack, &["instance", "show", "--stack", "demo", "zeoserver1", "--json"]);
        let c1 = shown["services"].as_array()?.iter().find(|s| s["name"] == "client1")?.clone();
        (c1["restarts"] == 1 && c1["state"] == "running" && c1["pid"] != pid).then_some(c1)
    })
    .await;
    assert_eq!(Some(shown["pid"].as_i64().unwrap() as i32), stack.service_pid("demo", "zeoserver1", "client1"));
    let text = stack.cli_ok(&["instance", "show", "--stack", "demo", "zeoserver1"]);
    assert!(text.contains("services:") && text.contains("zeoserver"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_stop_and_a_lost_end_of_setup_are_carried_on_after_restart() {
    let mut stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    // A slow Shutdown keeps web1 in `shutting_down` while the server is killed.
    stack.cli_ok(&["layer", "update", "--stack", "demo", "web", "--hook", "shutdown=sleep 8"]);
    stack.create_online_instance("demo", &["web"]);
    stack.create_online_instance("demo", &["web"]);

    stack.cli_ok(&["instance", "stop", "--stack", "demo", "web1"]);
    stack.wait_status("demo", "web1", "shutting_down", ONLINE_WAIT).await;
    stack.kill_server();
    // web2 as a crash right after its Setup's result was committed leaves it: still running_setup.
    stack.store_sql(
        "UPDATE instances SET status = 'running_setup', status_changed_at = \
         (SELECT MAX(c.created_at) FROM commands c JOIN deployments d ON d.id = c.deployment_id \
          WHERE d.kind = 'setup' AND c.instance_id = instances.id) WHERE hostname = 'web2'",
    );
    stack.start_server().await;

    let stopped = stack.wait_status("demo", "web1", "stopped", WAIT).await;
    assert_eq!(stopped.status, "stopped");
    let shutdown = stack.client().deployments("demo").await.unwrap().into_iter().find(|d| d.kind == "shutdown");
    assert_eq!(shutdown.map(|d| d.status).as_deref(), Some("successful"), "Shutdown ran to its end");
    stack.wait_status("demo", "web2", "online", WAIT).await;

    // The instance whose stop was interrupted starts, stops and is deleted like any other.
    stack.cli_ok(&["instance", "start", "--stack", "demo", "web1", "--wait"]);
    stack.wait_status("demo", "web1", "online", ONLINE_WAIT).await;
    stack.cli_ok(&["instance", "stop", "--stack", "demo", "web1", "--wait"]);
    stack.cli_ok(&["instance", "delete", "--stack", "demo", "web1"]);
    assert!(stack.client().instance("demo", "web1").await.is_err(), "web1 is deleted");
}
