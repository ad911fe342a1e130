//! Load-based scaling: every second, each layer with an enabled rule is given to core
//! `scaling::load::decide` with its members and its online instances' recent heartbeat metrics
//! (`metrics_history`). Up starts the chosen load-based instances, Down stops them (Shutdown
//! first, which drains their clients); each is an event with the decision's reason, and the
//! layer's acted-at time starts its `ignore_metrics` time. A registered host cannot be started
//! by Drover: an event, once per stop, names it to be started by hand.
//!
//! The loop runs every second so a threshold that has held for the whole wait window is acted
//! on within about a second; a pass costs a query per layer and the decision (see
//! `docs/benchmarks.md`).

use std::time::Duration;

use drover_core::Provider;
use drover_core::scaling::load::window::{Averages, BUCKET_MS, window};
use drover_core::scaling::{LoadDecision, LoadInput, LoadRule, Member, Sample, ScalingType, load};
use drover_core::status::InstanceStatus;

use super::events;
use crate::metrics_history::MetricsHistory;
use crate::state::AppState;
use crate::store::{InstanceRow, LoadScalingRow, NewEvent, Store};
use crate::time::now_ms;

/// How often the rules are checked.
const PERIOD: Duration = Duration::from_secs(1);

/// How often, in periods, the metrics of deleted instances are forgotten.
const FORGET_EVERY: u32 = 30;

/// Follows the layers' load-based rules forever.
pub async fn follow_load(state: AppState) {
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u32 = 0;
    loop {
        tick.tick().await;
        if let Err(e) = check_once(&state).await {
            tracing::warn!("failed to follow the load-based rules: {e}");
        }
        ticks = ticks.wrapping_add(1);
        if ticks.is_multiple_of(FORGET_EVERY) {
            match state.store.instance_ids().await {
                Ok(existing) => state.metrics.retain(&existing, now_ms()),
                Err(e) => tracing::warn!("failed to list instances to forget deleted ones' metrics: {e}"),
            }
        }
    }
}

async fn check_once(state: &AppState) -> Result<(), sqlx::Error> {
    for layer in state.store.layers_with_load_scaling().await? {
        let Some(scaling) = layer.scaling().filter(|s| s.enabled) else { continue };
        let now = now_ms();
        let view = LayerLoad::read(&state.store, &state.metrics, &layer, &scaling.rule, now).await?;
        let decision = view.decide(&scaling.rule, now, layer.acted_at);
        match decision {
            LoadDecision::Up { start, reason } => act(state, &layer, &view, &start, &reason, true, now).await?,
            LoadDecision::Down { stop, reason } => act(state, &layer, &view, &stop, &reason, false, now).await?,
            LoadDecision::Hold { .. } => {}
        }
    }
    Ok(())
}

/// What a layer's rule looks at: its instances, as core's members, and its online instances'
/// samples over the wait window.
pub struct LayerLoad {
    /// The layer's instances, by hostname.
    pub instances: Vec<InstanceRow>,
    /// The same, as the decision sees them.
    pub members: Vec<Member>,
    /// The online instances' samples since a bucket before the wait window.
    pub samples: Vec<Sample>,
}

impl LayerLoad {
    /// Reads the layer's instances and gathers their metrics.
    pub async fn read(
        store: &Store,
        history: &MetricsHistory,
        layer: &LoadScalingRow,
        rule: &LoadRule,
        now_ms: i64,
    ) -> Result<Self, sqlx::Error> {
        let instances: Vec<InstanceRow> = store
            .instances(layer.stack_id)
            .await?
            .into_iter()
            .filter(|i| i.layers().contains(&layer.shortname))
            .collect();
        let mut named = Vec::new();
        for i in instances.iter().filter(|i| i.provider == Provider::Registered.as_str()) {
            if !store.event_times(layer.stack_id, &i.hostname, "scaled_up", i.status_changed_at).await?.is_empty() {
                named.push(i.hostname.clone());
            }
        }
        Ok(Self::gather(history, instances, &named, rule, now_ms))
    }

