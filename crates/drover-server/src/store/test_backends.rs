//! Stores for store tests, one per backend: SQLite in a temporary directory always, and a fresh
//! PostgreSQL database when `DROVER_TEST_POSTGRES_URL` names a server to make it in (a URL
//! without a password, with `PGPASSFILE` for the password, as `scripts/test.sh` sets up).

use super::Store;

/// A store under test and what keeps it alive.
pub struct TestStore {
    pub store: Store,
    /// Which backend, for assertion messages.
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
}

/// One empty store per backend under test.
pub async fn stores() -> Vec<TestStore> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(&dir.path().join("drover.db")).await.unwrap();
    let mut all = vec![TestStore { store: sqlite, backend: "sqlite", _dir: Some(dir) }];
    if let Ok(url) = std::env::var("DROVER_TEST_POSTGRES_URL") {
        all.push(TestStore { store: fresh_postgres(&url).await, backend: "postgres", _dir: None });
    }
    all
}

/// A new database next to the one `url` names (a name of its own, so tests and reruns never meet).
async fn fresh_postgres(url: &str) -> Store {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let name = format!("drover_test_{}_{}", std::process::id(), rand::random::<u32>());
    let admin = sqlx::AnyPool::connect(url).await.unwrap();
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
    admin.close().await;
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(server, _)| server);
    let url = match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    };
    Store::connect_postgres(&url).await.unwrap()
}

/// An online instance of the stack, made for a test.
pub async fn online_instance(store: &Store, stack_id: i64, hostname: &str) -> i64 {
    let new = super::NewInstance {
        stack_id,
        hostname: super::NewHostname::Given(hostname),
        provider: "local",
        status: drover_core::InstanceStatus::Online,
        address: None,
        cpu_count_override: None,
        scaling: "24/7",
        layer_ids: &[],
        join: None,
    };
    store.create_instance(&new).await.unwrap()
}

/// A deployment of `kind` with one command per instance (`spec` each), held or not.
pub async fn deployment(
    store: &Store,
    stack_id: i64,
    kind: drover_core::DeploymentKind,
    instances: &[i64],
    spec: &str,
    held: bool,
) -> i64 {
    let targets: Vec<super::PlannedCommand> = instances
        .iter()
        .map(|&instance_id| super::PlannedCommand { instance_id, spec_json: spec.into(), skip: None, batch: 0, held })
        .collect();
    let new = super::NewDeployment {
        stack_id,
        kind,
        comment: None,
        command_json: "[]",
        app: None,
        targets: &targets,
        revision: None,
        commit: None,
        max_unavailable: 1,
    };
    let (id, woken) = store.create_deployment(&new).await.unwrap();
    assert_eq!(woken.is_empty(), held, "held commands wake nobody, others their instances");
    id
}
