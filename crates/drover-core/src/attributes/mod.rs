//! Custom JSON: the built-in defaults, the deep merge (deployment > layer > stack > defaults),
//! the check of known attributes, and the typed reading of what deploys use.

mod defaults;
mod deploy;
mod merge;
mod no_effect;
mod reader;
mod redact_cfg;
pub mod schema;

pub use defaults::{defaults, deploy_defaults};
pub use deploy::{Broker, DEFAULT_ON, DeployAttributes, RelStorage, deploy_attributes, explicitly_set};
pub use merge::{deep_merge, merge_all};
pub use no_effect::{NO_EFFECT, NoEffect, no_effect};
pub use reader::{AttributeError, Reader};
pub use redact_cfg::redact_cfg_text;
pub use schema::{Check, Invalid, Warning, check};

use serde_json::Value;

/// Shown instead of a secret value.
pub const REDACTED: &str = "<redacted>";

/// The effective attributes of one instance: the defaults (with `deploy.<app>` for each app),
/// what the apps themselves set (their repository, revision, environment), then the stack's,
/// each of the instance's layers' (in layer order) and the deployment's Custom JSON.
pub fn effective<'a>(
    apps: &[&str],
    app_docs: impl IntoIterator<Item = &'a Value>,
    custom: impl IntoIterator<Item = &'a Value>,
) -> Value {
    let mut out = defaults(apps.iter().copied());
    for doc in app_docs.into_iter().chain(custom) {
        deep_merge(&mut out, doc);
    }
    out
}

/// Whether a key names a secret (its value is never shown).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "secret", "token", "ssh_key", "private_key", "certificate"].iter().any(|s| k.contains(s))
}

/// Replaces every non-null value under a secret key with [`REDACTED`].
pub fn redact(doc: &mut Value) {
    match doc {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_key(k) && !v.is_null() {
                    *v = Value::String(REDACTED.into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Puts back the stored value wherever `new` holds [`REDACTED`] under a secret key (a document
/// read back from `export` or `stack config`), so redacted documents round-trip. Returns the
/// JSON path of a redacted value with nothing stored to put back.
pub fn unredact(new: &mut Value, old: &Value) -> Result<(), String> {
    fn walk(new: &mut Value, old: Option<&Value>, path: &mut Vec<String>) -> Result<(), String> {
        let Value::Object(map) = new else { return Ok(()) };
        for (k, v) in map.iter_mut() {
            path.push(k.clone());
            let stored = old.and_then(|o| o.get(k));
            if is_secret_key(k) && v.as_str() == Some(REDACTED) {
                match stored {
                    Some(s) if !s.is_null() => *v = s.clone(),
                    _ => return Err(path.join(".")),
                }
            } else {
                walk(v, stored, path)?;
            }
            path.pop();
        }
        Ok(())
    }
    walk(new, Some(old), &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn precedence_from_defaults_to_deployment() {
        let app = json!({"deploy": {"site": {"scm": {"repository": "/r.git", "revision": "main"}}}});
        let stack = json!({"plone_instances": {"per_cpu": 1, "restart_delay": 5}});
        let layer = json!({"plone_instances": {"per_cpu": 0.5}});
        let deployment = json!({"deploy": {"site": {"scm": {"revision": "v2"}}}});
        let e = effective(&["site"], [&app], [&stack, &layer, &deployment]);
        assert_eq!(e["plone_instances"]["per_cpu"], 0.5);
        assert_eq!(e["plone_instances"]["restart_delay"], 5);
        assert_eq!(e["plone_instances"]["zeo_layer"], "zeoserver", "defaults fill the rest");
        assert_eq!(e["deploy"]["site"]["scm"], json!({"repository": "/r.git", "revision": "v2"}));
        assert_eq!(e["deploy"]["site"]["keep_releases"], 5);
    }

    #[test]
    fn secrets_are_redacted_wherever_they_are() {
        let mut doc = json!({
            "plone_instances": {"relstorage": {"db": {"password": "pw", "user": "u"}}},
            "haproxy": {"stats_password": "s", "stats_user": "stats"},
            "deploy": {"site": {"scm": {"ssh_key": "KEY"}}},
            "nginx_plone": {"ssl": {"certificate": "C", "certificate_key": "K", "certificate_ca": null, "hsts": 60}},
            "mine": [{"api_token": "t"}, {"password": null}]
        });
        redact(&mut doc);
        assert_eq!(
            doc["nginx_plone"]["ssl"],
            json!({"certificate": REDACTED, "certificate_key": REDACTED, "certificate_ca": null, "hsts": 60})
        );
        assert_eq!(doc["plone_instances"]["relstorage"]["db"], json!({"password": REDACTED, "user": "u"}));
        assert_eq!(doc["haproxy"]["stats_password"], REDACTED);
        assert_eq!(doc["deploy"]["site"]["scm"]["ssh_key"], REDACTED);
        assert_eq!(doc["mine"], json!([{"api_token": REDACTED}, {"password": null}]));
    }

    #[test]
    fn redacted_values_take_the_stored_ones_back() {
        let old = json!({"haproxy": {"stats_password": "s3cret"}, "plone_instances": {"per_cpu": 1}});
        let mut new =
            json!({"haproxy": {"stats_password": REDACTED, "stats_user": "ops"}, "plone_instances": {"per_cpu": 2}});
        unredact(&mut new, &old).unwrap();
        assert_eq!(
            new,
            json!({"haproxy": {"stats_password": "s3cret", "stats_user": "ops"}, "plone_instances": {"per_cpu": 2}})
        );
        let mut orphan = json!({"plone_instances": {"relstorage": {"db": {"password": REDACTED}}}});
        assert_eq!(unredact(&mut orphan, &old), Err("plone_instances.relstorage.db.password".to_owned()));
    }
}
