//! A CloudFormation template (JSON) with `AWS::OpsWorks::Stack`, `Layer`, `App` and `Instance`
//! resources, read into the records the describe files give: properties are named as the
//! resources' documentation names them (the API's names), a resource's logical id is its id,
//! `{"Ref": …}` to a resource is that id and `{"Ref": …}` to a parameter is its default.
//! A layer's `LoadBasedAutoScaling` and an instance's `TimeBasedAutoScaling` become scaling
//! records. Every other resource is listed as left out. YAML templates are not read: convert
//! one with `cfn-flip` (or any YAML-to-JSON tool) first.

use serde_json::{Map, Value, json};

use super::record::Record;
use super::{ImportError, Inputs, LeftOut};

/// Reads the template `file` (its name, for messages) from its text.
pub fn read(file: &str, text: &str) -> Result<Inputs, ImportError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        let hint = if text.trim_start().starts_with('{') {
            ""
        } else {
            "; only JSON templates are read: convert a YAML one first (e.g. `cfn-flip template.yaml > template.json`)"
        };
        ImportError::new(file, "", format!("is not valid JSON: {e}{hint}"))
    })?;
    let Some(resources) = doc.get("Resources").and_then(Value::as_object) else {
        return Err(ImportError::new(
            file,
            "Resources",
            "is missing or not an object: a template lists its resources there",
        ));
    };
    let parameters = doc.get("Parameters").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut inputs = Inputs::default();
    for (id, resource) in resources {
        let path = format!("Resources.{id}");
        let Some(kind_name) = resource.get("Type").and_then(Value::as_str) else {
            return Err(ImportError::new(file, &format!("{path}.Type"), "is missing or not a string"));
        };
        let properties = match resource.get("Properties") {
            None => Value::Object(Map::new()),
            Some(p) => resolve(p, &parameters, resources),
        };
        let props_path = format!("{path}.Properties");
        let mut record = Record::new(file, props_path.clone(), &properties)?;
        let fields = &mut record.fields;
        match kind_name {
            "AWS::OpsWorks::Stack" => {
                fields.insert("StackId".into(), json!(id));
                inputs.stacks.push(record);
            }
            "AWS::OpsWorks::Layer" => {
                fields.insert("LayerId".into(), json!(id));
                if let Some(load) = fields.remove("LoadBasedAutoScaling") {
                    let mut load = Record::new(file, format!("{props_path}.LoadBasedAutoScaling"), &load)?;
                    load.fields.insert("LayerId".into(), json!(id));
                    inputs.load_scaling.push(load);
                }
                inputs.layers.push(record);
            }
            "AWS::OpsWorks::App" => {
                fields.insert("AppId".into(), json!(id));
                inputs.apps.push(record);
            }
            "AWS::OpsWorks::Instance" => {
                fields.insert("InstanceId".into(), json!(id));
                if let Some(schedule) = fields.remove("TimeBasedAutoScaling") {
                    let time = json!({ "InstanceId": id, "AutoScalingSchedule": schedule });
                    inputs.time_scaling.push(Record::new(file, format!("{props_path}.TimeBasedAutoScaling"), &time)?);
                }
                inputs.instances.push(record);
            }
            other => inputs.left_out.push(LeftOut {
                owner: format!("resource {id}"),
                item: other.to_owned(),
                reason: reason(other).to_owned(),
            }),
        }
    }
    if inputs.stacks.is_empty() {
        return Err(ImportError::new(file, "Resources", "has no AWS::OpsWorks::Stack resource; nothing to import"));
    }
    Ok(inputs)
}

/// Why a resource that is not a stack, layer, app or instance is left out.
fn reason(resource_type: &str) -> &'static str {
    match resource_type {
        "AWS::OpsWorks::ElasticLoadBalancerAttachment" | "AWS::ElasticLoadBalancing::LoadBalancer" => {
            "load balancers are not run by Drover: a frontend layer (nginx and HAProxy) balances the clients"
        }
        "AWS::OpsWorks::Volume" | "AWS::EC2::Volume" | "AWS::EC2::VolumeAttachment" => {
            "EBS volumes are not managed: attach and mount the storage on the hosts yourself"
        }
        "AWS::EC2::EIP" | "AWS::EC2::EIPAssociation" => {
            "Elastic IPs are not managed: the hosts keep their own addresses"
        }
        "AWS::OpsWorks::UserProfile" | "AWS::OpsWorks::Permission" => {
            "users and permissions are Drover's own: create them with `drover user create`"
        }
        t if t.starts_with("AWS::RDS::") => {
            "databases are not run by Drover: keep the database and give its address in the Custom JSON"
        }
        t if t.starts_with("AWS::IAM::") => "IAM is not used by Drover",
        _ => "not an OpsWorks stack, layer, app or instance: Drover does not create it",
    }
}

/// The value with each `{"Ref": X}` resolved: a resource's logical id, or a parameter's
/// default (a `NoEcho` parameter's value is never read: it becomes null).
fn resolve(value: &Value, parameters: &Map<String, Value>, resources: &Map<String, Value>) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("Ref") => {
            let Some(target) = map["Ref"].as_str() else { return value.clone() };
            if resources.contains_key(target) {
                return json!(target);
            }
            match parameters.get(target) {
                Some(p) if p.get("NoEcho").is_some_and(|n| n == &json!(true) || n == &json!("true")) => Value::Null,
                Some(p) => p.get("Default").cloned().unwrap_or(Value::Null),
                None => value.clone(),
            }
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve(v, parameters, resources))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, parameters, resources)).collect()),
        other => other.clone(),
    }
}
