//! Which of the machines tagged with an instance's name is its machine: after a restart, or when
//! the stored machine id is gone, the server describes the machines by their tags and picks one.

/// A machine's state, as EC2 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineState {
    /// `pending`: starting.
    Pending,
    /// `running`.
    Running,
    /// `stopping`.
    Stopping,
    /// `stopped`.
    Stopped,
    /// `shutting-down`: being terminated.
    ShuttingDown,
    /// `terminated`.
    Terminated,
}

impl MachineState {
    /// From EC2's name; `None` for a name this Drover does not know.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "stopping" => Self::Stopping,
            "stopped" => Self::Stopped,
            "shutting-down" => Self::ShuttingDown,
            "terminated" => Self::Terminated,
            _ => return None,
        })
    }

    /// Whether the machine is going or gone for good.
    pub fn is_terminated(self) -> bool {
        matches!(self, Self::ShuttingDown | Self::Terminated)
    }
}

/// A described machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// Its id (`i-…`).
    pub id: String,
    /// Its state; `None` when EC2 named one this Drover does not know.
    pub state: Option<MachineState>,
    /// When it was launched (Unix ms; 0 when unknown).
    pub launched_ms: i64,
}

/// The instance's machine among those tagged with its name: not terminated, the latest launched
/// (a machine launched again after a failed launch replaces the older one); ties by id.
pub fn pick_machine(machines: &[Machine]) -> Option<&Machine> {
    machines
        .iter()
        .filter(|m| !m.state.is_some_and(MachineState::is_terminated))
        .max_by(|a, b| a.launched_ms.cmp(&b.launched_ms).then_with(|| b.id.cmp(&a.id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use MachineState::*;

    fn m(id: &str, state: MachineState, launched_ms: i64) -> Machine {
        Machine { id: id.into(), state: Some(state), launched_ms }
    }

    #[test]
    fn the_latest_live_machine_is_the_instances() {
        // (machines, the pick)
        let cases: Vec<(Vec<Machine>, Option<&str>)> = vec![
            (vec![], None),
            (vec![m("i-1", Terminated, 5)], None),
            (vec![m("i-1", ShuttingDown, 5), m("i-2", Stopped, 1)], Some("i-2")),
            (vec![m("i-1", Running, 1), m("i-2", Pending, 2)], Some("i-2")),
            (vec![m("i-1", Stopped, 3), m("i-2", Running, 2), m("i-3", Terminated, 9)], Some("i-1")),
            (vec![m("i-b", Running, 1), m("i-a", Running, 1)], Some("i-a")),
        ];
        for (machines, want) in cases {
            assert_eq!(pick_machine(&machines).map(|m| m.id.as_str()), want, "{machines:?}");
        }
        let unknown = Machine { id: "i-9".into(), state: None, launched_ms: 0 };
        assert_eq!(pick_machine(std::slice::from_ref(&unknown)), Some(&unknown));
    }

    #[test]
    fn states_parse_from_ec2_names() {
        assert_eq!(MachineState::parse("shutting-down"), Some(ShuttingDown));
        assert_eq!(MachineState::parse("running"), Some(Running));
        assert_eq!(MachineState::parse("hibernating"), None);
    }
}
