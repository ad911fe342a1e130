//! From the file as written to a checked [`StackFile`]: every value checked with the rules the
//! server applies, secret references resolved, every problem reported at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use drover_core::app::{check_deploy_key, check_env_name, check_repository, check_revision};
use drover_core::attributes::check as check_attributes;
use drover_core::ec2::Ec2Settings;
use drover_core::hooks::check_hooks;
use drover_core::scaling::{LoadRule, ScalingType, WeeklySchedule};
use drover_core::{LayerType, Provider, Shortname};
use drover_proto::layer_provider::LayerProvider;
use serde_json::Value;
use toml::Spanned;

use super::Problem;
use super::locate::{key, line_col};
use super::raw::{self, RawApp, RawInstance, RawLayer};
use crate::exit::{CliResult, Failure};

/// A checked stack file: what the stack should look like.
#[derive(Debug, Clone, PartialEq)]
pub struct StackFile {
    /// The stack's name.
    pub name: String,
    /// The stack's Custom JSON (an object; `{}` when the file has none).
    pub custom_json: Value,
    /// Layers, by name.
    pub layers: Vec<LayerSpec>,
    /// Apps, by name.
    pub apps: Vec<AppSpec>,
    /// Instances, in file order.
    pub instances: Vec<InstanceSpec>,
    /// Likely typos in the Custom JSON documents, by key path.
    pub warnings: Vec<String>,
    /// Layers that apps or instances name but the file does not define: each must exist on the
    /// server, or the problem stands.
    pub outside_layers: Vec<(String, Problem)>,
}

/// A layer as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    /// Its shortname.
    pub name: String,
    /// Its type.
    pub layer_type: String,
    /// Where the type is written.
    pub type_at: Option<(usize, usize)>,
    /// Whether lost instances are restarted.
    pub auto_healing: bool,
    /// Hooks by event.
    pub hooks: BTreeMap<String, String>,
    /// Its Custom JSON (an object).
    pub custom_json: Value,
    /// The provider its new instances get, with its settings (local when the file has none).
    pub provider: LayerProvider,
    /// Its load-based scaling, when the file gives it: whether it is on, and the rule.
    pub load_scaling: Option<(bool, LoadRule)>,
}

/// An app as the file describes it, with its secret references resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSpec {
    /// Its name.
    pub name: String,
    /// The repository (a relative path in the file is made absolute).
    pub repository: String,
    /// The revision (none: the default branch).
    pub revision: Option<String>,
    /// Its layers.
    pub layers: Vec<String>,
    /// Plain variables.
    pub environment: BTreeMap<String, String>,
    /// Secret variables with their resolved values.
    pub secret_environment: BTreeMap<String, String>,
    /// The deploy key, read from its file.
    pub deploy_key: Option<String>,
}

/// An instance as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceSpec {
    /// Its hostname.
    pub hostname: String,
    /// Where its layers are written.
    pub layers_at: Option<(usize, usize)>,
    /// Its layers.
    pub layers: Vec<String>,
    /// Where its provider is written (or its entry starts, when it has none).
    pub provider_at: Option<(usize, usize)>,
    /// local or registered.
    pub provider: String,
    /// For local instances: the CPU count to report.
    pub cpu_count: Option<u32>,
    /// Its scaling type, when the file gives it.
    pub scaling: Option<ScalingType>,
    /// For time-based instances: the schedule, when the file gives it.
    pub schedule: Option<WeeklySchedule>,
}

/// Reads and checks a stack file; secret references are resolved from this process's
/// environment and files. Exit code 2 with every problem when it is not valid.
pub fn load(path: &Path) -> CliResult<StackFile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("failed to read the stack file {}: {e}", path.display())))?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let base = absolute.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    parse(&text, &base, &|name| std::env::var(name).ok()).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        Failure::usage(format!(
            "{} is not a valid stack file ({} problem(s)); nothing was changed:\n{}",
            path.display(),
            problems.len(),
            lines.join("\n")
        ))
    })
}

/// Where things are and how secret references resolve.
struct Ctx<'a> {
    text: &'a str,
    base: &'a Path,
    env: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<Problem>,
    warnings: Vec<String>,
}

