//! `POST /stacks/{stack}/zodb/{job}`: run a ZODB job now (orchestrator `zodb`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::DeploymentKind;
use drover_proto::api::Deployment;
use drover_proto::zodb::RunZodbJob;

use super::auth::{Can, DEPLOY};
use super::deployments::load;
use super::extract::{Body, Path};
use super::failure::{ApiResult, Failure};
use crate::orchestrator::zodb::{ZodbRequest, queue};
use crate::state::AppState;

/// The job named in the path.
fn kind(job: &str) -> Result<DeploymentKind, Failure> {
    match job {
        "pack" => Ok(DeploymentKind::ZodbPack),
        "backup" => Ok(DeploymentKind::ZodbBackup),
        "backups" => Ok(DeploymentKind::ZodbBackups),
        "restore" => Ok(DeploymentKind::ZodbRestore),
        other => Err(Failure::not_found(
            "job",
            format!("{other:?} is not a ZODB job; the jobs are pack, backup, backups and restore"),
        )),
    }
}

#[utoipa::path(
    post,
    path = "/stacks/{stack}/zodb/{job}",
    operation_id = "run_zodb_job",
    tag = "deployments",
    summary = "Pack or back up the ZODB, list its backups, or restore one, now (a deployment)",
    params(
        ("stack" = String, Path, description = "The stack's name"),
        ("job" = String, Path, description = "pack, backup, backups or restore"),
    ),
    request_body = drover_proto::zodb::RunZodbJob,
    responses(
        (status = 201, description = "The deployment that runs it", body = drover_proto::api::Deployment),
        (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody),
        (status = 409, description = "Another pack, backup or restore of the stack runs, or nothing holds the ZODB", body = drover_proto::ErrorBody),
    )
)]
pub async fn run(
    _: Can<DEPLOY>,
    State(state): State<AppState>,
    Path((stack, job)): Path<(String, String)>,
    Body(req): Body<RunZodbJob>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    let request =
        ZodbRequest { kind: kind(&job)?, backup: req.backup, comment: req.comment, timeout_secs: req.timeout_secs };
    let id = queue(&state, &stack, &request).await?;
    Ok((StatusCode::CREATED, Json(load(&state, id).await?)))
}
