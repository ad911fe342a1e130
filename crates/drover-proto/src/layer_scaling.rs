//! A layer's load-based scaling: `GET|PUT /stacks/{stack}/layers/{layer}/scaling`.
//!
//! The thresholds are core's [`Thresholds`]: `{"cpu": 80, "memory": 85, "load": 4}`, a metric
//! left out, `null` or `-1` not watched (OpsWorks writes -1).

use drover_core::scaling::{LoadRule, Thresholds};
use serde::{Deserialize, Serialize};

/// What to change of a layer's load-based scaling; what is left out stays.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLayerScaling {
    /// Turn the rule on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Start instances when any of these averages stays above its threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ThresholdsSchema>)]
    pub up: Option<Thresholds>,
    /// Stop instances when every one of these averages stays below its threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ThresholdsSchema>)]
    pub down: Option<Thresholds>,
    /// How many instances to start at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_instances: Option<u32>,
    /// How many instances to stop at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_instances: Option<u32>,
    /// How long a threshold must hold, in seconds (60-6000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds_wait_secs: Option<u64>,
    /// How long metrics are ignored after starting or stopping instances, in seconds (60-6000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_metrics_secs: Option<u64>,
}

/// A layer's load-based scaling, and what it sees now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LayerScaling {
    /// The layer.
    pub layer: String,
    /// Whether the rule starts and stops the layer's load-based instances.
    pub enabled: bool,
    /// The rule (the defaults, without thresholds, until one is set).
    #[schema(value_type = LoadRuleSchema)]
    pub rule: LoadRule,
    /// The layer's averages over the wait window, or over the last minute while less than a
    /// window of metrics is there; none without metrics from an online instance.
    pub averages: Option<LayerAverages>,
    /// What the rule would do now, or why it holds.
    pub decision: String,
    /// When the rule last started or stopped instances (RFC 3339).
    pub last_action_at: Option<String>,
}

/// The average metrics of a layer's online instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LayerAverages {
    /// Over how long, in seconds.
    pub window_secs: u64,
    /// CPU use, percent.
    pub cpu_percent: f64,
    /// Memory use, percent.
    pub memory_percent: f64,
    /// 1-minute load average.
    pub load_1m: f64,
    /// The instances that reported, in hostname order.
    pub instances: Vec<String>,
}

// The API document's description of core's `Thresholds`: the wire shape, not used in code.
/// The thresholds of one direction: a metric left out, null or -1 is not watched.
#[derive(utoipa::ToSchema)]
#[schema(as = Thresholds)]
#[allow(dead_code)]
pub struct ThresholdsSchema {
    /// Average CPU use of the layer's online instances, in percent (0-100); null or -1: not watched.
    cpu: Option<f64>,
    /// Average memory use, in percent (0-100); null or -1: not watched.
    memory: Option<f64>,
    /// Average 1-minute load average (0 or more); null or -1: not watched.
    load: Option<f64>,
}

// The API document's description of core's `LoadRule`: the wire shape, not used in code.
/// A layer's load-based scaling rule.
#[derive(utoipa::ToSchema)]
#[schema(as = LoadRule)]
#[allow(dead_code)]
pub struct LoadRuleSchema {
    /// Start instances when any of these is exceeded for `thresholds_wait_secs`.
    up: ThresholdsSchema,
    /// Stop instances when every one of these is undershot for `thresholds_wait_secs`.
    down: ThresholdsSchema,
    /// How many instances to start at once.
    up_instances: u32,
    /// How many instances to stop at once.
    down_instances: u32,
    /// How long a threshold must hold before acting, 60-6000 s.
    thresholds_wait_secs: u64,
    /// How long metrics are ignored after acting, 60-6000 s.
    ignore_metrics_secs: u64,
}
