//! Table tests of [`decide`]: one layer of ZEO clients, with a 5-minute window and 10 minutes of
//! ignored metrics after acting.

use super::*;
use InstanceStatus::*;
use ScalingType::{AlwaysOn, Load, Time};

const NOW: i64 = 1_704_067_200_000;
const MIN: i64 = 60_000;

fn rule() -> LoadRule {
    LoadRule {
        up: Thresholds { cpu: Some(80.0), memory: Some(85.0), load: Some(4.0) },
        down: Thresholds { cpu: Some(30.0), memory: None, load: Some(1.0) },
        up_instances: 1,
        down_instances: 1,
        thresholds_wait_secs: 300,
        ignore_metrics_secs: 600,
    }
}

fn member(hostname: &str, scaling: ScalingType, status: InstanceStatus, started_min_ago: Option<i64>) -> Member {
    Member {
        hostname: hostname.to_owned(),
        scaling,
        status,
        started_at_ms: started_min_ago.map(|m| NOW - m * MIN),
        startable: true,
    }
}

/// clients1 (24/7) and clients2 (load) online; clients3, clients4 and clients10 (load) stopped;
/// clients5 (time) stopped.
fn layer() -> Vec<Member> {
    vec![
        member("clients1", AlwaysOn, Online, Some(600)),
        member("clients2", Load, Online, Some(60)),
        member("clients10", Load, Stopped, None),
        member("clients3", Load, Stopped, Some(900)),
        member("clients4", Load, Requested, None),
        member("clients5", Time, Stopped, None),
    ]
}

/// Heartbeats every 30 s over the last `minutes` from each host, all with the same figures.
fn steady(hosts: &[&str], minutes: i64, cpu: f64, memory: f64, load: f64) -> Vec<Sample> {
    let mut samples = Vec::new();
    for host in hosts {
        for i in 0..minutes * 2 {
            samples.push(Sample {
                at_ms: NOW - i * 30_000,
                hostname: (*host).to_owned(),
                cpu_percent: cpu,
                memory_percent: memory,
                load_1m: load,
            });
        }
    }
    samples
}

fn busy() -> Vec<Sample> {
    let mut samples = steady(&["clients1"], 6, 90.0, 50.0, 2.0);
    samples.extend(steady(&["clients2"], 6, 82.0, 50.0, 2.0));
    samples
}

fn quiet() -> Vec<Sample> {
    steady(&["clients1", "clients2"], 6, 12.0, 40.0, 0.3)
}

fn with(mut members: Vec<Member>, hostname: &str, status: InstanceStatus, started_min_ago: Option<i64>) -> Vec<Member> {
    for m in members.iter_mut().filter(|m| m.hostname == hostname) {
        m.status = status;
        m.started_at_ms = started_min_ago.map(|a| NOW - a * MIN);
    }
    members
}

