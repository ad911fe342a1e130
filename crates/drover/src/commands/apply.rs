//! `drover apply -f FILE`: make a stack match a stack file. The file is checked completely and
//! the plan is made (and refused, when the API cannot carry it out) before the first change;
//! then the calls run in order: stack, layers, apps, instances.

use std::path::Path;
use std::time::Duration;

use drover_client::{Client, ClientError};
use drover_proto::api::SetCustomJson;

use crate::cli::ApplyArgs;
use crate::exit::{CliResult, FAILED, Failure, OK};
use crate::login::client;
use crate::output::{or_dash, print_json};
use crate::progress::Progress;
use crate::stackfile::{self, Call, Current, Problem, StackFile, Step};

/// Statuses an instance does not leave by itself after a failed start.
const START_FAILED: &[&str] = &["setup_failed", "start_failed"];

/// What the server has for the stack now.
async fn fetch(client: &Client, name: &str, file: &StackFile) -> CliResult<Current> {
    let stack = match client.stack(name).await {
        Ok(s) => s,
        Err(ClientError::Api { status: 404, .. }) => return Ok(Current::default()),
        Err(e) => return Err(e.into()),
    };
    let (layers, apps, instances) = tokio::try_join!(client.layers(name), client.apps(name), client.instances(name))?;
    let providers = providers(client, name, &layers).await?;
    let mut current = Current { stack: Some(stack), layers, apps, instances, providers, ..Default::default() };
    scaling(client, file, &mut current).await?;
    Ok(current)
}

/// The load-based rules and schedules the file gives, as the server has them (only those: the
/// plan compares nothing else).
async fn scaling(client: &Client, file: &StackFile, current: &mut Current) -> Result<(), ClientError> {
    let stack = &file.name;
    for want in file.layers.iter().filter(|l| l.load_scaling.is_some()) {
        if current.layers.iter().any(|l| l.shortname == want.name) {
            let have = client.layer_scaling(stack, &want.name).await?;
            current.load_scaling.insert(want.name.clone(), (have.enabled, have.rule));
        }
    }
    for want in file.instances.iter().filter(|i| i.schedule.is_some()) {
        if current.instances.iter().any(|i| i.hostname == want.hostname && i.scaling == "time") {
            let have = client.scaling(stack, &want.hostname).await?;
            if let Some(grid) = have.grid.and_then(|g| drover_core::scaling::grid::from_value(&g).ok()) {
                current.schedules.insert(want.hostname.clone(), grid);
            }
        }
    }
    Ok(())
}

/// The layers' providers, by layer.
pub async fn providers(
    client: &Client,
    stack: &str,
    layers: &[drover_proto::api::Layer],
) -> Result<std::collections::BTreeMap<String, drover_proto::layer_provider::LayerProvider>, ClientError> {
    let mut providers = std::collections::BTreeMap::new();
    for layer in layers {
        let view = client.layer_provider(stack, &layer.shortname).await?;
        let provider = drover_proto::layer_provider::LayerProvider { provider: view.provider, ec2: view.ec2 };
        providers.insert(layer.shortname.clone(), provider);
    }
    Ok(providers)
}

fn refused(path: &Path, problems: &[Problem]) -> Failure {
    let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    Failure::usage(format!(
        "{} cannot be applied to the stack as it is ({} problem(s)); nothing was changed:\n{}",
        path.display(),
        problems.len(),
        lines.join("\n")
    ))
}

/// Runs one step's calls; afterwards `step.changes` says what the server actually changed
/// (its answer decides about Custom JSON).
async fn execute(
    client: &Client,
    file: &StackFile,
    source: &str,
    step: &mut Step,
    json: bool,
) -> Result<(), ClientError> {
    let stack = &file.name;
    for call in std::mem::take(&mut step.calls) {
        match call {
            Call::CreateStack(req) => drop(client.create_stack(&req).await?),
            Call::SetCustomJson { layer, doc } => {
                let req = SetCustomJson {
                    custom_json: doc,
                    comment: Some(format!("drover apply -f {source}")),
                    configure: false,
                };
                let change = client.set_custom_json(stack, layer.as_deref(), &req).await?;
                let prefix = match &layer {
                    Some(l) => format!("layers.{l}.custom_json"),
                    None => "stack.custom_json".to_owned(),
                };
                for w in &change.warnings {
                    let shown = format!("{prefix}: {}: ", w.path);
                    if !file.warnings.iter().any(|known| known.starts_with(&shown)) {
                        eprintln!("warning: {shown}{}", w.message);
                    }
                }
                step.changes.retain(|c| c != "custom_json");
                if change.changed {
                    step.changes.push(format!("custom_json version {}", change.version));
                }
            }
            Call::CreateLayer(req) => drop(client.create_layer(stack, &req).await?),
            Call::UpdateLayer(name, req) => drop(client.update_layer(stack, &name, &req).await?),
            Call::SetLayerProvider(name, req) => drop(client.set_layer_provider(stack, &name, &req).await?),
            Call::CreateApp(req) => drop(client.create_app(stack, &req).await?),
            Call::UpdateApp(name, req) => drop(client.update_app(stack, &name, &req).await?),
            Call::SetLayerScaling(name, req) => drop(client.set_layer_scaling(stack, &name, &req).await?),
            Call::SetScaling(host, req) => drop(client.set_scaling(stack, &host, &req).await?),
            Call::CreateInstance(req) => {
                let instance = client.create_instance(stack, &req).await?;
                if instance.provider == "registered" {
                    say(json, &format!("  {}", super::token::join_hint(stack, &instance.hostname)));
                }
            }
        }
    }
    Ok(())
}

