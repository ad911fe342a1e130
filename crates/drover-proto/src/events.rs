//! Events: what the server decided on its own for a stack (an instance lost, healed, given up
//! on), with the reason. `GET /stacks/{stack}/events?after=ID&wait=S&limit=N`.

use serde::{Deserialize, Serialize};

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// Its number, increasing: pass the last one seen as `after` to follow.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// `lost`, `healing`, `healing_gave_up`, `start_failed`, `stop_failed`, ...
    pub kind: String,
    /// The instance it is about, if one.
    pub instance: Option<String>,
    /// The layer it is about, if one.
    pub layer: Option<String>,
    /// What happened and why.
    pub message: String,
}
