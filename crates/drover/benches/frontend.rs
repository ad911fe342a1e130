//! Frontend benchmarks on real local instances: the example buildout behind real nginx and
//! HAProxy.
//!
//! Run: `cargo bench -p drover --bench frontend`. Prints
//! - how long after a new plone_instances instance comes online it is in HAProxy's backend, for
//!   3 new instances (target < 3 s);
//! - a fixed number of requests at fixed concurrency through nginx and HAProxy during a rolling
//!   deploy of a new revision on 2 instances × 2 clients: the count, the failures (target 0),
//!   the latency percentiles, and which revision answered after the deploy.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use drover_core::stats::percentile;
use support::{Options, TestStack, eventually};

const WAIT: Duration = Duration::from_secs(300);
const REQUESTS: usize = 20_000;
const CONCURRENCY: usize = 8;

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().unwrap()
}

/// HAProxy's backend: server name → status.
async fn backend(stats_url: &str, user: &str, password: &str) -> Vec<(String, String)> {
    let Ok(resp) = http().get(format!("{stats_url};csv")).basic_auth(user, Some(password)).send().await else {
        return Vec::new();
    };
    let csv = resp.text().await.unwrap_or_default();
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f.len() > 17 && f[0] == "plone" && f[1] != "BACKEND" && f[1] != "FRONTEND")
        .map(|f| (f[1].to_owned(), f[17].to_owned()))
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = Options { agent_heartbeat_secs: 30.0, ..Options::default() };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("bench", &[("zeoserver", "zeoserver"), ("clients", "plone_instances"), ("web", "frontend")]);
    let doc = serde_json::json!({"plone_instances": {"per_cpu": 1}, "haproxy": {"check_interval": 1000}});
    let path = stack.data_dir().join("stack.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "bench", path.to_str().unwrap()]);
    stack.cli_ok(&["instance", "create", "--stack", "bench", "--layer", "zeoserver", "--wait"]);
    for _ in 0..2 {
        stack.cli_ok(&["instance", "create", "--stack", "bench", "--layer", "clients", "--cpu-count", "2", "--wait"]);
    }
    stack.cli_ok(&["instance", "create", "--stack", "bench", "--layer", "web", "--wait"]);
    let repo = stack.create_demo_app("bench", &["zeoserver", "clients"]);
    let out = stack.cli(&["deploy", "--stack", "bench", "site", "--wait", "--timeout", "1800"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let client = stack.client();
    let f = eventually(WAIT, "the frontend", || async {
        client.frontends("bench").await.ok().filter(|f| f.len() == 1 && f[0].servers.len() == 4)
    })
    .await
    .remove(0);
    let (stats, user, password) = (f.stats_url.unwrap(), f.stats_user, f.stats_password);

    // New instances: online → listed in HAProxy's backend.
    let mut listed = Vec::new();
    for n in 3..=5 {
        let host = format!("clients{n}");
        stack.cli_ok(&["instance", "create", "--stack", "bench", "--layer", "clients", "--cpu-count", "1"]);
        let online = eventually(WAIT, "online", || async {
            let i = client.instance("bench", &host).await.ok()?;
            (i.status == "online").then(Instant::now)
        })
        .await;
        let server = format!("{host}-client1");
        loop {
            let servers = backend(&stats, &user, &password).await;
            if servers.iter().any(|(name, _)| *name == server) {
                listed.push(online.elapsed());
                break;
            }
            assert!(online.elapsed() < WAIT, "{server} never joined the backend");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let secs = |v: &[Duration]| v.iter().map(|d| format!("{:.2} s", d.as_secs_f64())).collect::<Vec<_>>().join(", ");
    println!("new instance in HAProxy's backend after coming online: {} (target < 3 s)", secs(&listed));
    for n in 3..=5 {
        stack.cli_ok(&["instance", "stop", "--stack", "bench", &format!("clients{n}"), "--wait"]);
    }

    // A fixed number of requests through nginx during a rolling deploy.
    repo.write_and_commit("release-mark.txt", "v2", "v2");
    let deploy = tokio::task::spawn_blocking({
        let (url, token) = (stack.url(), stack.admin_token());
        move || {
            let began = Instant::now();
            let out = support::cli_with(&url, &token, &["deploy", "--stack", "bench", "site", "--rolling", "--wait"]);
            (out.status.code(), began.elapsed())
        }
    });
    let began = Instant::now();
    let per_worker = REQUESTS / CONCURRENCY;
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url) = (http(), f.url.clone());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per_worker);
                let mut failed = 0usize;
                for _ in 0..per_worker {
                    let t = Instant::now();
                    match client.get(&url).send().await {
                        Ok(r) if r.status().is_success() => {}
                        _ => failed += 1,
                    }
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                (lat, failed)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut failed = 0;
    for w in workers {
        let (l, f) = w.await.unwrap();
        lat.extend(l);
        failed += f;
    }
    let load_took = began.elapsed();
    let (code, deploy_took) = deploy.await.unwrap();
    assert_eq!(code, Some(0), "the rolling deploy failed");
    let mut marks = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..200 {
        let v: serde_json::Value = http().get(&f.url).send().await.unwrap().json().await.unwrap();
        *marks.entry(v["mark"].as_str().unwrap_or("").to_owned()).or_default() += 1;
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "rolling deploy of a new revision, 2 instances x 2 clients, {:.1} s; load {} requests at concurrency {CONCURRENCY} over {:.1} s (overlapping the deploy's restarts: {}):",
        deploy_took.as_secs_f64(),
        lat.len(),
        load_took.as_secs_f64(),
        load_took > deploy_took / 2
    );
    println!(
        "  failed {failed} (target 0); latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&lat, 50.0).unwrap_or(0.0),
        percentile(&lat, 90.0).unwrap_or(0.0),
        percentile(&lat, 99.0).unwrap_or(0.0),
        lat.last().copied().unwrap_or(0.0)
    );
    println!("  200 requests after the deploy answered from: {marks:?}");
}
