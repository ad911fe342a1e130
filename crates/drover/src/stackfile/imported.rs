//! An imported stack (core's [`Import`]) as a stack file: the objects `drover apply` creates,
//! with secret references to fill in and, at the end, what was not carried over.

use std::collections::BTreeMap;
use std::fmt::Write;

use drover_core::import::opsworks::Import;
use drover_core::scaling::{LoadRule, ScalingType, Thresholds};

use super::locate::key;
use super::render::{inline_table, is_empty_object, json_string, list, string};

/// What a file reference to a deploy key reads until it is filled in.
pub const KEY_PLACEHOLDER: &str = "file:REPLACE_WITH_KEY_PATH";

/// `{ cpu = 80.0, load = 4.0 }`.
fn thresholds(t: &Thresholds) -> String {
    let items: Vec<String> = [("cpu", t.cpu), ("memory", t.memory), ("load", t.load)]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| format!("{name} = {}", toml::Value::Float(v))))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

fn load_scaling(enabled: bool, r: &LoadRule) -> String {
    format!(
        "{{ enabled = {enabled}, up = {}, down = {}, up_instances = {}, down_instances = {}, thresholds_wait_secs = {}, \
         ignore_metrics_secs = {} }}",
        thresholds(&r.up),
        thresholds(&r.down),
        r.up_instances,
        r.down_instances,
        r.thresholds_wait_secs,
        r.ignore_metrics_secs
    )
}

