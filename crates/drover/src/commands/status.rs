//! `drover status STACK`.

use super::instance::{rows, service_rows};
use drover_proto::api::StackStatus;

use crate::cli::StatusArgs;
use crate::exit::{CliResult, OK};
use crate::login::client;
use crate::output::{or_dash, print_json, table};

pub async fn run(args: StatusArgs) -> CliResult {
    let status = client()?.stack_status(args.stack.name()?).await?;
    if args.format.json {
        print_json(&status);
        return Ok(OK);
    }
    println!("stack {}", status.stack.name);
    for c in status.certificates.iter().filter(|c| c.state != "ok") {
        println!("warning: frontend {}: {}", c.hostname, super::stack::certificate_line(c));
    }
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
    print!("{}", scaling_tables(&status));
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

/// Each layer's load-based rule and what it would do now; each time-based instance's next change.
pub fn scaling_tables(status: &StackStatus) -> String {
    let mut out = String::new();
    let layers: Vec<Vec<String>> = status
        .load_scaling
        .iter()
        .map(|l| {
            let on = if l.enabled { "on" } else { "off" };
            vec![l.layer.clone(), on.to_owned(), or_dash(l.last_action_at.clone()), l.decision.clone()]
        })
        .collect();
    if !layers.is_empty() {
        out.push_str(&format!("load-based scaling:\n{}\n", table(&["LAYER", "RULE", "LAST ACTION", "NOW"], &layers)));
    }
    let timed: Vec<Vec<String>> = status
        .time_scaling
        .iter()
        .map(|i| {
            let wants = match i.wants_online {
                Some(true) => "online",
                Some(false) => "stopped",
                None => "-",
            };
            let next = match (&i.next_change, i.wants_online) {
                (Some(at), Some(true)) => format!("{at} (stop)"),
                (Some(at), _) => format!("{at} (start)"),
                (None, _) => "never".to_owned(),
            };
            vec![i.hostname.clone(), or_dash(i.schedule.clone()), wants.to_owned(), next]
        })
        .collect();
    if !timed.is_empty() {
        let shown = table(&["INSTANCE", "SCHEDULE", "WANTED NOW", "NEXT CHANGE"], &timed);
        out.push_str(&format!("time-based instances (UTC):\n{shown}\n"));
    }
    out
}
