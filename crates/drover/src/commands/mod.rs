//! One module per verb; each turns parsed arguments into API calls and printed results.

mod agent_install;
mod agent_upgrade;
mod app;
mod apply;
mod config;
mod daemon;
mod deploy;
mod deployment;
mod events;
mod exec;
mod export;
mod follow;
mod import;
mod instance;
mod layer;
mod layer_provider;
mod layer_scaling;
mod logs;
mod people;
mod scaling;
mod server_migrate;
mod server_status;
mod shell_help;
#[cfg(test)]
mod snapshots;
mod stack;
mod status;
mod token;
mod zodb;

use std::path::Path;

use crate::cli::{Cli, Command};
use crate::exit::{CliResult, Failure};
use crate::login;

/// Runs the command.
pub async fn dispatch(cli: Cli) -> CliResult {
    match cli.command {
        Command::Server(args) => match args.action {
            Some(crate::cli::ServerAction::Migrate(migrate)) => server_migrate::migrate(migrate).await,
            Some(crate::cli::ServerAction::Status(status)) => server_status::run(status).await,
            None => daemon::server(args).await,
        },
        Command::Agent(args) => match args.action {
            Some(action) => agent_install::run(action).await,
            None => daemon::agent(args).await,
        },
        Command::Login(args) => login::login(args).await,
        Command::Stack(cmd) => stack::run(cmd).await,
        Command::Layer(cmd) => layer::run(cmd).await,
        Command::Instance(cmd) => instance::run(cmd).await,
        Command::App(cmd) => app::run(cmd).await,
        Command::Token(cmd) => token::run(cmd).await,
        Command::Deploy(args) => deploy::run("deploy", args.common, args.lock_wait, None).await,
        Command::Rollback(args) => deploy::run("rollback", args.deploy.common, args.deploy.lock_wait, args.to).await,
        Command::Start(args) => deploy::run("start", args, 0, None).await,
        Command::Stop(args) => deploy::run("stop", args, 0, None).await,
        Command::Restart(args) => deploy::run("restart", args, 0, None).await,
        Command::Undeploy(args) => deploy::run("undeploy", args, 0, None).await,
        Command::Release(cmd) => deploy::releases(cmd).await,
        Command::Exec(args) => exec::run(args).await,
        Command::Zodb(cmd) => zodb::run(cmd).await,
        Command::Deployment(cmd) => deployment::run(cmd).await,
        Command::Logs(args) => logs::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Apply(args) => apply::run(args).await,
        Command::Export(args) => export::run(args).await,
        Command::Import(cmd) => import::run(cmd).await,
        Command::User(cmd) => people::users(cmd).await,
        Command::Whoami(format) => people::whoami(format).await,
        Command::Audit(cmd) => people::audit(cmd).await,
        Command::Events(args) => events::run(args).await,
        Command::Completions(args) => shell_help::completions(args.shell),
        Command::Man(args) => shell_help::man_pages(&args.dir),
    }
}

/// Reads a Custom JSON file, naming the file and position of a syntax error.
pub fn read_custom_json(path: Option<&Path>) -> CliResult<Option<serde_json::Value>> {
    let Some(path) = path else { return Ok(None) };
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("failed to read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Failure::usage(format!("{} is not valid JSON: {e} (line {}, column {})", path.display(), e.line(), e.column()))
    })
}
