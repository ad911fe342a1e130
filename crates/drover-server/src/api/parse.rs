//! Validation of request bodies: pure functions from wire types to checked values, each error
//! naming its field. Nothing is written before these pass.

use std::collections::BTreeMap;

use drover_core::attributes::{Warning, check};
use drover_core::hooks::check_hooks;
use drover_core::scaling::ScalingType;
use drover_core::{DeploymentKind, LayerType, Provider, Shortname};
use drover_proto::FieldError;
use drover_proto::api::{CreateDeployment, CreateInstance, CreateLayer, CreateStack};
use serde_json::Value;

use super::failure::Failure;

/// The largest Custom JSON document accepted (the original's limit).
pub const MAX_CUSTOM_JSON: usize = 120 * 1024;
/// The most arguments an `exec` command may have.
const MAX_ARGS: usize = 256;

fn name(field: &str, raw: &str) -> Result<Shortname, Failure> {
    Shortname::parse(raw).map_err(|e| Failure::invalid(field, format!("{raw:?} {e}")))
}

/// A checked Custom JSON document: an object within the size limit whose known attributes hold
/// what they must (every wrong path is reported at once); empty when none is given. Returns it
/// with the warnings about likely typos.
pub fn custom_json(field: &str, raw: Option<Value>) -> Result<(Value, Vec<Warning>), Failure> {
    let value = raw.unwrap_or_else(|| Value::Object(Default::default()));
    if !value.is_object() {
        return Err(Failure::invalid(field, "Custom JSON must be a JSON object, e.g. {\"plone_instances\": {...}}"));
    }
    let text = value.to_string();
    if text.len() > MAX_CUSTOM_JSON {
        return Err(Failure::invalid(
            field,
            format!("Custom JSON is {} bytes; the limit is {MAX_CUSTOM_JSON}", text.len()),
        ));
    }
    let found = check(&value);
    if let Some(first) = found.errors.first() {
        let lines: Vec<String> = found.errors.iter().map(|e| format!("  {e}")).collect();
        let mut failure = Failure::invalid(
            format!("{field}.{}", first.path),
            format!(
                "the Custom JSON has {} invalid value(s); nothing was changed. Fix them and send it again:\n{}",
                found.errors.len(),
                lines.join("\n")
            ),
        );
        failure.0.details = found
            .errors
            .iter()
            .map(|e| FieldError {
                field: format!("{field}.{}", e.path),
                message: format!("expected {}, found {}", e.expected, e.found),
            })
            .collect();
        return Err(failure);
    }
    Ok((value, found.warnings))
}

/// A document's `nginx_plone.ssl`, checked: the PEM texts parse and the key is the
/// certificate's (refused at its JSON path under `field`, before anything is saved).
pub fn frontend_tls(field: &str, doc: &Value) -> Result<(), Failure> {
    crate::frontend_tls::check_document(doc).map_err(|p| {
        Failure::invalid(
            format!("{field}.{}", p.path),
            format!("{field}.{} {}; nothing was changed", p.path, p.message),
        )
    })
}

/// [`custom_json`] and [`frontend_tls`]: a document that holds no `<redacted>` value to put back.
fn new_custom_json(field: &str, raw: Option<Value>) -> Result<(Value, Vec<Warning>), Failure> {
    let (doc, warnings) = custom_json(field, raw)?;
    frontend_tls(field, &doc)?;
    Ok((doc, warnings))
}

/// Checked layer hooks, as stored.
pub fn hooks(raw: &BTreeMap<String, String>) -> Result<String, Failure> {
    check_hooks(raw).map_err(|e| Failure::invalid(e.field, e.message))?;
    serde_json::to_string(raw).map_err(Failure::internal)
}

/// A checked `POST /stacks`.
pub struct NewStack {
    pub name: Shortname,
    pub custom_json: String,
}

pub fn stack(req: CreateStack) -> Result<NewStack, Failure> {
    Ok(NewStack {
        name: name("name", &req.name)?,
        custom_json: new_custom_json("custom_json", req.custom_json)?.0.to_string(),
    })
}