impl Ctx<'_> {
    fn at<T>(&self, s: &Spanned<T>) -> Option<(usize, usize)> {
        Some(line_col(self.text, s.span().start))
    }

    fn fail<T>(&mut self, path: &str, s: &Spanned<T>, message: impl Into<String>) {
        let at = self.at(s);
        self.problems.push(Problem::new(path, at, message));
    }

    fn name<T>(&mut self, path: &str, s: &Spanned<T>, raw: &str) {
        if let Err(e) = Shortname::parse(raw) {
            self.fail(path, s, format!("{raw:?} {e}"));
        }
    }

    /// `~/` from HOME, relative paths from the stack file's directory.
    fn path(&self, raw: &str) -> PathBuf {
        match raw.strip_prefix("~/") {
            Some(rest) => PathBuf::from((self.env)("HOME").unwrap_or_default()).join(rest),
            None => normalize(&self.base.join(raw)),
        }
    }

    /// Resolves `env:NAME` or `file:PATH`; the message never repeats a value that is not a
    /// reference (it may be a secret pasted by mistake).
    fn secret(&self, raw: &str) -> Result<String, String> {
        if let Some(name) = raw.strip_prefix("env:") {
            check_env_name(name).map_err(|e| format!("env:{name}: {e}"))?;
            return (self.env)(name).ok_or_else(|| {
                format!("env:{name}: {name} is not set in the environment of `drover apply`; export it and run again")
            });
        }
        if let Some(file) = raw.strip_prefix("file:") {
            if file.is_empty() {
                return Err("file: needs a path, e.g. file:~/.ssh/site_deploy".into());
            }
            let path = self.path(file);
            return std::fs::read_to_string(&path)
                .map_err(|e| format!("file:{file}: failed to read {}: {e}", path.display()));
        }
        Err("is not a secret reference; write \"env:NAME\" (a variable of the environment `drover apply` runs in) \
             or \"file:PATH\": secret values do not belong in the stack file"
            .into())
    }

    /// A Custom JSON document: a TOML table or a JSON string holding an object.
    fn custom_json(&mut self, path: &str, raw: Option<&Spanned<toml::Value>>) -> Value {
        let Some(raw) = raw else { return Value::Object(Default::default()) };
        let doc = match raw.get_ref() {
            toml::Value::String(s) => match serde_json::from_str::<Value>(s) {
                Ok(v) => v,
                Err(e) => {
                    let suffix = format!(" at line {} column {}", e.line(), e.column());
                    let message = e.to_string();
                    let message = message.strip_suffix(&suffix).unwrap_or(&message);
                    let file_line = json_line_in_file(self.text, raw.span(), e.line())
                        .map(|l| format!(" (line {l} of the file)"))
                        .unwrap_or_default();
                    let text = format!(
                        "the JSON string is not valid JSON: {message} at line {}, column {} of the JSON{file_line}",
                        e.line(),
                        e.column()
                    );
                    self.fail(path, raw, text);
                    return Value::Object(Default::default());
                }
            },
            toml::Value::Table(_) => match toml_to_json(raw.get_ref()) {
                Ok(v) => v,
                Err(e) => {
                    self.fail(path, raw, e);
                    return Value::Object(Default::default());
                }
            },
            other => {
                let message =
                    format!("expected a TOML table or a JSON string holding an object, found a {}", other.type_str());
                self.fail(path, raw, message);
                return Value::Object(Default::default());
            }
        };
        if !doc.is_object() {
            self.fail(path, raw, "Custom JSON must be a JSON object, e.g. {\"plone_instances\": {\"per_cpu\": 1}}");
            return Value::Object(Default::default());
        }
        let found = check_attributes(&doc);
        for invalid in &found.errors {
            self.fail(path, raw, invalid.to_string());
        }
        for w in &found.warnings {
            self.warnings.push(format!("{path}: {}: {}", w.path, w.message));
        }
        doc
    }
}

