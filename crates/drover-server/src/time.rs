//! Wall-clock helpers: the store keeps Unix milliseconds, the API shows RFC 3339.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The time schedules are read at, in Unix seconds: the clock, or (tests only) the number in
/// `clock_file` when it holds one.
pub fn schedule_now_secs(clock_file: Option<&std::path::Path>) -> i64 {
    clock_file
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| now_ms() / 1000)
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds, e.g. `2026-11-26T14:22:03.123Z`.
pub fn rfc3339(ms: i64) -> String {
    let Ok(t) = ::time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return ms.to_string();
    };
    let f = ::time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&f).unwrap_or_else(|_| ms.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_rfc3339() {
        assert_eq!(super::rfc3339(1_764_166_923_123), "2025-11-26T14:22:03.123Z");
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
    }
}
