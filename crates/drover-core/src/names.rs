//! Validated names: stack names, layer shortnames, hostnames and app names.
//!
//! Every name may end up in a path on an instance, so the rule is strict: `[a-z0-9][a-z0-9_-]{0,31}`.
//! Nothing that can escape a directory (`/`, `..`, NUL) can pass.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 32;

/// A name checked against `[a-z0-9][a-z0-9_-]{0,31}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Shortname(String);

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name was empty.
    #[error("must not be empty; use 1 to 32 characters from a-z, 0-9, '_' and '-'")]
    Empty,
    /// The name was longer than [`MAX_NAME_LEN`].
    #[error("is {0} characters long; use at most 32 characters")]
    TooLong(usize),
    /// The first character was not a lowercase letter or digit.
    #[error("must start with a lowercase letter or a digit (a-z, 0-9), not {0:?}")]
    BadStart(char),
    /// A character outside the allowed set.
    #[error("contains {0:?}; use only a-z, 0-9, '_' and '-'")]
    BadChar(char),
}

impl Shortname {
    /// Checks `raw` and wraps it.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let mut chars = raw.chars();
        let first = chars.next().ok_or(NameError::Empty)?;
        let len = raw.chars().count();
        if len > MAX_NAME_LEN {
            return Err(NameError::TooLong(len));
        }
        if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
            return Err(NameError::BadStart(first));
        }
        if let Some(bad) = chars.find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')) {
            return Err(NameError::BadChar(bad));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Shortname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Shortname {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Shortname::parse(&raw).map_err(|e| serde::de::Error::custom(format!("name {raw:?} {e}")))
    }
}

/// The lowest free hostname `<prefix><n>` (n from 1), e.g. `web1`, `web2`, shortening the prefix so
/// the result stays a valid name.
pub fn next_hostname(prefix: &Shortname, taken: &[&str]) -> Shortname {
    (1u32..)
        .map(|n| {
            let digits = n.to_string();
            let keep = MAX_NAME_LEN - digits.len();
            let head: String = prefix.as_str().chars().take(keep).collect();
            format!("{head}{digits}")
        })
        .find(|name| !taken.contains(&name.as_str()))
        .map(Shortname)
        .unwrap_or_else(|| prefix.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_hostnames() {
        let web = Shortname::parse("web").unwrap();
        assert_eq!(next_hostname(&web, &[]).as_str(), "web1");
        assert_eq!(next_hostname(&web, &["web1", "web3"]).as_str(), "web2");
        let long = Shortname::parse(&"a".repeat(32)).unwrap();
        let got = next_hostname(&long, &[]);
        assert_eq!(got.as_str(), format!("{}1", "a".repeat(31)));
        assert!(Shortname::parse(got.as_str()).is_ok());
    }

    #[test]
    fn accepts_and_refuses_names() {
        let cases: &[(&str, Result<(), NameError>)] = &[
            ("web", Ok(())),
            ("0web_1-a", Ok(())),
            ("a", Ok(())),
            (&"a".repeat(32), Ok(())),
            ("", Err(NameError::Empty)),
            (&"a".repeat(33), Err(NameError::TooLong(33))),
            ("-web", Err(NameError::BadStart('-'))),
            ("_web", Err(NameError::BadStart('_'))),
            ("Web", Err(NameError::BadStart('W'))),
            ("web/..", Err(NameError::BadChar('/'))),
            ("..", Err(NameError::BadStart('.'))),
            ("a.b", Err(NameError::BadChar('.'))),
            ("a b", Err(NameError::BadChar(' '))),
            ("a\0", Err(NameError::BadChar('\0'))),
            ("wéb", Err(NameError::BadChar('é'))),
        ];
        for (raw, want) in cases {
            assert_eq!(Shortname::parse(raw).map(|_| ()), *want, "{raw:?}");
        }
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<Shortname>("\"ok\"").is_ok());
        let err = serde_json::from_str::<Shortname>("\"../etc\"").unwrap_err().to_string();
        assert!(err.contains("must start with"), "{err}");
    }
}
