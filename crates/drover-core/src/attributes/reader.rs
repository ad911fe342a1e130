//! Typed reads out of a merged document, collecting every wrong type by JSON path.

use serde_json::Value;

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
        let mut v = self.doc;
        for key in path {
            v = v.get(key)?;
        }
        (!v.is_null()).then_some(v)
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

    /// A boolean, or `default`.
    pub fn bool(&mut self, path: &[&str], default: bool) -> bool {
        match self.get(path) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.fail(path, "true or false");
                default
            }
        }
    }

    /// A boolean, if present.
    pub fn optional_bool(&mut self, path: &[&str]) -> Option<bool> {
        self.get(path).is_some().then(|| self.bool(path, false))
    }

    /// A number ≥ `min`, or `default`.
    pub fn number(&mut self, path: &[&str], default: f64, min: f64) -> f64 {
        match self.get(path).map(Value::as_f64) {
            None => default,
            Some(Some(n)) if n >= min && n.is_finite() => n,
            Some(_) => {
                self.fail(path, &format!("a number of at least {min}"));
                default
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
