use proptest::prelude::*;

use super::*;

/// Monday 2024-01-01 00:00:00 UTC.
const MONDAY: i64 = 1_704_067_200;

/// Unix seconds at `day` days after [`MONDAY`] (0 = Monday, 6 = Sunday, 7 = the next Monday),
/// `h:m:s` UTC.
fn at(day: i64, h: i64, m: i64, s: i64) -> i64 {
    MONDAY + day * 86_400 + h * 3600 + m * 60 + s
}

fn schedule(specs: &[&str]) -> WeeklySchedule {
    WeeklySchedule::from_specs(specs).unwrap()
}

#[test]
fn wants_online_across_midnight_and_the_week_boundary() {
    let late = schedule(&["sun 22-02"]);
    let workdays = schedule(&["mon-fri 08-18"]);
    // (input: schedule, time, expected)
    let cases = [
        (late, at(6, 21, 59, 59), false),
        (late, at(6, 22, 0, 0), true),
        (late, at(6, 23, 59, 59), true),
        (late, at(7, 0, 0, 0), true), // Sunday -> Monday of the next week
        (late, at(0, 1, 59, 59), true),
        (late, at(0, 2, 0, 0), false),
        (workdays, at(0, 7, 59, 59), false),
        (workdays, at(0, 8, 0, 0), true),
        (workdays, at(4, 17, 59, 59), true),
        (workdays, at(4, 18, 0, 0), false),
        (workdays, at(5, 12, 0, 0), false),                       // Saturday
        (schedule(&["thu 00-24"]), 1_709_164_800 + 43_200, true), // Thursday 2024-02-29, a leap day
        (schedule(&["fri 00-01"]), 1_709_251_200, true),          // the Friday after it
    ];
    for (i, (schedule, now, want)) in cases.into_iter().enumerate() {
        assert_eq!(schedule.wants_online(now), want, "case {i}: {schedule} at {now}");
    }
}

#[test]
fn next_change_is_the_next_flip() {
    let late = schedule(&["sun 22-02"]);
    let workdays = schedule(&["mon-fri 08-18"]);
    // (input: schedule, time, expected)
    let cases = [
        (workdays, at(0, 7, 59, 59), Some(at(0, 8, 0, 0))), // one second before a boundary
        (workdays, at(0, 8, 0, 0), Some(at(0, 18, 0, 0))),  // exactly at it: the next one
        (workdays, at(0, 18, 0, 0), Some(at(1, 8, 0, 0))),
        (workdays, at(4, 18, 0, 0), Some(at(7, 8, 0, 0))), // Friday evening -> next Monday
        (workdays, at(6, 23, 59, 59), Some(at(7, 8, 0, 0))),
        (late, at(6, 21, 59, 59), Some(at(6, 22, 0, 0))),
        (late, at(6, 22, 0, 0), Some(at(7, 2, 0, 0))), // across the week boundary
        (late, at(0, 1, 0, 0), Some(at(0, 2, 0, 0))),
        (late, at(0, 2, 0, 0), Some(at(6, 22, 0, 0))),
        (schedule(&["wed 05-06"]), at(2, 5, 30, 0), Some(at(2, 6, 0, 0))),
        (schedule(&["wed 05-06"]), at(2, 6, 0, 0), Some(at(9, 5, 0, 0))), // a week later
        (WeeklySchedule::always(), at(3, 3, 3, 3), None),
        (WeeklySchedule::never(), at(3, 3, 3, 3), None),
    ];
    for (i, (schedule, now, want)) in cases.into_iter().enumerate() {
        assert_eq!(schedule.next_change(now), want, "case {i}: {schedule} at {now}");
    }
}

#[test]
fn the_compact_form() {
    // (input specs, expected compact form)
    let cases: [(&[&str], &str); 11] = [
        (&["mon-fri 08-18"], "mon-fri 08-18"),
        (&["sun 22-02"], "sun 22-02"),
        (&["daily 09-17"], "daily 09-17"),
        (&["daily 22-02"], "daily 22-02"),
        (&["daily 00-24"], "daily 00-24"),
        (&[], "never"),
        (&["mon-fri 08-18", "sat 10-14"], "mon-fri 08-18; sat 10-14"),
        (&["fri-mon 10-14"], "fri-mon 10-14"),
        (&["mon,wed,fri 00-24"], "mon,wed,fri 00-24"),
        (&["thu 08-12", "thu 14-18", "sat 08-12"], "thu,sat 08-12; thu 14-18"),
        (&["fri 18-24", "sat 00-24", "sun 00-06"], "fri 18-24; sat 00-24; sun 00-06"),
    ];
    for (specs, want) in cases {
        let schedule = schedule(specs);
        assert_eq!(schedule.to_string(), want, "{specs:?}");
        assert_eq!(WeeklySchedule::from_specs(&schedule.specs()).unwrap(), schedule, "{specs:?}");
    }
}

proptest! {
    #[test]
    fn the_compact_form_reads_back(days in proptest::array::uniform7(0u32..(1 << 24))) {
        let schedule = WeeklySchedule { days };
        prop_assert_eq!(WeeklySchedule::from_specs(&schedule.specs()).unwrap(), schedule);
    }

    #[test]
    fn next_change_flips_and_nothing_flips_before(
        days in proptest::array::uniform7(0u32..(1 << 24)),
        now in 0i64..2_000_000_000,
    ) {
        let schedule = WeeklySchedule { days };
        match schedule.next_change(now) {
            None => prop_assert!(schedule.is_always() || schedule.is_never()),
            Some(next) => {
                prop_assert!(next > now && next % 3600 == 0);
                prop_assert_ne!(schedule.wants_online(next), schedule.wants_online(now));
                prop_assert_eq!(schedule.wants_online(next - 1), schedule.wants_online(now));
            }
        }
    }
}
