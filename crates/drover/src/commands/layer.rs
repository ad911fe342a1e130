//! `drover layer ...`.

use drover_proto::api::{CreateLayer, Layer};

use super::read_custom_json;
use crate::cli::LayerCommand;
use crate::exit::{CliResult, OK};
use crate::login::client;
use crate::output::{print_json, table};

fn rows(layers: &[Layer]) -> String {
    let rows: Vec<Vec<String>> = layers
        .iter()
        .map(|l| vec![l.shortname.clone(), l.layer_type.clone(), if l.auto_healing { "on" } else { "off" }.into()])
        .collect();
    table(&["SHORTNAME", "TYPE", "AUTO-HEALING"], &rows)
}

pub async fn run(cmd: LayerCommand) -> CliResult {
    let client = client()?;
    match cmd {
        LayerCommand::Create { stack, shortname, layer_type, custom_json, no_auto_healing } => {
            let custom_json = read_custom_json(custom_json.as_deref())?;
            let req = CreateLayer { shortname, layer_type, custom_json, auto_healing: Some(!no_auto_healing) };
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
            }
        }
        LayerCommand::Delete { stack, shortname } => {
            client.delete_layer(&stack, &shortname).await?;
            println!("deleted layer {shortname} from stack {stack}");
        }
    }
    Ok(OK)
}
