//! `drover agent upgrade`: one deployment of kind `agent_upgrade`, each agent's output followed
//! with `--wait`, a result per instance.

use drover_proto::upgrade::CreateAgentUpgrade;

use super::follow::{exit_code, results, stream_logs};
use crate::cli_agent::UpgradeArgs;
use crate::exit::{CliResult, OK};
use crate::login::client;
use crate::output::print_json;

pub async fn run(args: UpgradeArgs) -> CliResult {
    let client = client()?;
    let req = CreateAgentUpgrade {
        instances: args.instances,
        rolling: args.rolling,
        comment: args.comment,
        timeout_secs: args.timeout,
    };
    let deployment = client.upgrade_agents(&args.stack, &req).await?;
    if !args.json {
        let running = deployment.commands.iter().filter(|c| c.status != "skipped").count();
        let pacing = if args.rolling { "one agent at a time" } else { "all agents at once" };
        println!("deployment {}: upgrading {running} agent(s), {pacing}", deployment.id);
    }
    if !args.wait {
        if args.json {
            print_json(&deployment);
        } else {
            println!("follow it with: drover deployment show {} --follow", deployment.id);
        }
        return Ok(OK);
    }
    stream_logs(&client, &deployment, args.json).await?;
    let finished = client.deployment(deployment.id).await?;
    if args.json {
        print_json(&finished);
    } else {
        print!("{}", results(&finished));
    }
    Ok(exit_code(&finished))
}
