//! Service logs: how the supervisor's log files are rotated by size, how a line's time is known,
//! the wire form of a log line an agent streams (`drover logs`), and the order lines are shown in.
//!
//! Rotation is "copy then truncate": services keep their file open in append mode, so the file is
//! copied to `<name>.1` (older copies shift up, the oldest past `keep` is removed) and truncated in
//! place; the service's next write lands at the start of the emptied file.

use std::collections::BTreeMap;

use serde_json::Value;

/// The default size past which a log file is rotated (`logs.max_size`).
pub const DEFAULT_MAX_SIZE: &str = "50m";
/// The default number of rotated copies kept (`logs.keep`).
pub const DEFAULT_KEEP: u32 = 5;

/// When and how many: the `logs.*` attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate once a file has at least this many bytes.
    pub max_bytes: u64,
    /// Rotated copies kept (`<name>.1` … `<name>.<keep>`); 0 keeps none (the file is only emptied).
    pub keep: u32,
}

impl Default for Rotation {
    fn default() -> Self {
        Self { max_bytes: parse_size(DEFAULT_MAX_SIZE).unwrap_or(50 << 20), keep: DEFAULT_KEEP }
    }
}

impl Rotation {
    /// The rotation the stack configuration asks for (`logs.max_size`, `logs.keep`); defaults for
    /// what is missing or wrong (the schema check has reported wrong values already).
    pub fn from_attributes(config: &Value) -> Self {
        let default = Self::default();
        let max_bytes = config
            .pointer("/logs/max_size")
            .and_then(Value::as_str)
            .and_then(|s| parse_size(s).ok())
            .filter(|b| *b > 0)
            .unwrap_or(default.max_bytes);
        let keep = config
            .pointer("/logs/keep")
            .and_then(Value::as_u64)
            .and_then(|k| u32::try_from(k).ok())
            .unwrap_or(default.keep);
        Self { max_bytes, keep }
    }

    /// What to do with a file of `size` bytes: nothing, or the steps of its rotation.
    pub fn plan(&self, size: u64) -> Option<RotationPlan> {
        if size < self.max_bytes {
            return None;
        }
        // Shift from the oldest down so no copy overwrites one not moved yet.
        let shifts = (1..self.keep).rev().map(|n| (n, n + 1)).collect();
        Some(RotationPlan {
            remove: (self.keep > 0).then_some(self.keep),
            shifts,
            copy_to: (self.keep > 0).then_some(1),
        })
    }
}

/// The steps of one rotation, in order: remove `<name>.<remove>`, rename each `<name>.<from>` to
/// `<name>.<to>`, copy the file to `<name>.<copy_to>`, then truncate the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationPlan {
    /// The oldest copy, which falls out.
    pub remove: Option<u32>,
    /// Renames, oldest first.
    pub shifts: Vec<(u32, u32)>,
    /// Where the current content goes before the file is emptied (none: it is dropped).
    pub copy_to: Option<u32>,
}

/// Parses a size such as `50m`, `512k`, `1g` or `4096` (bytes).
pub fn parse_size(raw: &str) -> Result<u64, String> {
    let form = "write a number of bytes, optionally with k, m or g (e.g. 512k, 50m, 1g)";
    let text = raw.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return Err(format!("{raw:?} is not a size; {form}")),
    };
    let n: u64 = digits.parse().map_err(|_| format!("{raw:?} is not a size; {form}"))?;
    n.checked_mul(factor).ok_or_else(|| format!("{raw:?} is too large"))
}

/// The time a log line gives itself at its start, Unix milliseconds: `2026-12-01T18:00:00Z`,
/// `2026-12-01T18:00:00.123+01:00` or Zope's `2026-12-01 18:00:00,123` (no zone: UTC).
pub fn line_time_ms(line: &str) -> Option<i64> {
    let b = line.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = line.get(from..from + len)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|(i, c)| b[*i] != *c) || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if matches!(b.get(at), Some(b'.' | b',')) {
        let digits = b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let frac = &line[at + 1..at + 1 + digits.min(3)];
        millis = frac.parse::<i64>().ok()? * 10_i64.pow(3 - frac.len() as u32);
        at += 1 + digits;
    }
    let offset_secs = match b.get(at) {
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if b.get(at + 3) != Some(&b':') {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => 0,
    };
    let days = crate::civil::days_from_date(year, month, day);
    Some(((days * 86_400 + hour * 3600 + minute * 60 + second) - offset_secs) * 1000 + millis)
}

