//! [`Inputs`] to an [`Import`]: the one stack chosen, with its layers, apps, instances and
//! scaling, and everything else listed by name.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::layer_type::{decide, recipe_type};
use super::names::drover_name;
use super::record::{Record, is_empty, kind};
use super::{
    Import, ImportError, ImportedApp, ImportedInstance, ImportedLayer, ImportedLoadScaling, Inputs, LeftOut, Options,
};
use crate::LayerType;
use crate::app::check_env_name;
use crate::scaling::{LoadRule, ScalingType, Thresholds, grid};

/// OpsWorks' lifecycle events, in order.
const EVENTS: [&str; 5] = ["Setup", "Configure", "Deploy", "Undeploy", "Shutdown"];

/// Fields that are ids, timestamps, or facts of a running machine rather than settings.
const NOT_SETTINGS: &[&str] = &[
    "StackId",
    "LayerId",
    "AppId",
    "InstanceId",
    "Arn",
    "CreatedAt",
    "Name",
    "Region",
    "HostnameTheme",
    "AgentVersion",
    "DefaultRecipes",
    "DefaultSecurityGroupNames",
    "Status",
    "PrivateIp",
    "PrivateDns",
    "PublicIp",
    "PublicDns",
    "Ec2InstanceId",
    "LastServiceErrorId",
    "Platform",
    "ReportedAgentVersion",
    "ReportedOs",
    "SshHostDsaKeyFingerprint",
    "SshHostRsaKeyFingerprint",
    "RootDeviceVolumeId",
    "InfrastructureClass",
    "RegisteredBy",
    "EcsClusterArn",
    "EcsContainerInstanceArn",
    "VirtualizationType",
    "Architecture",
    "AvailabilityZone",
    "SecurityGroupIds",
    "RootDeviceType",
    "Tenancy",
    "Os",
    "AmiId",
    "SubnetId",
];

/// Why a setting is not carried over.
fn reason(field: &str) -> &'static str {
    match field {
        "VolumeConfigurations" | "BlockDeviceMappings" => {
            "EBS volumes are not managed: attach and mount the storage on the hosts yourself"
        }
        "ElasticIp" | "AutoAssignElasticIps" => "Elastic IPs are not managed: the hosts keep their own addresses",
        "AutoAssignPublicIps" => "public addresses are the hosts' own",
        "ElasticLoadBalancer" => "load balancers are not run by Drover: a frontend layer balances the clients",
        "DataSources" => {
            "databases (RDS) are not run by Drover: keep the database and give its address in the Custom JSON"
        }
        "CustomCookbooksSource" | "UseCustomCookbooks" | "ChefConfiguration" | "ConfigurationManager" => {
            "Chef cookbooks are not run: Drover carries out the Plone lifecycle itself; use layer hooks for the rest"
        }
        "Packages" => "packages are not installed by Drover: install them with a setup hook",
        "CustomSecurityGroupIds"
        | "VpcId"
        | "DefaultSubnetId"
        | "ServiceRoleArn"
        | "DefaultInstanceProfileArn"
        | "CustomInstanceProfileArn"
        | "InstanceProfileArn"
        | "UseOpsworksSecurityGroups"
        | "DefaultSshKeyName"
        | "SshKeyName" => {
            "AWS networking, keys and IAM are not managed here (an ec2 layer's settings take a subnet, \
                          security groups and a key name)"
        }
        "InstanceType"
        | "DefaultOs"
        | "DefaultRootDeviceType"
        | "EbsOptimized"
        | "UseEbsOptimizedInstances"
        | "InstallUpdatesOnBoot" => {
            "the machine is the host's own (an ec2 layer's settings choose an image and a type)"
        }
        "Domains" | "EnableSsl" | "SslConfiguration" => {
            "domains and TLS belong to the frontend: set them in its Custom JSON"
        }
        "Attributes" => "OpsWorks attributes have no Drover equivalent",
        "CloudWatchLogsConfiguration" => "logs are not shipped to CloudWatch",
        "LifecycleEventConfiguration" => "Drover's shutdown phase has its own timeout",
        "Type" => "Drover apps are buildouts from git; the app is imported as one",
        _ => "no Drover equivalent",
    }
}

