//! `--on` specs: days, then the UTC hours from the one the instance starts to the one it stops.
//!
//! - `mon-fri 08-18`: Monday to Friday, online in hours 8 to 17 (it stops at 18:00).
//! - `sun 22-02`: an end before the start crosses midnight (Sunday 22, 23 and Monday 0, 1).
//! - `daily 09-17`, `mon,wed,fri 00-24`, `fri-mon 10-14` (ranges of days wrap the week),
//!   `sat 08-12,14-18` (several hour ranges). Day names may be written in full (`monday`), in
//!   any case; hours may be written `8`, `08` or `08:00`.
//!
//! Several specs make one schedule: their union.

use super::schedule::WeeklySchedule;
use super::week::Weekday;

/// A spec that could not be read, with what was wrong in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{spec:?} is not a schedule: {problem}; write days and the UTC hours from start to stop, \
     e.g. 'mon-fri 08-18', 'sun 22-02' or 'daily 09-17'"
)]
pub struct OnSpecError {
    /// The spec as given.
    pub spec: String,
    /// What was wrong in it.
    pub problem: String,
}

impl WeeklySchedule {
    /// The union of `--on` specs. The error names the first spec that is not one.
    pub fn from_specs<S: AsRef<str>>(specs: &[S]) -> Result<WeeklySchedule, OnSpecError> {
        let mut schedule = WeeklySchedule::never();
        for spec in specs {
            schedule = schedule.union(&parse(spec.as_ref())?);
        }
        Ok(schedule)
    }
}

/// One `--on` spec.
pub fn parse(spec: &str) -> Result<WeeklySchedule, OnSpecError> {
    let fail = |problem: String| OnSpecError { spec: spec.to_owned(), problem };
    let words: Vec<&str> = spec.split_whitespace().collect();
    let Some((hours_word, day_words)) = words.split_last() else {
        return Err(fail("it is empty".to_owned()));
    };
    if day_words.is_empty() {
        return Err(fail(format!("it has no days before the hours {hours_word:?}")));
    }
    // `mon, wed, fri 08-18` is read as `mon,wed,fri 08-18`.
    let days = parse_days(&day_words.concat()).map_err(fail)?;
    let ranges = parse_hour_ranges(hours_word).map_err(fail)?;
    let mut schedule = WeeklySchedule::never();
    for day in days {
        for &(from, to) in &ranges {
            let (today, tomorrow) = if to > from { (from..to, 0..0) } else { (from..24, 0..to) };
            for hour in today {
                schedule.set_on(day, hour);
            }
            for hour in tomorrow {
                schedule.set_on(day.next(), hour);
            }
        }
    }
    Ok(schedule)
}

/// `daily`, or days and ranges of days separated by commas: `mon-fri`, `fri-mon`, `sat,sun`.
fn parse_days(text: &str) -> Result<Vec<Weekday>, String> {
    if text.eq_ignore_ascii_case("daily") {
        return Ok(Weekday::ALL.to_vec());
    }
    let mut days = Vec::new();
    for item in text.split(',') {
        let day = |name: &str| {
            Weekday::parse(name)
                .ok_or_else(|| format!("{name:?} is not a day (write mon, tue, wed, thu, fri, sat, sun, or daily)"))
        };
        match item.split_once('-') {
            _ if item.is_empty() => return Err(format!("a day is missing in {text:?}")),
            None => days.push(day(item)?),
            Some((first, last)) => {
                let (first, last) = (day(first)?, day(last)?);
                let len = (last.index() + 7 - first.index()) % 7 + 1;
                days.extend((0..len).map(|i| Weekday::from_index(first.index() + i)));
            }
        }
    }
    Ok(days)
}

/// Hour ranges separated by commas: `08-18`, `22-02`, `08-12,14-18`.
fn parse_hour_ranges(text: &str) -> Result<Vec<(u32, u32)>, String> {
    text.split(',').map(parse_hour_range).collect()
}

fn parse_hour_range(text: &str) -> Result<(u32, u32), String> {
    let Some((from, to)) = text.split_once('-') else {
        return Err(format!("{text:?} is not an hour range (write start-stop, e.g. 08-18)"));
    };
    let (from, to) = (parse_hour(from)?, parse_hour(to)?);
    if from == 24 {
        return Err(format!("the start hour in {text:?} is 24; a day's hours start at 00 to 23"));
    }
    if from == to {
        return Err(format!("{text:?} starts and stops at the same hour; for a whole day write 00-24"));
    }
    Ok((from, to))
}

