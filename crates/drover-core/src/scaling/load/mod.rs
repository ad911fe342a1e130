//! Load-based scaling per layer: from the layer's rule, its online instances' heartbeat metrics
//! and its members, whether to start load-based instances, stop some, or hold (reference.md
//! section 7). [`decide()`] is the whole decision; [`rule`] reads and checks the rule, and
//! [`window`] averages the metrics over the wait window.
//!
//! Times are Unix milliseconds, as the store keeps them.

pub mod decide;
pub mod rule;
pub mod window;

pub use decide::decide;
pub use rule::{LoadRule, Metric, RuleProblem, Thresholds};

use crate::scaling::kind::ScalingType;
use crate::status::InstanceStatus;

/// One heartbeat's metrics from an instance of the layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// When the heartbeat arrived (Unix ms).
    pub at_ms: i64,
    /// The instance that sent it.
    pub hostname: String,
    /// CPU use, percent.
    pub cpu_percent: f64,
    /// Memory use, percent.
    pub memory_percent: f64,
    /// 1-minute load average.
    pub load_1m: f64,
}

impl Sample {
    /// Whether every figure is a number (others are left out of averages).
    pub fn is_finite(&self) -> bool {
        self.cpu_percent.is_finite() && self.memory_percent.is_finite() && self.load_1m.is_finite()
    }
}

/// An instance of the layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its hostname.
    pub hostname: String,
    /// How it is started and stopped; only `load` instances are touched.
    pub scaling: ScalingType,
    /// Its status now.
    pub status: InstanceStatus,
    /// When it was last started (Unix ms), if it ever was: the most recent goes first to stop.
    pub started_at_ms: Option<i64>,
    /// Whether an up-scaling may still pick it. False for a registered host already named to be
    /// started by hand during this stop: Drover cannot start it, so the next stopped instance is
    /// picked instead of naming it again and again.
    pub startable: bool,
}

/// Everything [`decide()`] looks at for one layer.
#[derive(Debug, Clone, Copy)]
pub struct LoadInput<'a> {
    /// The layer's rule (only called for a layer with load-based scaling on).
    pub rule: &'a LoadRule,
    /// Heartbeat metrics of the layer's instances, at least over the wait window; samples of
    /// instances that are not online now are left out.
    pub samples: &'a [Sample],
    /// The layer's instances, of every scaling type.
    pub members: &'a [Member],
    /// Now (Unix ms).
    pub now_ms: i64,
    /// When the layer last started or stopped instances by this rule (Unix ms), if ever.
    pub last_action_ms: Option<i64>,
}

/// What to do with a layer now. Every variant carries its reason, for the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadDecision {
    /// Start these stopped load-based instances.
    Up {
        /// Hostnames to start, in hostname order.
        start: Vec<String>,
        /// Why: `cpu 86 % > 80 % for 5 min on clients1, clients2: starting clients3`.
        reason: String,
    },
    /// Stop these online load-based instances.
    Down {
        /// Hostnames to stop, the most recently started first.
        stop: Vec<String>,
        /// Why: `cpu 12 % < 30 % for 5 min on clients1, clients3: stopping clients3`.
        reason: String,
    },
    /// Change nothing.
    Hold {
        /// Why not.
        why: String,
    },
}

impl LoadDecision {
    /// The reason or the why, whichever the decision carries.
    pub fn reason(&self) -> &str {
        match self {
            LoadDecision::Up { reason, .. } | LoadDecision::Down { reason, .. } => reason,
            LoadDecision::Hold { why } => why,
        }
    }
}

#[cfg(test)]
mod tests;