/// A checked `POST /stacks/{stack}/layers`.
pub struct NewLayer {
    pub shortname: Shortname,
    pub layer_type: LayerType,
    pub custom_json: String,
    pub auto_healing: bool,
    pub hooks: String,
}

pub fn layer(req: CreateLayer) -> Result<NewLayer, Failure> {
    Ok(NewLayer {
        shortname: name("shortname", &req.shortname)?,
        layer_type: req
            .layer_type
            .parse()
            .map_err(|e: drover_core::status::UnknownName| Failure::invalid("type", e.to_string()))?,
        custom_json: new_custom_json("custom_json", req.custom_json)?.0.to_string(),
        auto_healing: req.auto_healing.unwrap_or(true),
        hooks: hooks(&req.hooks)?,
    })
}

/// A checked `POST /stacks/{stack}/instances` (layer existence is checked against the store).
pub struct NewInstance {
    pub layers: Vec<Shortname>,
    /// None: the first layer's provider.
    pub provider: Option<Provider>,
    pub hostname: Option<Shortname>,
    pub cpu_count: Option<u32>,
    pub scaling: ScalingType,
}

pub fn instance(req: CreateInstance) -> Result<NewInstance, Failure> {
    if req.layers.is_empty() {
        return Err(Failure::invalid("layers", "an instance needs at least one layer; pass --layer NAME"));
    }
    let layers =
        req.layers.iter().enumerate().map(|(i, l)| name(&format!("layers[{i}]"), l)).collect::<Result<Vec<_>, _>>()?;
    for (i, l) in layers.iter().enumerate() {
        if layers[..i].contains(l) {
            return Err(Failure::invalid(format!("layers[{i}]"), format!("layer {l} is listed twice")));
        }
    }
    let provider = match req.provider.as_deref() {
        None => None,
        Some(p) => {
            Some(p.parse().map_err(|e: drover_core::status::UnknownName| Failure::invalid("provider", e.to_string()))?)
        }
    };
    if let Some(n) = req.cpu_count
        && !(1..=1024).contains(&n)
    {
        return Err(Failure::invalid("cpu_count", format!("{n} is not a CPU count; use 1 to 1024")));
    }
    let scaling = match req.scaling.as_deref() {
        None => ScalingType::AlwaysOn,
        Some(s) => {
            s.parse().map_err(|e: drover_core::status::UnknownName| Failure::invalid("scaling", e.to_string()))?
        }
    };
    Ok(NewInstance {
        layers,
        provider,
        hostname: req.hostname.as_deref().map(|h| name("hostname", h)).transpose()?,
        cpu_count: req.cpu_count,
        scaling,
    })
}

/// A checked `POST /stacks/{stack}/deployments` of kind `execute`.
pub struct NewExec {
    pub argv: Vec<String>,
    pub layers: Vec<String>,
    pub instances: Vec<String>,
    pub comment: Option<String>,
    pub timeout_secs: Option<u64>,
}

pub fn exec(req: CreateDeployment) -> Result<NewExec, Failure> {
    if req.kind != "execute" {
        return Err(Failure::invalid("kind", format!("{:?} cannot be created here; use \"execute\"", req.kind)));
    }
    if req.command.is_empty() || req.command[0].is_empty() {
        return Err(Failure::invalid("command", "give the program to run and its arguments, e.g. [\"uptime\"]"));
    }
    if req.expect_commit.is_some() {
        return Err(Failure::invalid("expect_commit", "only a deploy builds a commit to expect"));
    }
    if req.command.len() > MAX_ARGS {
        return Err(Failure::invalid("command", format!("{} arguments; the limit is {MAX_ARGS}", req.command.len())));
    }
    if let Some(i) = req.command.iter().position(|a| a.contains('\0')) {
        return Err(Failure::invalid(format!("command[{i}]"), "arguments cannot contain NUL bytes"));
    }
    for (field, list) in [("layers", &req.layers), ("instances", &req.instances)] {
        for (i, raw) in list.iter().enumerate() {
            name(&format!("{field}[{i}]"), raw)?;
        }
    }
    if req.timeout_secs == Some(0) {
        return Err(Failure::invalid("timeout_secs", "use a timeout of at least 1 second, or none"));
    }
    if req.comment.as_ref().is_some_and(|c| c.len() > 4096) {
        return Err(Failure::invalid("comment", "keep the comment under 4096 bytes"));
    }
    Ok(NewExec {
        argv: req.command,
        layers: req.layers,
        instances: req.instances,
        comment: req.comment,
        timeout_secs: req.timeout_secs,
    })
}

