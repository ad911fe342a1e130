//! Durations as people type them: `90s`, `15m`, `24h`, `7d`, `2w`, or sums such as `1h30m`.

use std::time::Duration;

/// The longest duration accepted (ten years): a longer one is a typo, and it keeps times in range.
pub const MAX: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Parses a duration such as `24h` or `1h30m`. The error names what is wrong and shows the form.
pub fn parse(raw: &str) -> Result<Duration, String> {
    let form = "write a number with a unit: s, m, h, d or w (e.g. 90s, 15m, 24h, 7d, 1h30m)";
    let text = raw.trim();
    if text.is_empty() {
        return Err(format!("the duration is empty; {form}"));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(format!("{raw:?} is not a duration ({c:?} is not a unit); {form}")),
        };
        if digits.is_empty() {
            return Err(format!("{raw:?} is not a duration (no number before {c:?}); {form}"));
        }
        let n: u64 = digits.parse().map_err(|_| format!("{raw:?} is too long; the most is 10 years"))?;
        total = n.checked_mul(unit).and_then(|s| total.checked_add(s)).unwrap_or(u64::MAX);
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!("{raw:?} lacks a unit after {digits}; {form}"));
    }
    let duration = Duration::from_secs(total);
    if duration.is_zero() {
        return Err(format!("{raw:?} is zero; give a positive duration"));
    }
    if duration > MAX {
        return Err(format!("{raw:?} is too long; the most is 10 years (520w)"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_type() {
        let cases = [("90s", 90), ("15m", 900), ("24h", 86_400), ("7d", 604_800), ("2w", 1_209_600), ("1h30m", 5400)];
        for (raw, secs) in cases {
            assert_eq!(parse(raw), Ok(Duration::from_secs(secs)), "{raw}");
        }
    }

    #[test]
    fn refusals_say_why() {
        let cases = [
            ("", "empty"),
            ("24", "lacks a unit after 24"),
            ("h", "no number before 'h'"),
            ("3 days", "' ' is not a unit"),
            ("0s", "zero"),
            ("11000d", "too long"),
            ("99999999999999999999999s", "too long"),
        ];
        for (raw, want) in cases {
            let err = parse(raw).unwrap_err();
            assert!(err.contains(want), "{raw:?}: {err}");
        }
    }
}
