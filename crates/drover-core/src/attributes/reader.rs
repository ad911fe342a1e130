//! Typed reads out of a merged document, collecting every wrong type by JSON path. A value the
//! document does not set is read from the built-in defaults ([`super::defaults`]), the one
//! source of every attribute's default: callers repeat none.

use std::sync::LazyLock;

use serde_json::Value;

/// The app name under which the defaults document is built; any `deploy.<app>` path reads
/// the defaults of this one.
const ANY_APP: &str = "\u{0}app";

static DEFAULTS: LazyLock<Value> = LazyLock::new(|| super::defaults([ANY_APP]));

fn lookup<'v>(doc: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut v = doc;
    for key in path {
        v = v.get(key)?;
    }
    (!v.is_null()).then_some(v)
}

/// A value of the wrong type at a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: expected {expected}")]
pub struct AttributeError {
    /// Where, e.g. `plone_instances.per_cpu`.
    pub path: String,
    /// What was expected.
    pub expected: String,
}

/// Reads typed values out of a merged document, collecting errors.
pub struct Reader<'a> {
    doc: &'a Value,
    /// Every error met so far.
    pub errors: Vec<AttributeError>,
}

impl<'a> Reader<'a> {
    /// A reader over `doc`.
    pub fn new(doc: &'a Value) -> Self {
        Self { doc, errors: Vec::new() }
    }

    fn get(&self, path: &[&str]) -> Option<&'a Value> {
        lookup(self.doc, path).or_else(|| {
            let mut in_defaults = path.to_vec();
            if in_defaults.len() > 1 && in_defaults[0] == "deploy" {
                in_defaults[1] = ANY_APP;
            }
            lookup(&DEFAULTS, &in_defaults)
        })
    }

    fn fail(&mut self, path: &[&str], expected: &str) {
        self.errors.push(AttributeError { path: path.join("."), expected: expected.to_owned() });
    }

    /// A string, if present.
    pub fn string(&mut self, path: &[&str]) -> Option<String> {
        match self.get(path) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.fail(path, "a string");
                None
            }
        }
    }

    /// A boolean (false where neither the document nor the defaults set one).
    pub fn bool(&mut self, path: &[&str]) -> bool {
        match self.get(path) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.fail(path, "true or false");
                false
            }
        }
    }

    /// A boolean, if present.
    pub fn optional_bool(&mut self, path: &[&str]) -> Option<bool> {
        self.get(path).is_some().then(|| self.bool(path))
    }

    /// A number ≥ `min` (`min` where neither the document nor the defaults set one).
    pub fn number(&mut self, path: &[&str], min: f64) -> f64 {
        match self.get(path).map(Value::as_f64) {
            None => min,
            Some(Some(n)) if n >= min && n.is_finite() => n,
            Some(_) => {
                self.fail(path, &format!("a number of at least {min}"));
                min
            }
        }
    }

    /// A whole number ≥ `min`, if present.
    pub fn whole(&mut self, path: &[&str], min: u64) -> Option<u64> {
        match self.get(path).map(Value::as_u64) {
            None => None,
            Some(Some(n)) if n >= min => Some(n),
            Some(_) => {
                self.fail(path, &format!("a whole number of at least {min}"));
                None
            }
        }
    }

    /// A list of strings, or empty.
    pub fn strings(&mut self, path: &[&str]) -> Vec<String> {
        match self.get(path) {
            None => Vec::new(),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                items.iter().filter_map(|v| v.as_str().map(String::from)).collect()
            }
            Some(_) => {
                self.fail(path, "a list of strings");
                Vec::new()
            }
        }
    }

    /// An object of strings (environment variables), or empty.
    pub fn string_map(&mut self, path: &[&str]) -> std::collections::BTreeMap<String, String> {
        match self.get(path) {
            None => Default::default(),
            Some(Value::Object(map)) if map.values().all(Value::is_string) => {
                map.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect()
            }
            Some(_) => {
                self.fail(path, "an object whose values are strings");
                Default::default()
            }
        }
    }

    /// Whitespace-separated words (command-line arguments), or none.
    pub fn words(&mut self, path: &[&str]) -> Vec<String> {
        self.string(path).map(|s| s.split_whitespace().map(String::from).collect()).unwrap_or_default()
    }
}