/// Whether a field's value must not be shown.
fn secret_field(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    ["password", "secret", "key", "token", "certificate"].iter().any(|s| f.contains(s))
}

/// ` = value` for a short scalar, ` (N items)` for a list, nothing otherwise or for secrets.
fn shown(field: &str, value: &Value) -> String {
    if secret_field(field) {
        return String::new();
    }
    match value {
        Value::String(s) if s.chars().count() <= 80 => format!(" = {s}"),
        Value::Number(n) => format!(" = {n}"),
        Value::Bool(b) => format!(" = {b}"),
        Value::Array(items) => format!(" ({} item(s))", items.len()),
        _ => String::new(),
    }
}

/// Lists every setting of `record` that is not in `used` and carries something.
fn leftovers(record: &Record, owner: &str, used: &[&str], out: &mut Vec<LeftOut>) {
    for (field, value) in &record.fields {
        if used.contains(&field.as_str()) || NOT_SETTINGS.contains(&field.as_str()) || is_empty(value) {
            continue;
        }
        let item = format!("{field}{}", shown(field, value));
        out.push(LeftOut { owner: owner.to_owned(), item, reason: reason(field).to_owned() });
    }
}

/// A Custom JSON document: a JSON string (describe) or an object (CloudFormation).
fn custom_json(record: &Record, field: &str) -> Result<Value, ImportError> {
    match record.fields.get(field) {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Value::Object(Map::new())),
        Some(Value::String(s)) => {
            let doc: Value = serde_json::from_str(s)
                .map_err(|e| record.error(field, format!("is not valid JSON: {e}; fix it in the file")))?;
            if doc.is_object() {
                Ok(doc)
            } else {
                Err(record.error(field, format!("is {}, not an object", kind(&doc))))
            }
        }
        Some(doc @ Value::Object(_)) => Ok(doc.clone()),
        Some(other) => Err(record.error(field, format!("expected a JSON string or an object, found {}", kind(other)))),
    }
}

/// A unique Drover name for `raw` among `taken`; a change is noted.
fn unique_name(raw: &str, what: &str, taken: &mut BTreeSet<String>, notes: &mut Vec<String>) -> String {
    let base = drover_name(raw);
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        let suffix = format!("-{n}");
        name = format!("{}{suffix}", &base[..base.len().min(32 - suffix.len())]);
        n += 1;
    }
    if name != raw {
        notes.push(format!("{what} {raw:?} is named {name} (Drover names are lowercase letters, digits, _ and -)"));
    }
    taken.insert(name.clone());
    name
}

/// Whether a record belongs to the stack (records without a StackId do).
fn in_stack(record: &Record, stack_id: &str) -> Result<bool, ImportError> {
    Ok(record.str("StackId")?.is_none_or(|id| id == stack_id))
}

/// The stack the options choose.
fn choose_stack<'a>(inputs: &'a Inputs, options: &Options) -> Result<&'a Record, ImportError> {
    let Some(first) = inputs.stacks.first() else {
        return Err(ImportError::new("describe-stacks.json", "Stacks", "is empty: there is no stack to import"));
    };
    let mut names = Vec::new();
    for s in &inputs.stacks {
        let (id, name) = (s.str("StackId")?.unwrap_or_default(), s.str("Name")?.unwrap_or_default());
        if let Some(wanted) = &options.stack
            && (wanted == id || wanted == name || *wanted == drover_name(name))
        {
            return Ok(s);
        }
        names.push(format!("{name:?} ({id})"));
    }
    match (&options.stack, inputs.stacks.len()) {
        (None, 1) => Ok(first),
        (None, _) => Err(ImportError::new(
            &first.file,
            "Stacks",
            format!("holds {} stacks: {}; choose one with --stack NAME", names.len(), names.join(", ")),
        )),
        (Some(wanted), _) => Err(ImportError::new(
            &first.file,
            "Stacks",
            format!("has no stack named {wanted:?}; it has {}", names.join(", ")),
        )),
    }
}

