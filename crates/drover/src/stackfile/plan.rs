//! Reconciliation as a pure function: a checked stack file and what the server has become the
//! API calls that make the server match, one [`Step`] per object. Nothing is ever deleted.

use std::collections::{BTreeMap, BTreeSet};

use drover_core::attributes::{redact, unredact};
use drover_core::scaling::{LoadRule, ScalingType, WeeklySchedule};
use drover_proto::api::{
    App, CreateApp, CreateInstance, CreateLayer, CreateStack, Instance, Layer, Stack, UpdateApp, UpdateLayer,
};
use drover_proto::layer_provider::LayerProvider;
use drover_proto::layer_scaling::SetLayerScaling;
use drover_proto::scaling::SetScaling;
use serde_json::Value;

use super::{Problem, StackFile};

/// What the server has for the stack (`stack` is none when it does not exist).
#[derive(Debug, Clone, Default)]
pub struct Current {
    /// The stack, when it exists.
    pub stack: Option<Stack>,
    /// Its layers.
    pub layers: Vec<Layer>,
    /// Its apps.
    pub apps: Vec<App>,
    /// Its instances.
    pub instances: Vec<Instance>,
    /// Its layers' providers, by layer (a layer not here is local).
    pub providers: BTreeMap<String, LayerProvider>,
    /// Load-based scaling (on, rule) of the layers the file gives one, by layer (a layer not
    /// here has the default rule, off).
    pub load_scaling: BTreeMap<String, (bool, LoadRule)>,
    /// The schedules of time-based instances the file gives one, by hostname.
    pub schedules: BTreeMap<String, WeeklySchedule>,
}

/// A layer's provider when none was set: local, without settings.
pub fn local_provider() -> LayerProvider {
    LayerProvider { provider: "local".into(), ec2: None }
}

/// One API call.
#[derive(Debug, Clone)]
pub enum Call {
    /// Create the stack.
    CreateStack(CreateStack),
    /// Replace the stack's (or a layer's) Custom JSON.
    SetCustomJson {
        /// The layer; none: the stack.
        layer: Option<String>,
        /// The document.
        doc: Value,
    },
    /// Create a layer.
    CreateLayer(CreateLayer),
    /// Change a layer's hooks or auto-healing.
    UpdateLayer(String, UpdateLayer),
    /// Set a layer's provider and its settings.
    SetLayerProvider(String, LayerProvider),
    /// Create an app.
    CreateApp(CreateApp),
    /// Change an app.
    UpdateApp(String, UpdateApp),
    /// Create an instance.
    CreateInstance(CreateInstance),
    /// Set a layer's load-based scaling.
    SetLayerScaling(String, SetLayerScaling),
    /// Set an instance's scaling type or schedule.
    SetScaling(String, SetScaling),
}

/// The whole rule as a request.
fn layer_scaling_call(layer: &str, (enabled, rule): (bool, LoadRule)) -> Call {
    Call::SetLayerScaling(
        layer.to_owned(),
        SetLayerScaling {
            enabled: Some(enabled),
            up: Some(rule.up),
            down: Some(rule.down),
            up_instances: Some(rule.up_instances),
            down_instances: Some(rule.down_instances),
            thresholds_wait_secs: Some(rule.thresholds_wait_secs),
            ignore_metrics_secs: Some(rule.ignore_metrics_secs),
        },
    )
}

/// What happens to one object.
#[derive(Debug, Clone, Default)]
pub struct Step {
    /// stack, layer, app or instance.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Whether it is created.
    pub create: bool,
    /// What differs (empty and not created: unchanged).
    pub changes: Vec<String>,
    /// Custom JSON sent only because its secret values cannot be compared here: the server
    /// compares them and answers whether it changed.
    pub secret_json: bool,
    /// The calls, in order.
    pub calls: Vec<Call>,
}

impl Step {
    fn new(kind: &'static str, name: &str) -> Self {
        Self { kind, name: name.to_owned(), ..Default::default() }
    }