enum Want {
    Up(&'static [&'static str], &'static str),
    Down(&'static [&'static str], &'static str),
    Hold(&'static str),
}

#[test]
fn load_decisions() {
    let many = LoadRule { up_instances: 2, down_instances: 3, ..rule() };
    let mut gap = busy();
    gap.retain(|s| !(s.at_ms > NOW - 3 * MIN && s.at_ms <= NOW - 2 * MIN));
    let mut one_busy_minute = quiet();
    for s in one_busy_minute.iter_mut().filter(|s| s.at_ms > NOW - MIN) {
        s.cpu_percent = 95.0;
    }
    let mut cpu_dips = busy();
    for s in cpu_dips.iter_mut().filter(|s| s.at_ms > NOW - 4 * MIN && s.at_ms <= NOW - 3 * MIN) {
        s.cpu_percent = 50.0;
    }
    let low_cpu_some_memory = steady(&["clients1", "clients2"], 6, 12.0, 70.0, 0.3);
    let low_cpu_some_load = steady(&["clients1", "clients2"], 6, 12.0, 40.0, 1.5);
    let all_load_online = vec![
        member("clients2", Load, Online, Some(60)),
        member("clients3", Load, Online, Some(30)),
        member("clients4", Load, Online, Some(45)),
    ];
    let last_one = vec![member("clients2", Load, Online, Some(60))];

    // (input: rule, members, samples, last action minutes ago, expected)
    type Case = (LoadRule, Vec<Member>, Vec<Sample>, Option<i64>, Want);
    let cases: Vec<Case> = vec![
        (
            rule(),
            layer(),
            busy(),
            None,
            Want::Up(&["clients3"], "cpu 86 % > 80 % for 5 min on clients1, clients2: starting clients3"),
        ),
        (many, layer(), busy(), None, Want::Up(&["clients3", "clients4"], "starting clients3, clients4")),
        (
            rule(),
            layer().into_iter().map(|m| Member { startable: m.hostname != "clients3", ..m }).collect(),
            busy(),
            None,
            Want::Up(&["clients4"], "starting clients4"),
        ),
        (
            rule(),
            with(with(layer(), "clients3", Online, Some(30)), "clients4", Online, Some(20)),
            busy(),
            None,
            Want::Up(&["clients10"], "starting clients10"),
        ),
        (
            LoadRule { up_instances: 5, ..rule() },
            layer(),
            busy(),
            None,
            Want::Up(&["clients3", "clients4", "clients10"], "clients10 (no other stopped load-based instance)"),
        ),
        (
            rule(),
            vec![member("clients1", AlwaysOn, Online, Some(600)), member("clients5", Time, Stopped, None)],
            steady(&["clients1"], 6, 90.0, 50.0, 2.0),
            None,
            Want::Hold("cpu 90 % > 80 % for 5 min on clients1, but no stopped load-based instance is left to start"),
        ),
        (
            rule(),
            layer(),
            steady(&["clients1", "clients2"], 6, 50.0, 90.0, 4.5),
            None,
            Want::Up(&["clients3"], "memory 90 % > 85 % and load 4.5 > 4 for 5 min"),
        ),
        (
            rule(),
            layer(),
            steady(&["clients1", "clients2"], 6, 80.4, 50.0, 1.0),
            None,
            Want::Up(&["clients3"], "cpu 80.4 % > 80 %"),
        ),
        (
            rule(),
            layer(),
            steady(&["clients1", "clients2"], 6, 80.0, 50.0, 1.0),
            None,
            Want::Hold("no threshold held for 5 min on clients1, clients2: cpu 80 %, memory 50 %, load 1"),
        ),
        (rule(), layer(), cpu_dips, None, Want::Hold("no threshold held")),
        (rule(), layer(), one_busy_minute, None, Want::Hold("no threshold held")),
        (
            rule(),
            layer(),
            gap,
            None,
            Want::Hold(
                "no metrics from the layer's online instances from 3 min to 2 min ago; a decision needs 5 min of metrics without a gap",
            ),
        ),
        (
            rule(),
            layer(),
            steady(&["clients1", "clients2"], 3, 90.0, 50.0, 2.0),
            None,
            Want::Hold("no metrics from the layer's online instances from 4 min to 3 min ago"),
        ),
        (rule(), layer(), vec![], None, Want::Hold("no metrics from the layer's online instances in the last 1 min")),
        (
            rule(),
            layer(),
            busy(),
            Some(4),
            Want::Hold("metrics are ignored for 10 min after the last scaling action (6 min left)"),
        ),
        (
            rule(),
            layer(),
            busy(),
            Some(12),
            Want::Hold("collecting 5 min of metrics after the last scaling action's ignore_metrics time (3 min left)"),
        ),
        (rule(), layer(), busy(), Some(15), Want::Up(&["clients3"], "starting clients3")),
        (
            rule(),
            with(layer(), "clients3", Booting, Some(1)),
            busy(),
            None,
            Want::Hold("clients3 is booting; waiting until it settles"),
        ),
        (
            rule(),
            with(layer(), "clients2", ShuttingDown, Some(60)),
            busy(),
            None,
            Want::Hold("clients2 is shutting_down"),
        ),
        (
            rule(),
            with(layer(), "clients1", Booting, Some(1)),
            busy(),
            None,
            Want::Up(&["clients3"], "cpu 82 % > 80 % for 5 min on clients2: starting clients3"),
        ),
        (
            rule(),
            with(layer(), "clients2", ConnectionLost, Some(60)),
            busy(),
            None,
            Want::Up(&["clients3"], "cpu 90 % > 80 % for 5 min on clients1: starting"),
        ),
        (
            rule(),
            vec![member("clients3", Load, Stopped, None)],
            vec![],
            None,
            Want::Hold("no instance of the layer is online"),
        ),
        (
            rule(),
            layer(),
            quiet(),
            None,
            Want::Down(
                &["clients2"],
                "cpu 12 % < 30 % and load 0.3 < 1 for 5 min on clients1, clients2: stopping clients2",
            ),
        ),
        (rule(), layer(), low_cpu_some_memory, None, Want::Down(&["clients2"], "cpu 12 % < 30 % and load 0.3 < 1")),
        (
            rule(),
            layer(),
            low_cpu_some_load,
            None,
            Want::Hold("no threshold held for 5 min on clients1, clients2: cpu 12 %, memory 40 %, load 1.5"),
        ),
        (
            many,
            all_load_online.clone(),
            steady(&["clients2", "clients3", "clients4"], 6, 5.0, 5.0, 0.1),
            None,
            Want::Down(&["clients3", "clients4"], "stopping clients3, clients4"),
        ),
        (
            rule(),
            last_one,
            steady(&["clients2"], 6, 5.0, 5.0, 0.1),
            None,
            Want::Hold("but clients2 is the layer's last online instance"),
        ),
        (
            rule(),
            vec![member("clients1", AlwaysOn, Online, Some(600))],
            steady(&["clients1"], 6, 5.0, 5.0, 0.1),
            None,
            Want::Hold("but no load-based instance is online to stop"),
        ),
        (LoadRule { down: Thresholds::OFF, ..rule() }, layer(), quiet(), None, Want::Hold("no threshold held")),
        (
            rule(),
            with(layer(), "clients3", Online, Some(5)),
            steady(&["clients1", "clients2", "clients3"], 6, 5.0, 5.0, 0.1),
            Some(20),
            Want::Down(&["clients3"], "stopping clients3"),
        ),
    ];
    for (i, (rule, members, samples, acted, want)) in cases.into_iter().enumerate() {
        let input = LoadInput {
            rule: &rule,
            samples: &samples,
            members: &members,
            now_ms: NOW,
            last_action_ms: acted.map(|a| NOW - a * MIN),
        };
        let got = decide(&input);
        let reason = got.reason().to_owned();
        match (want, got) {
            (Want::Up(hosts, text), LoadDecision::Up { start, .. }) => {
                assert_eq!(start, hosts, "case {i}: {reason}");
                assert!(reason.contains(text), "case {i}: {reason}");
            }
            (Want::Down(hosts, text), LoadDecision::Down { stop, .. }) => {
                assert_eq!(stop, hosts, "case {i}: {reason}");
                assert!(reason.contains(text), "case {i}: {reason}");
            }
            (Want::Hold(text), LoadDecision::Hold { why }) => assert!(why.contains(text), "case {i}: {why}"),
            (_, got) => panic!("case {i}: unexpected {got:?}"),
        }
    }
}
