//! An instance's scaling type and, for time-based instances, its weekly schedule:
//! `GET|PUT /stacks/{stack}/instances/{host}/scaling`.

use axum::Json;
use axum::extract::State;
use drover_core::scaling::{ScalingType, WeeklySchedule, grid};
use drover_proto::scaling::{InstanceScaling, SetScaling};

use super::auth::{Can, MANAGE, SHOW};
use super::extract::{Body, Path};
use super::failure::{ApiResult, Failure};
use super::instances::load_instance;
use super::resources::load_stack;
use crate::state::AppState;
use crate::store::InstanceRow;
use crate::time::{rfc3339, schedule_now_secs};

/// What a request asks for, checked: the type and, for `time`, the schedule (none: keep).
fn parse(req: &SetScaling, current: ScalingType) -> ApiResult<(ScalingType, Option<WeeklySchedule>)> {
    if !req.on.is_empty() && req.grid.is_some() {
        return Err(Failure::invalid("grid", "give the schedule as `on` specs or as a `grid`, not both"));
    }
    let schedule = match (&req.grid, req.on.is_empty()) {
        (Some(value), _) => Some(grid::from_value(value).map_err(|e| Failure::invalid("grid", e.to_string()))?),
        (None, false) => Some(WeeklySchedule::from_specs(&req.on).map_err(|e| Failure::invalid("on", e.to_string()))?),
        (None, true) => None,
    };
    let scaling = match req.scaling.as_deref() {
        Some(raw) => raw.parse::<ScalingType>().map_err(|e| Failure::invalid("scaling", e.to_string()))?,
        None if schedule.is_some() => ScalingType::Time,
        None => current,
    };
    if schedule.is_some() && scaling != ScalingType::Time {
        return Err(Failure::invalid(
            "scaling",
            format!("a schedule is for time-based instances; leave out scaling or set it to time, not {scaling}"),
        ));
    }
    Ok((scaling, schedule))
}

/// The stored schedule of an instance (none when it has none, or it cannot be read).
fn stored_schedule(row: &InstanceRow) -> Option<WeeklySchedule> {
    row.schedule.as_deref().and_then(|raw| serde_json::from_str(raw).ok())
}

/// An instance's scaling, and for a time-based one what its schedule wants now.
pub(super) fn view(state: &AppState, row: &InstanceRow) -> InstanceScaling {
    let scaling: ScalingType = row.scaling.parse().unwrap_or_default();
    let schedule = (scaling == ScalingType::Time).then(|| stored_schedule(row).unwrap_or_default());
    let now = schedule_now_secs(state.config.schedule_clock_file.as_deref());
    InstanceScaling {
        hostname: row.hostname.clone(),
        scaling: scaling.as_str().to_owned(),
        schedule: schedule.map(|s| s.to_string()),
        grid: schedule.and_then(|s| serde_json::to_value(s).ok()),
        wants_online: schedule.map(|s| s.wants_online(now)),
        next_change: schedule.and_then(|s| s.next_change(now)).map(|at| rfc3339(at * 1000)),
    }
}

/// `GET`: the instance's scaling, and for a time-based one what its schedule wants now.
#[utoipa::path(
    get,
    path = "/stacks/{stack}/instances/{host}/scaling",
    operation_id = "show_scaling",
    tag = "instances",
    summary = "An instance's scaling type and schedule",
    params(("stack" = String, Path, description = "The stack's name"), ("host" = String, Path, description = "The instance's hostname")),
    responses((status = 200, description = "The instance's scaling", body = drover_proto::scaling::InstanceScaling))
)]
pub async fn show(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path((stack, host)): Path<(String, String)>,
) -> ApiResult<Json<InstanceScaling>> {
    let stack = load_stack(&state, &stack).await?;
    let row = load_instance(&state, &stack, &host).await?;
    Ok(Json(view(&state, &row)))
}

/// `PUT`: sets the type and, with `on` or `grid`, the schedule (which implies `time`). The
/// schedule then starts and stops the instance at its hours.
#[utoipa::path(
    put,
    path = "/stacks/{stack}/instances/{host}/scaling",
    operation_id = "set_scaling",
    tag = "instances",
    summary = "Set an instance's scaling type or its time-based schedule",
    params(("stack" = String, Path, description = "The stack's name"), ("host" = String, Path, description = "The instance's hostname")),
    request_body = drover_proto::scaling::SetScaling,
    responses(
        (status = 200, description = "The instance's scaling", body = drover_proto::scaling::InstanceScaling),
        (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody),
    )
)]
pub async fn set(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, host)): Path<(String, String)>,
    Body(req): Body<SetScaling>,
) -> ApiResult<Json<InstanceScaling>> {
    let stack = load_stack(&state, &stack).await?;
    let row = load_instance(&state, &stack, &host).await?;
    let (scaling, schedule) = parse(&req, row.scaling.parse().unwrap_or_default())?;
    let schedule = schedule.or_else(|| stored_schedule(&row));
    let stored =
        schedule.map(|s| serde_json::to_string(&s)).transpose().map_err(|e| Failure::internal(e.to_string()))?;
    state.store.set_scaling(row.id, scaling.as_str(), stored.as_deref()).await?;
    state.wakeups.changed();
    let row = load_instance(&state, &stack, &host).await?;
    Ok(Json(view(&state, &row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(scaling: Option<&str>, on: &[&str], grid: Option<serde_json::Value>) -> SetScaling {
        SetScaling { scaling: scaling.map(str::to_owned), on: on.iter().map(|s| (*s).to_owned()).collect(), grid }
    }

    #[test]
    fn requests_are_checked_and_a_schedule_implies_time() {
        let always = ScalingType::AlwaysOn;
        // (request, the type it sets or the field it is refused for)
        let cases: Vec<(SetScaling, Result<ScalingType, &str>)> = vec![
            (req(Some("load"), &[], None), Ok(ScalingType::Load)),
            (req(None, &["mon-fri 08-18"], None), Ok(ScalingType::Time)),
            (req(Some("time"), &["sat 10-14"], None), Ok(ScalingType::Time)),
            (req(None, &[], Some(serde_json::json!({"Monday": {"8": "on"}}))), Ok(ScalingType::Time)),
            (req(None, &[], None), Ok(always)),
            (req(Some("24x7"), &[], None), Err("scaling")),
            (req(Some("load"), &["mon 08-18"], None), Err("scaling")),
            (req(None, &["someday 08-18"], None), Err("on")),
            (req(None, &["mon 08-18"], Some(serde_json::json!({}))), Err("grid")),
            (req(None, &[], Some(serde_json::json!({"Funday": {"8": "on"}}))), Err("grid")),
        ];
        for (request, want) in cases {
            let got = parse(&request, always).map(|(s, _)| s).map_err(|f| f.0.field.clone().unwrap_or_default());
            assert_eq!(got, want.map_err(str::to_owned), "{request:?}");
        }
    }
}
