//! The cookbook attributes drover accepts (a Custom JSON document from OpsWorks keeps working)
//! but has no use for: each one, when a user's own document sets it, is named in a warning that
//! says what to do instead. Every other attribute of reference.md section 4 has an effect.

use serde_json::Value;

use super::schema::Warning;

/// One accepted attribute without an effect.
#[derive(Debug, Clone, Copy)]
pub struct NoEffect {
    /// Its path; `*` stands for any key (an app's name).
    pub path: &'static str,
    /// Why it has none, and what to use instead.
    pub why: &'static str,
    /// A value that is what drover does anyway: setting it to this says nothing new.
    pub harmless: Option<&'static str>,
}

/// Every accepted attribute that has no effect in drover.
pub const NO_EFFECT: &[NoEffect] = &[
    NoEffect {
        path: "plone_instances.app_name",
        why: "drover deploys the apps attached to the instance's layers; attach one with `drover app create --layer` or `drover app update --layer`",
        harmless: None,
    },
    NoEffect {
        path: "plone_zeoserver.app_name",
        why: "drover deploys the apps attached to the instance's layers; attach one with `drover app create --layer` or `drover app update --layer`",
        harmless: None,
    },
    NoEffect {
        path: "nginx_plone.log_retention_days",
        why: "drover does not rotate the frontend's nginx logs; rotate srv/www/.frontend/shared/log/*.log with the host's logrotate",
        harmless: None,
    },
    NoEffect {
        path: "deploy.*.buildout_config",
        why: "drover always generates deploy.cfg and runs `bin/buildout -c deploy.cfg`; add your own files with buildout_extends",
        harmless: Some("deploy.cfg"),
    },
    NoEffect {
        path: "deploy.*.scm.repository",
        why: "the repository is the app's own setting; change it with `drover app update --git URL`",
        harmless: None,
    },
    NoEffect {
        path: "deploy.*.scm.ssh_key",
        why: "a deploy key is a secret of the app, kept out of Custom JSON; set it with `drover app update --deploy-key FILE` and remove it from here",
        harmless: None,
    },
];

/// The warning for an attribute at `path` (a concrete path, e.g. `deploy.site.scm.repository`).
pub fn message(path: &str, why: &str) -> String {
    format!("accepted, has no effect in drover: {path} ({why})")
}

/// Warnings for every attribute of [`NO_EFFECT`] that `doc` (one user's document, not a merged
/// one: the defaults and the apps' own settings fill those paths in) sets to a value other than
/// null or its harmless value.
pub fn no_effect(doc: &Value) -> Vec<Warning> {
    let mut out = Vec::new();
    for entry in NO_EFFECT {
        let pattern: Vec<&str> = entry.path.split('.').collect();
        let mut found = Vec::new();
        find(doc, &pattern, &mut Vec::new(), &mut found);
        for (path, value) in found {
            if value.is_null() || entry.harmless.is_some_and(|h| value.as_str() == Some(h)) {
                continue;
            }
            out.push(Warning { message: message(&path, entry.why), path });
        }
    }
    out
}

fn find<'a>(value: &'a Value, pattern: &[&str], path: &mut Vec<String>, out: &mut Vec<(String, &'a Value)>) {
    let Some((first, rest)) = pattern.split_first() else {
        out.push((path.join("."), value));
        return;
    };
    let Some(map) = value.as_object() else { return };
    for (key, child) in map {
        if *first == "*" || first == key {
            path.push(key.clone());
            find(child, rest, path, out);
            path.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::defaults;
    use crate::attributes::schema::{Kind, Node, SCHEMA};
    use serde_json::json;

    fn warned(doc: Value) -> Vec<String> {
        no_effect(&doc).into_iter().map(|w| w.path).collect()
    }

    #[test]
    fn each_key_without_effect_is_warned_about_by_name() {
        let cases: &[(Value, &[&str])] = &[
            (json!({}), &[]),
            (json!({"plone_instances": {"app_name": "site"}}), &["plone_instances.app_name"]),
            (json!({"plone_zeoserver": {"app_name": "zeo"}}), &["plone_zeoserver.app_name"]),
            (json!({"nginx_plone": {"log_retention_days": 30}}), &["nginx_plone.log_retention_days"]),
            (json!({"deploy": {"site": {"buildout_config": "prod.cfg"}}}), &["deploy.site.buildout_config"]),
            (json!({"deploy": {"site": {"buildout_config": "deploy.cfg"}}}), &[]),
            (json!({"deploy": {"a": {"scm": {"repository": "git@x:a.git"}}}}), &["deploy.a.scm.repository"]),
            (json!({"deploy": {"a": {"scm": {"ssh_key": "KEY", "revision": "main"}}}}), &["deploy.a.scm.ssh_key"]),
            (json!({"plone_instances": {"app_name": null}}), &[]),
            (json!({"deploy": {"a": {"scm": null}}, "mine": {"app_name": "x"}}), &[]),
        ];
        for (doc, want) in cases {
            assert_eq!(warned(doc.clone()), *want, "{doc}");
        }
        let w = &no_effect(&json!({"deploy": {"site": {"scm": {"repository": "r"}}}}))[0];
        assert!(
            w.message.starts_with("accepted, has no effect in drover: deploy.site.scm.repository (")
                && w.message.contains("drover app update --git"),
            "{}",
            w.message
        );
    }

    #[test]
    fn every_key_without_effect_is_a_known_attribute_so_its_value_is_still_checked() {
        for entry in NO_EFFECT {
            let mut node = &SCHEMA;
            for key in entry.path.split('.') {
                node = match node {
                    Node::Object(known) => &known.iter().find(|(name, _)| *name == key).expect(entry.path).1,
                    Node::EachKey(inner) if key == "*" => inner,
                    other => panic!("{}: {key} under {other:?}", entry.path),
                };
            }
            assert!(matches!(node, Node::Leaf(Kind::Text | Kind::Whole { .. })), "{}", entry.path);
        }
    }

    #[test]
    fn the_defaults_document_sets_no_key_without_effect_to_anything_but_its_harmless_value() {
        // The defaults fill app_name and log_retention_days in; what a user sets is what counts,
        // so the check runs on users' documents only. This pins which defaults those are.
        let found = warned(defaults(["site"]));
        assert_eq!(found, ["plone_instances.app_name", "plone_zeoserver.app_name", "nginx_plone.log_retention_days"]);
    }
}
