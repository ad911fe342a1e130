//! Deploy benchmarks on real local instances with the example buildout.
//!
//! Run: `cargo bench -p drover --bench deploy`. Prints
//! - the end-to-end time of a no-op deploy (case 5: same commit, same config) to 10 instances,
//!   from the CLI call until it returns with every instance done (median of 5; target < 300 ms;
//!   the server resolves the commit, so agents that hold it fetch nothing);
//! - a first deploy on one instance: its total time, the time of the steps a user would run by
//!   hand (python -m venv, pip install zc.buildout, bin/buildout; from the agent's per-step
//!   timing lines), and drover's overhead on top (target < 5 %).
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use drover_core::stats::percentile;
use support::{Options, TestStack};

const INSTANCES: usize = 10;
const NO_OP_RUNS: usize = 5;

fn deploy(stack: &TestStack, extra: &[&str]) -> (Duration, serde_json::Value) {
    let mut args = vec!["deploy", "--stack", "bench", "site", "--wait", "--json", "--timeout", "1800"];
    args.extend(extra);
    let began = Instant::now();
    let out = stack.cli(&args);
    let took = began.elapsed();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "successful", "{json:#}\n{}", String::from_utf8_lossy(&out.stderr));
    (took, json)
}

/// Seconds of the hand-run steps in a deploy log ("(python3 took 1.23 s)" lines).
fn hand_steps(log: &str) -> f64 {
    log.lines()
        .filter_map(|l| l.strip_prefix('(')?.strip_suffix(" s)"))
        .filter_map(|l| {
            let (program, secs) = l.split_once(" took ")?;
            ["python3", "pip", "buildout"].contains(&program).then(|| secs.parse::<f64>().ok())?
        })
        .sum()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = Options { agent_heartbeat_secs: 30.0, ..Options::default() };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("bench", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    stack.create_online_instance("bench", &["zeoserver"]);
    stack.create_demo_app("bench", &["zeoserver", "clients"]);

    // A first deploy on one instance (the ZEO server's): total vs the hand-run steps.
    let (total, d) = deploy(&stack, &[]);
    let id = d["commands"][0]["id"].as_i64().unwrap();
    let log = stack.client().command_log(id, 0, Duration::ZERO).await.unwrap().data;
    let hand = hand_steps(&log);
    let total_s = total.as_secs_f64();
    println!("first deploy on 1 instance: {total_s:.2} s end to end; venv + pip + buildout {hand:.2} s;");
    println!(
        "  drover's overhead {:.2} s = {:.1} % (target < 5 %)",
        total_s - hand,
        (total_s - hand) * 100.0 / total_s
    );

    // Ten instances in all (the ZEO server and nine with two clients each), then no-op deploys.
    for _ in 1..INSTANCES {
        stack.cli_ok(&["instance", "create", "--stack", "bench", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    }
    // Three at a time: ten cold builds at once would measure this 2-core machine, not drover.
    let (first_all, _) = deploy(&stack, &["--batch", "3"]);
    println!("first deploy of {} more instances, 3 at a time: {:.1} s", INSTANCES - 1, first_all.as_secs_f64());
    let mut runs: Vec<f64> = (0..NO_OP_RUNS).map(|_| deploy(&stack, &[]).0.as_secs_f64() * 1000.0).collect();
    runs.sort_by(f64::total_cmp);
    println!(
        "no-op deploy to {INSTANCES} instances, end to end: median {:.0} ms, min {:.0} ms, max {:.0} ms (target < 300 ms)",
        percentile(&runs, 50.0).unwrap(),
        runs[0],
        runs[runs.len() - 1]
    );
}
