//! `drover deployment ...`.

use std::time::Duration;

use super::follow::{exit_code, results, stream_logs};
use crate::cli::DeploymentCommand;
use crate::exit::{CliResult, OK};
use crate::login::client;
use crate::output::{or_dash, print_json, table};

pub async fn run(cmd: DeploymentCommand) -> CliResult {
    let client = client()?;
    match cmd {
        DeploymentCommand::List { stack, format } => {
            let deployments = client.deployments(&stack).await?;
            if format.json {
                print_json(&deployments);
            } else {
                let rows: Vec<Vec<String>> = deployments
                    .iter()
                    .map(|d| {
                        vec![
                            d.id.to_string(),
                            d.kind.clone(),
                            d.status.clone(),
                            d.created_at.clone(),
                            or_dash(d.finished_at.clone()),
                            if d.command.is_empty() { or_dash(d.comment.clone()) } else { d.command.join(" ") },
                        ]
                    })
                    .collect();
                print!("{}", table(&["ID", "KIND", "STATUS", "CREATED", "FINISHED", "COMMAND/COMMENT"], &rows));
            }
            Ok(OK)
        }
        DeploymentCommand::Show { id, follow, logs, format } => {
            let mut deployment = client.deployment(id).await?;
            if follow {
                stream_logs(&client, &deployment, format.json).await?;
                deployment = client.deployment(id).await?;
            }
            if format.json {
                print_json(&deployment);
            } else {
                println!(
                    "deployment {} ({}) in stack {}: {}{}",
                    deployment.id,
                    deployment.kind,
                    deployment.stack,
                    deployment.status,
                    deployment.comment.as_deref().map(|c| format!(" — {c}")).unwrap_or_default()
                );
                if let Some(commit) = &deployment.commit {
                    let revision = deployment.revision.as_deref().unwrap_or("the pinned commit or default branch");
                    println!("app {}: {revision} resolved to commit {commit}", or_dash(deployment.app.clone()));
                }
                print!("{}", results(&deployment));
                if logs && !follow {
                    for c in &deployment.commands {
                        let chunk = client.command_log(c.id, 0, Duration::ZERO).await?;
                        println!("--- {} ---\n{}", c.instance, chunk.data.trim_end());
                    }
                }
            }
            Ok(if follow { exit_code(&deployment) } else { OK })
        }
    }
}