    /// The line `drover apply` prints (before or instead of doing it).
    pub fn line(&self, dry_run: bool) -> String {
        let what = format!("{} {}", self.kind, self.name);
        let details = if self.changes.is_empty() { String::new() } else { format!(" ({})", self.changes.join(", ")) };
        match (self.create, self.changes.is_empty(), dry_run) {
            (true, _, true) => format!("{what}: would create"),
            (true, _, false) => format!("{what}: created"),
            (false, false, true) => format!("{what}: would update{details}"),
            (false, false, false) => format!("{what}: updated{details}"),
            (false, true, true) if self.secret_json => {
                format!("{what}: unchanged unless a secret value in its custom_json differs (the server compares them)")
            }
            (false, true, _) => format!("{what}: unchanged"),
        }
    }
}

/// Every step, and notes about what the file leaves alone.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// One per object in the file: the stack, its layers, apps and instances.
    pub steps: Vec<Step>,
    /// Objects on the server the file does not name, and settings that cannot be changed.
    pub notes: Vec<String>,
}

impl Plan {
    /// Whether applying it calls the server at all.
    pub fn is_noop(&self) -> bool {
        self.steps.iter().all(|s| s.calls.is_empty())
    }
}

/// Sets `secret_json`/`changes` and adds the call when a Custom JSON document must be sent.
/// `shown` is the server's document with secrets redacted (empty for a new object).
fn custom_json(path: &str, want: &Value, shown: &Value, layer: Option<&str>, step: &mut Step) -> Result<(), Problem> {
    unredact(&mut want.clone(), shown).map_err(|at| {
        Problem::new(
            path,
            None,
            format!(
                "{at} is \"<redacted>\" but the server stores no value there to keep; give the real value once \
                 (e.g. with `drover stack set-json` or `drover layer set-json`); afterwards \"<redacted>\" keeps it"
            ),
        )
    })?;
    if step.create {
        return Ok(());
    }
    let mut redacted = want.clone();
    redact(&mut redacted);
    if &redacted != shown {
        step.changes.push("custom_json".into());
    } else if &redacted != want {
        step.secret_json = true;
    } else {
        return Ok(());
    }
    step.calls.push(Call::SetCustomJson { layer: layer.map(str::to_owned), doc: want.clone() });
    Ok(())
}

/// A schedule as the grid the API takes (it can say "never", which no `--on` spec can).
fn grid(schedule: &WeeklySchedule) -> Value {
    serde_json::to_value(schedule).unwrap_or_default()
}

