//! `drover stack ...`.

use drover_proto::api::{CreateStack, Stack};

use super::read_custom_json;
use crate::cli::StackCommand;
use crate::exit::{CliResult, OK};
use crate::login::client;
use crate::output::{print_json, table};

fn rows(stacks: &[Stack]) -> String {
    let rows: Vec<Vec<String>> = stacks.iter().map(|s| vec![s.name.clone(), s.created_at.clone()]).collect();
    table(&["NAME", "CREATED"], &rows)
}

pub async fn run(cmd: StackCommand) -> CliResult {
    let client = client()?;
    match cmd {
        StackCommand::Create { name, custom_json } => {
            let custom_json = read_custom_json(custom_json.as_deref())?;
            let stack = client.create_stack(&CreateStack { name, custom_json }).await?;
            println!("created stack {}", stack.name);
        }
        StackCommand::List(format) => {
            let stacks = client.stacks().await?;
            if format.json { print_json(&stacks) } else { print!("{}", rows(&stacks)) }
        }
        StackCommand::Show { stack, format } => {
            let stack = client.stack(stack.name()?).await?;
            if format.json {
                print_json(&stack)
            } else {
                print!("{}", rows(std::slice::from_ref(&stack)));
                println!("custom json: {}", stack.custom_json);
            }
        }
        StackCommand::Delete { name } => {
            client.delete_stack(&name).await?;
            println!("deleted stack {name}");
        }
        StackCommand::Config(args) => return super::config::run(args).await,
        StackCommand::SetJson(args) => return super::config::set_json(None, args).await,
        StackCommand::Configure { stack, wait, json } => return super::config::configure(&stack, wait, json).await,
        StackCommand::Frontends { stack, backend: true, format } => {
            let backends = client.frontend_backends(&stack).await?;
            if format.json {
                print_json(&backends);
            } else if backends.is_empty() {
                println!("stack {stack} has no online frontend instance");
            } else {
                let mut rows = Vec::new();
                for b in &backends {
                    for s in &b.servers {
                        let state = match (&s.status, &s.error) {
                            (Some(status), _) => status.clone(),
                            (None, Some(error)) => format!("unknown ({error})"),
                            (None, None) => "unknown".to_owned(),
                        };
                        let sessions = s.sessions.map_or_else(|| "-".to_owned(), |n| n.to_string());
                        rows.push(vec![b.frontend.clone(), s.server.clone(), s.address.clone(), state, sessions]);
                    }
                }
                print!("{}", table(&["FRONTEND", "SERVER", "ADDRESS", "STATE", "IN FLIGHT"], &rows));
            }
        }
        StackCommand::Frontends { stack, backend: false, format } => {
            let frontends = client.frontends(&stack).await?;
            if format.json {
                print_json(&frontends);
            } else if frontends.is_empty() {
                println!("stack {stack} has no online frontend instance");
            } else {
                for f in &frontends {
                    println!("{}: site {}", f.hostname, f.url);
                    if let Some(c) = &f.certificate {
                        println!("  {}", certificate_line(c));
                    }
                    if let Some(stats) = &f.stats_url {
                        println!("  stats {stats} (user {}, password {})", f.stats_user, f.stats_password);
                    }
                    for server in &f.servers {
                        println!("  backend server {server}");
                    }
                }
            }
        }
    }
    Ok(OK)
}

/// A certificate's end, its days left and its state, e.g. `certificate for www.example.org
/// ends 2027-03-01T00:00:00.000Z (90 days left, ok)`.
pub fn certificate_line(c: &drover_proto::api::FrontendCertificate) -> String {
    let names = if c.names.is_empty() { String::new() } else { format!(" for {}", c.names.join(", ")) };
    let left =
        if c.expired { format!("expired {} day(s) ago", -c.days_left) } else { format!("{} day(s) left", c.days_left) };
    format!("certificate{names} ends {} ({left}, {})", c.not_after, c.state)
}
