//! Arbitrary stack files (any text, and TOML documents built from the format's own keys with
//! arbitrary values): parsing never panics, and every problem names a key path.

use std::path::Path;

use proptest::prelude::*;
use toml::{Table, Value};

use super::check::parse;

fn key() -> impl Strategy<Value = String> {
    let known = [
        "stack",
        "name",
        "custom_json",
        "layers",
        "type",
        "auto_healing",
        "hooks",
        "apps",
        "git",
        "revision",
        "environment",
        "secret_environment",
        "deploy_key",
        "instances",
        "hostname",
        "cpu_count",
        "provider",
        "ec2",
        "ami",
        "instance_type",
        "clients",
        "site",
        "configure",
        "plone_instances",
        "haproxy",
        "stats_user",
    ];
    prop_oneof![4 => prop::sample::select(known.to_vec()).prop_map(String::from), 1 => "(?s).{0,6}"]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        "(?s).{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "demo",
            "custom",
            "plone_instances",
            "frontend",
            "env:HOME",
            "file:/nonexistent",
            "../x.git",
            "local"
        ])
        .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6).prop_map(|m| Value::Table(m.into_iter().collect())),
        ]
    })
}

fn document() -> impl Strategy<Value = String> {
    let table = prop::collection::btree_map(key(), value(), 0..6)
        .prop_map(|m| toml::to_string(&m.into_iter().collect::<Table>()).unwrap_or_default());
    prop_oneof![3 => table, 1 => "(?s).{0,200}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn every_problem_of_any_stack_file_names_a_key_path(text in document()) {
        let env = |_: &str| None;
        if let Err(problems) = parse(&text, Path::new("/nonexistent"), &env) {
            prop_assert!(!problems.is_empty());
            for p in &problems {
                prop_assert!(!p.path.is_empty(), "{p:?} in {text:?}");
                prop_assert!(!p.message.is_empty(), "{p:?}");
            }
        }
    }
}
