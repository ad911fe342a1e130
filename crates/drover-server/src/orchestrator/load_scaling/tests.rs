use std::time::Instant;

use drover_core::scaling::Thresholds;

use super::*;
use crate::metrics_history::{MIN_SPACING_MS, Point};
use crate::store::{LoadScaling, NewHostname, NewInstance};

const NOW: i64 = 2_000_000_000_000;

fn row(id: i64, hostname: &str, scaling: &str, status: &str) -> InstanceRow {
    InstanceRow {
        id,
        stack_id: 1,
        stack_name: "demo".into(),
        hostname: hostname.into(),
        provider: "local".into(),
        status: status.into(),
        status_changed_at: NOW - 600_000,
        address: None,
        cpu_count: None,
        cpu_count_override: None,
        memory_bytes: None,
        agent_version: None,
        last_heartbeat: None,
        cpu_percent: None,
        memory_percent: None,
        load_1m: None,
        credential_hash: None,
        created_at: 7,
        layer_names: Some("web".into()),
        services: None,
        scaling: scaling.into(),
        schedule: None,
        machine_id: None,
    }
}

fn rule(wait_secs: u64) -> LoadRule {
    LoadRule {
        up: Thresholds { cpu: Some(80.0), ..Thresholds::OFF },
        down: Thresholds { cpu: Some(30.0), ..Thresholds::OFF },
        thresholds_wait_secs: wait_secs,
        ignore_metrics_secs: 60,
        ..LoadRule::default()
    }
}

/// Heartbeats of instance `id` every 5 s over the last `span_ms`, at `cpu` percent.
fn beat(history: &MetricsHistory, id: i64, span_ms: i64, cpu: f64) {
    let mut at = NOW - span_ms + 1;
    while at <= NOW {
        history.record(id, 7, Point::new(at, cpu, 40.0, 1.0));
        at += MIN_SPACING_MS;
    }
}

#[test]
fn members_and_the_online_instances_samples_are_gathered() {
    let history = MetricsHistory::default();
    beat(&history, 1, 600_000, 90.0);
    beat(&history, 2, 600_000, 95.0); // stopped now: its metrics are left out
    history.record(3, 8, Point::new(NOW - 1_000, 100.0, 0.0, 0.0)); // another instance that had id 3
    let instances =
        vec![row(1, "web1", "24/7", "online"), row(2, "web2", "load", "stopped"), row(3, "web3", "load", "online")];
    let view = LayerLoad::gather(&history, instances, &[], &rule(120), NOW);

    let hosts: Vec<&str> = view.samples.iter().map(|s| s.hostname.as_str()).collect();
    assert!(hosts.iter().all(|h| *h == "web1"), "{hosts:?}");
    // The wait window and one bucket more: 180 s of heartbeats every 5 s.
    assert_eq!(view.samples.len(), 36);
    assert_eq!(view.members[1].scaling, ScalingType::Load);
    assert_eq!(view.members[0].started_at_ms, Some(NOW - 600_000));
    assert_eq!(view.members[1].started_at_ms, None);

    // web3 is online without metrics, so the layer's averages are web1's alone.
    let (span, averages, reported) = view.averages(&rule(120), NOW).unwrap();
    assert_eq!((span, averages.cpu, reported), (120_000, 90.0, vec!["web1".to_owned()]));
    // cpu 90 % > 80 %, but web2 is the only stopped load-based instance, and it starts.
    match view.decide(&rule(120), NOW, None) {
        LoadDecision::Up { start, reason } => {
            assert_eq!(start, ["web2"]);
            assert!(reason.contains("cpu 90 % > 80 %"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn averages_fall_back_to_the_last_minute_until_the_window_is_whole() {
    let history = MetricsHistory::default();
    beat(&history, 1, 90_000, 50.0);
    let view = LayerLoad::gather(&history, vec![row(1, "web1", "24/7", "online")], &[], &rule(300), NOW);
    let (span, averages, _) = view.averages(&rule(300), NOW).unwrap();
    assert_eq!((span, averages.cpu), (60_000, 50.0));
    assert!(matches!(view.decide(&rule(300), NOW, None), LoadDecision::Hold { .. }));
    let none = LayerLoad::gather(&history, vec![row(1, "web1", "24/7", "stopped")], &[], &rule(300), NOW);
    assert_eq!(none.averages(&rule(300), NOW), None);
}

/// What one pass of the loop costs for a layer: the store query, the metrics, the decision.
/// Run: `cargo test --release -p drover-server load_scaling::tests::timing -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, printed: see docs/benchmarks.md"]
async fn timing_of_one_pass_for_a_layer() {
    const INSTANCES: i64 = 20;
    const PASSES: u32 = 200;
    let dir = std::env::temp_dir().join(format!("drover-load-timing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&dir.join("drover.db")).await.unwrap();
    let stack = store.create_stack("demo", "{}").await.unwrap();
    let layer = store.create_layer(stack.id, "web", "custom", "{}", true, "{}").await.unwrap();
    let history = MetricsHistory::default();
    let now = now_ms();
    for n in 1..=INSTANCES {
        let hostname = format!("web{n}");
        let new = NewInstance {
            stack_id: stack.id,
            hostname: NewHostname::Given(&hostname),
            provider: "local",
            status: if n <= INSTANCES / 2 { InstanceStatus::Online } else { InstanceStatus::Stopped },
            address: None,
            cpu_count_override: None,
            scaling: "24/7",
            layer_ids: &[layer.id],
            join: None,
        };
        let id = store.create_instance(&new).await.unwrap();
        let created_at = store.instance_by_id(id).await.unwrap().unwrap().created_at;
        store.set_scaling(id, if n <= 2 { "24/7" } else { "load" }, None).await.unwrap();
        // 100 minutes of heartbeats every 5 s.
        let mut at = now - 6_000_000;
        while at <= now {
            history.record(id, created_at, Point::new(at, 85.0, 40.0, 1.0));
            at += MIN_SPACING_MS;
        }
    }
    let rule = rule(6000);
    store.set_layer_load_scaling(layer.id, &LoadScaling { enabled: true, rule }).await.unwrap();
    let layer_row = store.layers_with_load_scaling().await.unwrap().remove(0);

    let mut decide_ns = Vec::new();
    let started = Instant::now();
    for _ in 0..PASSES {
        let view = LayerLoad::read(&store, &history, &layer_row, &rule, now).await.unwrap();
        let at = Instant::now();
        let decision = view.decide(&rule, now, None);
        decide_ns.push(at.elapsed().as_nanos());
        assert!(matches!(decision, LoadDecision::Up { .. }), "{decision:?}");
    }
    let per_pass = started.elapsed() / PASSES;
    decide_ns.sort_unstable();
    println!(
        "one pass for a layer of {INSTANCES} instances ({} online, 100 min of heartbeats every 5 s, a 100-min window): \
         {per_pass:?} per pass (store query, metrics, decision); decide alone: median {} µs, max {} µs",
        INSTANCES / 2,
        decide_ns[decide_ns.len() / 2] / 1000,
        decide_ns[decide_ns.len() - 1] / 1000
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
