//! `drover server status`: the servers of the control plane, the leader, and each one's load.

use drover_proto::servers::ServerMember;

use crate::cli::ServerStatusArgs;
use crate::exit::{CliResult, OK};
use crate::login::client;
use crate::output::{print_json, table};

fn row(s: &ServerMember) -> Vec<String> {
    let role = if s.leader { "leader" } else { "standby" };
    let seen = if s.silent_secs > 10 { format!("silent {} s", s.silent_secs) } else { "up".to_owned() };
    vec![
        format!("{}{}", s.id, if s.answering { " *" } else { "" }),
        s.url.clone(),
        role.to_owned(),
        seen,
        s.agents.to_string(),
        format!("{:.1}", s.cpu_percent),
        format!("{:.0}", s.rss_bytes as f64 / (1024.0 * 1024.0)),
        s.started_at.clone(),
    ]
}

/// Prints the servers (`*` marks the one that answered).
pub async fn run(args: ServerStatusArgs) -> CliResult {
    let servers = client()?.servers().await?;
    if args.format.json {
        print_json(&servers);
        return Ok(OK);
    }
    let rows: Vec<Vec<String>> = servers.iter().map(row).collect();
    print!("{}", table(&["SERVER", "URL", "ROLE", "STATE", "AGENTS", "CPU%", "RSS MIB", "STARTED"], &rows));
    Ok(OK)
}