/// The longest a `logs` deployment may follow: one day (it ends sooner when cancelled).
pub const MAX_LOGS_FOLLOW_SECS: u64 = 24 * 3600;

/// A checked `POST /stacks/{stack}/deployments` of kind `logs`.
pub struct NewLogs {
    /// Where (the argument vector stays empty).
    pub on: NewExec,
    pub logs: drover_proto::api::LogsRequest,
}

pub fn logs(mut req: CreateDeployment) -> Result<NewLogs, Failure> {
    let logs = req.logs.take().unwrap_or_default();
    if !req.command.is_empty() {
        return Err(Failure::invalid("command", "a logs deployment runs no command; leave it out"));
    }
    for (i, service) in logs.services.iter().enumerate() {
        // Names only: the agent compares them with the log files it finds, never opens them.
        let part = |p: &str| {
            !p.is_empty() && p != "." && p != ".." && p.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        };
        let ok = service.len() <= 129 && service.split('/').count() <= 2 && service.split('/').all(part);
        if !ok {
            return Err(Failure::invalid(
                format!("logs.services[{i}]"),
                format!("{service:?} is not a service; name one such as \"client1\", \"site/client1\" or \"agent\""),
            ));
        }
    }
    if logs.follow_secs.is_some_and(|s| s == 0 || s > MAX_LOGS_FOLLOW_SECS) {
        return Err(Failure::invalid(
            "logs.follow_secs",
            format!("follow for 1 to {MAX_LOGS_FOLLOW_SECS} seconds, or leave it out not to follow"),
        ));
    }
    if logs.lines.is_some_and(|n| n > 100_000) {
        return Err(Failure::invalid("logs.lines", "ask for at most 100000 lines per source"));
    }
    req.kind = "execute".into();
    req.command = vec!["logs".into()];
    let on = exec(req)?;
    Ok(NewLogs { on: NewExec { argv: Vec::new(), ..on }, logs })
}

/// A checked `POST /stacks/{stack}/agent-upgrades`.
#[derive(Debug)]
pub struct NewAgentUpgrade {
    pub instances: Vec<String>,
    pub rolling: bool,
    pub comment: Option<String>,
    pub timeout_secs: u64,
}

/// The longest an agent's upgrade may take by default: the download, the checks, and waiting
/// for its other commands to end.
pub const AGENT_UPGRADE_TIMEOUT_SECS: u64 = 600;

pub fn agent_upgrade(req: drover_proto::upgrade::CreateAgentUpgrade) -> Result<NewAgentUpgrade, Failure> {
    for (i, raw) in req.instances.iter().enumerate() {
        name(&format!("instances[{i}]"), raw)?;
    }
    if req.timeout_secs.is_some_and(|t| t == 0 || t > 86_400) {
        return Err(Failure::invalid("timeout_secs", "use a timeout from 1 to 86400 seconds, or none (600)"));
    }
    if req.comment.as_ref().is_some_and(|c| c.len() > 4096) {
        return Err(Failure::invalid("comment", "keep the comment under 4096 bytes"));
    }
    Ok(NewAgentUpgrade {
        instances: req.instances,
        rolling: req.rolling,
        comment: req.comment,
        timeout_secs: req.timeout_secs.unwrap_or(AGENT_UPGRADE_TIMEOUT_SECS),
    })
}

/// App kinds a deployment can have.
const APP_KINDS: &[DeploymentKind] = &[
    DeploymentKind::Deploy,
    DeploymentKind::Rollback,
    DeploymentKind::Start,
    DeploymentKind::Stop,
    DeploymentKind::Restart,
    DeploymentKind::Undeploy,
];