/// Waits until every host is online; fails on a failed start or after `timeout`.
async fn wait_online(client: &Client, stack: &str, hosts: &[String], timeout: Duration, json: bool) -> CliResult {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut progress = Progress::new(json);
    loop {
        let all = client.instances(stack).await?;
        let mut waiting = Vec::new();
        for host in hosts {
            let status = all.iter().find(|i| &i.hostname == host).map_or("missing", |i| i.status.as_str());
            if START_FAILED.contains(&status) {
                progress.finish();
                return Err(Failure::new(
                    FAILED,
                    format!(
                        "instance {host} is {status}; `drover deployment list --stack {stack}` and \
                         `drover deployment show ID --logs` show why"
                    ),
                ));
            }
            if status != "online" {
                waiting.push(format!("{host}: {status}"));
            }
        }
        if waiting.is_empty() {
            progress.finish();
            for i in all.iter().filter(|i| hosts.contains(&i.hostname)) {
                say(json, &format!("instance {} is online at {}", i.hostname, or_dash(i.address.clone())));
            }
            return Ok(OK);
        }
        if tokio::time::Instant::now() >= deadline {
            progress.finish();
            return Err(Failure::new(
                FAILED,
                format!(
                    "still waiting after {} s ({}); check again with `drover status {stack}`",
                    timeout.as_secs(),
                    waiting.join(", ")
                ),
            ));
        }
        progress.update(&format!("waiting for {}", waiting.join(", ")));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Prints a line on stdout, or on stderr when stdout carries the JSON answer.
fn say(json: bool, line: &str) {
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// One object of the plan as `--json` shows it.
fn step_json(step: &Step) -> serde_json::Value {
    let action = match (step.create, step.changes.is_empty()) {
        (true, _) => "create",
        (false, false) => "update",
        (false, true) => "unchanged",
    };
    serde_json::json!({ "kind": step.kind, "name": step.name, "action": action, "changes": step.changes })
}

/// The `--json` answer: what was (or, in a dry run, would be) done to each object.
fn outcome_json(stack: &str, plan: &stackfile::Plan, dry_run: bool) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = plan.steps.iter().map(step_json).collect();
    let count = |action: &str| steps.iter().filter(|s| s["action"] == action).count();
    serde_json::json!({
        "stack": stack,
        "dry_run": dry_run,
        "steps": steps,
        "notes": plan.notes,
        "created": count("create"),
        "updated": count("update"),
        "unchanged": count("unchanged"),
    })
}

pub async fn run(args: ApplyArgs) -> CliResult {
    let file = stackfile::load(&args.file)?;
    let shown = args.file.display().to_string();
    for w in &file.warnings {
        eprintln!("warning: {shown}: {w}");
    }
    if args.check {
        if args.json {
            print_json(&serde_json::json!({ "stack": file.name, "valid": true, "warnings": file.warnings }));
        } else {
            println!("{shown} is a valid stack file for stack {}", file.name);
        }
        return Ok(OK);
    }
    let client = client()?;
    let current = fetch(&client, &file.name, &file).await?;
    let mut plan = stackfile::plan(&file, &current, args.update_secrets).map_err(|p| refused(&args.file, &p))?;
    if args.dry_run {
        if args.json {
            print_json(&outcome_json(&file.name, &plan, true));
            return Ok(OK);
        }
        for step in &plan.steps {
            println!("{}", step.line(true));
        }
        for note in &plan.notes {
            println!("note: {note}");
        }
        println!("dry run: {}", if plan.is_noop() { "nothing to change" } else { "nothing was changed" });
        return Ok(OK);
    }

    let source = args.file.file_name().map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    let mut new_instances = Vec::new();
    for step in &mut plan.steps {
        if let Err(e) = execute(&client, &file, &source, step, args.json).await {
            let failure = Failure::from(e);
            let before = if created + updated == 0 {
                "nothing was changed before it".to_owned()
            } else {
                format!("{} object(s) were created or updated before it (above)", created + updated)
            };
            return Err(Failure::new(
                failure.code,
                format!(
                    "{} {}: the server refused it: {}\n{before}; fix the file and run `drover apply` again: it \
                     continues from what exists",
                    step.kind,
                    step.name,
                    failure.message()
                ),
            ));
        }
        say(args.json, &step.line(false));
        match (step.create, step.changes.is_empty()) {
            (true, _) => created += 1,
            (false, false) => updated += 1,
            (false, true) => unchanged += 1,
        }
        if step.create && step.kind == "instance" {
            let local = file.instances.iter().any(|i| i.hostname == step.name && i.provider == "local");
            if local {
                new_instances.push(step.name.clone());
            }
        }
    }
    for note in &plan.notes {
        say(args.json, &format!("note: {note}"));
    }
    say(
        args.json,
        &format!("applied {shown} to stack {}: {created} created, {updated} updated, {unchanged} unchanged", file.name),
    );
    let mut code = OK;
    if args.wait && !new_instances.is_empty() {
        code = wait_online(&client, &file.name, &new_instances, Duration::from_secs(args.timeout), args.json).await?;
    }
    if args.json {
        print_json(&outcome_json(&file.name, &plan, false));
    }
    Ok(code)
}
