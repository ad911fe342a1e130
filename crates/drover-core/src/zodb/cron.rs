//! A small 5-field cron expression (`minute hour day-of-month month day-of-week`), in UTC, as
//! `z3c.recipe.usercrontab`'s `times` holds it: numbers, `*`, ranges `a-b`, lists `a,b` and steps
//! `*/n` or `a-b/n`. Day of week is 0-7, Sunday being 0 and 7. As in cron, when both day fields
//! are restricted a day matches if either does.

use std::fmt;

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    days_star: bool,
    weekdays_star: bool,
}

/// Why an expression is not a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError(pub String);

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CronError {}

const FIELDS: [(&str, u32, u32); 5] =
    [("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7)];

/// The bits of one field: `*`, `n`, `a-b`, each with an optional `/step`, joined by commas.
fn field(text: &str, (name, min, max): (&str, u32, u32)) -> Result<u64, CronError> {
    let bad = |why: &str| CronError(format!("{name} field {text:?}: {why}"));
    let mut bits = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| bad("the step must be a whole number above 0"))?,
            ),
            None => (item, 1),
        };
        let number = |s: &str| s.parse::<u32>().ok().filter(|n| (min..=max).contains(n));
        let (from, to) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            match (number(a), number(b)) {
                (Some(a), Some(b)) if a <= b => (a, b),
                _ => return Err(bad(&format!("expected a range a-b with {min} <= a <= b <= {max}"))),
            }
        } else {
            let n =
                number(range).ok_or_else(|| bad(&format!("expected *, a number from {min} to {max}, or a range")))?;
            (n, if item.contains('/') { max } else { n })
        };
        let mut n = from;
        while n <= to {
            bits |= 1 << n;
            n += step;
        }
    }
    Ok(bits)
}

impl Cron {
    /// Parses `minute hour day-of-month month day-of-week`.
    pub fn parse(text: &str) -> Result<Self, CronError> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(CronError(format!(
                "{text:?} has {} fields; a schedule has 5: minute hour day-of-month month day-of-week, e.g. \"0 1 * * 7\"",
                parts.len()
            )));
        }
        let mut bits = [0u64; 5];
        for (i, (part, spec)) in parts.iter().zip(FIELDS).enumerate() {
            bits[i] = field(part, spec)?;
        }
        // Sunday is both 0 and 7.
        let weekdays = (bits[4] | (bits[4] >> 7)) as u8 & 0x7f;
        Ok(Self {
            text: parts.join(" "),
            minutes: bits[0],
            hours: bits[1] as u32,
            days: bits[2] as u32,
            months: bits[3] as u16,
            weekdays,
            days_star: parts[2] == "*",
            weekdays_star: parts[4] == "*",
        })
    }

    fn day_matches(&self, t: &Civil) -> bool {
        if self.months & (1 << t.month) == 0 {
            return false;
        }
        let dom = self.days & (1 << t.day) != 0;
        let dow = self.weekdays & (1 << t.weekday) != 0;
        match (self.days_star, self.weekdays_star) {
            (true, true) => true,
            (false, true) => dom,
            (true, false) => dow,
            (false, false) => dom || dow,
        }
    }

    /// The latest minute at or before `now` (Unix seconds) the schedule names, as Unix seconds;
    /// none within 8 years (e.g. "0 0 30 2 *").
    pub fn previous(&self, now: i64) -> Option<i64> {
        let mut t = now.div_euclid(60) * 60;
        let floor = now - 8 * 366 * 86_400;
        while t >= floor {
            let c = Civil::of(t);
            if !self.day_matches(&c) {
                t = t - (t.rem_euclid(86_400)) - 60; // the day before, 23:59
                continue;
            }
            if self.hours & (1 << c.hour) == 0 {
                t = t - (t.rem_euclid(3600)) - 60; // the hour before, :59
                continue;
            }
            if self.minutes & (1 << c.minute) != 0 {
                return Some(t);
            }
            t -= 60;
        }
        None
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A UTC time broken down as cron reads it.
struct Civil {
    minute: u32,
    hour: u32,
    day: u32,
    month: u32,
    /// 0 for Sunday.
    weekday: u32,
}

impl Civil {
    fn of(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let in_day = secs.rem_euclid(86_400);
        let crate::civil::Date { month, day, .. } = crate::civil::date_from_days(days);
        Self {
            minute: (in_day / 60 % 60) as u32,
            hour: (in_day / 3600) as u32,
            day,
            month,
            weekday: (days + 4).rem_euclid(7) as u32, // 1970-01-01 was a Thursday
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Monday 2026-11-30 00:00 UTC.
    const MONDAY: i64 = 1_795_996_800;
    const H: i64 = 3600;
    const D: i64 = 86_400;

    #[test]
    fn finds_the_latest_named_minute() {
        let cases: &[(&str, i64, Option<i64>)] = &[
            // The cookbook's weekly pack: Sunday 01:00.
            ("0 1 * * 7", MONDAY + 10 * H, Some(MONDAY - D + H)),
            ("0 1 * * 0", MONDAY + 10 * H, Some(MONDAY - D + H)),
            ("0 1 * * 7", MONDAY - D + H, Some(MONDAY - D + H)),
            ("0 1 * * 7", MONDAY - D + H - 1, Some(MONDAY - 8 * D + H)),
            // The cookbook's daily backup at 21:00.
            ("0 21 * * *", MONDAY + 10 * H, Some(MONDAY - 3 * H)),
            ("*/15 * * * *", MONDAY + 10 * H + 14 * 60 + 59, Some(MONDAY + 10 * H)),
            ("30 2 1 12 *", MONDAY + 10 * H, Some(MONDAY + D + 2 * H + 30 * 60 - 365 * D)),
            ("5-10/5 3 * * *", MONDAY + 3 * H + 9 * 60, Some(MONDAY + 3 * H + 5 * 60)),
            ("0 0 30 2 *", MONDAY, None),
            // Both day fields restricted: either matches (Monday, or the 15th).
            ("0 0 15 * 1", MONDAY + 5 * H, Some(MONDAY)),
        ];
        for (text, now, want) in cases {
            let cron = Cron::parse(text).unwrap();
            assert_eq!(cron.previous(*now), *want, "{text} at {now}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_schedule_and_says_which_field() {
        let cases = [
            ("0 1 * *", "has 4 fields"),
            ("60 1 * * *", "minute field \"60\""),
            ("0 24 * * *", "hour field"),
            ("0 1 0 * *", "day of month field"),
            ("0 1 * 13 *", "month field"),
            ("0 1 * * 8", "day of week field"),
            ("*/0 * * * *", "step"),
            ("5-1 * * * *", "range"),
            ("x * * * *", "minute field"),
            ("0 1 * * mon", "day of week field"),
        ];
        for (text, said) in cases {
            let err = Cron::parse(text).unwrap_err().to_string();
            assert!(err.contains(said), "{text}: {err}");
        }
    }

    #[test]
    fn civil_time_of_known_instants() {
        let c = Civil::of(MONDAY + 13 * H + 7 * 60);
        assert_eq!((c.minute, c.hour, c.day, c.month, c.weekday), (7, 13, 30, 11, 1));
        let c = Civil::of(951_782_400); // 2000-02-29 00:00, a Tuesday
        assert_eq!((c.day, c.month, c.weekday), (29, 2, 2));
    }
}