/// Converts the chosen stack.
pub fn convert(inputs: &Inputs, options: &Options) -> Result<Import, ImportError> {
    let stack = choose_stack(inputs, options)?;
    let stack_id = stack.required_str("StackId")?.to_owned();
    let raw_name = stack.required_str("Name")?;
    let mut notes = inputs.notes.clone();
    let name = match &options.name {
        Some(n) => n.clone(),
        None => unique_name(raw_name, "stack", &mut BTreeSet::new(), &mut notes),
    };
    let mut left_out = inputs.left_out.clone();
    leftovers(stack, "stack", &["CustomJson", "UseCustomCookbooks"], &mut left_out);
    let mut import = Import {
        name,
        custom_json: custom_json(stack, "CustomJson")?,
        layers: Vec::new(),
        apps: Vec::new(),
        instances: Vec::new(),
        left_out: Vec::new(),
        notes: Vec::new(),
    };

    let mut layer_names: BTreeMap<String, String> = BTreeMap::new();
    let mut taken = BTreeSet::new();
    for record in &inputs.layers {
        if !in_stack(record, &stack_id)? {
            continue;
        }
        let layer = layer(record, &mut taken, &mut notes, &mut left_out)?;
        layer_names.insert(record.required_str("LayerId")?.to_owned(), layer.name.clone());
        import.layers.push(layer);
    }
    for record in &inputs.load_scaling {
        let id = record.required_str("LayerId")?;
        let Some(name) = layer_names.get(id) else { continue };
        let scaling = load_scaling(record, name, &mut left_out)?;
        if let Some(l) = import.layers.iter_mut().find(|l| &l.name == name) {
            l.load_scaling = Some(scaling);
        }
    }

    let mut taken = BTreeSet::new();
    for record in &inputs.apps {
        if in_stack(record, &stack_id)?
            && let Some(app) = app(record, &import.layers, &mut taken, &mut notes, &mut left_out)?
        {
            import.apps.push(app);
        }
    }

    let schedules: BTreeMap<&str, &Record> = inputs
        .time_scaling
        .iter()
        .map(|r| Ok((r.required_str("InstanceId")?, r)))
        .collect::<Result<_, ImportError>>()?;
    let provider = options.provider.clone().unwrap_or_else(|| "registered".to_owned());
    let mut taken = BTreeSet::new();
    for record in &inputs.instances {
        if !in_stack(record, &stack_id)? {
            continue;
        }
        let id = record.str("InstanceId")?.unwrap_or_default();
        let ctx = InstanceCtx { layers: &layer_names, schedule: schedules.get(id).copied(), provider: &provider };
        if let Some(i) = instance(record, &ctx, &mut taken, &mut notes, &mut left_out)? {
            import.instances.push(i);
        }
    }
    import.left_out = left_out;
    import.notes = notes;
    Ok(import)
}

