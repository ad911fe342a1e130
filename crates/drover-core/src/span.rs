//! Lengths of time as users type them: `90s`, `15m`, `24h`, `7d`, `2w` (or a number of seconds).

/// A span that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a length of time; write a whole number with s, m, h, d or w (e.g. 90s, 24h, 7d)")]
pub struct SpanError(pub String);

/// Seconds in `raw`, more than zero.
pub fn parse_span_secs(raw: &str) -> Result<u64, SpanError> {
    let bad = || SpanError(raw.to_owned());
    let s = raw.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    n.checked_mul(scale).filter(|&secs| secs > 0).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        let cases = [
            ("90", Some(90)),
            ("90s", Some(90)),
            ("15m", Some(900)),
            ("24h", Some(86_400)),
            (" 7d ", Some(604_800)),
            ("2w", Some(1_209_600)),
            ("0s", None),
            ("", None),
            ("h", None),
            ("1.5h", None),
            ("-1h", None),
            ("10y", None),
            ("99999999999999999999s", None),
            ("9999999999999999w", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_span_secs(raw).ok(), want, "{raw:?}");
        }
        assert!(parse_span_secs("10y").unwrap_err().to_string().contains("24h"));
    }
}
