//! Dispatch latency and idle agent memory, on a real server with 5 real local agents.
//!
//! Run: `cargo bench -p drover --bench dispatch` (release build). Prints the p50/p99 time from the
//! API call that creates a command until its agent has started the process (the agent's start
//! time minus the server's creation time; both clocks are this machine's), over 200 commands,
//! and the resident memory of the idle agents. Targets: p99 < 50 ms, idle agent RSS < 15 MB.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use drover_core::stats::percentile;
use drover_proto::api::CreateDeployment;
use support::{Options, TestStack, eventually};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const COMMANDS: usize = 200;
const AGENTS: usize = 5;

fn ms(rfc3339: &str) -> f64 {
    let t = OffsetDateTime::parse(rfc3339, &Rfc3339).unwrap();
    t.unix_timestamp_nanos() as f64 / 1e6
}

fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = Options { agent_heartbeat_secs: 30.0, ..Options::default() };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("bench", &[("web", "custom")]);
    let hosts: Vec<String> = (0..AGENTS).map(|_| stack.create_online_instance("bench", &["web"])).collect();
    let client = stack.client();

    let mut latencies = Vec::with_capacity(COMMANDS);
    for n in 0..COMMANDS {
        let host = &hosts[n % AGENTS];
        let req = CreateDeployment {
            kind: "execute".into(),
            command: vec!["true".into()],
            layers: vec![],
            instances: vec![host.clone()],
            comment: None,
            timeout_secs: None,
            ..Default::default()
        };
        let deployment = client.create_deployment("bench", &req).await.unwrap();
        let id = deployment.commands[0].id;
        let done = eventually(Duration::from_secs(60), "the command to finish", || async {
            client.command(id).await.ok().filter(|c| c.status == "successful")
        })
        .await;
        latencies.push(ms(done.started_at.as_deref().unwrap()) - ms(&done.created_at));
    }
    latencies.sort_by(f64::total_cmp);
    let p50 = percentile(&latencies, 50.0).unwrap();
    let p99 = percentile(&latencies, 99.0).unwrap();
    let max = latencies.last().copied().unwrap();

    // Let the agents go idle (only the open long-poll), then read their memory.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss: Vec<u64> = stack.agent_pids().into_iter().map(rss_kib).collect();
    let rss_max = rss.iter().copied().max().unwrap_or(0);
    let rss_mean = rss.iter().sum::<u64>() / rss.len().max(1) as u64;

    println!("dispatch latency over {COMMANDS} commands on {AGENTS} local agents:");
    println!("  p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms (target p99 < 50 ms)");
    println!(
        "idle agent RSS: max {:.1} MiB, mean {:.1} MiB (target < 15 MB)",
        rss_max as f64 / 1024.0,
        rss_mean as f64 / 1024.0
    );
}