/// The call that sets an existing instance's scaling type and schedule as the file gives them.
fn scaling(want: &super::check::InstanceSpec, have: &Instance, current: &Current, step: &mut Step) {
    let Some(wanted) = want.scaling else { return };
    let type_differs = have.scaling.parse::<ScalingType>().ok() != Some(wanted);
    let schedule_differs = match &want.schedule {
        Some(w) => current.schedules.get(&want.hostname) != Some(w),
        None => false,
    };
    if type_differs {
        step.changes.push("scaling".into());
    }
    if schedule_differs {
        step.changes.push("schedule".into());
    }
    if type_differs || schedule_differs {
        let req = SetScaling {
            scaling: Some(wanted.as_str().to_owned()),
            on: Vec::new(),
            grid: want.schedule.as_ref().map(grid),
        };
        step.calls.push(Call::SetScaling(want.hostname.clone(), req));
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// Plans the calls that make the server match the file. Refuses (with every problem) what the
/// API cannot do: a layer's type, an instance's layers or provider cannot change.
pub fn plan(file: &StackFile, current: &Current, update_secrets: bool) -> Result<Plan, Vec<Problem>> {
    let mut out = Plan::default();
    let mut problems = Vec::new();
    let empty = Value::Object(Default::default());
    let stack = &file.name;

    let mut step = Step::new("stack", stack);
    match &current.stack {
        None => {
            step.create = true;
            step.calls.push(Call::CreateStack(CreateStack {
                name: stack.clone(),
                custom_json: Some(file.custom_json.clone()),
            }));
            if let Err(p) = custom_json("stack.custom_json", &file.custom_json, &empty, None, &mut step) {
                problems.push(p);
            }
        }
        Some(s) => {
            if let Err(p) = custom_json("stack.custom_json", &file.custom_json, &s.custom_json, None, &mut step) {
                problems.push(p);
            }
        }
    }
    out.steps.push(step);

    for (name, problem) in &file.outside_layers {
        if !current.layers.iter().any(|l| &l.shortname == name) {
            problems.push(problem.clone());
        }
    }

    for want in &file.layers {
        let path = format!("layers.{}", want.name);
        let mut step = Step::new("layer", &want.name);
        match current.layers.iter().find(|l| l.shortname == want.name) {
            None => {
                step.create = true;
                step.calls.push(Call::CreateLayer(CreateLayer {
                    shortname: want.name.clone(),
                    layer_type: want.layer_type.clone(),
                    custom_json: Some(want.custom_json.clone()),
                    auto_healing: Some(want.auto_healing),
                    hooks: want.hooks.clone(),
                }));
                if let Err(p) = custom_json(&format!("{path}.custom_json"), &want.custom_json, &empty, None, &mut step)
                {
                    problems.push(p);
                }
                if want.provider != local_provider() {
                    step.calls.push(Call::SetLayerProvider(want.name.clone(), want.provider.clone()));
                }
                if let Some(scaling) = want.load_scaling {
                    step.calls.push(layer_scaling_call(&want.name, scaling));
                }
            }
            Some(have) => {
                if have.layer_type != want.layer_type {
                    problems.push(Problem::new(
                        format!("{path}.type"),
                        want.type_at,
                        format!(
                            "layer {} is a {} layer on the server and a layer's type cannot change; delete it \
                             (`drover layer delete --stack {stack} {}`, once no instance or app uses it) and apply \
                             again to recreate it, or write type = \"{}\"",
                            want.name, have.layer_type, want.name, have.layer_type
                        ),
                    ));
                    continue;
                }
                let mut req = UpdateLayer::default();
                if have.hooks != want.hooks {
                    req.hooks = Some(want.hooks.clone());
                    step.changes.push("hooks".into());
                }
                if have.auto_healing != want.auto_healing {
                    req.auto_healing = Some(want.auto_healing);
                    step.changes.push("auto_healing".into());
                }
                if req.hooks.is_some() || req.auto_healing.is_some() {
                    step.calls.push(Call::UpdateLayer(want.name.clone(), req));
                }
                let have_provider = current.providers.get(&want.name).cloned().unwrap_or_else(local_provider);
                if have_provider != want.provider {
                    step.changes.push("provider".into());
                    step.calls.push(Call::SetLayerProvider(want.name.clone(), want.provider.clone()));
                }
                if let Some(scaling) = want.load_scaling {
                    let have = current.load_scaling.get(&want.name).copied().unwrap_or((false, LoadRule::default()));
                    if have != scaling {
                        step.changes.push("load_scaling".into());
                        step.calls.push(layer_scaling_call(&want.name, scaling));
                    }
                }
                let path = format!("{path}.custom_json");
                if let Err(p) = custom_json(&path, &want.custom_json, &have.custom_json, Some(&want.name), &mut step) {
                    problems.push(p);
                }
            }
        }
        out.steps.push(step);
    }

    for want in &file.apps {
        let mut step = Step::new("app", &want.name);
        match current.apps.iter().find(|a| a.name == want.name) {
            None => {
                step.create = true;
                step.calls.push(Call::CreateApp(CreateApp {
                    name: want.name.clone(),
                    app_type: None,
                    layers: want.layers.clone(),
                    repository: want.repository.clone(),
                    revision: want.revision.clone(),
                    deploy_key: want.deploy_key.clone(),
                    environment: want.environment.clone(),
                    secret_environment: want.secret_environment.clone(),
                }));
            }
            Some(have) => {
                let req = app_update(want, have, update_secrets, &mut step.changes);
                if !step.changes.is_empty() {
                    step.calls.push(Call::UpdateApp(want.name.clone(), req));
                }
            }
        }
        out.steps.push(step);
    }

    for (i, want) in file.instances.iter().enumerate() {
        let mut step = Step::new("instance", &want.hostname);
        match current.instances.iter().find(|h| h.hostname == want.hostname) {
            None => {
                step.create = true;
                step.calls.push(Call::CreateInstance(CreateInstance {
                    layers: want.layers.clone(),
                    provider: Some(want.provider.clone()),
                    hostname: Some(want.hostname.clone()),
                    cpu_count: want.cpu_count,
                    scaling: want.scaling.map(|s| s.as_str().to_owned()),
                }));
                if let Some(schedule) = &want.schedule {
                    let req = SetScaling { grid: Some(grid(schedule)), ..Default::default() };
                    step.calls.push(Call::SetScaling(want.hostname.clone(), req));
                }
            }
            Some(have) => {
                let recreate = format!(
                    "delete it (`drover instance stop --stack {stack} {0} --wait`, then `drover instance delete \
                     --stack {stack} {0}`) and apply again to recreate it",
                    want.hostname
                );
                if !same_set(&have.layers, &want.layers) {
                    problems.push(Problem::new(
                        format!("instances[{i}].layers"),
                        want.layers_at,
                        format!(
                            "instance {} is in layers [{}] on the server and an instance's layers cannot change; {recreate}",
                            want.hostname,
                            have.layers.join(", ")
                        ),
                    ));
                }
                if have.provider != want.provider {
                    problems.push(Problem::new(
                        format!("instances[{i}].provider"),
                        want.provider_at,
                        format!(
                            "instance {} is a {} instance on the server and its provider cannot change; {recreate}",
                            want.hostname, have.provider
                        ),
                    ));
                }
                scaling(want, have, current, &mut step);
                if let (Some(n), Some(reported)) = (want.cpu_count, have.cpu_count)
                    && n != reported
                {
                    out.notes.push(format!(
                        "instance {} has {reported} CPU(s), the file says cpu_count = {n}; the CPU count is set when \
                         an instance is created, so it is left as is",
                        want.hostname
                    ));
                }
            }
        }
        out.steps.push(step);
    }

    let listed = |kind: &str, names: Vec<&String>, wanted: BTreeSet<&String>, out: &mut Plan| {
        for name in names.into_iter().filter(|n| !wanted.contains(n)) {
            out.notes.push(format!("{kind} {name} is in stack {stack} but not in the file; left as is"));
        }
    };
    listed(
        "layer",
        current.layers.iter().map(|l| &l.shortname).collect(),
        file.layers.iter().map(|l| &l.name).collect(),
        &mut out,
    );
    listed(
        "app",
        current.apps.iter().map(|a| &a.name).collect(),
        file.apps.iter().map(|a| &a.name).collect(),
        &mut out,
    );
    listed(
        "instance",
        current.instances.iter().map(|i| &i.hostname).collect(),
        file.instances.iter().map(|i| &i.hostname).collect(),
        &mut out,
    );

    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// The update that makes an existing app match; `changes` names what differs. Secret values
/// cannot be read back, so a secret (or deploy key) that exists is sent again only with
/// `update_secrets`.
fn app_update(want: &super::AppSpec, have: &App, update_secrets: bool, changes: &mut Vec<String>) -> UpdateApp {
    let mut req = UpdateApp::default();
    if !same_set(&have.layers, &want.layers) {
        req.layers = Some(want.layers.clone());
        changes.push("layers".into());
    }
    if have.repository != want.repository {
        req.repository = Some(want.repository.clone());
        changes.push("git".into());
    }
    if have.revision != want.revision {
        req.revision = Some(want.revision.clone().unwrap_or_default());
        changes.push("revision".into());
    }
    let secret_names: BTreeSet<&String> = have.secret_environment.iter().collect();
    let plain: BTreeMap<&String, &String> =
        have.environment.iter().filter(|(k, _)| !secret_names.contains(k)).collect();
    for (name, value) in &want.environment {
        if plain.get(name) != Some(&value) {
            req.environment.insert(name.clone(), value.clone());
            changes.push(format!("environment.{name}"));
        }
    }
    for (name, value) in &want.secret_environment {
        if update_secrets || !secret_names.contains(name) {
            req.secret_environment.insert(name.clone(), value.clone());
            changes.push(format!("secret_environment.{name}"));
        }
    }
    let kept = |name: &String| want.environment.contains_key(name) || want.secret_environment.contains_key(name);
    for name in plain.keys().filter(|n| !kept(n)) {
        req.unset_environment.push((*name).clone());
        changes.push(format!("environment.{name} removed"));
    }
    for name in secret_names.iter().filter(|n| !kept(n)) {
        req.unset_environment.push((*name).clone());
        changes.push(format!("secret_environment.{name} removed"));
    }
    match (&want.deploy_key, have.deploy_key) {
        (Some(key), false) => {
            req.deploy_key = Some(key.clone());
            changes.push("deploy_key".into());
        }
        (Some(key), true) if update_secrets => {
            req.deploy_key = Some(key.clone());
            changes.push("deploy_key".into());
        }
        (None, true) => {
            req.deploy_key = Some(String::new());
            changes.push("deploy_key removed".into());
        }
        _ => {}
    }
    req
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::check::{AppSpec, InstanceSpec, LayerSpec};
    use drover_core::scaling::{LoadRule, ScalingType, WeeklySchedule};

    use super::*;

    fn file() -> StackFile {
        StackFile {
            name: "demo".into(),
            custom_json: json!({"plone_instances": {"per_cpu": 1}, "haproxy": {"stats_password": "<redacted>"}}),
            layers: vec![LayerSpec {
                name: "clients".into(),
                layer_type: "plone_instances".into(),
                type_at: Some((9, 8)),
                auto_healing: true,
                hooks: BTreeMap::from([("configure".into(), "true".into())]),
                custom_json: json!({}),
                provider: local_provider(),
                load_scaling: None,
            }],
            apps: vec![AppSpec {
                name: "site".into(),
                repository: "/r.git".into(),
                revision: None,
                layers: vec!["clients".into()],
                environment: BTreeMap::from([("A".into(), "1".into())]),
                secret_environment: BTreeMap::from([("PW".into(), "s".into())]),
                deploy_key: None,
            }],
            instances: vec![InstanceSpec {
                hostname: "clients1".into(),
                layers_at: Some((21, 10)),
                layers: vec!["clients".into()],
                provider_at: Some((20, 1)),
                provider: "local".into(),
                cpu_count: Some(2),
                scaling: None,
                schedule: None,
            }],
            warnings: vec![],
            outside_layers: vec![],
        }
    }

    /// The server after applying `file()`.
    fn matching() -> Current {
        Current {
            stack: Some(Stack {
                name: "demo".into(),
                custom_json: json!({"plone_instances": {"per_cpu": 1}, "haproxy": {"stats_password": "<redacted>"}}),
                created_at: String::new(),
            }),
            layers: vec![Layer {
                stack: "demo".into(),
                shortname: "clients".into(),
                layer_type: "plone_instances".into(),
                custom_json: json!({}),
                auto_healing: true,
                hooks: BTreeMap::from([("configure".into(), "true".into())]),
            }],
            apps: vec![App {
                stack: "demo".into(),
                name: "site".into(),
                app_type: "buildout".into(),
                layers: vec!["clients".into()],
                repository: "/r.git".into(),
                revision: None,
                deploy_key: false,
                environment: BTreeMap::from([("A".into(), "1".into()), ("PW".into(), "<redacted>".into())]),
                secret_environment: vec!["PW".into()],
                pinned: None,
                created_at: String::new(),
                updated_at: String::new(),
            }],
            instances: vec![Instance {
                hostname: "clients1".into(),
                stack: "demo".into(),
                layers: vec!["clients".into()],
                provider: "local".into(),
                status: "online".into(),
                address: None,
                cpu_count: Some(2),
                memory_bytes: None,
                agent_version: None,
                last_heartbeat: None,
                metrics: None,
                created_at: String::new(),
                services: Vec::new(),
                scaling: "24/7".into(),
                machine_id: None,
            }],
            providers: BTreeMap::new(),
            ..Default::default()
        }
    }

    fn lines(p: &Plan) -> Vec<String> {
        p.steps.iter().map(|s| s.line(false)).collect()
    }

    #[test]
    fn a_matching_server_means_nothing_to_do() {
        let p = plan(&file(), &matching(), false).unwrap();
        assert!(p.is_noop(), "{:?}", p.steps);
        assert!(lines(&p).iter().all(|l| l.ends_with(": unchanged")), "{:?}", lines(&p));
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn an_empty_server_gets_everything_created_in_order() {
        let mut f = file();
        f.custom_json = json!({"plone_instances": {"per_cpu": 1}});
        let p = plan(&f, &Current::default(), false).unwrap();
        assert_eq!(
            lines(&p),
            ["stack demo: created", "layer clients: created", "app site: created", "instance clients1: created"]
        );
        assert!(matches!(&p.steps[0].calls[..], [Call::CreateStack(_)]));
    }

    #[test]
    fn only_what_differs_is_updated() {
        type Edit = fn(&mut StackFile, &mut Current);
        let cases: Vec<(Edit, &str, &str)> = vec![
            (|f, _| f.custom_json["plone_instances"]["per_cpu"] = json!(2), "stack demo", "custom_json"),
            (|f, _| f.layers[0].auto_healing = false, "layer clients", "auto_healing"),
            (|f, _| f.layers[0].hooks.clear(), "layer clients", "hooks"),
            (|f, _| f.layers[0].custom_json = json!({"x": null}), "layer clients", "custom_json"),
            (
                |f, _| {
                    let ec2 = drover_proto::layer_provider::Ec2Config {
                        ami: "ami-12345678".into(),
                        instance_type: "t3.micro".into(),
                        ..Default::default()
                    };
                    f.layers[0].provider = LayerProvider { provider: "ec2".into(), ec2: Some(ec2) };
                },
                "layer clients",
                "provider",
            ),
            (|f, _| f.apps[0].revision = Some("v2".into()), "app site", "revision"),
            (|f, _| f.apps[0].repository = "/other.git".into(), "app site", "git"),
            (|f, _| drop(f.apps[0].environment.insert("A".into(), "2".into())), "app site", "environment.A"),
            (|f, _| drop(f.apps[0].environment.remove("A")), "app site", "environment.A removed"),
            (|f, _| drop(f.apps[0].secret_environment.remove("PW")), "app site", "secret_environment.PW removed"),
            (
                |f, _| drop(f.apps[0].secret_environment.insert("NEW".into(), "v".into())),
                "app site",
                "secret_environment.NEW",
            ),
            (|_, c| c.apps[0].deploy_key = true, "app site", "deploy_key removed"),
            (|f, _| f.apps[0].deploy_key = Some("k".into()), "app site", "deploy_key"),
            (|f, _| f.layers[0].load_scaling = Some((true, LoadRule::default())), "layer clients", "load_scaling"),
            (|f, _| f.instances[0].scaling = Some(ScalingType::Load), "instance clients1", "scaling"),
            (
                |f, c| {
                    c.instances[0].scaling = "time".into();
                    c.schedules.insert("clients1".into(), WeeklySchedule::from_specs(&["mon 08-18"]).unwrap());
                    f.instances[0].scaling = Some(ScalingType::Time);
                    f.instances[0].schedule = Some(WeeklySchedule::from_specs(&["tue 08-18"]).unwrap());
                },
                "instance clients1",
                "schedule",
            ),
        ];
        for (edit, object, change) in cases {
            let (mut f, mut c) = (file(), matching());
            edit(&mut f, &mut c);
            let p = plan(&f, &c, false).unwrap();
            let changed: Vec<String> = lines(&p).into_iter().filter(|l| !l.ends_with(": unchanged")).collect();
            assert_eq!(changed, [format!("{object}: updated ({change})")], "{change}");
        }
    }

    #[test]
    fn scaling_is_set_when_created_and_left_alone_when_it_matches() {
        let rule = LoadRule { up: drover_core::scaling::Thresholds::parse("cpu=80").unwrap(), ..Default::default() };
        let schedule = WeeklySchedule::from_specs(&["mon-fri 08-18"]).unwrap();
        let mut f = file();
        f.layers[0].load_scaling = Some((true, rule));
        f.instances[0].scaling = Some(ScalingType::Time);
        f.instances[0].schedule = Some(schedule);
        let mut new = f.clone();
        new.custom_json = json!({});
        let p = plan(&new, &Current::default(), false).unwrap();
        let layer = &p.steps[1].calls;
        assert!(
            matches!(&layer[..], [Call::CreateLayer(_), Call::SetLayerScaling(_, r)] if r.enabled == Some(true) && r.up == Some(rule.up))
        );
        let host = &p.steps[3].calls;
        let [Call::CreateInstance(create), Call::SetScaling(_, set)] = &host[..] else { panic!("{host:?}") };
        assert_eq!(create.scaling.as_deref(), Some("time"));
        assert_eq!(drover_core::scaling::grid::from_value(set.grid.as_ref().unwrap()), Ok(schedule));

        let mut c = matching();
        c.load_scaling.insert("clients".into(), (true, rule));
        c.instances[0].scaling = "time".into();
        c.schedules.insert("clients1".into(), schedule);
        assert!(plan(&f, &c, false).unwrap().is_noop());
    }

    #[test]
    fn moving_a_variable_between_plain_and_secret_unsets_nothing_twice() {
        let mut f = file();
        let pw = f.apps[0].secret_environment.remove("PW").unwrap();
        f.apps[0].environment.insert("PW".into(), pw);
        let p = plan(&f, &matching(), false).unwrap();
        let Some(Call::UpdateApp(_, req)) = p.steps[2].calls.first() else { panic!("{:?}", p.steps[2]) };
        assert!(req.unset_environment.is_empty());
        assert_eq!(req.environment.get("PW").map(String::as_str), Some("s"));
    }

    #[test]
    fn secrets_are_sent_again_only_when_asked() {
        let p = plan(&file(), &matching(), true).unwrap();
        assert_eq!(lines(&p)[2], "app site: updated (secret_environment.PW)");
    }

    #[test]
    fn real_secret_values_in_custom_json_are_left_to_the_server() {
        let mut f = file();
        f.custom_json["haproxy"]["stats_password"] = json!("s3cret");
        let p = plan(&f, &matching(), false).unwrap();
        assert!(p.steps[0].secret_json && p.steps[0].changes.is_empty());
        assert!(matches!(&p.steps[0].calls[..], [Call::SetCustomJson { layer: None, .. }]));
        assert!(p.steps[0].line(true).contains("unchanged unless a secret value"));
        assert_eq!(p.steps[0].line(false), "stack demo: unchanged");
    }

    #[test]
    fn what_cannot_change_is_refused_before_anything_is_done() {
        let mut c = matching();
        c.layers[0].layer_type = "custom".into();
        c.instances[0].layers = vec!["other".into()];
        c.stack.as_mut().unwrap().custom_json = json!({});
        let problems = plan(&file(), &c, false).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["stack.custom_json", "layers.clients.type", "instances[0].layers"]);
        assert!(problems[1].message.contains("drover layer delete --stack demo clients"));
        assert_eq!(problems[1].at, Some((9, 8)));
    }

    #[test]
    fn extras_and_unchangeable_settings_are_noted() {
        let mut c = matching();
        c.instances[0].cpu_count = Some(4);
        let mut extra = c.instances[0].clone();
        extra.hostname = "web7".into();
        c.instances.push(extra);
        let p = plan(&file(), &c, false).unwrap();
        assert!(p.is_noop());
        assert_eq!(p.notes.len(), 2, "{:?}", p.notes);
        assert!(p.notes[0].contains("cpu_count = 2"));
        assert_eq!(p.notes[1], "instance web7 is in stack demo but not in the file; left as is");
    }

    #[test]
    fn layers_named_outside_the_file_must_exist_on_the_server() {
        let mut f = file();
        f.outside_layers = vec![("db".into(), Problem::new("apps.site.layers[1]", None, "missing"))];
        assert_eq!(plan(&f, &matching(), false).unwrap_err()[0].path, "apps.site.layers[1]");
        let mut c = matching();
        let mut db = c.layers[0].clone();
        db.shortname = "db".into();
        c.layers.push(db);
        assert!(plan(&f, &c, false).is_ok());
    }
}