fn layer(
    record: &Record,
    taken: &mut BTreeSet<String>,
    notes: &mut Vec<String>,
    left_out: &mut Vec<LeftOut>,
) -> Result<ImportedLayer, ImportError> {
    let shortname = record.required_str("Shortname")?;
    let opsworks_type = record.required_str("Type")?;
    let name = unique_name(shortname, "layer", taken, notes);
    let owner = format!("layer {name}");
    // Each recipe with the events that run it, in lifecycle order.
    let mut recipes: Vec<(String, Vec<&str>)> = Vec::new();
    if let Some(custom) = record.object("CustomRecipes")? {
        for event in EVENTS {
            let Some(list) = custom.get(event) else { continue };
            let Some(list) = list.as_array() else {
                return Err(
                    record.error(&format!("CustomRecipes.{event}"), format!("expected a list, found {}", kind(list)))
                );
            };
            for (i, r) in list.iter().enumerate() {
                let Some(r) = r.as_str() else {
                    return Err(
                        record.error(&format!("CustomRecipes.{event}[{i}]"), "expected a recipe name (a string)")
                    );
                };
                match recipes.iter_mut().find(|(known, _)| known == r) {
                    Some((_, events)) => events.push(event),
                    None => recipes.push((r.to_owned(), vec![event])),
                }
            }
        }
    }
    let names: Vec<String> = recipes.iter().map(|(r, _)| r.clone()).collect();
    let (layer_type, type_reason, known) = decide(opsworks_type, shortname, &names);
    if !known {
        left_out.push(LeftOut {
            owner: owner.clone(),
            item: format!("layer type {opsworks_type}"),
            reason: "no Drover equivalent: imported as a custom layer (give it hooks or remove it)".into(),
        });
    }
    for (recipe, events) in &recipes {
        if recipe_type(recipe) != Some(layer_type) || layer_type == LayerType::Custom {
            left_out.push(LeftOut {
                owner: owner.clone(),
                item: format!("Chef recipe {recipe} ({})", events.join(", ")),
                reason: format!("no Drover equivalent on a {layer_type} layer; a layer hook can do its work"),
            });
        }
    }
    let used = ["Shortname", "Type", "CustomRecipes", "CustomJson", "EnableAutoHealing", "LoadBasedAutoScaling"];
    leftovers(record, &owner, &used, left_out);
    Ok(ImportedLayer {
        name,
        layer_type,
        type_reason,
        auto_healing: record.bool("EnableAutoHealing")?.unwrap_or(true),
        custom_json: custom_json(record, "CustomJson")?,
        load_scaling: None,
    })
}

/// A number field of a scaling direction (absent, null or -1: none).
fn number(
    record: &Record,
    direction: &Map<String, Value>,
    path: &str,
    field: &str,
) -> Result<Option<f64>, ImportError> {
    match direction.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())) {
            Some(-1.0) => Ok(None),
            Some(n) => Ok(Some(n)),
            None => Err(record.error(&format!("{path}.{field}"), format!("expected a number, found {}", kind(v)))),
        },
    }
}

