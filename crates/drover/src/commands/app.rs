//! `drover app ...`.

use std::collections::BTreeMap;
use std::path::Path;

use drover_proto::api::{App, CreateApp, UpdateApp};

use crate::cli::AppCommand;
use crate::exit::{CliResult, Failure, OK};
use crate::login::client;
use crate::output::{or_dash, print_json, table};

/// `NAME=VALUE` pairs; with `from_env`, a bare `NAME` takes its value from this process's
/// environment.
fn pairs(flag: &str, raw: &[String], from_env: bool) -> CliResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in raw {
        let (name, value) = match item.split_once('=') {
            Some((n, v)) => (n.to_owned(), v.to_owned()),
            None if from_env => {
                let v = std::env::var(item).map_err(|_| {
                    Failure::usage(format!("--{flag} {item}: no variable {item} in this shell's environment; export it or pass {item}=VALUE"))
                })?;
                (item.clone(), v)
            }
            None => return Err(Failure::usage(format!("--{flag} {item:?}: use NAME=VALUE"))),
        };
        out.insert(name, value);
    }
    Ok(out)
}

fn read_key(path: &Path) -> CliResult<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("failed to read the deploy key {}: {e}", path.display())))
}

fn rows(apps: &[App]) -> String {
    let rows: Vec<Vec<String>> = apps
        .iter()
        .map(|a| {
            vec![
                a.name.clone(),
                a.app_type.clone(),
                a.layers.join(","),
                a.repository.clone(),
                or_dash(a.revision.clone()),
                if a.deploy_key { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    table(&["NAME", "TYPE", "LAYERS", "REPOSITORY", "REVISION", "DEPLOY KEY"], &rows)
}

fn show(app: &App) {
    print!("{}", rows(std::slice::from_ref(app)));
    match &app.pinned {
        Some(pin) => {
            let why = match pin.reason.as_str() {
                "rolled_back" => format!("rolled back by deployment {}", pin.deployment),
                _ => format!("deployed by deployment {}", pin.deployment),
            };
            println!(
                "pinned to commit {} ({why}, {}); new instances, Setup and Configure build it",
                pin.commit, pin.at
            );
        }
        None => println!("not pinned yet: the first deploy resolves the revision and pins its commit"),
    }
    for (name, value) in &app.environment {
        println!("env {name}={value}");
    }
}

pub async fn run(cmd: AppCommand) -> CliResult {
    let client = client()?;
    match cmd {
        AppCommand::Create { stack, name, layers, repository, revision, deploy_key, env, secret_env } => {
            let req = CreateApp {
                name,
                app_type: None,
                layers,
                repository,
                revision,
                deploy_key: deploy_key.as_deref().map(read_key).transpose()?,
                environment: pairs("env", &env, false)?,
                secret_environment: pairs("secret-env", &secret_env, true)?,
            };
            let app = client.create_app(&stack, &req).await?;
            println!("created app {} in stack {stack}", app.name);
            show(&app);
        }
        AppCommand::Update {
            stack,
            name,
            layers,
            repository,
            revision,
            deploy_key,
            remove_deploy_key,
            env,
            secret_env,
            unset_env,
        } => {
            let deploy_key = match (deploy_key, remove_deploy_key) {
                (Some(path), _) => Some(read_key(&path)?),
                (None, true) => Some(String::new()),
                (None, false) => None,
            };
            let req = UpdateApp {
                layers: (!layers.is_empty()).then_some(layers),
                repository,
                revision,
                deploy_key,
                environment: pairs("env", &env, false)?,
                secret_environment: pairs("secret-env", &secret_env, true)?,
                unset_environment: unset_env,
            };
            let app = client.update_app(&stack, &name, &req).await?;
            println!("updated app {}", app.name);
            show(&app);
        }
        AppCommand::List { stack, format } => {
            let apps = client.apps(&stack).await?;
            if format.json { print_json(&apps) } else { print!("{}", rows(&apps)) }
        }
        AppCommand::Show { stack, name, format } => {
            let app = client.app(&stack, &name).await?;
            if format.json { print_json(&app) } else { show(&app) }
        }
        AppCommand::Delete { stack, name } => {
            client.delete_app(&stack, &name).await?;
            println!("deleted app {name}");
        }
        AppCommand::Webhook { action, stack, name } if action == "enable" => {
            let hook = client.enable_webhook(&stack, &name).await?;
            println!("url:    {}", hook.url);
            println!("secret: {}", hook.secret);
            println!(
                "POST the push event (or {{\"revision\": SHA, \"timestamp\": UNIX_SECONDS}}) to the URL with \
                 `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; options: ?rolling=1&comment=TEXT"
            );
        }
        AppCommand::Webhook { stack, name, .. } => {
            client.disable_webhook(&stack, &name).await?;
            println!("removed the webhook of app {name}");
        }
    }
    Ok(OK)
}