/// A time as RFC 3339 in UTC, with milliseconds when it has them: `2026-12-01T18:00:00.250Z`.
pub fn rfc3339(time_ms: i64) -> String {
    let (secs, millis) = (time_ms.div_euclid(1000), time_ms.rem_euclid(1000));
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let crate::civil::Date { year, month, day } = crate::civil::date_from_days(days);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let frac = if millis == 0 { String::new() } else { format!(".{millis:03}") };
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}{frac}Z")
}

/// The times of a file's lines: a line's own time, else that of the first line after it that has
/// one (it was written no later), else `fallback_ms` (the file's last write). An upper bound, so
/// `--since` errs on showing a line, and times never go back within a file whose own do not.
pub fn times_of(lines: &[&str], fallback_ms: i64) -> Vec<i64> {
    let mut next = fallback_ms;
    let mut times: Vec<i64> = lines
        .iter()
        .rev()
        .map(|l| {
            if let Some(t) = line_time_ms(l) {
                next = t;
            }
            next
        })
        .collect();
    times.reverse();
    times
}

/// One line of a log stream as an agent sends it: its time, its source (`<app>/<service>` or
/// `agent`) and its text, on one line: `<unix ms>\t<source>\t<text>`. Lines with an empty source
/// are keep-alives and carry no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireLine {
    /// Unix milliseconds.
    pub time_ms: i64,
    /// Where it comes from.
    pub source: String,
    /// The text, without its line break.
    pub text: String,
}

impl WireLine {
    /// The line in its wire form, with a line break (tabs and carriage returns in the text kept
    /// as they are: only the first two tabs separate).
    pub fn encode(time_ms: i64, source: &str, text: &str) -> String {
        format!("{time_ms}\t{source}\t{}\n", text.trim_end_matches(['\n', '\r']))
    }

    /// A line read back; none when it is not in the wire form.
    pub fn decode(line: &str) -> Option<Self> {
        let mut parts = line.splitn(3, '\t');
        let time_ms = parts.next()?.parse().ok()?;
        let source = parts.next()?.to_owned();
        let text = parts.next()?.trim_end_matches(['\n', '\r']).to_owned();
        Some(Self { time_ms, source, text })
    }

    /// Whether it only tells that the stream is alive.
    pub fn is_keepalive(&self) -> bool {
        self.source.is_empty()
    }
}

/// Lines from several streams shown in time order: each is held for a moment (a stream's line
/// may arrive after a later one of another stream), then released oldest first.
#[derive(Debug)]
pub struct Merge<T> {
    held: BTreeMap<(i64, u64), T>,
    seq: u64,
}

impl<T> Default for Merge<T> {
    fn default() -> Self {
        Self { held: BTreeMap::new(), seq: 0 }
    }
}

impl<T> Merge<T> {
    /// Holds a line with its time.
    pub fn push(&mut self, time_ms: i64, line: T) {
        self.held.insert((time_ms, self.seq), line);
        self.seq += 1;
    }

    /// Every held line with a time at or before `up_to_ms`, oldest first (ties in arrival order).
    pub fn release(&mut self, up_to_ms: i64) -> Vec<T> {
        let later = self.held.split_off(&(up_to_ms.saturating_add(1), 0));
        std::mem::replace(&mut self.held, later).into_values().collect()
    }

    /// Every held line, oldest first.
    pub fn drain(&mut self) -> Vec<T> {
        std::mem::take(&mut self.held).into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_parse_with_their_units_and_wrong_ones_say_the_form() {
        let cases = [
            ("50m", Ok(50 << 20)),
            ("512k", Ok(512 << 10)),
            ("1G", Ok(1 << 30)),
            ("4096", Ok(4096)),
            (" 2m ", Ok(2 << 20)),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_size(raw), want, "{raw}");
        }
        for raw in ["", "m", "5x", "5mb", "-1m", "1.5m"] {
            let e = parse_size(raw).unwrap_err();
            assert!(e.contains("e.g. 512k, 50m, 1g"), "{raw}: {e}");
        }
    }

    #[test]
    fn rotation_comes_from_the_attributes_with_defaults() {
        let cases = [
            (json!({}), Rotation { max_bytes: 50 << 20, keep: 5 }),
            (json!({"logs": {"max_size": "1k", "keep": 2}}), Rotation { max_bytes: 1024, keep: 2 }),
            (json!({"logs": {"max_size": null, "keep": 0}}), Rotation { max_bytes: 50 << 20, keep: 0 }),
            (json!({"logs": {"max_size": "nonsense"}}), Rotation { max_bytes: 50 << 20, keep: 5 }),
            (json!({"logs": {"max_size": "0"}}), Rotation { max_bytes: 50 << 20, keep: 5 }),
        ];
        for (config, want) in cases {
            assert_eq!(Rotation::from_attributes(&config), want, "{config}");
        }
    }

