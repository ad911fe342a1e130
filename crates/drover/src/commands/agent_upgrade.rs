//! `drover agent upgrade`: one deployment of kind `agent_upgrade`, each agent's output followed
//! with `--wait`, a result per instance.

use drover_proto::upgrade::CreateAgentUpgrade;

use super::follow::report;
use crate::cli_agent::UpgradeArgs;
use crate::exit::CliResult;
use crate::login::client;

pub async fn run(args: UpgradeArgs) -> CliResult {
    let client = client()?;
    let req = CreateAgentUpgrade {
        instances: args.instances,
        rolling: args.rolling,
        comment: args.comment,
        timeout_secs: args.kill_after,
    };
    let deployment = client.upgrade_agents(&args.stack, &req).await?;
    if !args.json {
        let running = deployment.commands.iter().filter(|c| c.status != "skipped").count();
        let pacing = if args.rolling { "one agent at a time" } else { "all agents at once" };
        println!("deployment {}: upgrading {running} agent(s), {pacing}", deployment.id);
    }
    report(&client, &deployment, args.wait, args.json, args.timeout).await
}
