//! `drover layer ...`.

use std::collections::BTreeMap;

use drover_proto::api::{CreateLayer, Layer, UpdateLayer};

use super::read_custom_json;
use crate::cli::LayerCommand;
use crate::exit::{CliResult, Failure, OK};
use crate::login::client;
use crate::output::{print_json, table};

fn rows(layers: &[Layer]) -> String {
    let rows: Vec<Vec<String>> = layers
        .iter()
        .map(|l| vec![l.shortname.clone(), l.layer_type.clone(), if l.auto_healing { "on" } else { "off" }.into()])
        .collect();
    table(&["SHORTNAME", "TYPE", "AUTO-HEALING"], &rows)
}

/// `EVENT=COMMAND` (an empty command removes the hook).
fn parse_hook(raw: &str) -> CliResult<(String, String)> {
    let (event, command) = raw.split_once('=').ok_or_else(|| {
        Failure::usage(format!("--hook takes EVENT=COMMAND (e.g. configure=scripts/configure.sh), not {raw:?}"))
    })?;
    Ok((event.trim().to_owned(), command.to_owned()))
}

pub async fn run(cmd: LayerCommand) -> CliResult {
    let client = client()?;
    match cmd {
        LayerCommand::Create { stack, shortname, layer_type, custom_json, no_auto_healing, hooks } => {
            let custom_json = read_custom_json(custom_json.as_deref())?;
            let mut parsed = BTreeMap::new();
            for hook in &hooks {
                let (event, command) = parse_hook(hook)?;
                parsed.insert(event, command);
            }
            let req =
                CreateLayer { shortname, layer_type, custom_json, auto_healing: Some(!no_auto_healing), hooks: parsed };
            let layer = client.create_layer(&stack, &req).await?;
            println!("created layer {} ({}) in stack {stack}", layer.shortname, layer.layer_type);
        }
        LayerCommand::List { stack, format } => {
            let layers = client.layers(&stack).await?;
            if format.json { print_json(&layers) } else { print!("{}", rows(&layers)) }
        }
        LayerCommand::Show { stack, shortname, format } => {
            let layer = client.layer(&stack, &shortname).await?;
            if format.json {
                print_json(&layer)
            } else {
                print!("{}", rows(std::slice::from_ref(&layer)));
                println!("custom json: {}", layer.custom_json);
                for (event, command) in &layer.hooks {
                    println!("{event} hook: {command}");
                }
            }
        }
        LayerCommand::Update { stack, shortname, hooks, auto_healing } => {
            let auto_healing = match auto_healing.as_deref() {
                None => None,
                Some("on") => Some(true),
                Some("off") => Some(false),
                Some(other) => return Err(Failure::usage(format!("--auto-healing takes on or off, not {other:?}"))),
            };
            let new_hooks = if hooks.is_empty() {
                None
            } else {
                let mut current = client.layer(&stack, &shortname).await?.hooks;
                for hook in &hooks {
                    let (event, command) = parse_hook(hook)?;
                    if command.is_empty() {
                        current.remove(&event);
                    } else {
                        current.insert(event, command);
                    }
                }
                Some(current)
            };
            let layer =
                client.update_layer(&stack, &shortname, &UpdateLayer { hooks: new_hooks, auto_healing }).await?;
            println!("updated layer {} in stack {stack}", layer.shortname);
            for (event, command) in &layer.hooks {
                println!("  {event} hook: {command}");
            }
        }
        LayerCommand::Scaling(args) => return super::layer_scaling::run(&client, args).await,
        LayerCommand::Provider(args) => return super::layer_provider::run(&client, args).await,
        LayerCommand::SetJson { layer, args } => return super::config::set_json(Some(&layer), args).await,
        LayerCommand::Delete { stack, shortname } => {
            client.delete_layer(&stack, &shortname).await?;
            println!("deleted layer {shortname} from stack {stack}");
        }
    }
    Ok(OK)
}
