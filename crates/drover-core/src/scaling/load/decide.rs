//! Whether a layer starts load-based instances, stops some, or holds.
//!
//! How thresholds combine: OpsWorks' guide says that crossing a threshold triggers a scaling
//! event, so up-scaling happens when **any** watched up-scaling metric stays above its threshold
//! for the whole wait window. It does not say how down-scaling thresholds combine; Drover stops
//! instances only when **every** watched down-scaling metric stays below its threshold for the
//! whole window, so a layer busy on one metric is never shrunk. Comparisons are strict (above:
//! `>`, below: `<`). "The whole window" means every bucket of [`super::window`]; a bucket without
//! metrics holds the decision.
//!
//! The order of the checks:
//! 1. within `ignore_metrics` after the layer's last action: hold; and metrics from that time are
//!    ignored, so the first decision after it needs a full window of newer metrics;
//! 2. a load-based instance still starting or stopping: hold until it settles;
//! 3. no online instance, or a gap in the window: hold;
//! 4. up-scaling: start up to `up_instances` stopped (or never started) load-based instances, in
//!    hostname order (`clients2` before `clients10`), passing over those that cannot be started
//!    (a registered host already named to be started by hand);
//! 5. down-scaling: stop up to `down_instances` online load-based instances, the most recently
//!    started first, never the layer's last online instance (its metrics are what brings the
//!    others back). 24/7 and time-based instances are never started or stopped here.

use std::cmp::Reverse;

use super::rule::Metric;
use super::window::{Window, window};
use super::{LoadDecision, LoadInput, Member};
use crate::scaling::kind::ScalingType;
use crate::scaling::words::{duration_ms, list, number};
use crate::status::InstanceStatus;

/// The decision for one layer at `input.now_ms`.
pub fn decide(input: &LoadInput<'_>) -> LoadDecision {
    let LoadInput { rule, samples, members, now_ms, last_action_ms } = *input;
    let wait_ms = rule.thresholds_wait_secs as i64 * 1000;
    let ignore_ms = rule.ignore_metrics_secs as i64 * 1000;
    let hold = |why: String| LoadDecision::Hold { why };

    if let Some(acted) = last_action_ms {
        let until = acted + ignore_ms;
        if now_ms < until {
            return hold(format!(
                "metrics are ignored for {} after the last scaling action ({} left)",
                duration_ms(ignore_ms),
                duration_ms(until - now_ms)
            ));
        }
        if now_ms - wait_ms < until {
            return hold(format!(
                "collecting {} of metrics after the last scaling action's ignore_metrics time ({} left)",
                duration_ms(wait_ms),
                duration_ms(until + wait_ms - now_ms)
            ));
        }
    }
    if let Some(busy) = members.iter().find(|m| m.scaling == ScalingType::Load && is_settling(m.status)) {
        return hold(format!("{} is {}; waiting until it settles", busy.hostname, busy.status));
    }
    let online: Vec<&str> =
        members.iter().filter(|m| m.status == InstanceStatus::Online).map(|m| m.hostname.as_str()).collect();
    if online.is_empty() {
        return hold("no instance of the layer is online to report metrics".to_owned());
    }
    let window = match window(samples, &online, now_ms, wait_ms) {
        Ok(window) => window,
        Err(gap) => {
            let when = if gap.to_ms == now_ms {
                format!("in the last {}", duration_ms(now_ms - gap.from_ms))
            } else {
                format!("from {} to {} ago", duration_ms(now_ms - gap.from_ms), duration_ms(now_ms - gap.to_ms))
            };
            return hold(format!(
                "no metrics from the layer's online instances {when}; a decision needs {} of metrics without a gap",
                duration_ms(wait_ms)
            ));
        }
    };
    let seen = format!("for {} on {}", duration_ms(wait_ms), list(&window.hosts));

    let over = crossed(&window, |m| rule.up.get(m), Direction::Above);
    if !over.is_empty() {
        let mut stopped: Vec<&Member> = members
            .iter()
            .filter(|m| {
                m.scaling == ScalingType::Load
                    && m.startable
                    && matches!(m.status, InstanceStatus::Stopped | InstanceStatus::Requested)
            })
            .collect();
        stopped.sort_by(|a, b| natural(&a.hostname).cmp(&natural(&b.hostname)));
        let start: Vec<String> = stopped.iter().take(rule.up_instances as usize).map(|m| m.hostname.clone()).collect();
        if start.is_empty() {
            return hold(format!("{over} {seen}, but no stopped load-based instance is left to start"));
        }
        let short =
            if start.len() < rule.up_instances as usize { " (no other stopped load-based instance)" } else { "" };
        return LoadDecision::Up { reason: format!("{over} {seen}: starting {}{short}", list(&start)), start };
    }

    let watched = Metric::ALL.iter().filter(|m| rule.down.get(**m).is_some()).count();
    let under = crossed(&window, |m| rule.down.get(m), Direction::Below);
    if watched > 0 && under.count == watched {
        let mut running: Vec<&Member> =
            members.iter().filter(|m| m.scaling == ScalingType::Load && m.status == InstanceStatus::Online).collect();
        // The most recently started first; never started (unknown) last; then by hostname, last first.
        running.sort_by_key(|m| (Reverse(m.started_at_ms), Reverse(natural(&m.hostname))));
        let room = online.len() - 1;
        let stop: Vec<String> =
            running.iter().take((rule.down_instances as usize).min(room)).map(|m| m.hostname.clone()).collect();
        if running.is_empty() {
            return hold(format!("{under} {seen}, but no load-based instance is online to stop"));
        }
        if stop.is_empty() {
            return hold(format!("{under} {seen}, but {} is the layer's last online instance", online[0]));
        }
        return LoadDecision::Down { reason: format!("{under} {seen}: stopping {}", list(&stop)), stop };
    }

    let now: Vec<String> = Metric::ALL
        .iter()
        .map(|m| {
            let mean = window.mean(*m);
            format!("{} {}", m.as_str(), value(*m, if m.is_percent() { mean.round() } else { mean }))
        })
        .collect();
    hold(format!("no threshold held {seen}: {}", now.join(", ")))
}

