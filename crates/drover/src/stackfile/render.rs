//! A stack as a stack file (`drover export`): the shape `drover apply` reads, with secret values
//! left out (references and placeholders instead) so that applying it back changes nothing.

use std::collections::BTreeMap;
use std::fmt::Write;

use drover_proto::api::{App, Instance, Layer, Stack};
use drover_proto::layer_provider::LayerProvider;
use serde_json::Value;

use super::locate::key;

/// A TOML string.
pub(super) fn string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Custom JSON as a pretty JSON string: lossless (nulls included) and as readable as the JSON
/// users paste from OpsWorks.
pub(super) fn json_string(doc: &Value) -> String {
    let pretty = serde_json::to_string_pretty(doc).unwrap_or_else(|_| "{}".into());
    let literal_ok = !pretty.contains("'''") && !pretty.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    if literal_ok { format!("'''\n{pretty}\n'''") } else { string(&pretty) }
}

/// `{ K = "v", ... }`.
pub(super) fn inline_table(map: &BTreeMap<String, String>) -> String {
    let items: Vec<String> = map.iter().map(|(k, v)| format!("{} = {}", key(k), string(v))).collect();
    format!("{{ {} }}", items.join(", "))
}

pub(super) fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", items.join(", "))
}

pub(super) fn is_empty_object(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.is_empty())
}

