//! Release directory names: `YYYYMMDDHHMMSS` in UTC, made unique with `-2`, `-3`, … when two
//! releases are made within the same second.

/// A UTC time broken into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
}

/// The name for a new release made at `at`, not clashing with `existing`.
pub fn release_name(at: UtcTime, existing: &[&str]) -> String {
    let base = format!("{:04}{:02}{:02}{:02}{:02}{:02}", at.year, at.month, at.day, at.hour, at.minute, at.second);
    if !existing.contains(&base.as_str()) {
        return base;
    }
    (2u32..).map(|n| format!("{base}-{n}")).find(|name| !existing.contains(&name.as_str())).unwrap_or(base)
}

/// Whether `name` is a release name (so nothing else in `releases/` is taken for one).
pub fn is_release_name(name: &str) -> bool {
    let (stamp, suffix) = name.split_once('-').unwrap_or((name, ""));
    stamp.len() == 14
        && stamp.bytes().all(|b| b.is_ascii_digit())
        && (suffix.is_empty() || (suffix.len() <= 4 && suffix.bytes().all(|b| b.is_ascii_digit())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: UtcTime = UtcTime { year: 2026, month: 11, day: 26, hour: 9, minute: 5, second: 3 };

    #[test]
    fn names_are_unique() {
        assert_eq!(release_name(T, &[]), "20261126090503");
        assert_eq!(release_name(T, &["20261126090503"]), "20261126090503-2");
        assert_eq!(release_name(T, &["20261126090503", "20261126090503-2"]), "20261126090503-3");
        assert_eq!(release_name(T, &["20261126090502"]), "20261126090503");
    }

    #[test]
    fn recognises_release_names() {
        for (name, ok) in [
            ("20261126090503", true),
            ("20261126090503-2", true),
            ("2026112609050", false),
            ("current", false),
            ("20261126090503-x", false),
            ("../20261126090503", false),
        ] {
            assert_eq!(is_release_name(name), ok, "{name}");
        }
    }
}
