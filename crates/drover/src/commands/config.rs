//! `drover stack config [history|diff|revert]`, `drover stack|layer set-json` and
//! `drover stack configure`.

use std::io::Read;
use std::path::Path;

use drover_client::Client;
use drover_proto::api::{ConfigChange, ConfigVersion, ConfigWarning, Deployment, RevertConfig, SetCustomJson};

use super::follow::{exit_code, follow_to_end, report};
use crate::cli::{ConfigAction, ConfigArgs, SetJsonArgs};
use crate::exit::{CliResult, Failure, OK};
use crate::login::client;
use crate::output::{or_dash, print_json, table};

fn warn(warnings: &[ConfigWarning]) {
    for w in warnings {
        eprintln!("warning: {}: {}", w.path, w.message);
    }
}

/// Reads a JSON document from a file or standard input (`-`), naming the line and column of a
/// syntax error.
pub fn read_json_file(path: &Path) -> CliResult<serde_json::Value> {
    let shown = if path == Path::new("-") { "standard input".to_owned() } else { path.display().to_string() };
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| Failure::usage(format!("failed to read {shown}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::usage(format!("{shown} is not valid JSON: {e} (line {}, column {})", e.line(), e.column()))
    })
}

async fn after_change(client: &Client, change: &ConfigChange, wait: bool, json: bool) -> CliResult {
    warn(&change.warnings);
    if json {
        return after_change_json(client, change, wait).await;
    }
    if change.changed {
        println!("{} Custom JSON is now version {}", change.scope, change.version);
    } else {
        println!("{} Custom JSON unchanged (version {})", change.scope, change.version);
    }
    let Some(id) = change.configure_deployment else { return Ok(OK) };
    println!("Configure started: deployment {id}");
    if !wait {
        println!("follow it with: drover deployment show {id} --follow");
        return Ok(OK);
    }
    follow(client, &client.deployment(id).await?, false).await
}

/// `{"change": …, "configure": …}`: the Configure run as started, or as it ended with `wait`
/// (its logs on stderr), or null when none was started.
async fn after_change_json(client: &Client, change: &ConfigChange, wait: bool) -> CliResult {
    let mut code = OK;
    let configure = match change.configure_deployment {
        None => None,
        Some(id) if wait => {
            let finished = follow_to_end(client, &client.deployment(id).await?, true, None).await?;
            code = exit_code(&finished);
            Some(finished)
        }
        Some(id) => Some(client.deployment(id).await?),
    };
    print_json(&serde_json::json!({ "change": change, "configure": configure }));
    Ok(code)
}

/// Follows a deployment to its end: logs, then the results (or the finished deployment as JSON,
/// the logs going to stderr).
async fn follow(client: &Client, deployment: &Deployment, json: bool) -> CliResult {
    report(client, deployment, true, json, None).await
}

/// `drover stack set-json` and `drover layer set-json`.
pub async fn set_json(layer: Option<&str>, args: SetJsonArgs) -> CliResult {
    let client = client()?;
    let custom_json = read_json_file(&args.file)?;
    let req = SetCustomJson { custom_json, comment: args.comment, configure: args.configure };
    let change = client.set_custom_json(&args.stack, layer, &req).await?;
    after_change(&client, &change, args.wait, args.json).await
}

/// `drover stack configure`.
pub async fn configure(stack: &str, wait: bool, json: bool) -> CliResult {
    let client = client()?;
    let deployment = client.configure(stack).await?;
    if wait {
        if !json {
            println!("deployment {}: configure on {} instance(s)", deployment.id, deployment.commands.len());
        }
        return follow(&client, &deployment, json).await;
    }
    if json {
        print_json(&deployment);
    } else {
        println!("deployment {}: configure on {} instance(s)", deployment.id, deployment.commands.len());
        println!("follow it with: drover deployment show {} --follow", deployment.id);
    }
    Ok(OK)
}

fn pretty(doc: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    text
}

fn find(versions: &[ConfigVersion], n: i64) -> CliResult<&ConfigVersion> {
    versions.iter().find(|v| v.version == n).ok_or_else(|| {
        Failure::usage(format!(
            "there is no version {n}; `drover stack config history` lists versions 1 to {}",
            versions.first().map_or(0, |v| v.version)
        ))
    })
}

/// `drover stack config ...`.
pub async fn run(args: ConfigArgs) -> CliResult {
    let client = client()?;
    match args.action {
        None => {
            let stack = args.stack.ok_or_else(|| Failure::usage("give the stack: drover stack config --stack NAME"))?;
            let shown = client.effective_config(&stack, args.instance.as_deref()).await?;
            if args.json {
                print_json(&shown);
            } else {
                warn(&shown.warnings);
                print!("{}", pretty(&shown.config));
            }
        }
        Some(ConfigAction::History { stack, layer, format }) => {
            let versions = client.config_history(&stack, layer.as_deref()).await?;
            if format.json {
                print_json(&versions);
            } else {
                let rows: Vec<Vec<String>> = versions
                    .iter()
                    .map(|v| vec![v.version.to_string(), v.created_at.clone(), or_dash(v.comment.clone())])
                    .collect();
                print!("{}", table(&["VERSION", "CREATED", "COMMENT"], &rows));
            }
        }
        Some(ConfigAction::Diff { stack, layer, from, to, json }) => {
            let versions = client.config_history(&stack, layer.as_deref()).await?;
            let old = find(&versions, from)?;
            let new = match to {
                Some(n) => find(&versions, n)?,
                None => versions.first().ok_or_else(|| Failure::usage("there is no version yet"))?,
            };
            let (a, b) = (pretty(&old.custom_json), pretty(&new.custom_json));
            let diff = similar::TextDiff::from_lines(&a, &b);
            let unified = diff
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{} version {}", old.scope, old.version),
                    &format!("{} version {}", new.scope, new.version),
                )
                .to_string();
            if json {
                let doc = serde_json::json!({
                    "scope": new.scope, "from": old.version, "to": new.version, "diff": unified,
                });
                print_json(&doc);
            } else {
                print!("{unified}");
            }
        }
        Some(ConfigAction::Revert { stack, layer, target, comment, configure, json }) => {
            let req = RevertConfig { layer, version: target, comment, configure };
            let change = client.revert_config(&stack, &req).await?;
            return after_change(&client, &change, false, json).await;
        }
    }
    Ok(OK)
}
