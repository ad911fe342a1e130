//! A deployment's status against results that land while it is recomputed elsewhere.

use drover_core::{DeploymentKind, InstanceStatus};
use drover_proto::agent::ResultReport;

use super::{NewDeployment, PlannedCommand};
use crate::store::{NewHostname, NewInstance, Store};

fn success() -> ResultReport {
    ResultReport { success: true, exit_code: Some(0), reason: None, finished_at_ms: 1, data: None, nonce: None }
}

/// Two commands finish while follow-ups recompute the status concurrently. However they
/// interleave, the deployment ends successful with an end time, never `running` with one (a
/// status computed before the second result and written after it once left it `running`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_never_leave_a_finished_deployment_running() {
    for under_test in crate::store::test_backends::stores().await {
        race(&under_test.store, under_test.backend).await;
    }
}

async fn race(store: &Store, backend: &str) {
    let stack = store.create_stack("race", "{}").await.unwrap();
    let mut instances = Vec::new();
    for hostname in ["web1", "web2"] {
        let new = NewInstance {
            stack_id: stack.id,
            hostname: NewHostname::Given(hostname),
            provider: "local",
            status: InstanceStatus::Online,
            address: None,
            cpu_count_override: None,
            scaling: "24/7",
            layer_ids: &[],
            join: None,
        };
        instances.push(store.create_instance(&new).await.unwrap());
    }
    for round in 0..40 {
        let targets: Vec<PlannedCommand> = instances
            .iter()
            .map(|&instance_id| PlannedCommand {
                instance_id,
                spec_json: "{}".into(),
                skip: None,
                batch: 0,
                held: false,
            })
            .collect();
        let new = NewDeployment {
            stack_id: stack.id,
            kind: DeploymentKind::Execute,
            comment: None,
            command_json: "[]",
            app: None,
            targets: &targets,
            revision: None,
            commit: None,
            max_unavailable: 1,
        };
        let (deployment, _) = store.create_deployment(&new).await.unwrap();
        let commands = store.deployment_commands(deployment).await.unwrap();
        let mut tasks = Vec::new();
        for command in &commands {
            let (store, id, instance) = (store.clone(), command.id, command.instance_id);
            tasks.push(tokio::spawn(async move {
                store.finish_command(id, instance, &success()).await.unwrap();
                store.refresh_deployment(deployment).await.unwrap();
            }));
        }
        for _ in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.refresh_deployment(deployment).await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let row = store.deployment(deployment).await.unwrap().unwrap();
        assert_eq!(row.status, "successful", "{backend}, round {round}");
        assert!(row.finished_at.is_some(), "{backend}, round {round}");
    }
}
