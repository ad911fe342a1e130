//! `drover deploy|rollback|start|stop|restart|undeploy` and `drover release list`.

use drover_proto::api::CreateDeployment;

use super::follow::report;
use super::read_custom_json;
use crate::cli::{AppDeployArgs, ReleaseCommand};
use crate::exit::{CliResult, OK};
use crate::login::client;
use crate::output::{or_dash, print_json, table};

pub async fn run(kind: &str, args: AppDeployArgs, lock_wait: u64, rollback_to: Option<String>) -> CliResult {
    let client = client()?;
    let batch_size = if args.rolling { Some(1) } else { args.batch };
    let req = CreateDeployment {
        kind: kind.into(),
        app: Some(args.app.clone()),
        layers: args.layers,
        instances: args.instances,
        comment: args.comment,
        custom_json: read_custom_json(args.custom_json.as_deref())?,
        batch_size,
        rollback_to,
        lock_wait_secs: Some(lock_wait),
        timeout_secs: args.kill_after,
        ..Default::default()
    };
    let deployment = client.create_deployment(&args.stack, &req).await?;
    if !args.json {
        let pacing = match batch_size {
            Some(1) => "one instance at a time".to_owned(),
            Some(n) => format!("{n} instances at a time"),
            None => "all instances at once".to_owned(),
        };
        println!(
            "deployment {}: {kind} {} on {} instance(s), {pacing}",
            deployment.id,
            args.app,
            deployment.commands.len()
        );
    }
    report(&client, &deployment, args.wait, args.json, args.timeout).await
}

pub async fn releases(cmd: ReleaseCommand) -> CliResult {
    let ReleaseCommand::List { stack, app, format } = cmd;
    let releases = client()?.releases(&stack, &app).await?;
    if format.json {
        print_json(&releases);
        return Ok(OK);
    }
    let rows: Vec<Vec<String>> = releases
        .iter()
        .map(|r| {
            vec![
                r.instance.clone(),
                r.name.clone(),
                if r.current { "*".into() } else { String::new() },
                r.outcome.clone(),
                r.case.clone(),
                r.sha.chars().take(12).collect(),
                r.created_at.clone(),
                or_dash(r.finished_at.clone()),
            ]
        })
        .collect();
    print!("{}", table(&["INSTANCE", "RELEASE", "CURRENT", "OUTCOME", "CASE", "SHA", "STARTED", "FINISHED"], &rows));
    Ok(OK)
}
