//! `drover status STACK`.

use super::instance::{rows, service_rows};
use crate::cli::StatusArgs;
use crate::exit::{CliResult, OK};
use crate::login::client;
use crate::output::{or_dash, print_json, table};

pub async fn run(args: StatusArgs) -> CliResult {
    let status = client()?.stack_status(&args.stack).await?;
    if args.format.json {
        print_json(&status);
        return Ok(OK);
    }
    println!("stack {}", status.stack.name);
    let layers: Vec<Vec<String>> = status
        .layers
        .iter()
        .map(|l| {
            let members = status.instances.iter().filter(|i| i.layers.contains(&l.shortname));
            let online = members.clone().filter(|i| i.status == "online").count();
            vec![l.shortname.clone(), l.layer_type.clone(), format!("{online}/{}", members.count())]
        })
        .collect();
    println!("\nlayers:\n{}", table(&["SHORTNAME", "TYPE", "ONLINE"], &layers));
    println!("instances:\n{}", rows(&status.instances));
    let services = service_rows(&status.instances);
    if !services.is_empty() {
        println!("services:\n{services}");
    }
    let deployments: Vec<Vec<String>> = status
        .recent_deployments
        .iter()
        .map(|d| {
            vec![
                d.id.to_string(),
                d.kind.clone(),
                d.status.clone(),
                d.created_at.clone(),
                or_dash(d.finished_at.clone()),
            ]
        })
        .collect();
    println!("recent deployments:\n{}", table(&["ID", "KIND", "STATUS", "CREATED", "FINISHED"], &deployments));
    Ok(OK)
}