/// The file line of line `json_line` of a JSON string whose token spans `span`, when the string
/// has no escapes (so its lines are the file's lines).
fn json_line_in_file(text: &str, span: std::ops::Range<usize>, json_line: usize) -> Option<usize> {
    let token = text.get(span.clone())?;
    let (open, multi) =
        ["'''", "\"\"\"", "'", "\""].iter().find(|d| token.starts_with(**d)).map(|d| (d.len(), d.len() == 3))?;
    if token.starts_with('"') && token.contains('\\') {
        return None;
    }
    let mut start = span.start + open;
    if multi && text[start..].starts_with('\n') {
        start += 1;
    } else if multi && text[start..].starts_with("\r\n") {
        start += 2;
    }
    Some(line_col(text, start).0 + json_line - 1)
}

/// TOML to JSON (datetimes become their RFC 3339 text).
fn toml_to_json(v: &toml::Value) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} has no JSON equivalent; use a finite number"))?,
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(toml_to_json).collect::<Result<_, _>>()?),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, v)| Ok((k.clone(), toml_to_json(v)?))).collect::<Result<_, String>>()?)
        }
    })
}

/// Removes `.` and resolves `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether a `git` value is a path relative to the stack file: `./x`, `../x`, or a path without
/// a scheme or host (`x/y.git`).
fn is_relative_path(raw: &str) -> bool {
    raw.starts_with("./") || raw.starts_with("../") || !(raw.contains(':') || raw.starts_with('/') || raw.is_empty())
}