    #[test]
    fn a_file_past_its_size_rotates_keeping_the_configured_count() {
        let r = |max_bytes, keep| Rotation { max_bytes, keep };
        let cases = [
            (r(100, 3), 99, None),
            (r(100, 3), 100, Some(RotationPlan { remove: Some(3), shifts: vec![(2, 3), (1, 2)], copy_to: Some(1) })),
            (r(100, 1), 500, Some(RotationPlan { remove: Some(1), shifts: vec![], copy_to: Some(1) })),
            (r(100, 0), 500, Some(RotationPlan { remove: None, shifts: vec![], copy_to: None })),
        ];
        for (rotation, size, want) in cases {
            assert_eq!(rotation.plan(size), want, "{rotation:?} at {size}");
        }
    }

    #[test]
    fn a_line_gives_its_time_in_the_forms_services_write() {
        let base = 1_796_148_000_000; // 2026-12-01T18:00:00Z
        let cases = [
            ("2026-12-01T18:00:00Z started", Some(base)),
            ("2026-12-01T18:00:00.250Z x", Some(base + 250)),
            ("2026-12-01T19:00:00+01:00 x", Some(base)),
            ("2026-12-01T17:30:00.5-00:30 x", Some(base + 500)),
            ("2026-12-01 18:00:00,123 INFO [Zope] Ready", Some(base + 123)),
            ("2026-12-01 18:00:00 plain", Some(base)),
            ("1970-01-01T00:00:00Z", Some(0)),
            ("client1 serving on 127.0.0.1:8081", None),
            ("2026-13-01 18:00:00", None),
            ("2026-12-01 18:00", None),
            ("2026-12-01X18:00:00", None),
            ("", None),
        ];
        for (line, want) in cases {
            assert_eq!(line_time_ms(line), want, "{line}");
        }
    }

    #[test]
    fn times_print_as_rfc3339_and_read_back() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (1_796_148_000_250, "2026-12-01T18:00:00.250Z"),
            (951_782_400_000, "2000-02-29T00:00:00Z"),
            (978_307_199_999, "2000-12-31T23:59:59.999Z"),
        ];
        for (ms, want) in cases {
            assert_eq!(rfc3339(ms), want);
            assert_eq!(line_time_ms(want), Some(ms), "{want}");
        }
    }

    #[test]
    fn lines_without_a_time_take_the_next_one_after_them_or_the_files() {
        let lines = ["no time yet", "2026-12-01T18:00:00Z a", "traceback line", "2026-12-01T18:00:01Z b", "tail"];
        let base = 1_796_148_000_000;
        assert_eq!(times_of(&lines, 7), vec![base, base, base + 1000, base + 1000, 7]);
        assert_eq!(times_of(&[], 7), Vec::<i64>::new());
    }

    #[test]
    fn wire_lines_round_trip_and_other_text_is_not_one() {
        let text = WireLine::encode(12, "site/client1", "a\tb\r\n");
        assert_eq!(text, "12\tsite/client1\ta\tb\n");
        let line = WireLine::decode(text.trim_end()).unwrap();
        assert_eq!(line, WireLine { time_ms: 12, source: "site/client1".into(), text: "a\tb".into() });
        assert!(!line.is_keepalive());
        assert!(WireLine::decode(&WireLine::encode(5, "", "")).unwrap().is_keepalive());
        for other in ["", "hello", "x\tsite\ttext", "12"] {
            assert_eq!(WireLine::decode(other), None, "{other}");
        }
    }

    #[test]
    fn merged_lines_come_out_in_time_order_once_old_enough() {
        let mut m = Merge::default();
        m.push(30, "web2 c");
        m.push(10, "web1 a");
        m.push(20, "web2 b");
        m.push(10, "web1 a2");
        assert_eq!(m.release(15), vec!["web1 a", "web1 a2"]);
        assert_eq!(m.release(15), Vec::<&str>::new());
        m.push(25, "web1 late");
        assert_eq!(m.release(30), vec!["web2 b", "web1 late", "web2 c"]);
        m.push(99, "last");
        assert_eq!(m.drain(), vec!["last"]);
    }
}
