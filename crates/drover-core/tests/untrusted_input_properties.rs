//! Arbitrary input to the checks at the trust boundaries (the Custom JSON check, agents' facts
//! and heartbeats, the kinds of rendered values): none panics, every refusal names its path or
//! field, and nothing accepted can break a config file's syntax.

use drover_core::attributes::check;
use drover_core::config_values::ValueKind;
use drover_core::facts::{Facts, Metrics, check_facts, check_metrics, is_address};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Keys the schema knows (so generated documents reach its leaves), and others.
fn key() -> impl Strategy<Value = String> {
    let known = [
        "plone_instances",
        "plone_zeoserver",
        "plone_blobs",
        "nginx_plone",
        "haproxy",
        "deploy",
        "site",
        "relstorage",
        "db",
        "password",
        "zeo",
        "address",
        "subsites",
        "subsite_config",
        "stats_user",
        "stats_url",
        "balance",
        "buildout_extends",
        "buildout_parts_to_include",
        "blob_dir",
        "site_id",
        "broker",
        "host",
        "port",
        "per_cpu",
        "environment",
        "scm",
        "revision",
        "additional_configuration",
    ];
    prop_oneof![3 => prop::sample::select(known.to_vec()).prop_map(String::from), 1 => "(?s).{0,8}"]
}

/// Any JSON scalar, with strings that may hold line breaks, NUL and directive breakers.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        "(?s).{0,16}".prop_map(Value::from),
        "[a-z0-9 ;{}#\\n\\r\\x00:/.-]{0,16}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_custom_json_check_names_a_path_for_every_refusal(doc in document()) {
        let found = check(&doc);
        for e in &found.errors {
            prop_assert!(!e.path.is_empty(), "{e:?} in {doc}");
            prop_assert!(!e.expected.is_empty());
        }
        for w in &found.warnings {
            prop_assert!(!w.path.is_empty(), "{w:?}");
        }
        if !doc.is_object() {
            prop_assert_eq!(found.errors.len(), 1);
        }
    }

    #[test]
    fn a_line_break_in_a_rendered_attribute_is_refused_at_its_path(
        (section, attr) in prop::sample::select(vec![
            ("haproxy", "stats_user"), ("haproxy", "stats_password"), ("haproxy", "stats_url"),
            ("plone_instances", "site_id"), ("plone_blobs", "blob_dir"), ("plone_zeoserver", "filestorage_dir"),
        ]),
        before in "[a-z/]{1,6}",
        after in "(?s).{0,8}",
        brk in prop::sample::select(vec!["\n", "\r", "\0"]),
    ) {
        let value = format!("{before}{brk}{after}");
        let doc = serde_json::json!({ section: { attr: value } });
        let paths: Vec<String> = check(&doc).errors.into_iter().map(|e| e.path).collect();
        prop_assert_eq!(paths, vec![format!("{section}.{attr}")]);
    }

    #[test]
    fn agent_facts_are_refused_by_field_and_an_accepted_address_breaks_nothing(
        address in prop_oneof!["(?s).{0,40}", "[a-z0-9.:-]{0,20}", "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}"],
        cpu_count in any::<u32>(),
        memory_bytes in any::<u64>(),
        agent_version in "(?s).{0,20}",
        pid in any::<u32>(),
    ) {
        let facts = Facts { address: &address, cpu_count, memory_bytes, agent_version: &agent_version, pid };
        match check_facts(&facts) {
            Ok(()) => {
                prop_assert!(is_address(&address));
                prop_assert!(ValueKind::Token.accepts(&address) && ValueKind::Host.accepts(&address), "{address:?}");
                prop_assert!(ValueKind::Word.accepts(&agent_version));
                prop_assert!(pid >= 1 && i32::try_from(pid).is_ok());
            }
            Err(refused) => {
                prop_assert!(!refused.is_empty());
                for r in &refused {
                    prop_assert!(r.field.starts_with("facts.") && r.field.len() > 6, "{r:?}");
                    prop_assert!(!r.message.is_empty());
                }
            }
        }
    }

    #[test]
    fn heartbeats_are_refused_by_field(
        cpu_percent in any::<f64>(),
        memory_percent in any::<f64>(),
        load_1m in any::<f64>(),
        cpu_count in any::<u32>(),
        memory_bytes in any::<u64>(),
    ) {
        let m = Metrics { cpu_percent, memory_percent, load_1m, cpu_count, memory_bytes };
        match check_metrics(&m) {
            Ok(()) => prop_assert!(cpu_percent.is_finite() && memory_percent.is_finite() && load_1m.is_finite()),
            Err(refused) => {
                for r in &refused {
                    prop_assert!(!r.field.is_empty() && !r.message.is_empty(), "{r:?}");
                }
            }
        }
    }

    #[test]
    fn no_accepted_value_holds_a_line_break(s in "(?s).{0,24}") {
        for kind in [ValueKind::Line, ValueKind::Word, ValueKind::Token, ValueKind::Host, ValueKind::Name] {
            if kind.accepts(&s) {
                prop_assert!(!s.contains(['\n', '\r', '\0']), "{kind:?} {s:?}");
            }
        }
    }
}