/// Parses and checks a stack file's text. `base` is the file's directory; `env` reads the
/// environment for `env:` references (and HOME for `~/`).
pub fn parse(text: &str, base: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<StackFile, Vec<Problem>> {
    let file = raw::parse(text).map_err(|p| vec![p])?;
    let mut cx = Ctx { text, base, env, problems: Vec::new(), warnings: Vec::new() };

    let name = file.stack.name.get_ref().clone();
    cx.name("stack.name", &file.stack.name, &name);
    let custom_json = cx.custom_json("stack.custom_json", file.stack.custom_json.as_ref());

    let mut layers = Vec::new();
    for (layer_name, raw) in &file.layers {
        let path = format!("layers.{}", key(layer_name));
        cx.name(&path, raw, layer_name);
        layers.push(layer(&mut cx, &path, layer_name, raw.get_ref()));
    }
    let defined: BTreeSet<&str> = file.layers.keys().map(String::as_str).collect();
    let mut outside_layers = Vec::new();
    let mut layer_list = |cx: &mut Ctx, path: &str, list: &Spanned<Vec<Spanned<String>>>| -> Vec<String> {
        if list.get_ref().is_empty() {
            cx.fail(path, list, "name at least one layer");
        }
        let mut seen = BTreeSet::new();
        for (i, l) in list.get_ref().iter().enumerate() {
            let item = format!("{path}[{i}]");
            cx.name(&item, l, l.get_ref());
            if !seen.insert(l.get_ref().as_str()) {
                cx.fail(&item, l, format!("layer {} is listed twice", l.get_ref()));
            } else if !defined.contains(l.get_ref().as_str()) {
                let message = format!(
                    "layer {} is neither in this file's [layers] nor in the stack on the server; add a [layers.{}] table",
                    l.get_ref(),
                    l.get_ref()
                );
                outside_layers.push((l.get_ref().clone(), Problem::new(item, cx.at(l), message)));
            }
        }
        list.get_ref().iter().map(|l| l.get_ref().clone()).collect()
    };

    let mut apps = Vec::new();
    for (app_name, raw) in &file.apps {
        let path = format!("apps.{}", key(app_name));
        cx.name(&path, raw, app_name);
        let layers = layer_list(&mut cx, &format!("{path}.layers"), &raw.get_ref().layers);
        apps.push(app(&mut cx, &path, app_name, raw.get_ref(), layers));
    }

    let all_layers = layers.clone();
    let mut instances = Vec::new();
    let mut hostnames = BTreeSet::new();
    for (i, raw) in file.instances.iter().enumerate() {
        let path = format!("instances[{i}]");
        let layers = layer_list(&mut cx, &format!("{path}.layers"), &raw.get_ref().layers);
        // Without a provider of its own, an instance gets its first layer's (as on the server).
        let default_provider = layers
            .first()
            .and_then(|first| all_layers.iter().find(|l| &l.name == first))
            .map_or("local", |l| l.provider.provider.as_str())
            .to_owned();
        let spec = instance(&mut cx, &path, raw, layers, &default_provider);
        if let Some(h) = &raw.get_ref().hostname
            && !hostnames.insert(spec.hostname.clone())
        {
            cx.fail(&format!("{path}.hostname"), h, "this hostname is already listed above");
        }
        instances.push(spec);
    }

    if !cx.problems.is_empty() {
        return Err(cx.problems);
    }
    Ok(StackFile { name, custom_json, layers, apps, instances, warnings: cx.warnings, outside_layers })
}

fn layer(cx: &mut Ctx, path: &str, name: &str, raw: &RawLayer) -> LayerSpec {
    let layer_type = raw.layer_type.get_ref().clone();
    if let Err(e) = layer_type.parse::<LayerType>() {
        cx.fail(&format!("{path}.type"), &raw.layer_type, e.to_string());
    }
    let hooks: BTreeMap<String, String> = raw.hooks.iter().map(|(k, v)| (k.clone(), v.get_ref().clone())).collect();
    if let Err(e) = check_hooks(&hooks) {
        let event = e.field.strip_prefix("hooks.").unwrap_or(&e.field);
        match raw.hooks.get(event) {
            Some(at) => cx.fail(&format!("{path}.{}", e.field), at, e.message),
            None => cx.problems.push(Problem::new(format!("{path}.{}", e.field), None, e.message)),
        }
    }
    LayerSpec {
        name: name.to_owned(),
        layer_type,
        type_at: cx.at(&raw.layer_type),
        auto_healing: raw.auto_healing.unwrap_or(true),
        hooks,
        custom_json: cx.custom_json(&format!("{path}.custom_json"), raw.custom_json.as_ref()),
        provider: layer_provider(cx, path, raw),
        load_scaling: raw.load_scaling.as_ref().map(|l| load_scaling(cx, path, l)),
    }
}

/// A layer's `load_scaling` table as a whole rule (what it leaves out takes the default),
/// checked as the server checks it.
fn load_scaling(cx: &mut Ctx, path: &str, raw: &Spanned<raw::RawLoadScaling>) -> (bool, LoadRule) {
    let r = raw.get_ref();
    let d = LoadRule::default();
    let rule = LoadRule {
        up: r.up.unwrap_or(d.up),
        down: r.down.unwrap_or(d.down),
        up_instances: r.up_instances.unwrap_or(d.up_instances),
        down_instances: r.down_instances.unwrap_or(d.down_instances),
        thresholds_wait_secs: r.thresholds_wait_secs.unwrap_or(d.thresholds_wait_secs),
        ignore_metrics_secs: r.ignore_metrics_secs.unwrap_or(d.ignore_metrics_secs),
    };
    if let Err(problems) = rule.validate() {
        for p in problems {
            let field = match p.field.as_str() {
                "thresholds_wait" | "ignore_metrics" => format!("{}_secs", p.field),
                other => other.to_owned(),
            };
            cx.fail(&format!("{path}.load_scaling.{field}"), raw, p.message);
        }
    }
    (r.enabled.unwrap_or(true), rule)
}

/// A layer's `provider` and `ec2` table, checked (the EC2 settings by core `Ec2Settings::validate`).
fn layer_provider(cx: &mut Ctx, path: &str, raw: &RawLayer) -> LayerProvider {
    let provider = raw.provider.as_ref().map_or_else(|| "local".to_owned(), |p| p.get_ref().clone());
    if let Some(p) = &raw.provider
        && let Err(e) = p.get_ref().parse::<Provider>()
    {
        cx.fail(&format!("{path}.provider"), p, e.to_string());
    }
    let ec2 = raw.ec2.as_ref().map(|e| e.get_ref().clone());
    match (&raw.ec2, provider.as_str()) {
        (None, "ec2") => {
            let p = raw.provider.as_ref().map(|p| cx.at(p)).unwrap_or_default();
            cx.problems.push(Problem::new(
                format!("{path}.ec2"),
                p,
                "an ec2 layer needs its machines' settings: add an ec2 table with at least ami and instance_type",
            ));
        }
        (Some(table), "ec2") => {
            if let Err(problems) = Ec2Settings::from(table.get_ref().clone()).validate() {
                for p in problems {
                    cx.fail(&format!("{path}.ec2.{}", p.field), table, p.message);
                }
            }
        }
        (Some(table), other) => {
            cx.fail(&format!("{path}.ec2"), table, format!("an ec2 table is for provider = \"ec2\", not {other}"))
        }
        (None, _) => {}
    }
    LayerProvider { provider, ec2 }
}

fn app(cx: &mut Ctx, path: &str, name: &str, raw: &RawApp, layers: Vec<String>) -> AppSpec {
    let git = raw.git.get_ref();
    let repository = if is_relative_path(git) { cx.path(git).to_string_lossy().into_owned() } else { git.clone() };
    if let Err(e) = check_repository(&repository) {
        cx.fail(&format!("{path}.git"), &raw.git, e.to_string());
    }
    let revision = raw.revision.as_ref().map(|r| r.get_ref().clone()).filter(|r| !r.is_empty());
    if let (Some(r), Some(at)) = (&revision, &raw.revision)
        && let Err(e) = check_revision(r)
    {
        cx.fail(&format!("{path}.revision"), at, e.to_string());
    }
    let mut environment = BTreeMap::new();
    for (var, value) in &raw.environment {
        if let Err(e) = check_env_name(var) {
            cx.fail(&format!("{path}.environment.{}", key(var)), value, e.to_string());
        }
        environment.insert(var.clone(), value.get_ref().clone());
    }
    let mut secret_environment = BTreeMap::new();
    for (var, reference) in &raw.secret_environment {
        let item = format!("{path}.secret_environment.{}", key(var));
        if let Err(e) = check_env_name(var) {
            cx.fail(&item, reference, e.to_string());
        }
        if environment.contains_key(var) {
            cx.fail(&item, reference, format!("{var} is also in environment; give it once"));
        }
        match cx.secret(reference.get_ref()) {
            Ok(value) => {
                // A file holding a password usually ends with a newline that is not part of it.
                let value = value.strip_suffix('\n').map(|v| v.strip_suffix('\r').unwrap_or(v)).unwrap_or(&value);
                secret_environment.insert(var.clone(), value.to_owned());
            }
            Err(e) => cx.fail(&item, reference, e),
        }
    }
    let deploy_key = raw.deploy_key.as_ref().and_then(|reference| {
        let item = format!("{path}.deploy_key");
        match cx.secret(reference.get_ref()) {
            Ok(key) => match check_deploy_key(&key) {
                Ok(()) => Some(key),
                Err(e) => {
                    cx.fail(&item, reference, e.to_string());
                    None
                }
            },
            Err(e) => {
                cx.fail(&item, reference, e);
                None
            }
        }
    });
    AppSpec { name: name.to_owned(), repository, revision, layers, environment, secret_environment, deploy_key }
}

fn instance(
    cx: &mut Ctx,
    path: &str,
    raw: &Spanned<RawInstance>,
    layers: Vec<String>,
    default_provider: &str,
) -> InstanceSpec {
    let r = raw.get_ref();
    let hostname = match &r.hostname {
        Some(h) => {
            cx.name(&format!("{path}.hostname"), h, h.get_ref());
            h.get_ref().clone()
        }
        None => {
            cx.fail(path, raw, "give the instance a hostname: `drover apply` finds existing instances by it");
            String::new()
        }
    };
    let provider = r.provider.as_ref().map_or_else(|| default_provider.to_owned(), |p| p.get_ref().clone());
    if let Some(p) = &r.provider
        && let Err(e) = p.get_ref().parse::<Provider>()
    {
        cx.fail(&format!("{path}.provider"), p, e.to_string());
    }
    let cpu_count = r.cpu_count.as_ref().and_then(|n| match u32::try_from(*n.get_ref()) {
        Ok(v) if (1..=1024).contains(&v) => Some(v),
        _ => {
            cx.fail(&format!("{path}.cpu_count"), n, format!("{} is not a CPU count; use 1 to 1024", n.get_ref()));
            None
        }
    });
    if cpu_count.is_some() && provider != "local" {
        let at = r.cpu_count.as_ref().map(|n| line_col(cx.text, n.span().start));
        cx.problems.push(Problem::new(
            format!("{path}.cpu_count"),
            at,
            "only a local instance takes a cpu_count; a registered or ec2 one reports its own",
        ));
    }
    let provider_at = match &r.provider {
        Some(p) => cx.at(p),
        None => cx.at(raw),
    };
    let scaling = r.scaling.as_ref().and_then(|s| match s.get_ref().parse::<ScalingType>() {
        Ok(t) => Some(t),
        Err(e) => {
            cx.fail(&format!("{path}.scaling"), s, e.to_string());
            None
        }
    });
    let schedule = r.schedule.as_ref().and_then(|specs| {
        if scaling != Some(ScalingType::Time) {
            cx.fail(
                &format!("{path}.schedule"),
                specs,
                "a schedule is for a time-based instance: add scaling = \"time\"",
            );
        }
        match WeeklySchedule::from_specs(specs.get_ref()) {
            Ok(w) => Some(w),
            Err(e) => {
                cx.fail(&format!("{path}.schedule"), specs, e.to_string());
                None
            }
        }
    });
    InstanceSpec { hostname, layers_at: cx.at(&r.layers), layers, provider_at, provider, cpu_count, scaling, schedule }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";

    fn env(name: &str) -> Option<String> {
        match name {
            "DB_PASSWORD" => Some("hunter2".into()),
            "HOME" => Some("/home/me".into()),
            _ => None,
        }
    }

    fn check(text: &str) -> Result<StackFile, Vec<Problem>> {
        parse(text, Path::new("/srv/stacks"), &env)
    }

    const GOOD: &str = r#"
[stack]
name = "demo"
custom_json = '''
{"plone_instances": {"per_cpu": 1, "per_cpus": 2}, "mine": null}
'''

[layers.zeoserver]
type = "zeoserver"

[layers.clients]
type = "plone_instances"
auto_healing = false
hooks = { configure = "scripts/configure.sh" }
custom_json = { plone_instances = { per_cpu = 0.5 } }

[apps.site]
git = "../git/site.git"
revision = "main"
layers = ["zeoserver", "clients"]
environment = { PLONE_ENV = "prod" }
secret_environment = { DB_PASSWORD = "env:DB_PASSWORD" }

[[instances]]
hostname = "clients1"
layers = ["clients"]
cpu_count = 2
"#;

    #[test]
    fn a_good_file_becomes_a_stack_file() {
        let f = check(GOOD).unwrap();
        assert_eq!(f.name, "demo");
        assert_eq!(f.custom_json, serde_json::json!({"plone_instances": {"per_cpu": 1, "per_cpus": 2}, "mine": null}));
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(f.warnings[0].starts_with("stack.custom_json: plone_instances.per_cpus"), "{:?}", f.warnings);
        let clients = &f.layers[0];
        assert_eq!((clients.name.as_str(), clients.auto_healing), ("clients", false));
        assert_eq!(clients.custom_json, serde_json::json!({"plone_instances": {"per_cpu": 0.5}}));
        assert_eq!(f.layers[1].custom_json, serde_json::json!({}));
        assert!(f.layers[1].auto_healing);
        let app = &f.apps[0];
        assert_eq!(app.repository, "/srv/git/site.git");
        assert_eq!(app.secret_environment["DB_PASSWORD"], "hunter2");
        assert_eq!(f.instances[0].cpu_count, Some(2));
        assert_eq!(f.instances[0].provider, "local");
        assert!(f.outside_layers.is_empty());
    }

    #[test]
    fn repositories_resolve_relative_paths_only() {
        for (git, want) in [
            ("https://example.org/site.git", "https://example.org/site.git"),
            ("git@github.com:org/site.git", "git@github.com:org/site.git"),
            ("/abs/site.git", "/abs/site.git"),
            ("site.git", "/srv/stacks/site.git"),
            ("./a/../b.git", "/srv/stacks/b.git"),
            ("~/repos/site.git", "/home/me/repos/site.git"),
        ] {
            let text = format!(
                "[stack]\nname = \"d\"\n[layers.a]\ntype = \"custom\"\n[apps.s]\ngit = {git:?}\nlayers = [\"a\"]\n"
            );
            assert_eq!(check(&text).unwrap().apps[0].repository, want, "{git}");
        }
    }

    #[test]
    fn every_problem_is_named_by_key_and_line() {
        let text = r#"[stack]
name = "Demo"
custom_json = '''
{"plone_instances":
  {"per_cpu": }
}
'''
[layers.web]
type = "webserver"
hooks = { boot = "x" }
custom_json = '[1]'
[apps.site]
git = "https://example.org/s.git"
revision = "a..b"
layers = ["web", "db"]
secret_environment = { A = "env:NOPE", B = "plaintext-secret", C = "file:missing" }
deploy_key = "file:key"
[[instances]]
hostname = "web1"
layers = ["web"]
cpu_count = 0
[[instances]]
hostname = "web1"
layers = ["web", "web"]
[[instances]]
layers = ["web"]
"#;
        let problems = check(text).unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let want = [
            ("stack.name (line 2, column 8)", "must start with a lowercase letter"),
            ("stack.custom_json (line 3, column 15)", "at line 2, column 15 of the JSON (line 5 of the file)"),
            ("layers.web.type (line 9, column 8)", "\"webserver\" is not a valid layer type"),
            ("layers.web.hooks.boot (line 10, column 18)", "not a lifecycle event"),
            ("layers.web.custom_json (line 11, column 15)", "must be a JSON object"),
            ("apps.site.revision (line 14, column 12)", "not a branch"),
            ("apps.site.secret_environment.A", "NOPE is not set in the environment"),
            ("apps.site.secret_environment.B", "is not a secret reference"),
            ("apps.site.secret_environment.C", "file:missing: failed to read /srv/stacks/missing"),
            ("apps.site.deploy_key (line 17, column 14)", "failed to read /srv/stacks/key"),
            ("instances[0].cpu_count (line 21, column 13)", "not a CPU count"),
            ("instances[1].hostname (line 23, column 12)", "already listed"),
            ("instances[1].layers[1] (line 24, column 18)", "listed twice"),
            ("instances[2] (line 25, column 1)", "give the instance a hostname"),
        ];
        for (at, message) in want {
            assert!(
                shown.iter().any(|s| s.starts_with(at) && s.contains(message)),
                "missing {at}: {message} in\n{}",
                shown.join("\n")
            );
        }
        assert!(!shown.iter().any(|s| s.contains("plaintext-secret")), "a pasted secret is not repeated");
        assert_eq!(problems.len(), want.len(), "{}", shown.join("\n"));
    }

    #[test]
    fn ec2_layers_are_checked_and_their_instances_get_ec2() {
        let good = r#"[stack]
name = "cloud"
[layers.web]
type = "custom"
provider = "ec2"
ec2 = { ami = "ami-12345678", instance_type = "t3.micro", tags = { team = "web" }, region = "eu-west-1" }
[[instances]]
hostname = "web1"
layers = ["web"]
"#;
        let f = check(good).unwrap();
        let ec2 = f.layers[0].provider.ec2.clone().unwrap();
        assert_eq!((f.layers[0].provider.provider.as_str(), ec2.ami.as_str()), ("ec2", "ami-12345678"));
        assert_eq!(ec2.tags.get("team").map(String::as_str), Some("web"));
        assert_eq!(f.instances[0].provider, "ec2", "an instance gets its first layer's provider");

        // (the layer's lines, the problem's key path and words)
        let cases = [
            ("provider = \"ec2\"", "layers.web.ec2", "needs its machines' settings"),
            ("provider = \"cloud\"", "layers.web.provider", "not a valid provider"),
            ("ec2 = { ami = \"ami-12345678\", instance_type = \"t3.micro\" }", "layers.web.ec2", "not local"),
            (
                "provider = \"ec2\"\nec2 = { ami = \"ubuntu\", instance_type = \"t3.micro\" }",
                "layers.web.ec2.ami",
                "is not an image id",
            ),
        ];
        for (lines, at, words) in cases {
            let text = format!("[stack]\nname = \"cloud\"\n[layers.web]\ntype = \"custom\"\n{lines}\n");
            let shown: Vec<String> = check(&text).unwrap_err().iter().map(ToString::to_string).collect();
            assert!(shown.iter().any(|s| s.starts_with(at) && s.contains(words)), "{at}: {words} in {shown:?}");
        }
    }

    #[test]
    fn scaling_is_read_and_checked() {
        let good = r#"[stack]
name = "d"
[layers.web]
type = "plone_instances"
load_scaling = { up = { cpu = 80, load = 4 }, down = { cpu = 30 }, thresholds_wait_secs = 120 }
[[instances]]
hostname = "w1"
layers = ["web"]
scaling = "timer"
schedule = ["mon-fri 08-18"]
[[instances]]
hostname = "w2"
layers = ["web"]
scaling = "load"
"#;
        let f = check(good).unwrap();
        let (enabled, rule) = f.layers[0].load_scaling.unwrap();
        assert!(enabled);
        assert_eq!((rule.up.cpu, rule.up.load, rule.down.cpu), (Some(80.0), Some(4.0), Some(30.0)));
        assert_eq!((rule.thresholds_wait_secs, rule.ignore_metrics_secs, rule.up_instances), (120, 600, 1));
        assert_eq!(f.instances[0].scaling, Some(ScalingType::Time));
        assert_eq!(f.instances[0].schedule.as_ref().unwrap().specs(), ["mon-fri 08-18"]);
        assert_eq!((f.instances[1].scaling, f.instances[1].schedule.is_none()), (Some(ScalingType::Load), true));

        // (lines of a layer and an instance, the problem's key path and words)
        let cases = [
            (
                "load_scaling = { up = { cpu = 20 }, down = { cpu = 30 } }",
                "layers.web.load_scaling.down.cpu",
                "not below",
            ),
            ("load_scaling = { thresholds_wait_secs = 5 }", "layers.web.load_scaling.thresholds_wait_secs", "1 to 100"),
            ("scaling = \"sometimes\"", "instances[0].scaling", "not a valid scaling type"),
            ("schedule = [\"mon 08-18\"]", "instances[0].schedule", "add scaling = \"time\""),
            ("scaling = \"time\"\nschedule = [\"someday\"]", "instances[0].schedule", "someday"),
        ];
        for (lines, at, words) in cases {
            let (layer, instance) = if lines.starts_with("load") { (lines, "") } else { ("", lines) };
            let text = format!(
                "[stack]\nname = \"d\"\n[layers.web]\ntype = \"custom\"\n{layer}\n[[instances]]\nhostname = \"w1\"\nlayers = [\"web\"]\n{instance}\n"
            );
            let shown: Vec<String> = check(&text).unwrap_err().iter().map(ToString::to_string).collect();
            assert!(shown.iter().any(|s| s.starts_with(at) && s.contains(words)), "{at}: {words} in {shown:?}");
        }
    }

    #[test]
    fn layers_outside_the_file_are_left_to_the_server_check() {
        let text = "[stack]\nname = \"d\"\n[[instances]]\nhostname = \"w1\"\nlayers = [\"web\"]\n";
        let f = check(text).unwrap();
        assert_eq!(f.outside_layers.len(), 1);
        assert_eq!(f.outside_layers[0].0, "web");
        assert_eq!(f.outside_layers[0].1.path, "instances[0].layers[0]");
    }

    #[test]
    fn secrets_resolve_from_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "s3cret\n").unwrap();
        std::fs::write(dir.path().join("key"), KEY).unwrap();
        let text = "[stack]\nname = \"d\"\n[layers.a]\ntype = \"custom\"\n[apps.s]\ngit = \"/r.git\"\nlayers = [\"a\"]\n\
                    secret_environment = { PW = \"file:pw\" }\ndeploy_key = \"file:key\"\n";
        let f = parse(text, dir.path(), &env).unwrap();
        assert_eq!(f.apps[0].secret_environment["PW"], "s3cret");
        assert_eq!(f.apps[0].deploy_key.as_deref(), Some(KEY));
    }
}
