//! `drover deployment ...`.

use std::time::Duration;

use super::follow::{exit_code, follow_to_end, results};
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
                deployment = follow_to_end(&client, &deployment, format.json, None).await?;
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
                        println!("--- {} ---", c.instance);
                        print_log(&client, c.id).await?;
                    }
                }
            }
            Ok(if follow { exit_code(&deployment) } else { OK })
        }
    }
}

/// Prints a command's log as it is now, page by page (a log may be large: it is never held
/// whole), ending with a line break.
async fn print_log(client: &drover_client::Client, id: i64) -> CliResult<()> {
    use std::io::Write;
    let mut offset = 0;
    let mut end: Option<u64> = None;
    let mut last = b'\n';
    loop {
        let chunk = client.command_log(id, offset, Duration::ZERO).await?;
        let end = *end.get_or_insert(chunk.length);
        if let Some(&b) = chunk.data.as_bytes().last() {
            last = b;
        }
        let _ = std::io::stdout().write_all(chunk.data.as_bytes());
        if chunk.complete || chunk.data.is_empty() || chunk.next_offset >= end {
            break;
        }
        offset = chunk.next_offset;
    }
    if last != b'\n' {
        let _ = std::io::stdout().write_all(b"\n");
    }
    Ok(())
}
