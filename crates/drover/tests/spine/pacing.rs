//! Targeting and pacing: instances that join later get the app at Setup; rolling deploys go one
//! instance at a time; restart_delay spaces client restarts; bad app input names what is wrong.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestStack, client_status, eventually};

const WAIT: Duration = Duration::from_secs(120);

fn times(deployment: &Value, host: &str) -> (String, String) {
    let c = deployment["commands"].as_array().unwrap().iter().find(|c| c["instance"] == host).unwrap();
    (c["started_at"].as_str().unwrap().to_owned(), c["finished_at"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_instances_rolling_deploys_restart_delay_and_bad_input() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    stack.create_online_instance("demo", &["zeoserver"]);
    for _ in 0..2 {
        stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    }
    let web1 = stack.instance("demo", "clients1").await.address.unwrap();
    let web2 = stack.instance("demo", "clients2").await.address.unwrap();
    stack.create_demo_app("demo", &["zeoserver", "clients"]);

    // clients2 is stopped during the first deploy; it gets the app at its next Setup.
    stack.cli_ok(&["instance", "stop", "--stack", "demo", "clients2", "--wait"]);
    let (code, d, err) = stack.cli_json(&["deploy", "--stack", "demo", "site", "--wait", "--json"], None);
    assert_eq!(code, Some(0), "{d:#} {err}");
    assert!(d["commands"].as_array().unwrap().iter().all(|c| c["instance"] != "clients2"), "{d:#}");
    stack.cli_ok(&["instance", "start", "--stack", "demo", "clients2", "--wait"]);
    let late =
        eventually(WAIT, "clients2 to get the app", || async { client_status(&format!("{web2}:8081")).await }).await;
    assert!(late["release"].as_str().is_some_and(|r| r.len() >= 14), "{late}");

    // Rolling: each instance starts after the one before finished; restart_delay spaces the
    // restarts of clients that were running.
    let paced = json!({"plone_instances": {"restart_delay": 2}, "deploy": {"site": {"always_build_on_deploy": true}}});
    let (code, d, err) =
        stack.cli_json(&["deploy", "--stack", "demo", "site", "--rolling", "--wait", "--json"], Some(paced));
    assert_eq!(code, Some(0), "{d:#} {err}");
    let order = ["clients1", "clients2", "zeoserver1"];
    for pair in order.windows(2) {
        let (_, finished) = times(&d, pair[0]);
        let (started, _) = times(&d, pair[1]);
        assert!(started >= finished, "{} started {started} before {} finished {finished}", pair[1], pair[0]);
    }
    let command = d["commands"].as_array().unwrap().iter().find(|c| c["instance"] == "clients1").unwrap();
    let log = stack.client().command_log(command["id"].as_i64().unwrap(), 0, Duration::ZERO).await.unwrap().data;
    let at = |client: &str| -> f64 {
        let line = log.lines().find(|l| l.contains(&format!("restarted {client} "))).unwrap_or_else(|| panic!("{log}"));
        let clock = line.split_whitespace().next().unwrap();
        let parts: Vec<f64> = clock.split(':').map(|p| p.parse().unwrap()).collect();
        parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
    };
    let spacing = at("client2") - at("client1");
    assert!(spacing >= 2.0, "client2 restarted {spacing:.2} s after client1; restart_delay is 2 s:\n{log}");

    // Parallel (the default): every instance starts before any finishes.
    let (code, d, err) = stack.cli_json(
        &["deploy", "--stack", "demo", "site", "--wait", "--json"],
        Some(json!({"deploy": {"site": {"always_build_on_deploy": true}}})),
    );
    assert_eq!(code, Some(0), "{d:#} {err}");
    let latest_start = order.iter().map(|h| times(&d, h).0).max().unwrap();
    let first_finish = order.iter().map(|h| times(&d, h).1).min().unwrap();
    assert!(latest_start <= first_finish, "parallel deploys overlap: {d:#}");

    // Bad input names what is wrong.
    let (code, _, err) = stack.cli_json(&["deploy", "--stack", "demo", "nope"], None);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("app:") && err.contains("nope"), "{err}");
    // A revision or repository that names nothing is refused when the deploy is created (the
    // server resolves the commit), naming it; no deployment is made.
    let before = stack.client().deployments("demo").await.unwrap().len();
    stack.cli_ok(&["app", "update", "--stack", "demo", "site", "--revision", "no-such-branch"]);
    let (code, _, err) =
        stack.cli_json(&["deploy", "--stack", "demo", "site", "--instance", "clients1", "--wait", "--json"], None);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no-such-branch"), "{err}");
    stack.cli_ok(&["app", "update", "--stack", "demo", "site", "--revision", "", "--git", "/nonexistent/repo.git"]);
    let (code, _, err) =
        stack.cli_json(&["deploy", "--stack", "demo", "site", "--instance", "clients1", "--wait", "--json"], None);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/nonexistent/repo.git"), "{err}");
    assert_eq!(stack.client().deployments("demo").await.unwrap().len(), before, "refused deploys create nothing");
    // The running release kept serving through both failures.
    let c1 = format!("{web1}:8081");
    eventually(WAIT, "client1 to answer", || client_status(&c1)).await;

    // Deleting the app undeploys it.
    let out = stack.cli_ok(&["app", "delete", "--stack", "demo", "site"]);
    assert!(out.contains("deleted app site"), "{out}");
    eventually(WAIT, "the clients to stop", || async {
        client_status(&format!("{web1}:8081")).await.is_none().then_some(())
    })
    .await;
    eventually(WAIT, "the app tree to go", || async {
        (!stack.instance_root("demo", "clients1").join("srv/www/site").exists()).then_some(())
    })
    .await;
}