/// The longest a deployment may wait for its app's lock.
const MAX_LOCK_WAIT: u64 = 3600;

pub use crate::orchestrator::app_deploy::NewAppDeployment;

pub fn app_deployment(req: CreateDeployment) -> Result<NewAppDeployment, Failure> {
    let kind = req.kind.parse::<DeploymentKind>().ok().filter(|k| APP_KINDS.contains(k)).ok_or_else(|| {
        Failure::invalid(
            "kind",
            format!(
                "{:?} is not a deployment kind; use execute, deploy, rollback, start, stop, restart or undeploy",
                req.kind
            ),
        )
    })?;
    let raw_app =
        req.app.as_deref().ok_or_else(|| Failure::invalid("app", format!("a {kind} names the app; pass its name")))?;
    let app = name("app", raw_app)?;
    if !req.command.is_empty() {
        return Err(Failure::invalid("command", "only an execute deployment takes a command"));
    }
    for (field, list) in [("layers", &req.layers), ("instances", &req.instances)] {
        for (i, raw) in list.iter().enumerate() {
            name(&format!("{field}[{i}]"), raw)?;
        }
    }
    let (custom_json, _) = new_custom_json("custom_json", req.custom_json)?;
    if req.batch_size == Some(0) {
        return Err(Failure::invalid(
            "batch_size",
            "a batch holds at least 1 instance; leave it out to deploy everywhere at once",
        ));
    }
    match (&req.rollback_to, kind) {
        (Some(_), k) if k != DeploymentKind::Rollback => {
            return Err(Failure::invalid("rollback_to", "only a rollback takes a release to go to"));
        }
        (Some(r), _) if !drover_core::deploy::release_name::is_release_name(r) => {
            return Err(Failure::invalid(
                "rollback_to",
                format!("{r:?} is not a release name (YYYYMMDDHHMMSS); `drover release list` shows them"),
            ));
        }
        _ => {}
    }
    let lock_wait_secs = req.lock_wait_secs.unwrap_or(0);
    if lock_wait_secs > MAX_LOCK_WAIT {
        return Err(Failure::invalid("lock_wait_secs", format!("wait at most {MAX_LOCK_WAIT} seconds")));
    }
    if req.timeout_secs == Some(0) {
        return Err(Failure::invalid("timeout_secs", "use a timeout of at least 1 second, or none"));
    }
    if req.comment.as_ref().is_some_and(|c| c.len() > 4096) {
        return Err(Failure::invalid("comment", "keep the comment under 4096 bytes"));
    }
    match (&req.expect_commit, kind) {
        (Some(_), k) if k != DeploymentKind::Deploy => {
            return Err(Failure::invalid("expect_commit", "only a deploy builds a commit to expect"));
        }
        (Some(sha), _) if !drover_core::deploy::revision::is_full_sha(sha) => {
            return Err(Failure::invalid(
                "expect_commit",
                format!("{sha:?} is not a full commit id (40 hex digits), as the deployment's plan gives it"),
            ));
        }
        _ => {}
    }
    Ok(NewAppDeployment {
        kind,
        app,
        layers: req.layers,
        instances: req.instances,
        comment: req.comment,
        custom_json,
        batch_size: req.batch_size,
        rollback_to: req.rollback_to,
        lock_wait_secs,
        timeout_secs: req.timeout_secs,
        takes_lock: matches!(kind, DeploymentKind::Deploy | DeploymentKind::Rollback),
        follows_setup: false,
        expect_commit: req.expect_commit.map(|c| c.to_ascii_lowercase()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of<T>(r: Result<T, Failure>) -> String {
        match r {
            Ok(_) => panic!("accepted"),
            Err(f) => f.0.field.unwrap_or_default(),
        }
    }

    #[test]
    fn agent_upgrade_fields() {
        use drover_proto::upgrade::CreateAgentUpgrade;
        let ok = CreateAgentUpgrade::default();
        assert_eq!(agent_upgrade(ok.clone()).map(|u| u.timeout_secs).ok(), Some(AGENT_UPGRADE_TIMEOUT_SECS));
        let cases: &[(CreateAgentUpgrade, &str)] = &[
            (CreateAgentUpgrade { instances: vec!["web1".into(), "Bad Name".into()], ..ok.clone() }, "instances[1]"),
            (CreateAgentUpgrade { timeout_secs: Some(0), ..ok.clone() }, "timeout_secs"),
            (CreateAgentUpgrade { timeout_secs: Some(86_401), ..ok.clone() }, "timeout_secs"),
            (CreateAgentUpgrade { comment: Some("x".repeat(5000)), ..ok.clone() }, "comment"),
        ];
        for (req, field) in cases {
            assert_eq!(field_of(agent_upgrade(req.clone())), *field, "{req:?}");
        }
    }

    #[test]
    fn stack_fields() {
        assert!(stack(CreateStack { name: "prod".into(), custom_json: None }).is_ok());
        assert_eq!(field_of(stack(CreateStack { name: "Prod".into(), custom_json: None })), "name");
        assert_eq!(field_of(stack(CreateStack { name: "p".into(), custom_json: Some(json!([1])) })), "custom_json");
        let big = json!({ "x": "a".repeat(MAX_CUSTOM_JSON) });
        assert_eq!(field_of(stack(CreateStack { name: "p".into(), custom_json: Some(big) })), "custom_json");
    }

    #[test]
    fn layer_fields() {
        let ok = CreateLayer {
            shortname: "web".into(),
            layer_type: "custom".into(),
            custom_json: None,
            auto_healing: None,
            hooks: Default::default(),
        };
        assert!(layer(ok.clone()).unwrap().auto_healing);
        let bad_hook = [("boot".to_owned(), "x".to_owned())].into_iter().collect();
        assert_eq!(field_of(layer(CreateLayer { hooks: bad_hook, ..ok.clone() })), "hooks.boot");
        let bad_json = Some(json!({"plone_instances": {"per_cpu": -1, "zeo": {"address": "nope"}}}));
        let e = layer(CreateLayer { custom_json: bad_json, ..ok.clone() }).err().unwrap().0;
        assert_eq!(e.field.as_deref(), Some("custom_json.plone_instances.per_cpu"));
        let fields: Vec<&str> = e.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["custom_json.plone_instances.per_cpu", "custom_json.plone_instances.zeo.address"]);
        assert_eq!(field_of(layer(CreateLayer { layer_type: "php".into(), ..ok.clone() })), "type");
        assert_eq!(field_of(layer(CreateLayer { shortname: "../x".into(), ..ok })), "shortname");
    }

    #[test]
    fn instance_fields() {
        let ok = CreateInstance {
            layers: vec!["web".into()],
            provider: None,
            hostname: None,
            cpu_count: None,
            scaling: None,
        };
        assert_eq!(instance(ok.clone()).unwrap().provider, None);
        let ec2 = CreateInstance { provider: Some("ec2".into()), ..ok.clone() };
        assert_eq!(instance(ec2).unwrap().provider, Some(Provider::Ec2));
        assert_eq!(field_of(instance(CreateInstance { layers: vec![], ..ok.clone() })), "layers");
        assert_eq!(
            field_of(instance(CreateInstance { layers: vec!["web".into(), "Bad".into()], ..ok.clone() })),
            "layers[1]"
        );
        assert_eq!(
            field_of(instance(CreateInstance { layers: vec!["web".into(), "web".into()], ..ok.clone() })),
            "layers[1]"
        );
        assert_eq!(field_of(instance(CreateInstance { provider: Some("cloud".into()), ..ok.clone() })), "provider");
        assert_eq!(field_of(instance(CreateInstance { hostname: Some("a/b".into()), ..ok.clone() })), "hostname");
        assert_eq!(field_of(instance(CreateInstance { cpu_count: Some(0), ..ok })), "cpu_count");
    }

    #[test]
    fn exec_fields() {
        let ok = CreateDeployment {
            kind: "execute".into(),
            command: vec!["true".into()],
            layers: vec![],
            instances: vec![],
            comment: None,
            timeout_secs: None,
            ..Default::default()
        };
        assert!(exec(ok.clone()).is_ok());
        assert_eq!(field_of(exec(CreateDeployment { kind: "deploy".into(), ..ok.clone() })), "kind");
        assert_eq!(field_of(exec(CreateDeployment { command: vec![], ..ok.clone() })), "command");
        assert_eq!(
            field_of(exec(CreateDeployment { command: vec!["a".into(), "b\0".into()], ..ok.clone() })),
            "command[1]"
        );
        assert_eq!(
            field_of(exec(CreateDeployment { instances: vec!["ok".into(), "NO".into()], ..ok.clone() })),
            "instances[1]"
        );
        assert_eq!(field_of(exec(CreateDeployment { timeout_secs: Some(0), ..ok })), "timeout_secs");
    }

    #[test]
    fn logs_fields() {
        use drover_proto::api::LogsRequest;
        let ask = |logs: LogsRequest| CreateDeployment { kind: "logs".into(), logs: Some(logs), ..Default::default() };
        let services = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let fine = LogsRequest {
            services: services(&["client1", "site/client2", "agent", ".frontend/nginx"]),
            since_secs: Some(600),
            lines: Some(100),
            follow_secs: Some(3600),
        };
        let new = logs(ask(fine.clone())).unwrap();
        assert_eq!(new.logs, fine);
        assert!(new.on.argv.is_empty());
        assert!(logs(CreateDeployment { kind: "logs".into(), ..Default::default() }).is_ok());
        let cases: Vec<(CreateDeployment, &str)> = vec![
            (ask(LogsRequest { services: services(&["ok", ""]), ..fine.clone() }), "logs.services[1]"),
            (ask(LogsRequest { services: services(&["a/b/c"]), ..fine.clone() }), "logs.services[0]"),
            (ask(LogsRequest { services: services(&["../x"]), ..fine.clone() }), "logs.services[0]"),
            (ask(LogsRequest { services: services(&["a b"]), ..fine.clone() }), "logs.services[0]"),
            (ask(LogsRequest { follow_secs: Some(0), ..fine.clone() }), "logs.follow_secs"),
            (ask(LogsRequest { follow_secs: Some(MAX_LOGS_FOLLOW_SECS + 1), ..fine.clone() }), "logs.follow_secs"),
            (ask(LogsRequest { lines: Some(100_001), ..fine.clone() }), "logs.lines"),
            (CreateDeployment { command: vec!["tail".into()], ..ask(fine.clone()) }, "command"),
            (CreateDeployment { instances: vec!["NO".into()], ..ask(fine.clone()) }, "instances[0]"),
        ];
        for (req, field) in cases {
            assert_eq!(field_of(logs(req)), field, "{field}");
        }
    }

    #[test]
    fn app_deployment_fields() {
        let ok = CreateDeployment { kind: "deploy".into(), app: Some("site".into()), ..Default::default() };
        assert!(app_deployment(ok.clone()).is_ok());
        let cases: Vec<(CreateDeployment, &str)> = vec![
            (CreateDeployment { kind: "launch".into(), ..ok.clone() }, "kind"),
            (CreateDeployment { app: None, ..ok.clone() }, "app"),
            (CreateDeployment { app: Some("Site".into()), ..ok.clone() }, "app"),
            (CreateDeployment { command: vec!["x".into()], ..ok.clone() }, "command"),
            (CreateDeployment { custom_json: Some(serde_json::json!(1)), ..ok.clone() }, "custom_json"),
            (CreateDeployment { batch_size: Some(0), ..ok.clone() }, "batch_size"),
            (CreateDeployment { rollback_to: Some("20260101000000".into()), ..ok.clone() }, "rollback_to"),
            (
                CreateDeployment { kind: "rollback".into(), rollback_to: Some("../x".into()), ..ok.clone() },
                "rollback_to",
            ),
            (CreateDeployment { lock_wait_secs: Some(99999), ..ok.clone() }, "lock_wait_secs"),
            (CreateDeployment { layers: vec!["A".into()], ..ok }, "layers[0]"),
        ];
        for (req, want) in cases {
            assert_eq!(field_of(app_deployment(req)), want);
        }
    }
}
