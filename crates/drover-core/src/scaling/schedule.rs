//! The weekly UTC schedule of a time-based instance: for each weekday, Monday first, the hours
//! 0-23 in which the instance should be online (reference.md section 7).
//!
//! A schedule is made from `--on` specs ([`WeeklySchedule::from_specs`], see [`super::on_spec`])
//! or from OpsWorks' `TimeBasedAutoScaling` grid ([`super::grid`]), and it is shown in the same
//! compact form as the specs (`mon-fri 08-18; sun 22-02`).

use std::collections::BTreeMap;
use std::fmt;

use super::week::{HOURS_PER_WEEK, SECS_PER_HOUR, Weekday, hour_of_week, hour_start};

/// For each weekday, the UTC hours in which the instance should be online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WeeklySchedule {
    /// Bit `h` of `days[d]`: online from `h`:00 to `h+1`:00 on day `d` (0 for Monday).
    days: [u32; 7],
}

const FULL_DAY: u32 = (1 << 24) - 1;

impl WeeklySchedule {
    /// The schedule with no hour online.
    pub fn never() -> Self {
        Self::default()
    }

    /// The schedule with every hour online.
    pub fn always() -> Self {
        Self { days: [FULL_DAY; 7] }
    }

    /// Whether the instance should be online in `hour` (0-23, others are ignored) of `day`.
    pub fn is_on(&self, day: Weekday, hour: u32) -> bool {
        hour < 24 && self.days[day.index()] & (1 << hour) != 0
    }

    /// Marks `hour` (0-23, others are ignored) of `day` as online.
    pub fn set_on(&mut self, day: Weekday, hour: u32) {
        if hour < 24 {
            self.days[day.index()] |= 1 << hour;
        }
    }

    /// The hours of `day` in which the instance should be online, in order.
    pub fn hours(&self, day: Weekday) -> Vec<u32> {
        (0..24).filter(|h| self.is_on(day, *h)).collect()
    }

    /// Both schedules' hours.
    pub fn union(&self, other: &WeeklySchedule) -> WeeklySchedule {
        let mut days = self.days;
        for (day, theirs) in days.iter_mut().zip(other.days) {
            *day |= theirs;
        }
        WeeklySchedule { days }
    }

    /// Whether no hour is online.
    pub fn is_never(&self) -> bool {
        self.days.iter().all(|d| *d == 0)
    }

    /// Whether every hour is online.
    pub fn is_always(&self) -> bool {
        self.days.iter().all(|d| *d == FULL_DAY)
    }

    fn on_at(&self, hour_of_week: usize) -> bool {
        let (day, hour) = (hour_of_week % HOURS_PER_WEEK / 24, hour_of_week % 24);
        self.days[day] & (1 << hour) != 0
    }

    /// Whether the instance should be online at `now_secs` (Unix seconds, UTC).
    pub fn wants_online(&self, now_secs: i64) -> bool {
        self.on_at(hour_of_week(now_secs))
    }

    /// The next hour boundary after `now_secs` (Unix seconds) at which [`Self::wants_online`]
    /// changes; none for a schedule that is always or never online. At a boundary itself, the
    /// change is the one after it: the hour that starts at `now_secs` already counts as now.
    pub fn next_change(&self, now_secs: i64) -> Option<i64> {
        let current = hour_of_week(now_secs);
        let state = self.on_at(current);
        let start = hour_start(now_secs);
        (1..=HOURS_PER_WEEK)
            .find(|ahead| self.on_at(current + ahead) != state)
            .map(|ahead| start + ahead as i64 * SECS_PER_HOUR)
    }

