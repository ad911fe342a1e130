//! Store rows as API bodies.

use drover_proto::agent::ServiceReport;
use drover_proto::api::{
    Command, Deployment, DeploymentPlan, Instance, Layer, Metrics, Service, SkippedInstance, Stack,
};

use crate::orchestrator::app_deploy::AppDeploymentPlan;
use crate::store::{CommandRow, DeploymentRow, InstanceRow, LayerRow, StackRow};
use crate::time::{now_ms, rfc3339};

fn json_or_empty(raw: &str) -> serde_json::Value {
    serde_json::from_str(raw).unwrap_or_else(|_| serde_json::json!({}))
}

/// A stored Custom JSON document as shown: secret values redacted.
pub fn shown_json(raw: &str) -> serde_json::Value {
    let mut doc = json_or_empty(raw);
    drover_core::attributes::redact(&mut doc);
    doc
}

pub fn stack(row: &StackRow) -> Stack {
    Stack { name: row.name.clone(), custom_json: shown_json(&row.custom_json), created_at: rfc3339(row.created_at) }
}

pub fn layer(stack: &str, row: &LayerRow) -> Layer {
    Layer {
        stack: stack.to_owned(),
        shortname: row.shortname.clone(),
        layer_type: row.layer_type.clone(),
        custom_json: shown_json(&row.custom_json),
        auto_healing: row.auto_healing,
        hooks: serde_json::from_str(&row.hooks).unwrap_or_default(),
    }
}

pub fn instance(row: &InstanceRow) -> Instance {
    let metrics = match (row.cpu_percent, row.memory_percent, row.load_1m) {
        (Some(cpu_percent), Some(memory_percent), Some(load_1m)) => {
            Some(Metrics { cpu_percent, memory_percent, load_1m })
        }
        _ => None,
    };
    Instance {
        hostname: row.hostname.clone(),
        stack: row.stack_name.clone(),
        layers: row.layers(),
        provider: row.provider.clone(),
        status: row.status.clone(),
        address: row.address.clone(),
        cpu_count: row.cpu_count.or(row.cpu_count_override).map(|n| n as u32),
        memory_bytes: row.memory_bytes.map(|n| n as u64),
        agent_version: row.agent_version.clone(),
        last_heartbeat: row.last_heartbeat.map(rfc3339),
        metrics,
        created_at: rfc3339(row.created_at),
        services: services(row.services.as_deref()),
        scaling: row.scaling.clone(),
        machine_id: row.machine_id.clone(),
    }
}

/// The services an instance's agent last reported, by app and name; uptime as of now.
fn services(raw: Option<&str>) -> Vec<Service> {
    let mut reported: Vec<ServiceReport> = raw.and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    reported.sort_by(|a, b| (&a.app, &a.name).cmp(&(&b.app, &b.name)));
    let now = now_ms();
    reported
        .into_iter()
        .map(|s| Service {
            app: s.app.to_string(),
            name: s.name.to_string(),
            state: s.state.as_str().to_owned(),
            pid: s.pid,
            started_at: s.started_at_ms.map(rfc3339),
            uptime_secs: s.started_at_ms.map(|t| (now.saturating_sub(t).max(0) / 1000) as u64),
            restarts: s.restarts,
        })
        .collect()
}

pub fn command(row: &CommandRow) -> Command {
    Command {
        id: row.id,
        deployment_id: row.deployment_id,
        instance: row.hostname.clone(),
        status: row.status.clone(),
        exit_code: row.exit_code.map(|c| c as i32),
        reason: row.reason.clone(),
        created_at: rfc3339(row.created_at),
        acknowledged_at: row.acknowledged_at.map(rfc3339),
        started_at: row.started_at.map(rfc3339),
        finished_at: row.finished_at.map(rfc3339),
        log_bytes: row.log_bytes as u64,
        batch: u32::try_from(row.batch).unwrap_or(0),
    }
}

pub fn deployment(row: &DeploymentRow, commands: &[CommandRow]) -> Deployment {
    Deployment {
        id: row.id,
        stack: row.stack_name.clone(),
        kind: row.kind.clone(),
        status: row.status.clone(),
        comment: row.comment.clone(),
        command: serde_json::from_str(&row.command).unwrap_or_default(),
        app: row.app_name.clone(),
        revision: row.revision.clone(),
        commit: row.commit_sha.clone(),
        created_at: rfc3339(row.created_at),
        finished_at: row.finished_at.map(rfc3339),
        commands: commands.iter().map(command).collect(),
    }
}

/// What an app deployment would do, from its plan.
pub fn deployment_plan(plan: &AppDeploymentPlan) -> DeploymentPlan {
    let host = |id: i64| plan.hostnames.get(&id).cloned().unwrap_or_else(|| format!("instance {id}"));
    let mut batches: Vec<Vec<String>> = Vec::new();
    let mut shown = DeploymentPlan {
        app: plan.app.name.clone(),
        revision: plan.revision.clone(),
        commit: plan.commit.clone(),
        ..Default::default()
    };
    for c in &plan.planned {
        match &c.skip {
            Some(reason) => {
                shown.skipped.push(SkippedInstance { instance: host(c.instance_id), reason: reason.clone() })
            }
            None if plan.app_instances.contains(&c.instance_id) => {
                let batch = c.batch as usize;
                if batches.len() <= batch {
                    batches.resize(batch + 1, Vec::new());
                }
                batches[batch].push(host(c.instance_id));
            }
            None => shown.configure.push(host(c.instance_id)),
        }
    }
    shown.batches = batches;
    shown
}
