//! `drover export --stack S [-o FILE]`: a stack as a stack file for `drover apply`.

use crate::cli::ExportArgs;
use crate::exit::{CliResult, FAILED, Failure, OK};
use crate::login::client;
use crate::stackfile::render;

pub async fn run(args: ExportArgs) -> CliResult {
    let client = client()?;
    let name = &args.stack;
    let stack = client.stack(name).await?;
    let (layers, apps, instances) = tokio::try_join!(client.layers(name), client.apps(name), client.instances(name))?;
    let providers = super::apply::providers(&client, name, &layers).await?;
    let text = render(&stack, &layers, &apps, &instances, &providers);
    match &args.output {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| Failure::new(FAILED, format!("failed to write {}: {e}", path.display())))?;
            println!("wrote stack {name} to {}; apply it with: drover apply -f {}", path.display(), path.display());
        }
        None => print!("{text}"),
    }
    Ok(OK)
}