fn load_scaling(record: &Record, layer: &str, left_out: &mut Vec<LeftOut>) -> Result<ImportedLoadScaling, ImportError> {
    let mut rule = LoadRule::default();
    let empty = Map::new();
    let mut waits = Vec::new();
    for (path, is_up) in [("UpScaling", true), ("DownScaling", false)] {
        let direction = record.object(path)?.unwrap_or(&empty);
        let thresholds = Thresholds {
            cpu: number(record, direction, path, "CpuThreshold")?,
            memory: number(record, direction, path, "MemoryThreshold")?,
            load: number(record, direction, path, "LoadThreshold")?,
        };
        let count = number(record, direction, path, "InstanceCount")?.map(|n| n as u32);
        let wait = number(record, direction, path, "ThresholdsWaitTime")?.map(|m| (m * 60.0) as u64);
        let ignore = number(record, direction, path, "IgnoreMetricsTime")?.map(|m| (m * 60.0) as u64);
        if is_up {
            rule.up = thresholds;
            rule.up_instances = count.unwrap_or(rule.up_instances);
        } else {
            rule.down = thresholds;
            rule.down_instances = count.unwrap_or(rule.down_instances);
        }
        waits.push((path, wait, ignore));
        if let Some(alarms) = direction.get("Alarms").filter(|a| !is_empty(a)) {
            left_out.push(LeftOut {
                owner: format!("layer {layer}"),
                item: format!("load-based scaling {path}.Alarms{}", shown("Alarms", alarms)),
                reason: "CloudWatch alarms are not watched: the rule uses the agents' CPU, memory and load".into(),
            });
        }
    }
    // Drover has one wait and one ignore time per layer: the up-scaling ones, else the down ones.
    let pick = |i: usize| waits.iter().find_map(|w| if i == 0 { w.1 } else { w.2 });
    rule.thresholds_wait_secs = pick(0).unwrap_or(rule.thresholds_wait_secs);
    rule.ignore_metrics_secs = pick(1).unwrap_or(rule.ignore_metrics_secs);
    for (field, i, chosen) in
        [("ThresholdsWaitTime", 0, rule.thresholds_wait_secs), ("IgnoreMetricsTime", 1, rule.ignore_metrics_secs)]
    {
        if let Some((path, w, ig)) = waits.iter().find(|w| if i == 0 { w.1 } else { w.2 }.is_some_and(|v| v != chosen))
        {
            let minutes = if i == 0 { w.unwrap_or_default() } else { ig.unwrap_or_default() } / 60;
            left_out.push(LeftOut {
                owner: format!("layer {layer}"),
                item: format!("load-based scaling {path}.{field} = {minutes}"),
                reason: format!(
                    "Drover has one {field} per layer: {} minute(s) (UpScaling's) is used for both directions",
                    chosen / 60
                ),
            });
        }
    }
    if let Err(problems) = rule.validate() {
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(record.error(
            "",
            format!(
                "this load-based scaling rule is not one Drover accepts: {}; fix it in the file",
                problems.join("; ")
            ),
        ));
    }
    Ok(ImportedLoadScaling { enabled: record.bool("Enable")?.unwrap_or(false), rule })
}

fn app(
    record: &Record,
    layers: &[ImportedLayer],
    taken: &mut BTreeSet<String>,
    notes: &mut Vec<String>,
    left_out: &mut Vec<LeftOut>,
) -> Result<Option<ImportedApp>, ImportError> {
    let raw = match record.str("Shortname")? {
        Some(s) => s,
        None => record.required_str("Name")?,
    };
    let name = unique_name(raw, "app", taken, notes);
    let owner = format!("app {name}");
    let source = record.object("AppSource")?;
    let source = Record {
        file: record.file.clone(),
        path: format!("{}.AppSource", record.path),
        fields: source.cloned().unwrap_or_default(),
    };
    let source_type = source.str("Type")?.unwrap_or("git");
    let url = source.str("Url")?;
    let Some(url) = url.filter(|_| source_type == "git") else {
        left_out.push(LeftOut {
            owner,
            item: format!("the app (its source is {source_type}{})", url.map(|u| format!(" {u}")).unwrap_or_default()),
            reason: "Drover deploys apps from git: push the buildout to a git repository and add the app".into(),
        });
        return Ok(None);
    };
    for field in ["Username", "Password"] {
        if source.str(field)?.is_some_and(|v| !v.is_empty()) {
            left_out.push(LeftOut {
                owner: owner.clone(),
                item: format!("AppSource.{field}"),
                reason: "repository passwords are not used: give the app a deploy key (deploy_key)".into(),
            });
        }
    }
    let mut environment = BTreeMap::new();
    let mut secrets = Vec::new();
    for (i, item) in record.list("Environment")?.map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
        let var = Record::new(&record.file, format!("{}.Environment[{i}]", record.path), item)?;
        let key = var.required_str("Key")?;
        check_env_name(key).map_err(|e| var.error("Key", e.to_string()))?;
        let value = var.str("Value")?;
        // Never a value of a secure variable, nor the filter AWS writes in its place.
        if var.bool("Secure")? == Some(true) || value.is_some_and(|v| v.contains("FILTERED")) {
            secrets.push(key.to_owned());
        } else {
            environment.insert(key.to_owned(), value.unwrap_or_default().to_owned());
        }
    }
    let app_layers = app_layers(&name, layers);
    if app_layers.is_empty() {
        left_out.push(LeftOut {
            owner,
            item: "the app".into(),
            reason: "the stack has no layer to deploy it to; add one and the app by hand".into(),
        });
        return Ok(None);
    }
    {
        notes.push(format!(
            "app {name} is deployed to layers [{}]: OpsWorks apps are not bound to layers; edit its layers if that is wrong",
            app_layers.join(", ")
        ));
    }
    let mut used = vec!["Shortname", "AppSource", "Environment"];
    if record.str("Type")? == Some("other") {
        used.push("Type");
    }
    leftovers(record, &owner, &used, left_out);
    let revision = source.str("Revision")?.filter(|r| !r.is_empty()).map(str::to_owned);
    Ok(Some(ImportedApp {
        name,
        git: url.to_owned(),
        revision,
        layers: app_layers,
        environment,
        secrets,
        deploy_key: source.str("SshKey")?.is_some_and(|k| !k.is_empty()),
    }))
}

