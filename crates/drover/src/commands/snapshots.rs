//! Snapshots of what people read: the main commands' `--help` and the main tables. A change to
//! either shows up as a diff in review (`cargo insta review`, or `INSTA_UPDATE=always`).

use clap::CommandFactory;
use drover_proto::api::{Instance, StackStatus};
use serde_json::json;

use crate::cli::Cli;

/// `drover <path> --help` at a fixed width.
fn help(path: &[&str]) -> String {
    let mut command = Cli::command().term_width(100);
    command.build();
    let mut found = &mut command;
    for name in path {
        found = found.find_subcommand_mut(name).unwrap_or_else(|| panic!("no subcommand {name}"));
    }
    found.render_long_help().to_string()
}

#[test]
fn help_of_the_main_commands() {
    for path in [
        &[][..],
        &["deploy"],
        &["exec"],
        &["logs"],
        &["instance", "create"],
        &["status"],
        &["stack", "config"],
        &["import", "opsworks"],
    ] {
        let name = if path.is_empty() { "drover".to_owned() } else { format!("drover_{}", path.join("_")) };
        insta::assert_snapshot!(name, help(path));
    }
}

fn instance(hostname: &str, status: &str, scaling: &str, extra: serde_json::Value) -> Instance {
    let mut doc = json!({
        "hostname": hostname, "stack": "production-plone-site-2026", "layers": ["plone-clients"],
        "provider": "local", "status": status, "address": null, "cpu_count": null, "memory_bytes": null,
        "agent_version": null, "last_heartbeat": null, "metrics": null, "created_at": "2026-12-01T08:00:00Z",
        "scaling": scaling,
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        doc[k] = v.clone();
    }
    serde_json::from_value(doc).expect("an instance")
}

fn instances() -> Vec<Instance> {
    vec![
        instance(
            "plone-clients1",
            "online",
            "24/7",
            json!({
                "address": "127.0.0.2", "cpu_count": 4, "memory_bytes": 8_589_934_592u64,
                "agent_version": "0.1.0", "last_heartbeat": "2026-12-01T09:59:30Z",
                "metrics": {"cpu_percent": 42.4, "memory_percent": 61.0, "load_1m": 1.25},
                "services": [
                    {"app": "site", "name": "client1", "state": "running", "pid": 4242,
                     "started_at": "2026-12-01T08:00:00Z", "uptime_secs": 7_265, "restarts": 0},
                    {"app": "site", "name": "client2", "state": "restarting", "pid": null,
                     "started_at": null, "uptime_secs": null, "restarts": 3},
                ],
            }),
        ),
        instance("plone-clients-with-a-long-name32", "stopped", "load", json!({})),
        instance("plone-clients3", "connection_lost", "time", json!({"address": "127.0.0.4"})),
    ]
}

#[test]
fn instance_and_service_tables() {
    let list = instances();
    insta::assert_snapshot!("instance_list", super::instance::rows(&list));
    insta::assert_snapshot!("service_list", super::instance::service_rows(&list));
}

#[test]
fn scaling_tables_in_status() {
    let status: StackStatus = serde_json::from_value(json!({
        "stack": {"name": "production-plone-site-2026", "custom_json": {}, "created_at": "2026-12-01T08:00:00Z"},
        "layers": [], "instances": [], "recent_deployments": [],
        "load_scaling": [{
            "layer": "plone-clients", "enabled": true,
            "rule": {"up": {"cpu": 80.0}, "down": {"cpu": 30.0}, "up_instances": 1, "down_instances": 1,
                     "thresholds_wait_secs": 300, "ignore_metrics_secs": 600},
            "averages": null, "last_action_at": "2026-12-01T09:00:00.000Z",
            "decision": "cpu 42 % is within the thresholds for 5 min on plone-clients1: holding",
        }],
        "time_scaling": [
            {"hostname": "plone-clients3", "scaling": "time", "schedule": "mon-fri 08-18", "grid": null,
             "wants_online": true, "next_change": "2026-12-01T18:00:00.000Z"},
            {"hostname": "plone-clients4", "scaling": "time", "schedule": null, "grid": null,
             "wants_online": false, "next_change": null},
        ],
    }))
    .expect("a status");
    insta::assert_snapshot!("status_scaling", super::status::scaling_tables(&status));
}
