//! Weekdays and the hour of the week in UTC, from Unix seconds.
//!
//! Schedules are in UTC, so there is no daylight saving time and every day has 24 hours; leap
//! days and leap seconds change nothing (Unix time has none), and the week is 168 hours long.

use std::fmt;

/// Hours in a week.
pub const HOURS_PER_WEEK: usize = 7 * 24;

/// Seconds in an hour.
pub const SECS_PER_HOUR: i64 = 3600;

/// A day of the week, Monday first (as OpsWorks' grid and ISO 8601 have it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// Every day, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// The day's place in the week: 0 for Monday to 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The day at `index` (0 for Monday), counted modulo 7.
    pub fn from_index(index: usize) -> Weekday {
        Weekday::ALL[index % 7]
    }

    /// The following day (Sunday is followed by Monday).
    pub fn next(self) -> Weekday {
        Weekday::from_index(self.index() + 1)
    }

    /// The full English name, as OpsWorks' grid keys it: `Monday`.
    pub fn name(self) -> &'static str {
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][self.index()]
    }

    /// The three-letter name of `--on` specs: `mon`.
    pub fn short(self) -> &'static str {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][self.index()]
    }

    /// A day from its short or full name, in any case (`mon`, `Monday`, `MONDAY`).
    pub fn parse(text: &str) -> Option<Weekday> {
        let lower = text.trim().to_ascii_lowercase();
        Weekday::ALL.into_iter().find(|d| d.short() == lower || d.name().eq_ignore_ascii_case(&lower))
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short())
    }
}

/// The hour of the week (0 = Monday 00:00-01:00 UTC, 167 = Sunday 23:00-24:00) that contains
/// `secs` (Unix seconds; times before 1970 work too).
pub fn hour_of_week(secs: i64) -> usize {
    let hours = secs.div_euclid(SECS_PER_HOUR);
    // 1970-01-01 was a Thursday, the fourth day of a Monday-first week.
    (hours + 3 * 24).rem_euclid(HOURS_PER_WEEK as i64) as usize
}

/// The start (Unix seconds) of the hour that contains `secs`.
pub fn hour_start(secs: i64) -> i64 {
    secs.div_euclid(SECS_PER_HOUR) * SECS_PER_HOUR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_of_the_week_in_utc() {
        // (input: Unix seconds, expected: weekday, hour)
        let cases = [
            (0, Weekday::Thursday, 0),              // 1970-01-01 00:00:00
            (1_704_067_200, Weekday::Monday, 0),    // 2024-01-01 00:00:00
            (1_704_067_199, Weekday::Sunday, 23),   // 2023-12-31 23:59:59
            (1_709_164_800, Weekday::Thursday, 0),  // 2024-02-29 00:00:00, a leap day
            (1_709_251_199, Weekday::Thursday, 23), // 2024-02-29 23:59:59
            (1_709_251_200, Weekday::Friday, 0),    // 2024-03-01 00:00:00
            (1_711_846_800, Weekday::Sunday, 1),    // 2024-03-31 01:00:00, EU DST day: no gap in UTC
            (-1, Weekday::Wednesday, 23),           // 1969-12-31 23:59:59
        ];
        for (secs, day, hour) in cases {
            assert_eq!(hour_of_week(secs), day.index() * 24 + hour, "{secs}");
        }
    }

    #[test]
    fn day_names() {
        // (input, expected)
        let cases = [
            ("mon", Some(Weekday::Monday)),
            ("Sunday", Some(Weekday::Sunday)),
            ("THU", Some(Weekday::Thursday)),
            ("mo", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(Weekday::parse(text), want, "{text}");
        }
        assert_eq!(Weekday::Sunday.next(), Weekday::Monday);
        assert_eq!(hour_start(7199), 3600);
        assert_eq!(hour_start(-1), -3600);
    }
}
