//! A layer's load-based scaling: `GET|PUT /stacks/{stack}/layers/{layer}/scaling`. `GET` (show
//! level) answers the rule, the layer's averages and what the rule would do now; `PUT` (manage
//! level) changes what the request gives, checks the whole rule (core `LoadRule::validate`, every
//! problem by field) and stores it only when it is valid.

use axum::Json;
use axum::extract::State;
use drover_core::scaling::LoadRule;
use drover_proto::FieldError;
use drover_proto::layer_scaling::{LayerAverages, LayerScaling, SetLayerScaling};

use super::auth::{Can, MANAGE, SHOW};
use super::extract::{Body, Path};
use super::failure::{ApiResult, Failure};
use super::resources::{load_layer, load_stack};
use crate::orchestrator::load_scaling::LayerLoad;
use crate::state::AppState;
use crate::store::{LoadScaling, LoadScalingRow};
use crate::time::{now_ms, rfc3339};

/// The stored scaling with the request's changes, checked: every problem at once, by field.
fn apply(current: LoadScaling, req: &SetLayerScaling) -> Result<LoadScaling, Failure> {
    let mut rule = current.rule;
    rule.up = req.up.unwrap_or(rule.up);
    rule.down = req.down.unwrap_or(rule.down);
    rule.up_instances = req.up_instances.unwrap_or(rule.up_instances);
    rule.down_instances = req.down_instances.unwrap_or(rule.down_instances);
    rule.thresholds_wait_secs = req.thresholds_wait_secs.unwrap_or(rule.thresholds_wait_secs);
    rule.ignore_metrics_secs = req.ignore_metrics_secs.unwrap_or(rule.ignore_metrics_secs);
    let enabled = req.enabled.unwrap_or(current.enabled);
    let mut problems: Vec<FieldError> = match rule.validate() {
        Ok(()) => Vec::new(),
        Err(found) => found.into_iter().map(|p| FieldError { field: p.field, message: p.message }).collect(),
    };
    if enabled && rule.up.is_off() && rule.down.is_off() {
        problems.push(FieldError {
            field: "up".into(),
            message: "no threshold is set, so the rule would never act; give up (e.g. cpu=80) or down thresholds"
                .into(),
        });
    }
    let Some(first) = problems.first() else { return Ok(LoadScaling { enabled, rule }) };
    let lines: Vec<String> = problems.iter().map(|p| format!("  {}: {}", p.field, p.message)).collect();
    let mut failure = Failure::invalid(
        first.field.clone(),
        format!("the load-based rule was refused; nothing was changed:\n{}", lines.join("\n")),
    );
    failure.0.details = problems;
    Err(failure)
}

/// The stored scaling, or the defaults (off, no thresholds) when none was ever set.
fn stored(row: &LoadScalingRow) -> LoadScaling {
    row.scaling().unwrap_or(LoadScaling { enabled: false, rule: LoadRule::default() })
}

async fn load_row(state: &AppState, stack: &str, layer: &str) -> ApiResult<LoadScalingRow> {
    let stack = load_stack(state, stack).await?;
    let layer = load_layer(state, &stack, layer).await?;
    state.store.layer_load_scaling(layer.id).await?.ok_or_else(|| Failure::internal("the layer vanished"))
}

/// The layer's rule, its averages and what the rule would do now.
pub(super) async fn view(state: &AppState, row: &LoadScalingRow) -> ApiResult<LayerScaling> {
    let scaling = stored(row);
    let now = now_ms();
    let load = LayerLoad::read(&state.store, &state.metrics, row, &scaling.rule, now).await?;
    let decision = if scaling.enabled {
        load.decide(&scaling.rule, now, row.acted_at).reason().to_owned()
    } else {
        "load-based scaling is off; `drover layer scaling --enable` turns it on".to_owned()
    };
    let averages = load.averages(&scaling.rule, now).map(|(span_ms, a, instances)| LayerAverages {
        window_secs: (span_ms / 1000) as u64,
        cpu_percent: a.cpu,
        memory_percent: a.memory,
        load_1m: a.load,
        instances,
    });
    Ok(LayerScaling {
        layer: row.shortname.clone(),
        enabled: scaling.enabled,
        rule: scaling.rule,
        averages,
        decision,
        last_action_at: row.acted_at.map(rfc3339),
    })
}

