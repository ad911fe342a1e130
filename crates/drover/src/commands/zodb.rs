//! `drover zodb ...`: each job is a deployment on the ZEO server's instance (server
//! `orchestrator::zodb`); `backups` reads its listing's log into a table or JSON.

use std::time::Duration;

use drover_client::Client;
use drover_core::zodb::backups::{backups, parse_listing};
use drover_core::zodb::downtime::{Step, downtime_ms, utc_text};
use drover_proto::api::Deployment;
use drover_proto::zodb::{BackupList, RunZodbJob};

use super::follow::{exit_code, follow_to_end, report, results};
use crate::cli_zodb::{ZodbCommand, ZodbListArgs, ZodbRunArgs};
use crate::exit::{CliResult, FAILED, Failure, OK};
use crate::login::client;
use crate::output::{print_json, table};

pub async fn run(cmd: ZodbCommand) -> CliResult {
    match cmd {
        ZodbCommand::Pack(args) => start(&args, "pack", None).await,
        ZodbCommand::Backup(args) => start(&args, "backup", None).await,
        ZodbCommand::Backups(args) => list(args).await,
        ZodbCommand::Restore(args) => start(&args.run, "restore", Some(args.backup)).await,
    }
}

async fn start(args: &ZodbRunArgs, job: &str, backup: Option<String>) -> CliResult {
    let client = client()?;
    let req = RunZodbJob { backup, comment: args.comment.clone(), timeout_secs: args.kill_after };
    let deployment = client.run_zodb_job(&args.stack, job, &req).await?;
    if !args.json {
        let on = deployment.commands.iter().find(|c| c.batch == 1 || deployment.commands.len() == 1);
        let on = on.map_or("-", |c| c.instance.as_str());
        println!("deployment {}: zodb {job} on {on}", deployment.id);
    }
    if job != "restore" || !args.wait {
        return report(&client, &deployment, args.wait, args.json, args.timeout).await;
    }
    let finished = follow_to_end(&client, &deployment, args.json, args.timeout).await?;
    let down = downtime(&finished);
    if args.json {
        print_json(&finished);
    } else {
        print!("{}", results(&finished));
    }
    match down {
        Some(ms) => eprintln!("the site was down for {:.1} s (clients stopped to clients started)", ms as f64 / 1000.0),
        None => eprintln!("the site's downtime is unknown: the restore did not finish starting the clients"),
    }
    Ok(exit_code(&finished))
}

/// How long a finished restore kept the site down.
pub fn downtime(deployment: &Deployment) -> Option<i64> {
    let steps: Vec<Step> = deployment
        .commands
        .iter()
        .map(|c| Step { batch: c.batch, started_at: c.started_at.as_deref(), finished_at: c.finished_at.as_deref() })
        .collect();
    downtime_ms(&steps)
}

async fn list(args: ZodbListArgs) -> CliResult {
    let client = client()?;
    let deployment = client.run_zodb_job(&args.stack, "backups", &RunZodbJob::default()).await?;
    let finished = tokio::time::timeout(Duration::from_secs(args.timeout), wait_quietly(&client, deployment.id))
        .await
        .map_err(|_| {
            Failure::new(
                FAILED,
                format!(
                    "the listing (deployment {}) did not finish within {} s; see `drover deployment show {} --follow`",
                    deployment.id, args.timeout, deployment.id
                ),
            )
        })??;
    let Some(command) = finished.commands.first() else {
        return Err(Failure::new(FAILED, format!("deployment {} has no command", finished.id)));
    };
    let log = read_log(&client, command.id).await?;
    if command.status != "successful" {
        return Err(Failure::new(
            FAILED,
            format!("listing the backups on {} failed ({}):\n{log}", command.instance, command.status),
        ));
    }
    let files = parse_listing(&log);
    let list =
        BackupList { instance: command.instance.clone(), deployment_id: finished.id, backups: backups(&files), files };
    if args.json {
        print_json(&list);
        return Ok(OK);
    }
    let rows: Vec<Vec<String>> = list
        .backups
        .iter()
        .map(|b| vec![b.name.clone(), b.dir.clone(), b.size.to_string(), utc_text(b.modified)])
        .collect();
    print!("{}", table(&["BACKUP", "KIND", "BYTES", "WRITTEN (UTC)"], &rows));
    if rows.is_empty() {
        println!("no backups on {} yet: `drover zodb backup --stack {} --wait` makes one", list.instance, args.stack);
    }
    Ok(OK)
}

async fn wait_quietly(client: &Client, id: i64) -> CliResult<Deployment> {
    loop {
        let d = client.deployment(id).await?;
        if d.status != "running" && d.finished_at.is_some() {
            return Ok(d);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn read_log(client: &Client, command: i64) -> CliResult<String> {
    let (mut text, mut offset) = (String::new(), 0);
    loop {
        let chunk = client.command_log(command, offset, Duration::ZERO).await?;
        if chunk.data.is_empty() || chunk.next_offset <= offset {
            return Ok(text);
        }
        text.push_str(&chunk.data);
        offset = chunk.next_offset;
    }
}
