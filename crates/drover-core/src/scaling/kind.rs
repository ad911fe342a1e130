//! An instance's scaling type, with OpsWorks' names: `24/7`, `time` and `load`.
//!
//! `24/7` instances are started and stopped by hand, `time` instances follow their weekly
//! schedule, and `load` instances are started and stopped by their layer's load-based rule.
//!
//! Text and JSON use `24/7`, `time` and `load`. Two spellings are accepted on input and never
//! printed: `always-on` for `24/7` (no slash to quote in paths, file names or shells that mind
//! it) and `timer` for `time` (the `AutoScalingType` value of OpsWorks' API, so its output can be
//! pasted).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::status::UnknownName;

/// How an instance is started and stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ScalingType {
    /// Started and stopped by hand (`24/7`).
    #[default]
    AlwaysOn,
    /// Online in the hours of its weekly schedule (`time`).
    Time,
    /// Started and stopped by its layer's load-based rule (`load`).
    Load,
}

impl ScalingType {
    /// Every value, in declaration order.
    pub const ALL: &'static [ScalingType] = &[ScalingType::AlwaysOn, ScalingType::Time, ScalingType::Load];

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScalingType::AlwaysOn => "24/7",
            ScalingType::Time => "time",
            ScalingType::Load => "load",
        }
    }
}

impl fmt::Display for ScalingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ScalingType {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "24/7" | "always-on" => Ok(ScalingType::AlwaysOn),
            "time" | "timer" => Ok(ScalingType::Time),
            "load" => Ok(ScalingType::Load),
            _ => Err(UnknownName {
                what: "scaling type",
                value: s.to_owned(),
                expected: "24/7 (or always-on), time, load".to_owned(),
            }),
        }
    }
}

impl Serialize for ScalingType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ScalingType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_names_and_the_aliases() {
        // (input, expected)
        let cases = [
            ("24/7", ScalingType::AlwaysOn),
            ("always-on", ScalingType::AlwaysOn),
            ("time", ScalingType::Time),
            ("timer", ScalingType::Time),
            ("load", ScalingType::Load),
            (" load ", ScalingType::Load),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<ScalingType>(), Ok(want), "{text}");
        }
    }

    #[test]
    fn prints_and_serializes_the_names() {
        for kind in ScalingType::ALL {
            assert_eq!(kind.to_string().parse::<ScalingType>(), Ok(*kind));
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<ScalingType>(&json).unwrap(), *kind);
        }
        assert_eq!(serde_json::from_str::<ScalingType>("\"always-on\"").unwrap(), ScalingType::AlwaysOn);
    }

    #[test]
    fn an_unknown_name_lists_the_accepted_ones() {
        let err = "24x7".parse::<ScalingType>().unwrap_err().to_string();
        assert_eq!(err, "\"24x7\" is not a valid scaling type; expected one of: 24/7 (or always-on), time, load");
        let err = serde_json::from_str::<ScalingType>("\"Load\"").unwrap_err().to_string();
        assert!(err.contains("expected one of: 24/7 (or always-on), time, load"), "{err}");
    }
}
