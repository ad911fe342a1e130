//! The files `aws opsworks describe-*` writes, one per call, named after it
//! (`describe-stacks.json`, …), in the CLI's output shape (`{"Stacks": [...]}`, …).

use std::collections::BTreeMap;

use serde_json::Value;

use super::record::{Record, kind};
use super::{ImportError, Inputs};

/// Each file: its name, the list it holds, whether it must be there, and what the command is.
pub const FILES: [(&str, &str, bool, &str); 6] = [
    ("describe-stacks.json", "Stacks", true, "aws opsworks describe-stacks"),
    ("describe-layers.json", "Layers", true, "aws opsworks describe-layers --stack-id ID"),
    ("describe-apps.json", "Apps", false, "aws opsworks describe-apps --stack-id ID"),
    ("describe-instances.json", "Instances", false, "aws opsworks describe-instances --stack-id ID"),
    (
        "describe-time-based-auto-scaling.json",
        "TimeBasedAutoScalingConfigurations",
        false,
        "aws opsworks describe-time-based-auto-scaling --instance-ids ID…",
    ),
    (
        "describe-load-based-auto-scaling.json",
        "LoadBasedAutoScalingConfigurations",
        false,
        "aws opsworks describe-load-based-auto-scaling --layer-ids ID…",
    ),
];

/// Reads the files present (by file name, with their text). The first two must be there; a
/// missing other one is noted (nothing of that kind is imported).
pub fn read(files: &BTreeMap<String, String>) -> Result<Inputs, ImportError> {
    let mut inputs = Inputs::default();
    for (name, list, required, command) in FILES {
        let Some(text) = files.get(name) else {
            if required {
                return Err(ImportError::new(
                    name,
                    "",
                    format!("is missing; write it with `{command} > {name}` (use --output json)"),
                ));
            }
            inputs.notes.push(format!("{name} was not given: nothing of it was imported (write it with `{command}`)"));
            continue;
        };
        let records = records(name, list, text)?;
        let slot = match list {
            "Stacks" => &mut inputs.stacks,
            "Layers" => &mut inputs.layers,
            "Apps" => &mut inputs.apps,
            "Instances" => &mut inputs.instances,
            "TimeBasedAutoScalingConfigurations" => &mut inputs.time_scaling,
            _ => &mut inputs.load_scaling,
        };
        *slot = records;
    }
    Ok(inputs)
}

/// The objects of `{"<list>": [...]}`.
fn records(file: &str, list: &str, text: &str) -> Result<Vec<Record>, ImportError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        ImportError::new(file, "", format!("is not valid JSON: {e}; give the output of the AWS CLI with --output json"))
    })?;
    let Some(object) = doc.as_object() else {
        return Err(ImportError::new(
            file,
            "",
            format!("expected an object {{\"{list}\": [...]}} as the AWS CLI writes it, found {}", kind(&doc)),
        ));
    };
    let Some(items) = object.get(list) else {
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        return Err(ImportError::new(
            file,
            "",
            format!(
                "has no \"{list}\" list (it has: {}); is it the output of the right command?",
                if keys.is_empty() { "nothing".to_owned() } else { keys.join(", ") }
            ),
        ));
    };
    let Some(items) = items.as_array() else {
        return Err(ImportError::new(file, list, format!("expected a list, found {}", kind(items))));
    };
    items.iter().enumerate().map(|(i, v)| Record::new(file, format!("{list}[{i}]"), v)).collect()
}
