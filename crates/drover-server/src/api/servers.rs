//! `GET /servers`: the servers of the control plane, the leader and each one's load.

use axum::Json;
use axum::extract::State;
use drover_proto::servers::ServerMember;

use super::auth::Caller;
use super::failure::{ApiResult, Failure};
use crate::cluster::members::SILENT_AFTER;
use crate::state::AppState;
use crate::time::{now_ms, rfc3339};

/// Every server, the most recently started first. Admins only: it names hosts and processes.
#[utoipa::path(
    get,
    path = "/servers",
    operation_id = "list_servers",
    tag = "server",
    summary = "The servers of the control plane, the leader and each one's load",
    responses((status = 200, description = "The servers", body = Vec<drover_proto::servers::ServerMember>), (status = 403, description = "The caller is not an admin", body = drover_proto::ErrorBody))
)]
pub async fn list(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<ServerMember>>> {
    if !caller.is_admin() {
        return Err(Failure::forbidden("only a server-wide admin sees the control plane's servers"));
    }
    let now = now_ms();
    let rows = state.store.servers().await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| {
                let silent_secs = u64::try_from(now.saturating_sub(r.seen_at) / 1000).unwrap_or(0);
                ServerMember {
                    answering: r.id == state.cluster.id,
                    // A leader that stopped reporting leads no more (its lock went with it).
                    leader: r.leader && silent_secs <= SILENT_AFTER.as_secs(),
                    id: r.id,
                    url: r.url,
                    pid: r.pid,
                    started_at: rfc3339(r.started_at),
                    seen_at: rfc3339(r.seen_at),
                    silent_secs,
                    agents: r.agents,
                    cpu_percent: r.cpu_percent,
                    rss_bytes: r.rss_bytes,
                }
            })
            .collect(),
    ))
}
