//! Scaling types per instance: `GET|PUT /stacks/{stack}/instances/{host}/scaling`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What to change of an instance's scaling; what is left out stays.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetScaling {
    /// `24/7`, `time` or `load`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<String>,
    /// A time-based schedule as specs, UTC (`mon-fri 08-18`, `sat 10-14`, `daily 09-17`); their
    /// union. Implies `time`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on: Vec<String>,
    /// A time-based schedule as OpsWorks' `TimeBasedAutoScaling` grid
    /// (`{"Monday": {"8": "on", …}, …}`). Implies `time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<Value>,
}

/// An instance's scaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InstanceScaling {
    /// The instance.
    pub hostname: String,
    /// `24/7`, `time` or `load`.
    pub scaling: String,
    /// The schedule, compact (`mon-fri 08-18`), for time-based instances.
    pub schedule: Option<String>,
    /// The schedule as OpsWorks' grid.
    pub grid: Option<Value>,
    /// For time-based instances: whether the schedule wants it online now.
    pub wants_online: Option<bool>,
    /// For time-based instances: when the schedule next changes its mind (RFC 3339).
    pub next_change: Option<String>,
}