    /// The members and samples of these instances (the pure part of [`Self::read`]); `named` are
    /// the registered hosts already named to be started by hand during their stop.
    pub fn gather(
        history: &MetricsHistory,
        instances: Vec<InstanceRow>,
        named: &[String],
        rule: &LoadRule,
        now_ms: i64,
    ) -> Self {
        let since = now_ms - rule.thresholds_wait_secs as i64 * 1000 - BUCKET_MS;
        let mut members = Vec::with_capacity(instances.len());
        let mut samples = Vec::new();
        for i in &instances {
            let status = i.status();
            let online = status == InstanceStatus::Online;
            members.push(Member {
                hostname: i.hostname.clone(),
                scaling: i.scaling.parse().unwrap_or(ScalingType::AlwaysOn),
                status,
                // It went online when its status last changed.
                started_at_ms: online.then_some(i.status_changed_at),
                startable: !named.contains(&i.hostname),
            });
            if online {
                samples.extend(history.since(i.id, i.created_at, since).into_iter().map(|p| Sample {
                    at_ms: p.at_ms,
                    hostname: i.hostname.clone(),
                    cpu_percent: p.cpu_percent,
                    memory_percent: p.memory_percent,
                    load_1m: p.load_1m,
                }));
            }
        }
        Self { instances, members, samples }
    }

    /// Core's decision for the layer now.
    pub fn decide(&self, rule: &LoadRule, now_ms: i64, last_action_ms: Option<i64>) -> LoadDecision {
        load::decide(&LoadInput { rule, samples: &self.samples, members: &self.members, now_ms, last_action_ms })
    }

    /// The online instances' averages over the wait window, or over the last minute while the
    /// window is not whole; with the window's length in ms and who reported.
    pub fn averages(&self, rule: &LoadRule, now_ms: i64) -> Option<(i64, Averages, Vec<String>)> {
        let online: Vec<&str> =
            self.members.iter().filter(|m| m.status == InstanceStatus::Online).map(|m| m.hostname.as_str()).collect();
        let wait_ms = rule.thresholds_wait_secs as i64 * 1000;
        [wait_ms, BUCKET_MS].into_iter().find_map(|span| {
            let w = window(&self.samples, &online, now_ms, span).ok()?;
            let mean = |m| w.mean(m);
            use drover_core::scaling::load::Metric;
            let averages = Averages { cpu: mean(Metric::Cpu), memory: mean(Metric::Memory), load: mean(Metric::Load) };
            Some((span, averages, w.hosts))
        })
    }
}

/// Starts or stops the decision's instances, each with an event; records the layer's action.
async fn act(
    state: &AppState,
    layer: &LoadScalingRow,
    view: &LayerLoad,
    hosts: &[String],
    reason: &str,
    start: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    let kind = if start { "scaled_up" } else { "scaled_down" };
    let mut acted = false;
    for host in hosts {
        let Some(instance) = view.instances.iter().find(|i| &i.hostname == host) else { continue };
        let event = |message| NewEvent {
            stack_id: layer.stack_id,
            kind,
            instance: Some(&instance.hostname),
            layer: Some(&layer.shortname),
            message,
        };
        if start && instance.provider == Provider::Registered.as_str() {
            let message =
                format!("{reason}; {host} is a registered host, which drover cannot start: start its agent by hand");
            // Said once per stop: not again while it stays stopped.
            let said = state.store.event_times(layer.stack_id, host, kind, instance.status_changed_at).await?;
            if said.is_empty() {
                state.store.set_load_scaling_acted_at(layer.layer_id, now).await?;
                events::record(state, &event(&message)).await?;
                acted = true;
            }
            continue;
        }
        if !acted {
            // Before acting, so a failure below does not make the next pass act again at once.
            state.store.set_load_scaling_acted_at(layer.layer_id, now).await?;
            acted = true;
        }
        events::record(state, &event(reason)).await?;
        let done = if start {
            super::start_instance(state, instance).await
        } else {
            super::stop_instance(state, instance).await
        };
        if let Err(e) = done {
            tracing::warn!(instance = %instance.hostname, layer = %layer.shortname, "the load rule's {kind} failed: {e}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