/// Whether an instance is on its way up or down, so a new decision waits for it.
fn is_settling(status: InstanceStatus) -> bool {
    use InstanceStatus::*;
    matches!(status, Pending | Booting | RunningSetup | Rebooting | Stopping | ShuttingDown)
}

/// Hostnames in natural order: `clients2` before `clients10`.
fn natural(hostname: &str) -> (&str, u64, &str) {
    let prefix = hostname.trim_end_matches(|c: char| c.is_ascii_digit());
    let number = hostname[prefix.len()..].parse().unwrap_or(0);
    (prefix, number, hostname)
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Above,
    Below,
}

/// The metrics that stayed past their threshold in every bucket, with the text of a reason:
/// `cpu 86 % > 80 % and load 5 > 4`.
struct Crossed {
    count: usize,
    text: String,
}

impl Crossed {
    fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl std::fmt::Display for Crossed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn crossed(window: &Window, threshold: impl Fn(Metric) -> Option<f64>, direction: Direction) -> Crossed {
    let past = |v: f64, t: f64| if direction == Direction::Above { v > t } else { v < t };
    let parts: Vec<String> = Metric::ALL
        .into_iter()
        .filter_map(|m| {
            let t = threshold(m)?;
            window.buckets.iter().all(|b| past(b.get(m), t)).then(|| {
                let mean = window.mean(m);
                // Whole percents read best, unless rounding would hide why it counts.
                let shown = if m.is_percent() && past(mean.round(), t) { mean.round() } else { mean };
                let op = if direction == Direction::Above { ">" } else { "<" };
                format!("{} {} {op} {}", m.as_str(), value(m, shown), value(m, t))
            })
        })
        .collect();
    Crossed { count: parts.len(), text: parts.join(" and ") }
}

fn value(metric: Metric, v: f64) -> String {
    if metric.is_percent() { format!("{} %", number(v)) } else { number(v) }
}