/// Renders the stack file.
pub fn render(
    stack: &Stack,
    layers: &[Layer],
    apps: &[App],
    instances: &[Instance],
    providers: &BTreeMap<String, LayerProvider>,
) -> String {
    let mut out = String::new();
    let name = &stack.name;
    let _ =
        writeln!(out, "# Stack {name}, written by `drover export --stack {name}`; `drover apply -f FILE` reads it.");
    let _ =
        writeln!(out, "# No secret value is in this file: secret values in Custom JSON read \"<redacted>\" (applying");
    let _ =
        writeln!(out, "# keeps the value the server stores), app secrets are env: references to set when applying.");
    let _ = writeln!(out, "\n[stack]\nname = {}\ncustom_json = {}", string(name), json_string(&stack.custom_json));

    let mut layers: Vec<&Layer> = layers.iter().collect();
    layers.sort_by(|a, b| a.shortname.cmp(&b.shortname));
    for l in layers {
        let _ = writeln!(out, "\n[layers.{}]\ntype = {}", key(&l.shortname), string(&l.layer_type));
        let _ = writeln!(out, "auto_healing = {}", l.auto_healing);
        if !l.hooks.is_empty() {
            let _ = writeln!(out, "hooks = {}", inline_table(&l.hooks));
        }
        if !is_empty_object(&l.custom_json) {
            let _ = writeln!(out, "custom_json = {}", json_string(&l.custom_json));
        }
        if let Some(p) = providers.get(&l.shortname).filter(|p| p.provider != "local") {
            let _ = writeln!(out, "provider = {}", string(&p.provider));
            if let Some(table) = p.ec2.as_ref().and_then(|ec2| toml::Value::try_from(ec2).ok()) {
                let _ = writeln!(out, "ec2 = {table}");
            }
        }
    }

    let mut apps: Vec<&App> = apps.iter().collect();
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    for a in apps {
        let _ = writeln!(out, "\n[apps.{}]\ngit = {}", key(&a.name), string(&a.repository));
        if let Some(rev) = &a.revision {
            let _ = writeln!(out, "revision = {}", string(rev));
        }
        let _ = writeln!(out, "layers = {}", list(&a.layers));
        let plain: BTreeMap<String, String> = a
            .environment
            .iter()
            .filter(|(k, _)| !a.secret_environment.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !plain.is_empty() {
            let _ = writeln!(out, "environment = {}", inline_table(&plain));
        }
        if !a.secret_environment.is_empty() {
            let refs: BTreeMap<String, String> =
                a.secret_environment.iter().map(|k| (k.clone(), format!("env:{k}"))).collect();
            let _ = writeln!(out, "# Secret values are not exported: set these variables when running `drover apply`.");
            let _ = writeln!(out, "secret_environment = {}", inline_table(&refs));
        }
        if a.deploy_key {
            let _ = writeln!(out, "# The deploy key is not exported: fill in the path of its file before applying.");
            let _ = writeln!(out, "deploy_key = \"file:REPLACE_WITH_KEY_PATH\"");
        }
    }

    if !instances.is_empty() {
        let _ =
            writeln!(out, "\n# Instances are matched by hostname. cpu_count is not exported: the API shows the CPU");
        let _ = writeln!(out, "# count an instance reports, not whether one was set when it was created.");
    }
    for i in instances {
        let _ = writeln!(out, "\n[[instances]]\nhostname = {}\nlayers = {}", string(&i.hostname), list(&i.layers));
        if i.provider != "local" {
            let _ = writeln!(out, "provider = {}", string(&i.provider));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> (Stack, Vec<Layer>, Vec<App>, Vec<Instance>) {
        let stack = Stack {
            name: "demo".into(),
            custom_json: json!({"plone_instances": {"per_cpu": 1, "x": null}, "haproxy": {"stats_password": "<redacted>"}, "q": "it'''s"}),
            created_at: String::new(),
        };
        let layer = Layer {
            stack: "demo".into(),
            shortname: "clients".into(),
            layer_type: "plone_instances".into(),
            custom_json: json!({"plone_instances": {"per_cpu": 0.5}}),
            auto_healing: false,
            hooks: BTreeMap::from([("configure".into(), "echo \"hi\" && true".into())]),
        };
        let app = App {
            stack: "demo".into(),
            name: "site".into(),
            app_type: "buildout".into(),
            layers: vec!["clients".into()],
            repository: "/srv/git/site.git".into(),
            revision: Some("main".into()),
            deploy_key: true,
            environment: BTreeMap::from([("A".into(), "1".into()), ("PW".into(), "<redacted>".into())]),
            secret_environment: vec!["PW".into()],
            pinned: None,
            created_at: String::new(),
            updated_at: String::new(),
        };
        let instance = Instance {
            hostname: "web7".into(),
            stack: "demo".into(),
            layers: vec!["clients".into()],
            provider: "registered".into(),
            status: "online".into(),
            address: None,
            cpu_count: Some(4),
            memory_bytes: None,
            agent_version: None,
            last_heartbeat: None,
            metrics: None,
            created_at: String::new(),
            services: Vec::new(),
            scaling: "24/7".into(),
            machine_id: None,
        };
        (stack, vec![layer], vec![app], vec![instance])
    }

    #[test]
    fn an_export_reads_back_as_the_same_stack() {
        let (stack, layers, apps, instances) = sample();
        let ec2 = drover_proto::layer_provider::Ec2Config {
            ami: "ami-12345678".into(),
            instance_type: "t3.micro".into(),
            security_groups: vec!["sg-12345678".into()],
            tags: BTreeMap::from([("team".into(), "web".into())]),
            region: Some("eu-west-1".into()),
            ..Default::default()
        };
        let providers =
            BTreeMap::from([("clients".to_owned(), LayerProvider { provider: "ec2".into(), ec2: Some(ec2) })]);
        let text = render(&stack, &layers, &apps, &instances, &providers);
        assert!(text.contains("provider = \"ec2\"\nec2 = {"), "{text}");
        assert!(text.contains("deploy_key = \"file:REPLACE_WITH_KEY_PATH\""), "{text}");
        assert!(!text.contains("cpu_count ="), "{text}");
        // The placeholders must be filled in before it applies: a key file and the variable.
        let dir = tempfile::tempdir().unwrap();
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
        std::fs::write(dir.path().join("k"), key).unwrap();
        let text = text.replace("REPLACE_WITH_KEY_PATH", "k");
        let env = |name: &str| (name == "PW").then(|| "v".to_owned());
        let file = super::super::check::parse(&text, dir.path(), &env).unwrap_or_else(|p| panic!("{p:?}\n{text}"));
        assert_eq!(file.custom_json, stack.custom_json, "{text}");
        assert_eq!(file.layers[0].custom_json, layers[0].custom_json);
        assert_eq!(file.layers[0].hooks, layers[0].hooks);
        assert!(!file.layers[0].auto_healing);
        assert_eq!(file.apps[0].environment, BTreeMap::from([("A".into(), "1".into())]));
        assert_eq!(file.apps[0].secret_environment, BTreeMap::from([("PW".into(), "v".into())]));
        assert_eq!(file.apps[0].revision.as_deref(), Some("main"));
        assert_eq!(file.instances[0].provider, "registered");
        assert_eq!(file.layers[0].provider, providers["clients"]);
        let current =
            super::super::Current { stack: Some(stack), layers, apps, instances, providers, ..Default::default() };
        let plan = super::super::plan(&file, &current, false).unwrap();
        assert!(plan.is_noop(), "{:?}", plan.steps);
    }

    #[test]
    fn the_shape_is_stable() {
        let (mut stack, layers, apps, _) = sample();
        stack.custom_json = json!({"plone_instances": {"per_cpu": 1}});
        let text = render(&stack, &layers, &apps, &[], &BTreeMap::new());
        let want = r#"# Stack demo, written by `drover export --stack demo`; `drover apply -f FILE` reads it.
# No secret value is in this file: secret values in Custom JSON read "<redacted>" (applying
# keeps the value the server stores), app secrets are env: references to set when applying.

[stack]
name = "demo"
custom_json = '''
{
  "plone_instances": {
    "per_cpu": 1
  }
}
'''

[layers.clients]
type = "plone_instances"
auto_healing = false
hooks = { configure = 'echo "hi" && true' }
custom_json = '''
{
  "plone_instances": {
    "per_cpu": 0.5
  }
}
'''

[apps.site]
git = "/srv/git/site.git"
revision = "main"
layers = ["clients"]
environment = { A = "1" }
# Secret values are not exported: set these variables when running `drover apply`.
secret_environment = { PW = "env:PW" }
# The deploy key is not exported: fill in the path of its file before applying.
deploy_key = "file:REPLACE_WITH_KEY_PATH"
"#;
        assert_eq!(text, want);
    }
}
