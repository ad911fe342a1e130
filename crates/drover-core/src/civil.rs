//! Calendar dates from Unix days and back (proleptic Gregorian, UTC), after Howard Hinnant's
//! `civil_from_days` and `days_from_civil`: the one place the services' log times, schedules
//! and reports turn days into dates.

/// A date: year, month (1–12) and day (1–31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// The year (astronomical: 0 is 1 BC).
    pub year: i64,
    /// The month, 1–12.
    pub month: u32,
    /// The day of the month, 1–31.
    pub day: u32,
}

/// The date `days` days after 1970-01-01 (negative: before).
pub fn date_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    Date { year: yoe + era * 400 + i64::from(month <= 2), month, day }
}

/// Days since 1970-01-01 of a date (`month` 1–12); no range check.
pub fn days_from_date(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_days() {
        let cases = [
            (0, (1970, 1, 1)),
            (-1, (1969, 12, 31)),
            (59, (1970, 3, 1)),
            (11_016, (2000, 2, 29)),
            (20_787, (2026, 11, 30)),
            (20_788, (2026, 12, 1)),
        ];
        for (days, (year, month, day)) in cases {
            assert_eq!(date_from_days(days), Date { year, month, day }, "{days}");
            assert_eq!(days_from_date(year, i64::from(month), i64::from(day)), days, "{year}-{month}-{day}");
        }
    }
}
