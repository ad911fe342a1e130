//! Properties of the Custom JSON deep merge (reference.md section 2: deployment > layer > stack >
//! defaults; objects merge, scalars and arrays replace) over generated documents.
//!
//! Keys come from a five-letter alphabet so documents collide often: the same key holding an
//! object in one document and a scalar in another is the case the merge has to get right.

use drover_core::attributes::{deep_merge, merge_all};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// A path of object keys from the top of a document.
type Path = Vec<String>;

/// A leaf value: a string, a whole or fractional number, a bool, null, or a short array of those.
fn leaf() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        "[a-z]{0,6}".prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    prop_oneof![4 => scalar.clone(), 1 => prop::collection::vec(scalar, 0..3).prop_map(Value::Array)]
}

fn object_of(values: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-e]", values, 0..5).prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// A Custom JSON document: an object nesting up to three levels of objects over leaves.
fn document() -> impl Strategy<Value = Value> {
    object_of(leaf().prop_recursive(3, 48, 5, object_of))
}

/// A stack of 1 to 4 documents in increasing precedence.
fn documents() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(document(), 1..5)
}

/// Every leaf of `doc` by path: each value that is not an object, and each empty object.
fn leaves(doc: &Value) -> Vec<(Path, Value)> {
    fn walk(v: &Value, path: &mut Path, out: &mut Vec<(Path, Value)>) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                for (k, child) in map {
                    path.push(k.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            other => out.push((path.clone(), other.clone())),
        }
    }
    let mut out = Vec::new();
    if let Value::Object(map) = doc {
        for (k, child) in map {
            walk(child, &mut vec![k.clone()], &mut out);
        }
    }
    out
}

/// The value at `path`, if every step is an object holding the next key.
fn at<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |v, k| v.as_object()?.get(k))
}

/// Whether merging `later` after a document that sets `path` changes what is at `path`: it sets
/// `path` itself, or replaces an object on the way with something that is not an object.
fn touches(later: &Value, path: &[String]) -> bool {
    at(later, path).is_some() || (1..path.len()).any(|n| at(later, &path[..n]).is_some_and(|v| !v.is_object()))
}

/// Checks that `merged` holds `value` at `path`; an empty object only promises an object there
/// (the keys an earlier document set under it stay).
fn holds(merged: &Value, path: &[String], value: &Value) -> Result<(), TestCaseError> {
    let found = at(merged, path);
    match value {
        Value::Object(map) if map.is_empty() => {
            prop_assert!(found.is_some_and(Value::is_object), "{path:?}: want an object, found {found:?}");
        }
        _ => prop_assert_eq!(found, Some(value), "at {:?}", path),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn merging_one_document_or_an_empty_one_is_the_identity(doc in document()) {
        let empty = json!({});
        prop_assert_eq!(&merge_all([&doc]), &doc);
        prop_assert_eq!(&merge_all([&doc, &empty]), &doc);
        prop_assert_eq!(&merge_all([&empty, &doc]), &doc);
        prop_assert_eq!(&merge_all([&empty, &doc, &empty]), &doc);
        let mut base = doc.clone();
        deep_merge(&mut base, &empty);
        prop_assert_eq!(&base, &doc);
        let mut base = empty.clone();
        deep_merge(&mut base, &doc);
        prop_assert_eq!(&base, &doc);
    }

    #[test]
    fn merging_a_document_onto_itself_changes_nothing(doc in document()) {
        prop_assert_eq!(&merge_all([&doc, &doc]), &doc);
    }

    #[test]
    fn merge_all_is_deep_merge_in_order(docs in documents()) {
        let mut folded = Value::Object(Map::new());
        for d in &docs {
            deep_merge(&mut folded, d);
        }
        prop_assert_eq!(merge_all(&docs), folded);
    }

    #[test]
    fn the_later_document_wins_at_every_leaf_it_sets(docs in documents()) {
        let merged = merge_all(&docs);
        for (i, doc) in docs.iter().enumerate() {
            // The deployment's document, then every lower level as if it were the last one.
            let upto = merge_all(&docs[..=i]);
            for (path, value) in leaves(doc) {
                holds(&upto, &path, &value)?;
            }
        }
        let last = docs.last().expect("at least one document");
        for (path, value) in leaves(last) {
            holds(&merged, &path, &value)?;
        }
    }

    #[test]
    fn no_leaf_is_lost_unless_a_later_document_overrides_it(docs in documents()) {
        let merged = merge_all(&docs);
        for (i, doc) in docs.iter().enumerate() {
            for (path, value) in leaves(doc) {
                if docs[i + 1..].iter().any(|later| touches(later, &path)) {
                    continue;
                }
                holds(&merged, &path, &value)?;
            }
        }
    }

    #[test]
    fn every_leaf_of_the_result_comes_from_the_last_document_that_sets_it(docs in documents()) {
        let merged = merge_all(&docs);
        for (path, value) in leaves(&merged) {
            if value.as_object().is_some_and(Map::is_empty) {
                continue;
            }
            let source = docs.iter().rev().find_map(|d| at(d, &path));
            prop_assert_eq!(source, Some(&value), "at {:?}", path);
        }
    }

    #[test]
    fn stacked_levels_override_like_deployment_over_layer_over_stack(
        stack in document(),
        layer in document(),
        deployment in document(),
    ) {
        // Merging the three in one go is merging them one after the other.
        let once = merge_all([&stack, &layer, &deployment]);
        let stepwise = merge_all([&merge_all([&stack, &layer]), &deployment]);
        prop_assert_eq!(&once, &stepwise);
        for (path, value) in leaves(&deployment) {
            holds(&once, &path, &value)?;
        }
        for (path, value) in leaves(&layer) {
            if !touches(&deployment, &path) {
                holds(&once, &path, &value)?;
            }
        }
    }
}

#[test]
fn a_scalar_replaces_an_object_and_an_object_replaces_a_scalar() {
    // Pinned by hand so the properties above are known to see these shapes.
    let stack = json!({"a": {"b": 1, "c": 2}, "d": 3, "e": [1, 2]});
    let layer = json!({"a": 4, "d": {"f": 5}, "e": [3]});
    assert_eq!(merge_all([&stack, &layer]), json!({"a": 4, "d": {"f": 5}, "e": [3]}));
    let deployment = json!({"a": {"g": 6}, "d": {}});
    assert_eq!(merge_all([&stack, &layer, &deployment]), json!({"a": {"g": 6}, "d": {"f": 5}, "e": [3]}));
}
