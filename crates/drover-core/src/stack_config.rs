//! The stack configuration every lifecycle event hands an instance (reference.md section 2),
//! in the shape the original gave recipes: `opsworks.stack`, `opsworks.layers.<layer>.instances`,
//! `opsworks.instance`, so migrated hooks keep reading the same paths.

use serde_json::{Map, Value, json};

/// An instance as the stack configuration shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceView<'a> {
    /// Hostname.
    pub hostname: &'a str,
    /// Layers' shortnames.
    pub layers: &'a [String],
    /// Private address.
    pub address: Option<&'a str>,
    /// Status name.
    pub status: &'a str,
    /// CPUs.
    pub cpu_count: Option<i64>,
    /// ZEO clients it runs (plone_instances members), from the one sizing function.
    pub client_count: Option<u32>,
}

/// A layer as the stack configuration shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerView<'a> {
    /// Shortname.
    pub shortname: &'a str,
    /// Type name.
    pub layer_type: &'a str,
}

fn instance_json(i: &InstanceView<'_>) -> Value {
    json!({
        "hostname": i.hostname,
        "layers": i.layers,
        "private_ip": i.address,
        "status": i.status,
        "cpu_count": i.cpu_count,
        "client_count": i.client_count,
    })
}

/// Builds the stack configuration for `this` instance. Only online instances are listed under
/// their layers (the instance itself is always described under `opsworks.instance`).
pub fn stack_config(
    stack_name: &str,
    layers: &[LayerView<'_>],
    instances: &[InstanceView<'_>],
    this: &InstanceView<'_>,
) -> Value {
    let mut layer_map = Map::new();
    for layer in layers {
        let members: Map<String, Value> = instances
            .iter()
            .filter(|i| i.status == "online" && i.layers.iter().any(|l| l == layer.shortname))
            .map(|i| (i.hostname.to_owned(), instance_json(i)))
            .collect();
        layer_map.insert(layer.shortname.to_owned(), json!({ "type": layer.layer_type, "instances": members }));
    }
    json!({
        "opsworks": {
            "stack": { "name": stack_name },
            "layers": layer_map,
            "instance": instance_json(this),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_online_instances_under_their_layers() {
        let web = vec!["web".to_string()];
        let both = vec!["web".to_string(), "db".to_string()];
        let a = InstanceView {
            hostname: "web1",
            layers: &web,
            address: Some("127.0.0.2"),
            status: "online",
            cpu_count: Some(2),
            client_count: Some(4),
        };
        let b = InstanceView {
            hostname: "web2",
            layers: &web,
            address: Some("127.0.0.3"),
            status: "stopped",
            cpu_count: None,
            client_count: None,
        };
        let c = InstanceView {
            hostname: "all1",
            layers: &both,
            address: Some("127.0.0.4"),
            status: "online",
            cpu_count: Some(1),
            client_count: Some(2),
        };
        let layers = [
            LayerView { shortname: "web", layer_type: "custom" },
            LayerView { shortname: "db", layer_type: "zeoserver" },
        ];
        let cfg = stack_config("prod", &layers, &[a.clone(), b, c], &a);
        assert_eq!(cfg["opsworks"]["stack"]["name"], "prod");
        let web_members: Vec<&String> =
            cfg["opsworks"]["layers"]["web"]["instances"].as_object().unwrap().keys().collect();
        assert_eq!(web_members, ["all1", "web1"]);
        assert_eq!(cfg["opsworks"]["layers"]["db"]["instances"]["all1"]["private_ip"], "127.0.0.4");
        assert_eq!(cfg["opsworks"]["layers"]["db"]["type"], "zeoserver");
        assert_eq!(cfg["opsworks"]["instance"]["hostname"], "web1");
        assert_eq!(cfg["opsworks"]["layers"]["web"]["instances"]["web1"]["client_count"], 4);
    }
}
