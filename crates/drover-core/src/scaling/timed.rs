//! Time-based instances: started when their weekly UTC schedule wants them online and they are
//! stopped, stopped when it does not and they are online. Other states (booting, stopping, lost)
//! are left to finish first.

use crate::scaling::schedule::WeeklySchedule;
use crate::status::InstanceStatus;

/// What the schedule does with one time-based instance now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimedDecision {
    /// Start it (Setup, the apps' pinned commits, the backend).
    Start {
        /// Why, for the event.
        reason: String,
    },
    /// Stop it (drained, then Shutdown).
    Stop {
        /// Why, for the event.
        reason: String,
    },
    /// Nothing to do now.
    Hold,
}

/// The decision for `hostname`, `status` now, with `schedule`, at `now_secs` (Unix, UTC).
pub fn decide(hostname: &str, schedule: &WeeklySchedule, status: InstanceStatus, now_secs: i64) -> TimedDecision {
    let wants = schedule.wants_online(now_secs);
    match (wants, status) {
        (true, InstanceStatus::Stopped) => TimedDecision::Start {
            reason: format!("{hostname}'s schedule ({schedule}, UTC) wants it online now: starting it"),
        },
        (false, InstanceStatus::Online) => TimedDecision::Stop {
            reason: format!("{hostname}'s schedule ({schedule}, UTC) wants it offline now: stopping it"),
        },
        _ => TimedDecision::Hold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::InstanceStatus::*;

    /// Monday 2026-11-30 00:00 UTC.
    const MONDAY: i64 = 1_795_996_800;

    #[test]
    fn starts_and_stops_at_the_schedule_s_hours() {
        let schedule = WeeklySchedule::from_specs(&["mon 10-11"]).unwrap();
        let at = |hour: i64, minute: i64| MONDAY + hour * 3600 + minute * 60;
        // (time, status, starts, stops)
        let cases = [
            (at(9, 59), Stopped, false, false),
            (at(10, 0), Stopped, true, false),
            (at(10, 30), Online, false, false),
            (at(10, 30), Booting, false, false),
            (at(10, 30), ConnectionLost, false, false),
            (at(11, 0), Online, false, true),
            (at(11, 0), Stopping, false, false),
            (at(11, 0), Stopped, false, false),
            (at(9, 0), Online, false, true),
        ];
        for (now, status, starts, stops) in cases {
            let got = decide("clients3", &schedule, status, now);
            assert_eq!(matches!(got, TimedDecision::Start { .. }), starts, "{now} {status}: {got:?}");
            assert_eq!(matches!(got, TimedDecision::Stop { .. }), stops, "{now} {status}: {got:?}");
        }
    }

    #[test]
    fn the_reason_names_the_instance_and_the_schedule() {
        let schedule = WeeklySchedule::from_specs(&["mon 10-11"]).unwrap();
        let TimedDecision::Start { reason } = decide("clients3", &schedule, Stopped, MONDAY + 10 * 3600) else {
            panic!("starts")
        };
        assert_eq!(reason, "clients3's schedule (mon 10-11, UTC) wants it online now: starting it");
    }
}
