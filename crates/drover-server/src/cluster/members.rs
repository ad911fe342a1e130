//! Each server's row in `servers`, refreshed every [`PERIOD`]: its URL, whether it leads, the
//! agents long-polling it, its CPU and memory. `drover server status` reads them; a row not
//! refreshed for [`FORGET_AFTER`] is dropped, and a server that stops drops its own.

use std::time::Duration;

use drover_core::process::{cpu_ticks, rss_bytes};

use crate::state::AppState;
use crate::store::ServerRow;
use crate::time::now_ms;

/// How often a server refreshes its row.
pub const PERIOD: Duration = Duration::from_secs(2);
/// Silence after which a server counts as gone.
pub const SILENT_AFTER: Duration = Duration::from_secs(10);
/// How long a silent server's row stays (shown as not seen since).
const FORGET_AFTER: Duration = Duration::from_secs(600);

/// Refreshes this server's row forever.
pub async fn report(state: AppState) {
    let mut last = (std::time::Instant::now(), own_cpu_ticks());
    let mut tick = tokio::time::interval(PERIOD);
    loop {
        tick.tick().await;
        let now = (std::time::Instant::now(), own_cpu_ticks());
        let seconds = now.0.duration_since(last.0).as_secs_f64();
        let cpu_percent =
            if seconds > 0.0 { now.1.saturating_sub(last.1) as f64 / USER_HZ / seconds * 100.0 } else { 0.0 };
        last = now;
        let row = ServerRow {
            id: state.cluster.id.clone(),
            url: state.cluster.url.clone(),
            pid: i64::from(std::process::id()),
            started_at: state.cluster.started_at,
            seen_at: now_ms(),
            leader: state.cluster.is_leader(),
            agents: i64::try_from(state.presence.polling_agents()).unwrap_or(i64::MAX),
            cpu_percent: (cpu_percent * 10.0).round() / 10.0,
            rss_bytes: std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| rss_bytes(&s))
                .and_then(|b| i64::try_from(b).ok())
                .unwrap_or(0),
        };
        if let Err(e) = state.store.record_server(&row).await {
            tracing::warn!("failed to record this server among the control plane's: {e}");
        }
    }
}

/// Drops this server's row (it is stopping) and the rows of servers long silent.
pub async fn leave(state: &AppState) {
    let stale_before = now_ms() - FORGET_AFTER.as_millis() as i64;
    if let Err(e) = state.store.forget_servers(&state.cluster.id, stale_before).await {
        tracing::warn!("failed to remove this server from the control plane's list: {e}");
    }
}

fn own_cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| cpu_ticks(&s)).unwrap_or(0)
}

/// `/proc` reports CPU time in USER_HZ, which Linux fixes at 100 for every architecture's ABI.
const USER_HZ: f64 = 100.0;
