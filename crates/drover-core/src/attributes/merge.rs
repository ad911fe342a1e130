//! The deep merge of Custom JSON documents: objects merge key by key; scalars, arrays and null
//! replace (reference.md section 2).

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
}
