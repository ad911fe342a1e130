//! How long a restore kept the site down: from the first stop of the app's services (batch 0)
//! to the last start (batch 2), read from the commands' times (RFC 3339 UTC, as the API shows).

/// One command of a restore: its batch and its start and end times.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// 0: stop, 1: restore, 2: start.
    pub batch: u32,
    /// When the agent started it.
    pub started_at: Option<&'a str>,
    /// When it finished.
    pub finished_at: Option<&'a str>,
}

/// Unix milliseconds of `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
pub fn rfc3339_ms(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    let ms: i64 = format!("{frac:0<3}")[..3].parse().ok()?;
    let days = crate::civil::days_from_date(y, m, day);
    Some(((days * 86_400 + h * 3600 + min * 60 + s) * 1000) + ms)
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn utc_text(secs: i64) -> String {
    let (days, in_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let crate::civil::Date { year, month, day } = crate::civil::date_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", in_day / 3600, in_day / 60 % 60, in_day % 60)
}

/// The site's downtime in milliseconds; none until the stops started and the starts finished.
pub fn downtime_ms(steps: &[Step<'_>]) -> Option<i64> {
    let times: Vec<(u32, Option<i64>, Option<i64>)> = steps
        .iter()
        .map(|s| (s.batch, s.started_at.and_then(rfc3339_ms), s.finished_at.and_then(rfc3339_ms)))
        .collect();
    downtime_of(&times)
}

/// [`downtime_ms`] over (batch, started, finished) in Unix milliseconds.
pub fn downtime_of(steps: &[(u32, Option<i64>, Option<i64>)]) -> Option<i64> {
    let down = steps.iter().filter(|s| s.0 == 0).filter_map(|s| s.1).min()?;
    let starts: Vec<Option<i64>> = steps.iter().filter(|s| s.0 == 2).map(|s| s.2).collect();
    if starts.is_empty() || starts.iter().any(Option::is_none) {
        return None;
    }
    let up = starts.into_iter().flatten().max()?;
    Some((up - down).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_api_s_times() {
        assert_eq!(rfc3339_ms("2025-11-26T14:22:03.123Z"), Some(1_764_166_923_123));
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(rfc3339_ms("2000-03-01T00:00:00Z"), Some(951_868_800_000));
        assert_eq!(rfc3339_ms("2000-03-01 00:00:00Z"), None);
        assert_eq!(rfc3339_ms("2000-13-01T00:00:00Z"), None);
        assert_eq!(utc_text(1_764_166_923), "2025-11-26 14:22:03");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00");
    }

    #[test]
    fn from_the_first_stop_to_the_last_start() {
        let s = |batch, started: &'static str, finished: Option<&'static str>| Step {
            batch,
            started_at: Some(started),
            finished_at: finished,
        };
        let steps = [
            s(0, "2026-12-01T10:00:01.000Z", Some("2026-12-01T10:00:02.000Z")),
            s(0, "2026-12-01T10:00:00.500Z", Some("2026-12-01T10:00:03.000Z")),
            s(1, "2026-12-01T10:00:03.100Z", Some("2026-12-01T10:00:06.000Z")),
            s(2, "2026-12-01T10:00:06.100Z", Some("2026-12-01T10:00:09.000Z")),
            s(2, "2026-12-01T10:00:06.100Z", Some("2026-12-01T10:00:10.250Z")),
        ];
        assert_eq!(downtime_ms(&steps), Some(9_750));
        assert_eq!(downtime_ms(&steps[..3]), None, "not started again yet");
        let unfinished = [steps[0], s(2, "2026-12-01T10:00:06.100Z", None)];
        assert_eq!(downtime_ms(&unfinished), None);
    }
}
