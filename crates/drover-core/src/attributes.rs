//! Custom JSON: the deep merge (deployment > layer > stack > defaults; objects merge, scalars and
//! arrays replace) and the typed reading of the attributes a deploy uses, with reference.md
//! section 4's names and defaults. Reading reports every wrong type at once, by JSON path.

use serde_json::{Map, Value};

/// Merges `over` into `base`: objects merge key by key, anything else replaces.
pub fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

/// Merges documents in order of increasing precedence.
pub fn merge_all<'a>(docs: impl IntoIterator<Item = &'a Value>) -> Value {
    let mut out = Value::Object(Map::new());
    for d in docs {
        deep_merge(&mut out, d);
    }
    out
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
}

/// The `plone_instances`, `plone_zeoserver` and `deploy.<app>` attributes a deploy uses.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployAttributes {
    /// `plone_instances.per_cpu` (2).
    pub per_cpu: f64,
    /// `plone_instances.instance_count`: a fixed client count.
    pub instance_count: Option<u32>,
    /// `plone_instances.restart_delay` seconds (0).
    pub restart_delay: f64,
    /// `plone_instances.base_config` ("cfg/base.cfg").
    pub base_config: String,
    /// `plone_instances.zeo_layer` ("zeoserver").
    pub zeo_layer: String,
    /// `plone_instances.zeo.address`: a fixed `host:port`.
    pub zeo_address: Option<String>,
    /// `plone_instances.zodb_cache_size`.
    pub zodb_cache_size: Option<u64>,
    /// `plone_instances.zserver_threads`.
    pub zserver_threads: Option<u32>,
    /// `plone_instances.persistent_cache` (true).
    pub persistent_cache: bool,
    /// `plone_instances.shared_blobs` (true).
    pub shared_blobs: bool,
    /// `plone_blobs.blob_dir`.
    pub blob_dir: Option<String>,
    /// `deploy.<app>.scm.revision`.
    pub revision: Option<String>,
    /// `deploy.<app>.keep_releases` (5).
    pub keep_releases: u32,
    /// `deploy.<app>.always_build_on_deploy` (or `always_buildout_on_deploy`).
    pub always_build: bool,
    /// `deploy.<app>.buildout_extends`.
    pub buildout_extends: Vec<String>,
    /// `deploy.<app>.buildout_parts_to_include`.
    pub parts_to_include: Vec<String>,
    /// `deploy.<app>.buildout_inherit_parts` (true).
    pub inherit_parts: bool,
    /// `deploy.<app>.buildout_additional_config`.
    pub additional_config: String,
    /// `deploy.<app>.buildout_flags`.
    pub buildout_flags: String,
    /// `deploy.<app>.buildout_version` ("": the version the pins or pip choose).
    pub buildout_version: String,
}

/// Reads the deploy attributes of `app` from a merged document.
pub fn deploy_attributes(doc: &Value, app: &str) -> Result<DeployAttributes, Vec<AttributeError>> {
    let mut r = Reader::new(doc);
    let pi = "plone_instances";
    let d = |key: &'static str| -> [&str; 3] { ["deploy", app, key] };
    let always = r.bool(&d("always_build_on_deploy"), false) || r.bool(&d("always_buildout_on_deploy"), false);
    let attrs = DeployAttributes {
        per_cpu: r.number(&[pi, "per_cpu"], 2.0, 0.0),
        instance_count: r.whole(&[pi, "instance_count"], 1).map(|n| n.min(64) as u32),
        restart_delay: r.number(&[pi, "restart_delay"], 0.0, 0.0),
        base_config: r.string(&[pi, "base_config"]).unwrap_or_else(|| "cfg/base.cfg".into()),
        zeo_layer: r.string(&[pi, "zeo_layer"]).unwrap_or_else(|| "zeoserver".into()),
        zeo_address: r.string(&[pi, "zeo", "address"]),
        zodb_cache_size: r.whole(&[pi, "zodb_cache_size"], 1),
        zserver_threads: r.whole(&[pi, "zserver_threads"], 1).map(|n| n.min(1024) as u32),
        persistent_cache: r.bool(&[pi, "persistent_cache"], true),
        shared_blobs: r.bool(&[pi, "shared_blobs"], true),
        blob_dir: r.string(&["plone_blobs", "blob_dir"]),
        revision: r.string(&["deploy", app, "scm", "revision"]),
        keep_releases: r.whole(&d("keep_releases"), 1).map_or(5, |n| n.min(1000) as u32),
        always_build: always,
        buildout_extends: r.strings(&d("buildout_extends")),
        parts_to_include: r.strings(&d("buildout_parts_to_include")),
        inherit_parts: r.bool(&d("buildout_inherit_parts"), true),
        additional_config: r.string(&d("buildout_additional_config")).unwrap_or_default(),
        buildout_flags: r.string(&d("buildout_flags")).unwrap_or_default(),
        buildout_version: r.string(&d("buildout_version")).unwrap_or_default(),
    };
    if r.errors.is_empty() { Ok(attrs) } else { Err(r.errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_precedence() {
        let stack = json!({"plone_instances": {"per_cpu": 2, "restart_delay": 5}, "list": [1, 2]});
        let layer = json!({"plone_instances": {"per_cpu": 1}});
        let deployment = json!({"list": [3], "deploy": {"site": {"scm": {"revision": "v2"}}}});
        let merged = merge_all([&stack, &layer, &deployment]);
        assert_eq!(
            merged,
            json!({"plone_instances": {"per_cpu": 1, "restart_delay": 5}, "list": [3], "deploy": {"site": {"scm": {"revision": "v2"}}}})
        );
        assert_eq!(merge_all([&stack]), stack, "merging one document is the identity");
    }

    #[test]
    fn defaults_and_overrides() {
        let a = deploy_attributes(&json!({}), "site").unwrap();
        assert_eq!(
            (a.per_cpu, a.keep_releases, a.base_config.as_str(), a.inherit_parts),
            (2.0, 5, "cfg/base.cfg", true)
        );
        let doc = json!({
            "plone_instances": {"per_cpu": 0.5, "restart_delay": 3, "zeo": {"address": "10.0.0.5:8001"}},
            "deploy": {"site": {"always_buildout_on_deploy": true, "keep_releases": 3, "scm": {"revision": "main"}}}
        });
        let a = deploy_attributes(&doc, "site").unwrap();
        assert_eq!((a.per_cpu, a.restart_delay, a.keep_releases, a.always_build), (0.5, 3.0, 3, true));
        assert_eq!(a.zeo_address.as_deref(), Some("10.0.0.5:8001"));
        assert_eq!(a.revision.as_deref(), Some("main"));
    }

    #[test]
    fn every_wrong_type_is_reported_by_path() {
        let doc = json!({
            "plone_instances": {"per_cpu": -1, "persistent_cache": "yes"},
            "deploy": {"site": {"keep_releases": "five", "buildout_extends": "a.cfg"}}
        });
        let errors = deploy_attributes(&doc, "site").unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "plone_instances.per_cpu",
                "plone_instances.persistent_cache",
                "deploy.site.keep_releases",
                "deploy.site.buildout_extends"
            ]
        );
    }
}
