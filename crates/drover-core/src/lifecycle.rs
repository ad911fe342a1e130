//! Instance lifecycle: which status follows which event.
//!
//! booting → running_setup (Setup runs) → online, or setup_failed; online ⇄ connection_lost on
//! missing heartbeats; online → stopping → shutting_down (Shutdown runs) → stopped.

use std::time::Duration;

use crate::status::InstanceStatus::{self, *};

/// Something that happened to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The agent announced itself after it started (or after it joined).
    AgentHello,
    /// A heartbeat arrived.
    Heartbeat,
    /// The Setup phase ended.
    SetupFinished {
        /// Whether it succeeded.
        success: bool,
    },
    /// A user asked to start the instance.
    StartRequested,
    /// The provider could not start the agent.
    StartFailed,
    /// A user asked to stop the instance.
    StopRequested,
    /// The Shutdown phase began.
    ShutdownStarted,
    /// The Shutdown phase ended (or timed out) and the host was stopped.
    Stopped,
}

/// What the server does after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The new status.
    pub next: InstanceStatus,
    /// Whether to queue the Setup phase for the instance.
    pub run_setup: bool,
}

/// Refused: the event makes no sense in the current status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} an instance that is {status}")]
pub struct InvalidTransition {
    /// The instance's status.
    pub status: InstanceStatus,
    /// What was asked.
    pub action: &'static str,
}

fn to(next: InstanceStatus) -> Transition {
    Transition { next, run_setup: false }
}

/// The transition an event causes, `Ok(None)` when it changes nothing, or an error for a user
/// request that the current status does not allow.
pub fn on_event(status: InstanceStatus, event: Event) -> Result<Option<Transition>, InvalidTransition> {
    let t = match (event, status) {
        // An agent that starts on a booting or newly registered host begins Setup. An agent that
        // restarts on a host that is already online (an upgrade) changes nothing: its services
        // keep running and it is re-adopted.
        (Event::AgentHello, Requested | Pending | Booting | Registering | Registered | StartFailed | Rebooting) => {
            Some(Transition { next: RunningSetup, run_setup: true })
        }
        // A registered host's agent keeps running while the instance is stopped; after a start,
        // its next heartbeat is the boot signal.
        (Event::Heartbeat, Booting | Registered) => Some(Transition { next: RunningSetup, run_setup: true }),
        (Event::AgentHello | Event::Heartbeat, ConnectionLost) => Some(to(Online)),
        (Event::AgentHello | Event::Heartbeat, _) => None,
        (Event::SetupFinished { success: true }, RunningSetup) => Some(to(Online)),
        (Event::SetupFinished { success: false }, RunningSetup) => Some(to(SetupFailed)),
        (Event::SetupFinished { .. }, _) => None,
        // A lost host that is started again boots (and runs Setup) like any start.
        (Event::StartRequested, Stopped | StopFailed | StartFailed | SetupFailed | Requested | ConnectionLost) => {
            Some(to(Booting))
        }
        (Event::StartRequested, Booting | RunningSetup | Online | Pending) => None,
        (Event::StartRequested, status) => return Err(InvalidTransition { status, action: "start" }),
        (Event::StartFailed, _) => Some(to(StartFailed)),
        (Event::StopRequested, Stopped) => None,
        (Event::StopRequested, Stopping | ShuttingDown | Terminating | Terminated) => {
            return Err(InvalidTransition { status, action: "stop" });
        }
        (Event::StopRequested, _) => Some(to(Stopping)),
        (Event::ShutdownStarted, Stopping) => Some(to(ShuttingDown)),
        (Event::ShutdownStarted, _) => None,
        (Event::Stopped, _) => Some(to(Stopped)),
    };
    Ok(t)
}

/// The status an instance takes when its agent has been silent for `silent_for`.
///
/// Online (and set-up) instances become `connection_lost`; a host that never announced itself
/// after boot becomes `start_failed`.
pub fn on_silence(status: InstanceStatus, silent_for: Duration, timeout: Duration) -> Option<InstanceStatus> {
    if silent_for <= timeout {
        return None;
    }
    on_agent_gone(status)
}

/// The status an instance takes when its agent is known to be gone (its local process exited, or
/// its command long-poll connection dropped and did not come back): as after a long silence.
pub fn on_agent_gone(status: InstanceStatus) -> Option<InstanceStatus> {
    match status {
        Online | RunningSetup => Some(ConnectionLost),
        Booting => Some(StartFailed),
        _ => None,
    }
}

/// Whether commands may be sent to an instance in this status.
pub fn accepts_commands(status: InstanceStatus) -> bool {
    matches!(status, Online)
}

