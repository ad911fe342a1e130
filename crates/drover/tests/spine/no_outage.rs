//! No outage without a frontend: a parallel deploy to two client instances restarts at most
//! `plone_instances.max_unavailable` (1) serving clients at once across the deployment, each
//! waiting for the one before to answer its health check.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{TestStack, client_status, eventually};

/// How long the load may run at most (it stops when the deploy ends).
const LOAD_LIMIT: Duration = Duration::from_secs(900);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parallel_deploy_never_takes_two_clients_down_at_once() {
    let stack = TestStack::start().await;
    stack.create_stack("calm", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    let doc = stack.dir.path().join("calm.json");
    std::fs::write(&doc, json!({"plone_instances": {"per_cpu": 1, "healthy_deadline": 120}}).to_string()).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "calm", doc.to_str().unwrap()]);
    stack.create_online_instance("calm", &["zeoserver"]);
    for _ in 0..2 {
        stack.cli_ok(&["instance", "create", "--stack", "calm", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    }
    let repo = stack.create_demo_app("calm", &["zeoserver", "clients"]);
    let first = stack.cli_ok(&["deploy", "--stack", "calm", "site", "--wait", "--timeout", "900"]);
    let mut clients = Vec::new();
    for host in ["clients1", "clients2"] {
        let address = format!("{}:8081", stack.instance("calm", host).await.address.unwrap());
        eventually(Duration::from_secs(120), &format!("{address} to answer"), || client_status(&address)).await;
        clients.push(address);
    }

    // A new commit, deployed everywhere at once, under load sent straight to the clients.
    repo.write_and_commit("release-mark.txt", "v2\n", "v2");
    let (_, created, stderr) =
        stack.cli_json(&["deploy", "--stack", "calm", "site", "--json", "--kill-after", "900"], None);
    let id = created["id"].as_i64().unwrap_or_else(|| panic!("no deployment: {stderr}\n{first}"));
    let began = Instant::now();
    let (mut both_down, mut probes, mut failed_requests, mut requests) = (0, 0, 0, 0);
    loop {
        let (a, b) = tokio::join!(client_status(&clients[0]), client_status(&clients[1]));
        probes += 1;
        if a.is_none() && b.is_none() {
            both_down += 1;
        }
        // A request with a retry to the other client, as a client-side balancer would.
        requests += 1;
        let first_try = client_status(&clients[requests % 2]).await;
        if first_try.is_none() && client_status(&clients[(requests + 1) % 2]).await.is_none() {
            failed_requests += 1;
        }
        let d = stack.client().deployment(id).await.unwrap();
        if d.status != "running" || began.elapsed() > LOAD_LIMIT {
            assert_eq!(d.status, "successful", "{d:#?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for address in &clients {
        let status = eventually(Duration::from_secs(120), "the new release", || async {
            client_status(address).await.filter(|s| s["mark"] == "v2")
        })
        .await;
        assert_eq!(status["mark"], "v2");
    }
    assert!(probes > 10, "the load ran ({probes} probes)");
    assert_eq!(both_down, 0, "both clients were down at once in {both_down} of {probes} probes");
    assert_eq!(failed_requests, 0, "{failed_requests} of {requests} requests failed on both clients");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_crash_loops_after_a_deploy_fails_it_by_name() {
    let stack = TestStack::start().await;
    stack.create_stack("loop", &[("clients", "plone_instances")]);
    stack.cli_ok(&["instance", "create", "--stack", "loop", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    let repo = stack.create_demo_app("loop", &["clients"]);
    repo.write_and_commit("release-mark.txt", "crash\n", "a release whose clients exit at once");
    let (code, deployment, stderr) =
        stack.cli_json(&["deploy", "--stack", "loop", "site", "--wait", "--json", "--timeout", "900"], None);
    assert_ne!(code, Some(0), "{deployment:#}");
    assert_eq!(deployment["status"], "failed", "{deployment:#} {stderr}");
    let reason = deployment["commands"][0]["reason"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("service client1 did not stay up"), "{reason}");
    assert!(reason.contains("release-mark.txt says crash"), "the reason shows the service's last log lines: {reason}");
}
