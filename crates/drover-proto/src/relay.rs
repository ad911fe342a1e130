//! The frontend relay: HAProxy's runtime API listens only on a 0600 Unix socket on each frontend
//! instance, so an app agent that drains or readies one of its clients asks the server, which
//! hands the request to every online frontend's agent (with its next command long-poll) and
//! brings their answers back.

use serde::{Deserialize, Serialize};

/// What an app agent asks of the frontends for one of its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrontendAction {
    /// No new requests to the server; in-flight ones finish.
    Drain,
    /// The server passed its health check: mark it up and take requests again.
    Ready,
    /// Only report the server's state.
    State,
}

impl FrontendAction {
    /// The action as the wire spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Drain => "drain",
            Self::Ready => "ready",
            Self::State => "state",
        }
    }
}

/// `POST /agent/commands/{id}/frontends`: an app agent's request, for one of its own clients'
/// HAProxy servers (`<hostname>-client<N>`), while the command runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontendCall {
    /// The HAProxy server in the `plone` backend.
    pub server: String,
    /// What to do with it.
    pub action: FrontendAction,
}

/// The state of the backend one frontend reports after acting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendState {
    /// What went wrong on the frontend (HAProxy's own answer, or its socket was not there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The server's sessions in flight, when the backend has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<u64>,
    /// The server's status (`UP`, `DRAIN`, `DOWN`, `MAINT`, `no check`, …), when the backend has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// How many other servers the backend has.
    #[serde(default)]
    pub others: usize,
    /// How many of them take new requests.
    #[serde(default)]
    pub others_serving: usize,
}

/// One frontend's answer to a [`FrontendCall`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontendAnswer {
    /// The frontend instance.
    pub frontend: String,
    /// What it reported.
    #[serde(flatten)]
    pub state: BackendState,
}

/// The answer to a [`FrontendCall`]: one entry per online frontend of the stack.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FrontendAnswers {
    /// The frontends' answers, by hostname.
    pub frontends: Vec<FrontendAnswer>,
}

/// A request handed to a frontend's agent with its command long-poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontendRequest {
    /// Answered with `POST /agent/frontend-requests/{id}` and a [`BackendState`].
    pub id: u64,
    /// The HAProxy server in the `plone` backend.
    pub server: String,
    /// What to do with it.
    pub action: FrontendAction,
}
