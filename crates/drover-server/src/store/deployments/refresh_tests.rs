//! A deployment's status against results that land while it is recomputed elsewhere.

use drover_core::DeploymentKind;
use drover_proto::agent::ResultReport;

use crate::store::Store;
use crate::store::test_backends::{deployment, online_instance};

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
        instances.push(online_instance(store, stack.id, hostname).await);
    }
    for round in 0..40 {
        let deployment = deployment(store, stack.id, DeploymentKind::Execute, &instances, "{}", false).await;
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