/// The layers an app goes to: the layer of its name, else the Plone layers, else every layer.
fn app_layers(name: &str, layers: &[ImportedLayer]) -> Vec<String> {
    if layers.iter().any(|l| l.name == name) {
        return vec![name.to_owned()];
    }
    let plone: Vec<String> = layers
        .iter()
        .filter(|l| matches!(l.layer_type, LayerType::PloneInstances | LayerType::Zeoserver))
        .map(|l| l.name.clone())
        .collect();
    if plone.is_empty() { layers.iter().map(|l| l.name.clone()).collect() } else { plone }
}

/// What an instance is read with.
struct InstanceCtx<'a> {
    layers: &'a BTreeMap<String, String>,
    schedule: Option<&'a Record>,
    provider: &'a str,
}

fn instance(
    record: &Record,
    ctx: &InstanceCtx,
    taken: &mut BTreeSet<String>,
    notes: &mut Vec<String>,
    left_out: &mut Vec<LeftOut>,
) -> Result<Option<ImportedInstance>, ImportError> {
    let hostname = unique_name(record.required_str("Hostname")?, "instance", taken, notes);
    let owner = format!("instance {hostname}");
    let mut layers = Vec::new();
    for (i, id) in record.strings("LayerIds")?.iter().enumerate() {
        match ctx.layers.get(id) {
            Some(name) => layers.push(name.clone()),
            None => {
                return Err(record.error(
                    &format!("LayerIds[{i}]"),
                    format!("{id:?} is not a layer of the stack (not in the layers read)"),
                ));
            }
        }
    }
    if layers.is_empty() {
        left_out.push(LeftOut {
            owner,
            item: "the instance".into(),
            reason: "it is in no layer; Drover instances belong to at least one".into(),
        });
        return Ok(None);
    }
    let scaling = match record.str("AutoScalingType")? {
        None => ScalingType::AlwaysOn,
        Some(t) => t.parse::<ScalingType>().map_err(|e| record.error("AutoScalingType", e.to_string()))?,
    };
    let mut schedule = Vec::new();
    match (scaling, ctx.schedule) {
        (ScalingType::Time, Some(time)) => {
            let grid_value = time.fields.get("AutoScalingSchedule").cloned().unwrap_or(Value::Null);
            let week = grid::from_value(&grid_value).map_err(|e| time.error("AutoScalingSchedule", e.to_string()))?;
            schedule = if week.is_never() { Vec::new() } else { week.specs() };
        }
        (ScalingType::Time, None) => notes.push(format!(
            "instance {hostname} is time-based but no schedule was read for it: it stays stopped until it has one \
             (`drover instance schedule`)"
        )),
        _ => {}
    }
    leftovers(record, &owner, &["Hostname", "LayerIds", "AutoScalingType"], left_out);
    Ok(Some(ImportedInstance { hostname, layers, provider: ctx.provider.to_owned(), scaling, schedule }))
}