/// An hour 0-24: `8`, `08` or `08:00`.
fn parse_hour(text: &str) -> Result<u32, String> {
    let digits = match text.split_once(':') {
        Some((hour, "00")) => hour,
        Some(_) => return Err(format!("{text:?} is not a whole hour; schedules are in whole UTC hours")),
        None => text,
    };
    match digits.parse::<u32>() {
        Ok(hour) if hour <= 24 && !digits.is_empty() && digits.len() <= 2 => Ok(hour),
        Ok(_) => Err(format!("{text:?} is not an hour from 00 to 24")),
        Err(_) => Err(format!("{text:?} is not an hour (write two digits, e.g. 08)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours_of(schedule: &WeeklySchedule) -> Vec<(Weekday, Vec<u32>)> {
        Weekday::ALL.into_iter().map(|d| (d, schedule.hours(d))).filter(|(_, h)| !h.is_empty()).collect()
    }

    #[test]
    fn specs_give_the_hours_online() {
        use Weekday::*;
        let workday: Vec<u32> = (8..18).collect();
        // (input, expected: the days with online hours)
        type Case<'a> = (&'a str, Vec<(Weekday, Vec<u32>)>);
        let cases: Vec<Case> = vec![
            ("mon-fri 08-18", [Monday, Tuesday, Wednesday, Thursday, Friday].map(|d| (d, workday.clone())).to_vec()),
            ("sat 10-14", vec![(Saturday, vec![10, 11, 12, 13])]),
            ("sun 22-02", vec![(Monday, vec![0, 1]), (Sunday, vec![22, 23])]),
            ("fri-mon 23-24", [Monday, Friday, Saturday, Sunday].map(|d| (d, vec![23])).to_vec()),
            ("mon,wed,fri 00-24", [Monday, Wednesday, Friday].map(|d| (d, (0..24).collect())).to_vec()),
            ("mon, wed 8-9", vec![(Monday, vec![8]), (Wednesday, vec![8])]),
            ("Tuesday 08:00-10:00", vec![(Tuesday, vec![8, 9])]),
            ("thu 08-10,14-15", vec![(Thursday, vec![8, 9, 14])]),
            ("sat 22-00", vec![(Saturday, vec![22, 23])]),
        ];
        for (spec, want) in cases {
            assert_eq!(hours_of(&parse(spec).unwrap()), want, "{spec}");
        }
        let daily = parse("DAILY 09-17").unwrap();
        assert!(Weekday::ALL.into_iter().all(|d| daily.hours(d) == (9..17).collect::<Vec<_>>()));
    }

    #[test]
    fn several_specs_make_their_union() {
        let schedule = WeeklySchedule::from_specs(&["mon 08-10", "mon 09-12", "sun 23-01"]).unwrap();
        assert_eq!(schedule.hours(Weekday::Monday), vec![0, 8, 9, 10, 11]);
        assert_eq!(schedule.hours(Weekday::Sunday), vec![23]);
        assert_eq!(WeeklySchedule::from_specs::<&str>(&[]).unwrap(), WeeklySchedule::never());
    }

    #[test]
    fn refusals_say_what_is_wrong_and_show_an_example() {
        // (input, expected part of the message)
        let cases = [
            ("", "it is empty"),
            ("08-18", "no days before the hours \"08-18\""),
            ("mo-fr 08-18", "\"mo\" is not a day"),
            ("mon,,fri 08-18", "a day is missing"),
            ("mon 8to18", "\"8to18\" is not an hour range"),
            ("mon 08-25", "\"25\" is not an hour from 00 to 24"),
            ("mon 24-02", "start hour in \"24-02\" is 24"),
            ("mon 08-08", "same hour; for a whole day write 00-24"),
            ("mon 08:30-18", "not a whole hour"),
            ("mon 008-18", "not an hour from 00 to 24"),
            ("mon -18", "\"\" is not an hour"),
        ];
        for (spec, want) in cases {
            let err = parse(spec).unwrap_err().to_string();
            assert!(err.contains(want), "{spec:?}: {err}");
            assert!(err.contains("e.g. 'mon-fri 08-18'"), "{spec:?}: {err}");
        }
        let err = WeeklySchedule::from_specs(&["mon 08-18", "xyz 08-18"]).unwrap_err();
        assert_eq!(err.spec, "xyz 08-18");
    }
}
