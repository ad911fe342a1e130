//! One leader at a time. On PostgreSQL each server holds a connection of its own and tries
//! `pg_try_advisory_lock(LEADER_LOCK_KEY)` on it every second; the holder runs the work that must
//! happen once, and checks its connection every second. When the leader dies its connection
//! closes, PostgreSQL releases the lock, and another server takes it within about a second. A
//! leader whose connection fails stops its work at once and becomes a candidate again. On SQLite
//! the only server leads from its start.

use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tokio::task::JoinSet;

use crate::error::ServerError;
use crate::orchestrator::{
    follow_load, follow_schedules, follow_zodb_schedules, heal_lost_instances, release_configures, settle_running,
    watch_heartbeats,
};
use crate::state::AppState;

/// The session advisory lock the leader holds ("drovld" in ASCII; the write lock is another key).
const LEADER_LOCK_KEY: i64 = 0x6472_6f76_6c64;
/// How often a candidate tries for the lock, and the leader checks its connection.
const PERIOD: Duration = Duration::from_secs(1);
/// The longest the leader's connection check may take before the leader steps down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts leading, or campaigning to. A server that leads from the start sweeps before this
/// returns, so no agent's report (the API is not up yet) races the follow-ups the sweep re-runs.
pub async fn start(state: &AppState) -> Result<(), ServerError> {
    let Some(url) = state.cluster.database_url.clone() else {
        let work = take_over(state).await?;
        // The only server: it leads until it stops.
        tokio::spawn(async move {
            let _work = work;
            std::future::pending::<()>().await
        });
        return Ok(());
    };
    let mut conn = connect(&url).await?;
    let state = state.clone();
    if try_lock(&mut conn).await? {
        let work = take_over(&state).await?;
        tokio::spawn(async move {
            hold(&state, conn, work).await;
            campaign(state, url).await
        });
    } else {
        tracing::info!("another server leads; this one serves the API and agents and stands by");
        drop(conn);
        tokio::spawn(campaign(state, url));
    }
    Ok(())
}

/// Tries for the lock until this server gets it, leads until it loses it, forever.
async fn campaign(state: AppState, url: String) {
    loop {
        let mut conn = match connect(&url).await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!("failed to connect to try for the leader lock: {e}");
                tokio::time::sleep(PERIOD).await;
                continue;
            }
        };
        let locked = loop {
            match try_lock(&mut conn).await {
                Ok(true) => break true,
                Ok(false) => tokio::time::sleep(PERIOD).await,
                Err(e) => {
                    tracing::warn!("failed to try for the leader lock: {e}");
                    break false;
                }
            }
        };
        if !locked {
            tokio::time::sleep(PERIOD).await;
            continue;
        }
        match take_over(&state).await {
            Ok(work) => hold(&state, conn, work).await,
            Err(e) => {
                tracing::error!("failed to take over as leader: {e}");
                state.cluster.set_leading(false);
                drop(conn);
                tokio::time::sleep(PERIOD).await;
            }
        }
    }
}

/// A connection for the leader lock. PostgreSQL frees a session's lock only once it finds the
/// session's client gone: a leader whose host dies, or whose network is cut, sends no close, so
/// the server is told to probe the connection every few seconds and give it up within about 15 s
/// rather than after the kernel's default of two hours.
async fn connect(url: &str) -> Result<PgConnection, sqlx::Error> {
    use sqlx::Executor;
    let mut conn = PgConnection::connect(url).await?;
    conn.execute(
        "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; \
         SET tcp_user_timeout = 10000",
    )
    .await?;
    Ok(conn)
}

async fn try_lock(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LEADER_LOCK_KEY).fetch_one(conn).await
}

/// Leads while the lock's connection answers; then stops the work and steps down.
async fn hold(state: &AppState, mut conn: PgConnection, work: JoinSet<()>) {
    loop {
        tokio::time::sleep(PERIOD).await;
        // A session's advisory lock lasts as long as the session: a connection that answers
        // still holds it.
        if !matches!(tokio::time::timeout(CHECK_TIMEOUT, conn.ping()).await, Ok(Ok(()))) {
            break;
        }
    }
    drop(work);
    state.cluster.set_leading(false);
    tracing::warn!("lost the leader lock's connection: this server stops leading and stands by");
}

/// Becomes the leader: sweeps what a server before it left half done, then starts the work that
/// must happen once (stopped when the returned set is dropped).
async fn take_over(state: &AppState) -> Result<JoinSet<()>, ServerError> {
    state.cluster.set_leading(true);
    tracing::info!(server = %state.cluster.id, "this server leads");
    state.store.claim_leadership(&state.cluster.id).await?;
    crate::orchestrator::sweep(state).await?;
    if state.cluster.database_url.is_some() {
        // Configures held while another server led (or triggered by messages this one missed)
        // are looked at afresh: each stack's debounce starts now.
        let stacks: Vec<i64> = state.store.stacks().await?.into_iter().map(|s| s.id).collect();
        state.configure_events.start_over(&stacks);
    }
    let mut work = JoinSet::new();
    work.spawn(watch_heartbeats(state.clone()));
    work.spawn(heal_lost_instances(state.clone()));
    work.spawn(follow_schedules(state.clone()));
    work.spawn(follow_zodb_schedules(state.clone()));
    work.spawn(follow_load(state.clone()));
    work.spawn(release_configures(state.clone()));
    if state.cluster.database_url.is_some() {
        // Only another server dies between a result and the next batch; one alone sweeps at start.
        work.spawn(settle_running(state.clone()));
    }
    Ok(work)
}
