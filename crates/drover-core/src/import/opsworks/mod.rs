//! An OpsWorks stack as the objects of a Drover stack file.
//!
//! Two inputs, read into the same [`Inputs`] (records in the OpsWorks API's shape):
//! - [`describe::read`]: the JSON files `aws opsworks describe-stacks`, `describe-layers`,
//!   `describe-apps`, `describe-instances`, `describe-time-based-auto-scaling` and
//!   `describe-load-based-auto-scaling` write, one per call, named after it;
//! - [`cloudformation::read`]: a CloudFormation template (JSON) with `AWS::OpsWorks::Stack`,
//!   `Layer`, `App` and `Instance` resources.
//!
//! [`convert`] turns them into an [`Import`]: the stack and layer Custom JSON unchanged, layers
//! typed by their recipes ([`layer_type`]), apps with their repository, revision and
//! environment (values AWS filters, and every `Secure` one, become secrets to fill in, never
//! values), instances with their hostnames and scaling types, time schedules and load rules,
//! and — by name — everything that has no Drover equivalent ([`LeftOut`]).

pub mod cloudformation;
mod convert;
pub mod describe;
pub mod layer_type;
mod names;
mod record;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use convert::convert;
pub use record::Record;
use serde::Serialize;
use serde_json::Value;

use crate::LayerType;
use crate::scaling::LoadRule;

/// Input that could not be read: the file, the JSON path in it, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct ImportError {
    /// The file.
    pub file: String,
    /// The JSON path (`Layers[1].CustomJson`), empty for the whole file.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl ImportError {
    /// An error at a path of a file.
    pub fn new(file: &str, path: &str, message: impl Into<String>) -> Self {
        Self { file: file.to_owned(), path: path.to_owned(), message: message.into() }
    }
}

/// The OpsWorks objects read from the input.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Stacks (`StackId`, `Name`, `CustomJson`, …).
    pub stacks: Vec<Record>,
    /// Layers (`LayerId`, `StackId`, `Type`, `Shortname`, `CustomRecipes`, …).
    pub layers: Vec<Record>,
    /// Apps (`AppId`, `StackId`, `Shortname`, `AppSource`, `Environment`, …).
    pub apps: Vec<Record>,
    /// Instances (`InstanceId`, `StackId`, `Hostname`, `LayerIds`, `AutoScalingType`, …).
    pub instances: Vec<Record>,
    /// Time-based scaling (`InstanceId`, `AutoScalingSchedule`).
    pub time_scaling: Vec<Record>,
    /// Load-based scaling (`LayerId`, `Enable`, `UpScaling`, `DownScaling`).
    pub load_scaling: Vec<Record>,
    /// What the input holds beside these (other CloudFormation resources).
    pub left_out: Vec<LeftOut>,
    /// Remarks about the input (files not given).
    pub notes: Vec<String>,
}

/// What to import and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Which stack, by name or id, when the input holds several.
    pub stack: Option<String>,
    /// The Drover stack's name (default: the OpsWorks name, made a valid name).
    pub name: Option<String>,
    /// The provider of the instances: local or registered (default registered: the hosts join).
    pub provider: Option<String>,
}

/// The stack as Drover objects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Import {
    /// The stack's name.
    pub name: String,
    /// The stack's Custom JSON, unchanged.
    pub custom_json: Value,
    /// Layers, in input order.
    pub layers: Vec<ImportedLayer>,
    /// Apps, in input order.
    pub apps: Vec<ImportedApp>,
    /// Instances, in input order.
    pub instances: Vec<ImportedInstance>,
    /// What was not carried over, by name.
    pub left_out: Vec<LeftOut>,
    /// What was decided that the reader should check (renamed objects, chosen layers).
    pub notes: Vec<String>,
}

/// A layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedLayer {
    /// Its shortname.
    pub name: String,
    /// Its type.
    pub layer_type: LayerType,
    /// Why it has that type.
    pub type_reason: String,
    /// Whether lost instances are restarted (`EnableAutoHealing`).
    pub auto_healing: bool,
    /// Its Custom JSON, unchanged.
    pub custom_json: Value,
    /// Its load-based scaling.
    pub load_scaling: Option<ImportedLoadScaling>,
}

/// A layer's load-based scaling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImportedLoadScaling {
    /// Whether it is on (`Enable`).
    pub enabled: bool,
    /// The rule.
    pub rule: LoadRule,
}

/// An app.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedApp {
    /// Its name (the OpsWorks shortname).
    pub name: String,
    /// The git repository.
    pub git: String,
    /// The revision (none: the default branch).
    pub revision: Option<String>,
    /// The layers it is deployed to.
    pub layers: Vec<String>,
    /// Plain variables.
    pub environment: BTreeMap<String, String>,
    /// Secret variables, by name only: their values are to be filled in.
    pub secrets: Vec<String>,
    /// Whether it had a deploy key (its value is never in the input).
    pub deploy_key: bool,
}

/// An instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedInstance {
    /// Its hostname.
    pub hostname: String,
    /// Its layers.
    pub layers: Vec<String>,
    /// local or registered.
    pub provider: String,
    /// `24/7`, `time` or `load`.
    pub scaling: crate::scaling::ScalingType,
    /// For time-based instances: the schedule as `--on` specs (UTC).
    pub schedule: Vec<String>,
}

/// Something the input holds that Drover does not carry over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// Whose it is: `stack`, `layer zeoserver`, `app site`, `instance web1`, `resource Eip`.
    pub owner: String,
    /// What it is, by name (`Chef recipe plone_buildout::enable_backups`, `VolumeConfigurations`).
    pub item: String,
    /// Why, or what to do instead.
    pub reason: String,
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.owner, self.item, self.reason)
    }
}