/// `GET`: the rule, the layer's averages and what the rule would do now.
#[utoipa::path(
    get,
    path = "/stacks/{stack}/layers/{layer}/scaling",
    operation_id = "show_layer_scaling",
    tag = "layers",
    summary = "A layer's load-based scaling rule, its averages and what the rule would do now",
    params(("stack" = String, Path, description = "The stack's name"), ("layer" = String, Path, description = "The layer's shortname")),
    responses((status = 200, description = "The layer's load-based scaling", body = drover_proto::layer_scaling::LayerScaling))
)]
pub async fn show(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path((stack, layer)): Path<(String, String)>,
) -> ApiResult<Json<LayerScaling>> {
    let row = load_row(&state, &stack, &layer).await?;
    Ok(Json(view(&state, &row).await?))
}

/// `PUT`: changes what the request gives; a refused request changes nothing.
#[utoipa::path(
    put,
    path = "/stacks/{stack}/layers/{layer}/scaling",
    operation_id = "set_layer_scaling",
    tag = "layers",
    summary = "Set a layer's load-based scaling rule (thresholds, counts, wait and ignore times, on or off)",
    params(("stack" = String, Path, description = "The stack's name"), ("layer" = String, Path, description = "The layer's shortname")),
    request_body = drover_proto::layer_scaling::SetLayerScaling,
    responses(
        (status = 200, description = "The layer's load-based scaling", body = drover_proto::layer_scaling::LayerScaling),
        (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody),
    )
)]
pub async fn set(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, layer)): Path<(String, String)>,
    Body(req): Body<SetLayerScaling>,
) -> ApiResult<Json<LayerScaling>> {
    let row = load_row(&state, &stack, &layer).await?;
    let scaling = apply(stored(&row), &req)?;
    state.store.set_layer_load_scaling(row.layer_id, &scaling).await?;
    state.wakeups.changed();
    let row = load_row(&state, &stack, &layer).await?;
    Ok(Json(view(&state, &row).await?))
}

#[cfg(test)]
mod tests {
    use drover_core::scaling::Thresholds;

    use super::*;

    const OFF: LoadScaling = LoadScaling {
        enabled: false,
        rule: LoadRule {
            up: Thresholds::OFF,
            down: Thresholds::OFF,
            up_instances: 1,
            down_instances: 1,
            thresholds_wait_secs: 300,
            ignore_metrics_secs: 600,
        },
    };

    fn cpu(v: f64) -> Option<Thresholds> {
        Some(Thresholds { cpu: Some(v), ..Thresholds::OFF })
    }

    #[test]
    fn requests_change_what_they_give_and_are_checked_whole() {
        let on = SetLayerScaling { enabled: Some(true), up: cpu(80.0), down: cpu(30.0), ..Default::default() };
        let set = apply(OFF, &on).unwrap();
        assert!(set.enabled);
        assert_eq!((set.rule.up.cpu, set.rule.down.cpu, set.rule.thresholds_wait_secs), (Some(80.0), Some(30.0), 300));
        let wait = SetLayerScaling { thresholds_wait_secs: Some(60), ..Default::default() };
        let changed = apply(set, &wait).unwrap();
        assert_eq!((changed.enabled, changed.rule.up.cpu, changed.rule.thresholds_wait_secs), (true, Some(80.0), 60));

        // (request on top of `set`, the fields refused)
        let cases: Vec<(SetLayerScaling, Vec<&str>)> = vec![
            (SetLayerScaling { up: cpu(101.0), ..Default::default() }, vec!["up.cpu"]),
            (SetLayerScaling { down: cpu(90.0), ..Default::default() }, vec!["down.cpu"]),
            (
                SetLayerScaling {
                    thresholds_wait_secs: Some(30),
                    ignore_metrics_secs: Some(7000),
                    ..Default::default()
                },
                vec!["thresholds_wait", "ignore_metrics"],
            ),
            (SetLayerScaling { up_instances: Some(0), ..Default::default() }, vec!["up_instances"]),
            (
                SetLayerScaling { up: Some(Thresholds::OFF), down: Some(Thresholds::OFF), ..Default::default() },
                vec!["up"],
            ),
        ];
        for (req, fields) in cases {
            let failure = apply(set, &req).unwrap_err();
            let got: Vec<&str> = failure.0.details.iter().map(|d| d.field.as_str()).collect();
            assert_eq!(got, fields, "{req:?}");
            assert_eq!(failure.0.field.as_deref(), Some(fields[0]));
        }
        // Off, a rule without thresholds is fine.
        assert!(apply(OFF, &SetLayerScaling::default()).is_ok());
    }
}