/// Whether a status change reconfigures the stack (reference.md section 2): the instance entered
/// or left `online`.
pub fn changes_membership(from: InstanceStatus, to: InstanceStatus) -> bool {
    (from == Online) != (to == Online)
}

/// Whether an instance is on its way to `online`: Configure waits for it, so a burst of starts
/// coalesces into one Configure per instance.
pub fn is_coming_up(status: InstanceStatus) -> bool {
    matches!(status, Requested | Pending | Booting | RunningSetup | Rebooting)
}

#[cfg(test)]
mod membership_tests {
    use super::*;

    #[test]
    fn membership_changes_and_coming_up() {
        let cases = [
            (RunningSetup, Online, true),
            (Online, Stopping, true),
            (Online, ConnectionLost, true),
            (ConnectionLost, Online, true),
            (Booting, RunningSetup, false),
            (Stopping, ShuttingDown, false),
            (Online, Online, false),
        ];
        for (from, to, want) in cases {
            assert_eq!(changes_membership(from, to), want, "{from} -> {to}");
        }
        assert!(is_coming_up(Booting) && is_coming_up(RunningSetup) && is_coming_up(Requested));
        assert!(!is_coming_up(Online) && !is_coming_up(SetupFailed) && !is_coming_up(Stopped));
        assert!(!is_coming_up(Registered), "a host waiting for someone to start its agent holds nothing up");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_move_statuses() {
        let setup = Transition { next: RunningSetup, run_setup: true };
        let cases = [
            (Booting, Event::AgentHello, Ok(Some(setup))),
            (Registering, Event::AgentHello, Ok(Some(setup))),
            (Online, Event::AgentHello, Ok(None)),
            (ConnectionLost, Event::AgentHello, Ok(Some(to(Online)))),
            (ConnectionLost, Event::Heartbeat, Ok(Some(to(Online)))),
            (Online, Event::Heartbeat, Ok(None)),
            (Booting, Event::Heartbeat, Ok(Some(setup))),
            (RunningSetup, Event::Heartbeat, Ok(None)),
            (Stopped, Event::Heartbeat, Ok(None)),
            (RunningSetup, Event::SetupFinished { success: true }, Ok(Some(to(Online)))),
            (RunningSetup, Event::SetupFinished { success: false }, Ok(Some(to(SetupFailed)))),
            (Online, Event::SetupFinished { success: false }, Ok(None)),
            (Stopped, Event::StartRequested, Ok(Some(to(Booting)))),
            (Online, Event::StartRequested, Ok(None)),
            (ConnectionLost, Event::StartRequested, Ok(Some(to(Booting)))),
            (Stopping, Event::StartRequested, Err(InvalidTransition { status: Stopping, action: "start" })),
            (Online, Event::StopRequested, Ok(Some(to(Stopping)))),
            (ConnectionLost, Event::StopRequested, Ok(Some(to(Stopping)))),
            (Stopped, Event::StopRequested, Ok(None)),
            (ShuttingDown, Event::StopRequested, Err(InvalidTransition { status: ShuttingDown, action: "stop" })),
            (Stopping, Event::ShutdownStarted, Ok(Some(to(ShuttingDown)))),
            (ShuttingDown, Event::Stopped, Ok(Some(to(Stopped)))),
        ];
        for (status, event, want) in cases {
            assert_eq!(on_event(status, event), want, "{status} + {event:?}");
        }
    }

    #[test]
    fn silence_past_the_timeout() {
        let timeout = Duration::from_secs(300);
        let long = Duration::from_secs(301);
        let short = Duration::from_secs(299);
        let cases = [
            (Online, long, Some(ConnectionLost)),
            (Online, short, None),
            (Online, timeout, None),
            (RunningSetup, long, Some(ConnectionLost)),
            (Booting, long, Some(StartFailed)),
            (Stopped, long, None),
            (ConnectionLost, long, None),
        ];
        for (status, silent, want) in cases {
            assert_eq!(on_silence(status, silent, timeout), want, "{status} silent {silent:?}");
        }
    }

    #[test]
    fn an_agent_known_to_be_gone() {
        // (status, what it becomes)
        let cases = [
            (Online, Some(ConnectionLost)),
            (RunningSetup, Some(ConnectionLost)),
            (Booting, Some(StartFailed)),
            (Stopping, None),
            (ShuttingDown, None),
            (Stopped, None),
            (ConnectionLost, None),
        ];
        for (status, want) in cases {
            assert_eq!(on_agent_gone(status), want, "{status}");
        }
    }
}
