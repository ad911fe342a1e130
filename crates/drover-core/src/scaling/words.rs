//! How numbers, durations and lists read in decision reasons.

/// A number as people write it: whole numbers without decimals, others with at most two.
pub(crate) fn number(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        let text = format!("{rounded:.2}");
        text.trim_end_matches('0').to_owned()
    }
}

/// A duration in milliseconds, in the largest units that keep it exact to the second:
/// `30 s`, `5 min`, `1 h 30 min`, `2 min 5 s`.
pub(crate) fn duration_ms(ms: i64) -> String {
    let secs = (ms.max(0) + 999) / 1000;
    let (hours, minutes, seconds) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut parts = Vec::new();
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if minutes > 0 {
        parts.push(format!("{minutes} min"));
    }
    if seconds > 0 || parts.is_empty() {
        parts.push(format!("{seconds} s"));
    }
    parts.join(" ")
}

/// Names joined with commas: `clients1, clients2`.
pub(crate) fn list<S: AsRef<str>>(names: &[S]) -> String {
    names.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        // (input, expected)
        let cases = [(4.0, "4"), (4.25, "4.25"), (4.5, "4.5"), (0.333, "0.33"), (86.0, "86"), (0.0, "0")];
        for (value, want) in cases {
            assert_eq!(number(value), want, "{value}");
        }
    }

    #[test]
    fn durations_read_naturally() {
        // (input ms, expected)
        let cases = [
            (0, "0 s"),
            (30_000, "30 s"),
            (300_000, "5 min"),
            (125_000, "2 min 5 s"),
            (5_400_000, "1 h 30 min"),
            (3_600_000, "1 h"),
            (1, "1 s"),
        ];
        for (ms, want) in cases {
            assert_eq!(duration_ms(ms), want, "{ms}");
        }
    }
}
