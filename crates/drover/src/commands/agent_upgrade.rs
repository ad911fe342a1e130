//! `drover agent upgrade`: one deployment of kind `agent_upgrade`, each agent's output followed
//! with `--wait`, a result per instance.

use drover_proto::upgrade::CreateAgentUpgrade;

use super::follow::{exit_code, follow_to_end, results};
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
        timeout_secs: args.kill_after,
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
    let finished = follow_to_end(&client, &deployment, args.json, args.timeout).await?;
    if args.json {
        print_json(&finished);
    } else {
        print!("{}", results(&finished));
    }
    Ok(exit_code(&finished))
}
