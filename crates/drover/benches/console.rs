//! The web console under size: the stack page of a stack with 200 instances, and a deployment
//! page following 20 instances' logs live, on a real server with real local agents.
//!
//! Run: `cargo bench -p drover --bench console` (release build). Prints:
//! - the stack page's time (request to whole body, over loopback HTTPS with a signed-in session),
//!   p50/p99 over 50 loads, for a stack of 200 instances (20 online local agents with heartbeat
//!   metrics, and 180 registered hosts, which cost the page the same rows without 180 more
//!   processes on this machine). Target: under 50 ms.
//! - for 20 instances each printing a timestamped line every 100 ms for 15 s, followed through the
//!   deployment page's Server-Sent Events streams (as its script opens them): how many lines
//!   arrived, and how far behind the instance's clock each arrived (p50/p99/max). "Not falling
//!   behind" means every line arrives and the lag does not grow with time.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use drover_core::stats::percentile;
use drover_proto::api::{CreateDeployment, CreateInstance};
use support::{Options, TestStack};

const ONLINE: usize = 20;
const REGISTERED: usize = 180;
const PAGE_LOADS: usize = 50;
const LINES: usize = 150;

/// A signed-in console session over HTTPS.
struct Session {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Session {
    async fn sign_in(stack: &TestStack) -> Self {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(drover_client::tls::pinned_client_config(&stack.fingerprint()).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let base = stack.url();
        let form = http.get(format!("{base}/login")).send().await.unwrap();
        let login_cookie = cookie(&form, "drover_login");
        let csrf = login_cookie.split_once('=').unwrap().1.to_owned();
        let body = serde_urlencoded::to_string([("csrf", csrf.as_str()), ("token", &stack.admin_token())]).unwrap();
        let signed = http
            .post(format!("{base}/login"))
            .header("Cookie", &login_cookie)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(signed.status().as_u16(), 303);
        Self { cookie: cookie(&signed, "drover_session"), http, base }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).header("Cookie", &self.cookie).send().await.unwrap()
    }
}

fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap()
}

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Follows one command's events stream to its end; answers each line's lag (seconds between the
/// instance printing it and this reading it).
async fn follow(session: &Session, command: i64) -> Vec<f64> {
    let mut response = session.get(&format!("/console/commands/{command}/events?offset=0")).await;
    let mut text = String::new();
    let mut lags = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        let arrived = now_secs();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if event.contains("event: end") {
                return lags;
            }
            let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
            let Ok(json) = serde_json::from_str::<serde_json::Value>(data) else { continue };
            for line in json["data"].as_str().unwrap_or_default().lines() {
                if let Some(printed) = line.strip_prefix("tick ").and_then(|t| t.parse::<f64>().ok()) {
                    lags.push(arrived - printed);
                }
            }
        }
    }
    lags
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = Options { agent_heartbeat_secs: 5.0, ..Options::default() };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("bench", &[("web", "custom")]);
    let client = stack.client();
    let began = Instant::now();
    for _ in 0..ONLINE {
        stack.create_online_instance("bench", &["web"]);
    }
    for n in 0..REGISTERED {
        let req = CreateInstance {
            layers: vec!["web".into()],
            provider: Some("registered".into()),
            hostname: Some(format!("edge{n:03}")),
            cpu_count: None,
            scaling: None,
        };
        client.create_instance("bench", &req).await.unwrap();
    }
    eprintln!("{ONLINE} online and {REGISTERED} registered instances in {:.0?}", began.elapsed());
    let session = Session::sign_in(&stack).await;

    // The stack page.
    let mut page_ms = Vec::with_capacity(PAGE_LOADS);
    let mut bytes = 0;
    for _ in 0..PAGE_LOADS {
        let started = Instant::now();
        let response = session.get("/stacks/bench").await;
        assert_eq!(response.status().as_u16(), 200);
        bytes = response.bytes().await.unwrap().len();
        page_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    page_ms.sort_by(f64::total_cmp);

    // A deployment page following 20 chatty commands.
    let script = format!("for i in $(seq {LINES}); do echo \"tick $(date +%s.%N)\"; sleep 0.1; done");
    let req = CreateDeployment {
        kind: "execute".into(),
        command: vec!["sh".into(), "-c".into(), script],
        layers: vec!["web".into()],
        ..Default::default()
    };
    let deployment = client.create_deployment("bench", &req).await.unwrap();
    let page = session.get(&format!("/deployments/{}", deployment.id)).await;
    assert_eq!(page.status().as_u16(), 200);
    let running: Vec<i64> = deployment.commands.iter().filter(|c| c.status != "skipped").map(|c| c.id).collect();
    let followed = Instant::now();
    let mut streams = tokio::task::JoinSet::new();
    let session = std::sync::Arc::new(session);
    for id in running.clone() {
        let session = session.clone();
        streams.spawn(async move { (id, follow(&session, id).await) });
    }
    let mut lags: HashMap<i64, Vec<f64>> = HashMap::new();
    while let Some(joined) = streams.join_next().await {
        let (id, got) = joined.unwrap();
        lags.insert(id, got);
    }
    let lines: usize = lags.values().map(Vec::len).sum();
    let mut all: Vec<f64> = lags.values().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    // Whether the lag grows: the mean lag of the last tenth of each stream against the first.
    let tenth = |v: &Vec<f64>, last: bool| {
        let n = (v.len() / 10).max(1);
        let part = if last { &v[v.len().saturating_sub(n)..] } else { &v[..n.min(v.len())] };
        part.iter().sum::<f64>() / part.len().max(1) as f64
    };
    let first: f64 = lags.values().map(|v| tenth(v, false)).sum::<f64>() / lags.len().max(1) as f64;
    let last: f64 = lags.values().map(|v| tenth(v, true)).sum::<f64>() / lags.len().max(1) as f64;

    println!(
        "stack page, {} instances ({ONLINE} online, {REGISTERED} registered), {bytes} bytes:",
        ONLINE + REGISTERED
    );
    println!(
        "  p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {PAGE_LOADS} loads (target < 50 ms)",
        percentile(&page_ms, 50.0).unwrap(),
        percentile(&page_ms, 99.0).unwrap(),
        page_ms.last().unwrap()
    );
    println!("deployment page following {} live logs for {:.0?}:", running.len(), followed.elapsed());
    println!("  {lines} of {} lines arrived", running.len() * LINES);
    println!(
        "  lag p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; mean lag {:.0} ms in the first tenth, {:.0} ms in the last",
        percentile(&all, 50.0).unwrap_or(0.0) * 1000.0,
        percentile(&all, 99.0).unwrap_or(0.0) * 1000.0,
        all.last().copied().unwrap_or(0.0) * 1000.0,
        first * 1000.0,
        last * 1000.0
    );
}