/// The stack file; `source` names the input in its first line.
pub fn render_import(import: &Import, source: &str) -> String {
    let mut out = String::new();
    let name = &import.name;
    let _ = writeln!(out, "# Stack {name}, imported by `drover import opsworks` from {source}.");
    let _ = writeln!(out, "# Check it, fill in the secrets, then: drover apply -f FILE");
    let _ = writeln!(out, "# Secret values are never imported: secret_environment holds env: references (export the");
    let _ = writeln!(out, "# variables when running `drover apply`) and deploy keys a file: path to fill in.");
    if !import.left_out.is_empty() {
        let _ =
            writeln!(out, "# {} thing(s) were not carried over: they are listed at the end.", import.left_out.len());
    }
    let _ = writeln!(out, "\n[stack]\nname = {}\ncustom_json = {}", string(name), json_string(&import.custom_json));

    for l in &import.layers {
        let _ = writeln!(out, "\n# {}: {}", l.name, l.type_reason);
        let _ = writeln!(out, "[layers.{}]\ntype = {}", key(&l.name), string(l.layer_type.as_str()));
        let _ = writeln!(out, "auto_healing = {}", l.auto_healing);
        if !is_empty_object(&l.custom_json) {
            let _ = writeln!(out, "custom_json = {}", json_string(&l.custom_json));
        }
        if let Some(s) = &l.load_scaling {
            let _ = writeln!(out, "load_scaling = {}", load_scaling(s.enabled, &s.rule));
        }
    }

    for a in &import.apps {
        let _ = writeln!(out, "\n[apps.{}]\ngit = {}", key(&a.name), string(&a.git));
        if let Some(rev) = &a.revision {
            let _ = writeln!(out, "revision = {}", string(rev));
        }
        let _ = writeln!(out, "layers = {}", list(&a.layers));
        if !a.environment.is_empty() {
            let _ = writeln!(out, "environment = {}", inline_table(&a.environment));
        }
        if !a.secrets.is_empty() {
            let refs: BTreeMap<String, String> = a.secrets.iter().map(|k| (k.clone(), format!("env:{k}"))).collect();
            let _ =
                writeln!(out, "# Secure variables (AWS does not return their values): export them before applying.");
            let _ = writeln!(out, "secret_environment = {}", inline_table(&refs));
        }
        if a.deploy_key {
            let _ = writeln!(out, "# The deploy key is not in AWS's output: write the path of its file here.");
            let _ = writeln!(out, "deploy_key = {}", string(KEY_PLACEHOLDER));
        }
    }

    for i in &import.instances {
        let _ = writeln!(out, "\n[[instances]]\nhostname = {}\nlayers = {}", string(&i.hostname), list(&i.layers));
        let _ = writeln!(out, "provider = {}", string(&i.provider));
        if i.scaling != ScalingType::AlwaysOn {
            let _ = writeln!(out, "scaling = {}", string(i.scaling.as_str()));
        }
        if i.scaling == ScalingType::Time && !i.schedule.is_empty() {
            let _ = writeln!(out, "schedule = {}", list(&i.schedule));
        }
    }

    if !import.left_out.is_empty() {
        let _ = writeln!(out, "\n# Not carried over ({}):", import.left_out.len());
        for l in &import.left_out {
            let _ = writeln!(out, "#   {l}");
        }
    }
    if !import.notes.is_empty() {
        let _ = writeln!(out, "\n# Notes:");
        for n in &import.notes {
            let _ = writeln!(out, "#   {n}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use drover_core::import::opsworks::{Options, cloudformation, convert, describe};

    use super::*;

    const STACKS: &str = r#"{"Stacks": [{"StackId": "s-1", "Name": "Prod", "VpcId": "vpc-1",
        "CustomJson": "{\"plone_instances\": {\"per_cpu\": 2}, \"haproxy\": {\"stats_password\": null}}"}]}"#;
    const LAYERS: &str = r#"{"Layers": [
        {"LayerId": "l-1", "StackId": "s-1", "Type": "custom", "Shortname": "plone_instances",
         "CustomRecipes": {"Setup": ["plone_buildout::instances-setup"]}, "CustomJson": "{\"plone_instances\": {\"per_cpu\": 1}}"},
        {"LayerId": "l-2", "StackId": "s-1", "Type": "custom", "Shortname": "zeoserver", "EnableAutoHealing": false}]}"#;
    const APPS: &str = r#"{"Apps": [{"AppId": "a", "StackId": "s-1", "Shortname": "site",
        "AppSource": {"Type": "git", "Url": "https://git.example.org/site.git", "Revision": "main", "SshKey": "*****FILTERED*****"},
        "Environment": [{"Key": "MODE", "Value": "prod", "Secure": false}, {"Key": "DB_PASSWORD", "Value": "*****FILTERED*****", "Secure": true}]}]}"#;
    const INSTANCES: &str = r#"{"Instances": [
        {"InstanceId": "i-1", "StackId": "s-1", "Hostname": "plone1", "LayerIds": ["l-1"], "AutoScalingType": "timer"},
        {"InstanceId": "i-2", "StackId": "s-1", "Hostname": "plone2", "LayerIds": ["l-1"], "AutoScalingType": "load"},
        {"InstanceId": "i-3", "StackId": "s-1", "Hostname": "zeo1", "LayerIds": ["l-2"]}]}"#;
    const TIME: &str = r#"{"TimeBasedAutoScalingConfigurations": [{"InstanceId": "i-1",
        "AutoScalingSchedule": {"Monday": {"8": "on", "9": "on"}}}]}"#;
    const LOAD: &str = r#"{"LoadBasedAutoScalingConfigurations": [{"LayerId": "l-1", "Enable": true,
        "UpScaling": {"InstanceCount": 1, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10, "CpuThreshold": 80.0, "LoadThreshold": -1},
        "DownScaling": {"InstanceCount": 1, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10, "CpuThreshold": 30.0}}]}"#;

    fn import() -> Import {
        let files: BTreeMap<String, String> = [
            ("describe-stacks.json", STACKS),
            ("describe-layers.json", LAYERS),
            ("describe-apps.json", APPS),
            ("describe-instances.json", INSTANCES),
            ("describe-time-based-auto-scaling.json", TIME),
            ("describe-load-based-auto-scaling.json", LOAD),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        convert(&describe::read(&files).unwrap(), &Options::default()).unwrap()
    }

    #[test]
    fn an_import_reads_back_as_a_stack_file_once_secrets_are_filled_in() {
        let import = import();
        let text = render_import(&import, "describe/");
        assert!(!text.contains("FILTERED"), "{text}");
        let dir = tempfile::tempdir().unwrap();
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
        std::fs::write(dir.path().join("k"), key).unwrap();
        let env = |name: &str| (name == "DB_PASSWORD").then(|| "pw".to_owned());
        // Not filled in: apply refuses, naming the variable and the key.
        let problems = super::super::check::parse(&text, dir.path(), &env.clone()).err();
        let none = |_: &str| None;
        let unfilled = super::super::check::parse(&text, dir.path(), &none).unwrap_err();
        let shown: Vec<String> = unfilled.iter().map(ToString::to_string).collect();
        assert!(
            shown.iter().any(|s| s.starts_with("apps.site.secret_environment.DB_PASSWORD") && s.contains("not set"))
        );
        assert!(shown.iter().any(|s| s.starts_with("apps.site.deploy_key") && s.contains("REPLACE_WITH_KEY_PATH")));
        assert!(problems.is_some_and(|p| p.len() == 1), "only the key is missing once the variable is set");

        let filled = text.replace("REPLACE_WITH_KEY_PATH", "k");
        let f = super::super::check::parse(&filled, dir.path(), &env).unwrap_or_else(|p| panic!("{p:?}\n{filled}"));
        assert_eq!(f.name, "prod");
        assert_eq!(f.custom_json, import.custom_json);
        assert_eq!(f.layers[0].custom_json, serde_json::json!({"plone_instances": {"per_cpu": 1}}));
        assert_eq!((f.layers[0].layer_type.as_str(), f.layers[1].auto_healing), ("plone_instances", false));
        let (on, rule) = f.layers[0].load_scaling.unwrap();
        assert_eq!((on, rule), (true, import.layers[0].load_scaling.unwrap().rule));
        assert_eq!(f.apps[0].secret_environment["DB_PASSWORD"], "pw");
        assert_eq!(f.apps[0].environment["MODE"], "prod");
        assert_eq!(f.apps[0].deploy_key.as_deref(), Some(key));
        let scaling: Vec<(&str, Option<ScalingType>, &str)> =
            f.instances.iter().map(|i| (i.hostname.as_str(), i.scaling, i.provider.as_str())).collect();
        assert_eq!(
            scaling,
            [
                ("plone1", Some(ScalingType::Time), "registered"),
                ("plone2", Some(ScalingType::Load), "registered"),
                ("zeo1", None, "registered")
            ]
        );
        assert_eq!(f.instances[0].schedule.as_ref().unwrap().specs(), ["mon 08-10"]);
        assert!(text.contains("#   stack: VpcId = vpc-1: AWS networking"), "{text}");
    }

    #[test]
    fn a_template_import_reads_back_too() {
        let template = r#"{"Resources": {
            "S": {"Type": "AWS::OpsWorks::Stack", "Properties": {"Name": "cfn", "CustomJson": {"a": {"b": [1, null]}}}},
            "L": {"Type": "AWS::OpsWorks::Layer", "Properties": {"StackId": {"Ref": "S"}, "Type": "lb", "Shortname": "front"}},
            "I": {"Type": "AWS::OpsWorks::Instance", "Properties": {"StackId": {"Ref": "S"}, "LayerIds": [{"Ref": "L"}], "Hostname": "front1"}}}}"#;
        let import = convert(&cloudformation::read("t.json", template).unwrap(), &Options::default()).unwrap();
        let text = render_import(&import, "t.json");
        let f = super::super::check::parse(&text, std::path::Path::new("/"), &|_| None).unwrap();
        assert_eq!(f.custom_json, serde_json::json!({"a": {"b": [1, null]}}));
        assert_eq!((f.layers[0].layer_type.as_str(), f.instances[0].hostname.as_str()), ("frontend", "front1"));
    }
}
