//! The frontend layer: nginx and HAProxy in front of every ZEO client, reconfigured as instances
//! come and go, and rolling deploys behind it without a failed request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use drover_proto::relay::{FrontendAction, FrontendCall};
use serde_json::{Value, json};

use crate::http_load::{PACED, backend, http, load, site};
use crate::support::{TestStack, eventually};

const WAIT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frontend_follows_the_clients_and_deploys_behind_it_drop_nothing() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances"), ("web", "frontend")]);
    let doc = json!({"plone_instances": {"per_cpu": 1, "healthy_deadline": 60}, "haproxy": {"check_interval": 1000}});
    let path = stack.data_dir().join("stack.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "demo", path.to_str().unwrap()]);
    stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "zeoserver", "--wait"]);
    for _ in 0..2 {
        stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "clients", "--cpu-count", "2", "--wait"]);
    }
    // Two frontend instances, each with its own nginx and HAProxy on its own address.
    for _ in 0..2 {
        stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "web", "--wait"]);
    }
    let repo = stack.create_demo_app("demo", &["zeoserver", "clients"]);
    let out = stack.cli(&["deploy", "--stack", "demo", "site", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    let client = stack.client();
    let frontends = eventually(WAIT, "the frontend", || async {
        client.frontends("demo").await.ok().filter(|f| f.len() == 2 && f.iter().all(|f| f.servers.len() == 4))
    })
    .await;
    assert_ne!(frontends[0].url, frontends[1].url);
    eventually(WAIT, "the site through the second frontend", || site(&frontends[1].url)).await;
    let (url, stats) = (frontends[0].url.clone(), frontends[0].stats_url.clone().unwrap());
    let (user, password) = (frontends[0].stats_user.clone(), frontends[0].stats_password.clone());
    assert_eq!(user, "stats");
    assert!(password.len() >= 16, "a generated password");

    // The site answers through nginx and HAProxy, from both instances' clients.
    let seen = std::sync::Mutex::new(std::collections::BTreeSet::new());
    eventually(WAIT, "every client to serve through the frontend", || async {
        let v = site(&url).await?;
        let mut seen = seen.lock().unwrap();
        seen.insert(format!("{}", v["pid"]));
        (seen.len() == 4).then_some(())
    })
    .await;

    // The stats page: 401 without or with wrong credentials, 200 with the right ones.
    assert_eq!(http().get(&stats).send().await.unwrap().status(), 401);
    assert_eq!(http().get(&stats).basic_auth(&user, Some("wrong")).send().await.unwrap().status(), 401);
    assert_eq!(http().get(&stats).basic_auth(&user, Some(&password)).send().await.unwrap().status(), 200);
    let servers = backend(&stats, &user, &password).await.unwrap();
    let names: Vec<&str> = servers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["clients1-client1", "clients1-client2", "clients2-client1", "clients2-client2"]);

    // The backend as each frontend's HAProxy sees it, through the frontends' agents.
    let backends: Vec<drover_proto::api::FrontendBackend> =
        serde_json::from_str(&stack.cli_ok(&["stack", "frontends", "--stack", "demo", "--backend", "--json"])).unwrap();
    assert_eq!(backends.len(), 2, "{backends:?}");
    for b in &backends {
        let states: Vec<(&str, Option<&str>)> =
            b.servers.iter().map(|s| (s.server.as_str(), s.status.as_deref())).collect();
        assert_eq!(states.len(), 4, "{b:?}");
        assert!(states.iter().all(|(_, status)| *status == Some("UP")), "{b:?}");
    }
    let shown = stack.cli_ok(&["stack", "frontends", "--stack", "demo", "--backend"]);
    assert!(shown.contains("clients2-client2") && shown.contains("UP"), "{shown}");

    // A rolling deploy of a new revision under load: no request fails.
    repo.write_and_commit("release-mark.txt", "v2", "v2");
    let stop = Arc::new(AtomicBool::new(false));
    let load_task = tokio::spawn(load(url.clone(), stop.clone(), PACED, 200_000, Duration::from_secs(600)));
    let out = tokio::task::spawn_blocking({
        let args: Vec<String> = ["deploy", "--stack", "demo", "site", "--rolling", "--wait"].map(String::from).to_vec();
        let (url, token) = (stack.url(), stack.admin_token());
        move || crate::support::cli_with(&url, &token, &args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let result = load_task.await.unwrap();
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    let client_log = std::fs::read_to_string(
        stack.instance_root("demo", "clients1").join("srv/www/site/shared/var/log/client1.log"),
    );
    assert_eq!(out.status.code(), Some(0), "{log}\nclient1.log: {client_log:?}");
    assert!(log.contains("drained client1 on 2 frontend(s)") && log.contains("ready on 2 frontend(s)"), "{log}");
    let mut lat = result.latencies.clone();
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize];
    println!(
        "zero-downtime: {} requests, {} failed, p50 {:?}, p99 {:?}, max {:?}",
        result.ok + result.failed.len(),
        result.failed.len(),
        p(0.5),
        p(0.99),
        lat.last().unwrap()
    );
    assert!(result.ok > 100, "the load ran during the deploy: {} requests", result.ok);
    assert!(
        result.failed.is_empty(),
        "{} failed: {:?}",
        result.failed.len(),
        &result.failed[..result.failed.len().min(5)]
    );
    for _ in 0..20 {
        assert_eq!(site(&url).await.unwrap()["mark"], "v2", "every response after the deploy is the new revision");
    }

    // The frontend relay serves an agent only for its own clients, during its own running
    // commands; what it refuses never reaches HAProxy.
    let deployments = client.deployments("demo").await.unwrap();
    let newest = deployments.iter().filter(|d| d.kind == "deploy").map(|d| d.id).max().unwrap();
    let commands = client.deployment(newest).await.unwrap().commands;
    let command_of = |host: &str| commands.iter().find(|c| c.instance == host).unwrap().id;
    let agent = stack.agent_client("demo", "clients1");
    let drain = |server: &str| FrontendCall { server: server.to_owned(), action: FrontendAction::Drain };
    let refusals = [
        (command_of("clients2"), "clients2-client1", 403, "another instance's command"),
        (command_of("clients1"), "clients2-client1", 422, "another instance's client"),
        (command_of("clients1"), "clients1-client1;disable frontend http", 422, "a second runtime command"),
        (command_of("clients1"), "clients1-client1\nset server plone/clients1-client1 addr 127.0.0.9", 422, "a line"),
        (command_of("clients1"), "clients1-client1", 409, "a finished command"),
    ];
    for (command, server, want, what) in refusals {
        let got = agent.frontends(command, &drain(server)).await.map_err(|e| e.status());
        assert_eq!(got.err(), Some(Some(want)), "{what}");
    }
    let servers = backend(&stats, &user, &password).await.unwrap();
    assert!(servers.iter().all(|(_, status)| status == "UP"), "no refused request drained a server: {servers:?}");

    // A release whose clients never become healthy: the rolling deploy stops at the first
    // instance, which auto_revert takes back; the second keeps its release.
    repo.write_and_commit("release-mark.txt", "crash", "a release that crashes");
    let revert = json!({"deploy": {"site": {"auto_revert": true}}, "plone_instances": {"healthy_deadline": 15}});
    let (code, deployment, _) =
        stack.cli_json(&["deploy", "--stack", "demo", "site", "--rolling", "--wait", "--json"], Some(revert));
    assert_eq!(code, Some(1), "{deployment:#}");
    let commands = deployment["commands"].as_array().unwrap();
    let status = |host: &str| commands.iter().find(|c| c["instance"] == host).map(|c| c["status"].clone());
    assert_eq!(status("clients1"), Some(json!("failed")), "{deployment:#}");
    assert_eq!(status("clients2"), Some(json!("skipped")), "{deployment:#}");
    for _ in 0..20 {
        assert_eq!(site(&url).await.unwrap()["mark"], "v2", "the site keeps serving the good release");
    }
    let releases: Value =
        serde_json::from_str(&stack.cli_ok(&["release", "list", "--stack", "demo", "site", "--json"])).unwrap();
    let current = |host: &str| {
        releases.as_array().unwrap().iter().find(|r| r["instance"] == host && r["current"] == true).unwrap().clone()
    };
    assert_eq!(current("clients1")["case"], "new_revision");
    assert!(
        releases.as_array().unwrap().iter().any(|r| r["instance"] == "clients1" && r["outcome"] == "bad"),
        "{releases:#}"
    );

    // A new instance of clients joins the backend; a stopped one leaves it.
    stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    eventually(WAIT, "clients3 in the backend", || async {
        let servers = backend(&stats, &user, &password).await?;
        servers.iter().any(|(n, s)| n == "clients3-client1" && s.starts_with("UP")).then_some(())
    })
    .await;
    stack.cli_ok(&["instance", "stop", "--stack", "demo", "clients3", "--wait"]);
    eventually(WAIT, "clients3 out of the backend", || async {
        let servers = backend(&stats, &user, &password).await?;
        (!servers.iter().any(|(n, _)| n.starts_with("clients3"))).then_some(())
    })
    .await;
    assert!(site(&url).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_starts_coalesces_into_one_configure_per_instance() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    for _ in 0..5 {
        stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "web"]);
    }
    for host in ["web1", "web2", "web3", "web4", "web5"] {
        stack.wait_status("demo", host, "online", WAIT).await;
    }
    let client = stack.client();
    let began = std::time::Instant::now();
    let configures = loop {
        let all = client.deployments("demo").await.unwrap();
        let configures: Vec<_> = all.into_iter().filter(|d| d.kind == "configure").collect();
        if configures.iter().all(|d| d.status != "running") {
            break configures;
        }
        if began.elapsed() > WAIT {
            let mut shown = Vec::new();
            for d in configures.iter().filter(|d| d.status == "running") {
                shown.push(format!("{:#?}", client.deployment(d.id).await.unwrap()));
            }
            panic!("the Configure runs did not settle within {WAIT:?}:\n{}\n{}", shown.join("\n"), stack.server_log());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let mut effective = std::collections::BTreeMap::<String, usize>::new();
    let mut superseded = 0;
    for d in &configures {
        for c in &client.deployment(d.id).await.unwrap().commands {
            match c.status.as_str() {
                "successful" => *effective.entry(c.instance.clone()).or_default() += 1,
                "superseded" => superseded += 1,
                other => panic!("a Configure command ended {other}: {c:?}"),
            }
        }
    }
    assert_eq!(effective.len(), 5, "every instance configured: {effective:?}");
    assert!(effective.values().all(|n| *n == 1), "one effective Configure per instance: {effective:?}");
    // The held Configure counted the later arrivals and made its commands when released: one
    // deployment, nothing made only to be superseded.
    assert_eq!((configures.len(), superseded), (1, 0), "one Configure deployment for the burst: {configures:#?}");
}
