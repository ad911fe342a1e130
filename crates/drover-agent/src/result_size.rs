//! Making a result small enough for the server: an app's result carries every kept release's
//! `deploy.cfg`, and only the current one's is needed to show what runs.

use serde_json::Value;

/// Empties the `deploy.cfg` texts of releases other than the current one, in an app report or
/// in each app of a lifecycle report. Returns whether anything changed.
pub fn drop_old_configs(data: &mut Value) -> bool {
    let mut changed = false;
    if let Some(apps) = data.get_mut("apps").and_then(Value::as_array_mut) {
        for app in apps {
            changed |= drop_old_configs(app);
        }
    }
    let current = data.get("current").and_then(Value::as_str).map(str::to_owned);
    if let Some(releases) = data.get_mut("releases").and_then(Value::as_array_mut) {
        for release in releases {
            let is_current = current.is_some() && release.get("name").and_then(Value::as_str) == current.as_deref();
            let has_text = release.get("deploy_cfg").and_then(Value::as_str).is_some_and(|t| !t.is_empty());
            if !is_current && has_text {
                release["deploy_cfg"] = Value::String(String::new());
                changed = true;
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_only_the_current_release_config() {
        let app = json!({"app": "site", "current": "r2", "releases": [
            {"name": "r1", "deploy_cfg": "old"}, {"name": "r2", "deploy_cfg": "new"}, {"name": "r3", "deploy_cfg": ""}
        ]});
        let cases = [
            (app.clone(), true, json!(["", "new", ""])),
            (json!({"apps": [app.clone()]}), true, json!(["", "new", ""])),
            (json!({"current": null, "releases": [{"name": "r1", "deploy_cfg": "x"}]}), true, json!([""])),
            (json!({"current": "r1", "releases": [{"name": "r1", "deploy_cfg": "x"}]}), false, json!(["x"])),
        ];
        for (mut data, changed, texts) in cases {
            assert_eq!(drop_old_configs(&mut data), changed, "{data}");
            let app = if data.get("apps").is_some() { &data["apps"][0] } else { &data };
            let got: Vec<Value> = app["releases"].as_array().unwrap().iter().map(|r| r["deploy_cfg"].clone()).collect();
            assert_eq!(Value::Array(got), texts);
        }
    }
}