    /// The schedule as `--on` specs that give it back: `["mon-fri 08-18", "sun 22-02"]`. Runs
    /// of online hours shorter than a day that cross midnight are written across it
    /// (`sun 22-02`); longer runs are split at midnight. Days with the same hours share a spec.
    /// Empty for a schedule that is never online.
    pub fn specs(&self) -> Vec<String> {
        if self.is_always() {
            return vec!["daily 00-24".to_owned()];
        }
        // (hours text, first hour) -> days; the first hour orders specs within a day.
        let mut groups: BTreeMap<(String, u32), u8> = BTreeMap::new();
        for (start, len) in self.runs() {
            for (day, from, to) in split_run(start, len) {
                *groups.entry((format!("{from:02}-{to:02}"), from)).or_default() |= 1 << day;
            }
        }
        let mut specs: Vec<(usize, u32, String)> = groups
            .into_iter()
            .map(|((hours, from), days)| (first_day(days), from, format!("{} {hours}", days_text(days))))
            .collect();
        specs.sort();
        specs.into_iter().map(|(_, _, spec)| spec).collect()
    }

    /// Maximal runs of online hours around the week, as (first hour of the week, length). Not
    /// for a schedule that is always online (it has no start).
    fn runs(&self) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        for start in 0..HOURS_PER_WEEK {
            let previous = (start + HOURS_PER_WEEK - 1) % HOURS_PER_WEEK;
            if self.on_at(start) && !self.on_at(previous) {
                let len = (0..HOURS_PER_WEEK).take_while(|i| self.on_at(start + i)).count();
                runs.push((start, len));
            }
        }
        runs
    }
}

/// A run of `len` hours from `start` (hour of the week) as (day index, from hour, to hour)
/// pieces: one piece across midnight for a run shorter than a day, pieces split at midnight
/// otherwise. `to` is the hour it stops (24 for midnight); `to < from` crosses midnight.
fn split_run(start: usize, len: usize) -> Vec<(usize, u32, u32)> {
    let (day, from) = (start / 24 % 7, (start % 24) as u32);
    let end = from as usize + len;
    if end <= 24 {
        return vec![(day, from, end as u32)];
    }
    if len < 24 {
        return vec![(day, from, (end - 24) as u32)];
    }
    let mut pieces = Vec::new();
    let (mut at, mut left) = (start, len);
    while left > 0 {
        let hour = at % 24;
        let take = left.min(24 - hour);
        pieces.push((at / 24 % 7, hour as u32, (hour + take) as u32));
        at += take;
        left -= take;
    }
    pieces
}

/// The first day of a set of days (bit 0 = Monday), counting a run that wraps the week
/// (`fri-mon`) from its start.
fn first_day(days: u8) -> usize {
    day_runs(days).first().map_or(0, |(start, _)| *start)
}

/// Runs of consecutive days in a set (bit 0 = Monday), wrapping from Sunday to Monday, as
/// (first day, length), ordered by first day.
fn day_runs(days: u8) -> Vec<(usize, usize)> {
    let on = |d: usize| days & (1 << (d % 7)) != 0;
    if days & 0x7f == 0x7f {
        return vec![(0, 7)];
    }
    (0..7).filter(|d| on(*d) && !on(d + 6)).map(|d| (d, (0..7).take_while(|i| on(d + i)).count())).collect()
}

/// A set of days as a spec writes it: `daily`, `mon-fri`, `fri-mon`, `mon,wed,fri`.
fn days_text(days: u8) -> String {
    let runs = day_runs(days);
    if runs == [(0, 7)] {
        return "daily".to_owned();
    }
    let words: Vec<String> = runs
        .into_iter()
        .map(|(start, len)| {
            let first = Weekday::from_index(start).short();
            match len {
                1 => first.to_owned(),
                _ => format!("{first}-{}", Weekday::from_index(start + len - 1).short()),
            }
        })
        .collect();
    words.join(",")
}

impl fmt::Display for WeeklySchedule {
    /// The compact form: the specs joined with `; `, or `never` for a schedule with no hour.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            return f.write_str("never");
        }
        f.write_str(&self.specs().join("; "))
    }
}

#[cfg(test)]
mod tests;
