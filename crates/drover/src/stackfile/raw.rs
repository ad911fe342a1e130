//! The stack file as written: strict serde types (unknown keys are refused) with the spans
//! [`super::check`] needs to name positions.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::Problem;
use super::locate::{key_path_at, line_col};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub stack: RawStack,
    #[serde(default)]
    pub layers: BTreeMap<String, Spanned<RawLayer>>,
    #[serde(default)]
    pub apps: BTreeMap<String, Spanned<RawApp>>,
    #[serde(default)]
    pub instances: Vec<Spanned<RawInstance>>,
}

/// `[stack]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStack {
    pub name: Spanned<String>,
    #[serde(default)]
    pub custom_json: Option<Spanned<toml::Value>>,
}

/// `[layers.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayer {
    #[serde(rename = "type")]
    pub layer_type: Spanned<String>,
    #[serde(default)]
    pub auto_healing: Option<bool>,
    #[serde(default)]
    pub custom_json: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub hooks: BTreeMap<String, Spanned<String>>,
    /// The provider its new instances get: local (default), registered or ec2.
    #[serde(default)]
    pub provider: Option<Spanned<String>>,
    /// For ec2: the machines' settings.
    #[serde(default)]
    pub ec2: Option<Spanned<drover_proto::layer_provider::Ec2Config>>,
    /// The layer's load-based scaling rule.
    #[serde(default)]
    pub load_scaling: Option<Spanned<RawLoadScaling>>,
}

/// `[layers.NAME.load_scaling]`: what it leaves out takes the rule's default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoadScaling {
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub up: Option<drover_core::scaling::Thresholds>,
    #[serde(default)]
    pub down: Option<drover_core::scaling::Thresholds>,
    #[serde(default)]
    pub up_instances: Option<u32>,
    #[serde(default)]
    pub down_instances: Option<u32>,
    #[serde(default)]
    pub thresholds_wait_secs: Option<u64>,
    #[serde(default)]
    pub ignore_metrics_secs: Option<u64>,
}

/// `[apps.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApp {
    pub git: Spanned<String>,
    #[serde(default)]
    pub revision: Option<Spanned<String>>,
    pub layers: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub environment: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub secret_environment: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub deploy_key: Option<Spanned<String>>,
}

/// `[[instances]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    /// Optional here so that a missing one is reported with every other problem.
    #[serde(default)]
    pub hostname: Option<Spanned<String>>,
    pub layers: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub cpu_count: Option<Spanned<i64>>,
    #[serde(default)]
    pub provider: Option<Spanned<String>>,
    /// `24/7`, `time` or `load`; left out: as it is (24/7 for a new instance).
    #[serde(default)]
    pub scaling: Option<Spanned<String>>,
    /// For `time`: the hours it is online, as `--on` specs (UTC).
    #[serde(default)]
    pub schedule: Option<Spanned<Vec<String>>>,
}

/// Hints for the serde messages that do not say what to do.
fn hint(message: &str) -> &'static str {
    if message.contains("missing field `stack`") {
        "; start the file with a [stack] table holding the stack's name"
    } else if message.contains("unknown field") {
        "; check the spelling (examples/demo-stack.toml shows every key)"
    } else {
        ""
    }
}

/// Parses the text; a syntax or shape error names the key path and position.
pub fn parse(text: &str) -> Result<RawFile, Problem> {
    toml::from_str(text).map_err(|e| {
        let span = e.span();
        let at = span.as_ref().map(|s| line_col(text, s.start));
        let path = span.and_then(|s| key_path_at(text, s.start)).unwrap_or_else(|| "(document)".into());
        let message = e.message().trim_end();
        Problem::new(path, at, format!("{message}{}", hint(message)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_errors_name_the_key_and_line() {
        let cases = [
            ("[stack]\nname = \"d\"\nnmae = 1\n", "stack.nmae", 3, "unknown field `nmae`"),
            ("[stack]\nname = \"d\"\n[layers.web]\ntype = 3\n", "layers.web.type", 4, "invalid type"),
            (
                "[stack]\nname = \"d\"\n[apps.site]\ngit = \"x\"\nlayers = [\"a\"]\nenv = {}\n",
                "apps.site.env",
                6,
                "unknown",
            ),
            ("[stack]\nname = = \"d\"\n", "stack.name", 2, "extra `=`"),
        ];
        for (text, path, line, message) in cases {
            let p = parse(text).unwrap_err();
            assert_eq!(p.path, path, "{text}: {p}");
            assert_eq!(p.at.map(|a| a.0), Some(line), "{text}: {p}");
            assert!(p.message.contains(message), "{text}: {p}");
        }
    }
}
