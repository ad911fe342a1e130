//! `drover exec`: one deployment of kind `execute`, output streamed live, a result per instance.

use drover_proto::api::CreateDeployment;

use super::follow::report;
use crate::cli::ExecArgs;
use crate::exit::CliResult;
use crate::login::client;

pub async fn run(args: ExecArgs) -> CliResult {
    let client = client()?;
    let req = CreateDeployment {
        kind: "execute".into(),
        command: args.command,
        layers: args.layers,
        instances: args.instances,
        comment: args.comment,
        timeout_secs: args.kill_after,
        ..Default::default()
    };
    let deployment = client.create_deployment(&args.stack, &req).await?;
    if !args.json {
        let running = deployment.commands.iter().filter(|c| c.status != "skipped").count();
        println!("deployment {}: running {:?} on {running} instance(s)", deployment.id, deployment.command.join(" "));
    }
    report(&client, &deployment, true, args.json, args.timeout).await
}
