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
        StackCommand::Frontends { stack, format } => {
            let frontends = client.frontends(&stack).await?;
            if format.json {
                print_json(&frontends);
            } else if frontends.is_empty() {
                println!("stack {stack} has no online frontend instance");
            } else {
                for f in &frontends {
                    println!("{}: site {}", f.hostname, f.url);
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
