//! One OpsWorks object as read (a stack, layer, app, instance or scaling configuration), with
//! the file and JSON path it came from, and typed field access whose errors name both.

use serde_json::{Map, Value};

use super::ImportError;

/// An object of the input, in the shape of the OpsWorks API (PascalCase fields).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The file it was read from.
    pub file: String,
    /// Its JSON path in that file (`Layers[2]`, `Resources.Clients.Properties`).
    pub path: String,
    /// Its fields.
    pub fields: Map<String, Value>,
}

/// What a JSON value is, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl Record {
    /// A record from a value that must be an object.
    pub fn new(file: &str, path: String, value: &Value) -> Result<Record, ImportError> {
        match value {
            Value::Object(fields) => Ok(Record { file: file.to_owned(), path, fields: fields.clone() }),
            other => Err(ImportError::new(file, &path, format!("expected an object, found {}", kind(other)))),
        }
    }

    /// An error at one of its fields (`key` may be a sub-path such as `AppSource.Url`).
    pub fn error(&self, key: &str, message: impl Into<String>) -> ImportError {
        let path = if key.is_empty() { self.path.clone() } else { format!("{}.{key}", self.path) };
        ImportError::new(&self.file, &path, message)
    }

    fn typed<'a, T>(
        &'a self,
        key: &str,
        want: &str,
        get: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<Option<T>, ImportError> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => get(v).map(Some).ok_or_else(|| self.error(key, format!("expected {want}, found {}", kind(v)))),
        }
    }

    /// A string field (absent or null: none).
    pub fn str(&self, key: &str) -> Result<Option<&str>, ImportError> {
        self.typed(key, "a string", Value::as_str)
    }

    /// A string field that must be there.
    pub fn required_str(&self, key: &str) -> Result<&str, ImportError> {
        self.str(key)?.ok_or_else(|| self.error(key, "is missing; every OpsWorks object of this kind has one"))
    }

    /// A boolean field.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ImportError> {
        self.typed(key, "true or false", Value::as_bool)
    }

    /// An object field.
    pub fn object(&self, key: &str) -> Result<Option<&Map<String, Value>>, ImportError> {
        self.typed(key, "an object", Value::as_object)
    }

    /// A list field.
    pub fn list(&self, key: &str) -> Result<Option<&Vec<Value>>, ImportError> {
        self.typed(key, "a list", Value::as_array)
    }

    /// A list of strings.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, ImportError> {
        let Some(items) = self.list(key)? else { return Ok(Vec::new()) };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.error(&format!("{key}[{i}]"), format!("expected a string, found {}", kind(v))))
            })
            .collect()
    }
}

/// Whether a value carries nothing: null, false, "", an empty list or object, or an object of
/// such values.
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.values().all(is_empty),
        Value::Number(_) => false,
    }
}
