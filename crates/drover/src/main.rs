//! `drover`: the server, the agent and the client verbs in one binary. This file only wires the
//! argument parser to the commands and turns failures into the documented exit codes.

mod cli;
mod cli_agent;
mod cli_app;
mod cli_import;
mod cli_instance;
mod cli_logs;
mod cli_people;
mod cli_provider;
mod cli_scaling;
mod cli_stack;
mod cli_zodb;
mod commands;
mod default_stack;
mod exit;
mod flag_names;
mod help_examples;
mod login;
mod output;
mod progress;
mod stackfile;

use clap::{CommandFactory, FromArgMatches};

fn main() -> std::process::ExitCode {
    let mut command = cli::Cli::command();
    if let Some(stack) = login::saved_stack() {
        command = default_stack::with_default_stack(command, &stack);
    }
    let matches = command.get_matches();
    let cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let flags = flag_names::of_invoked(cli::Cli::command(), &matches);
    let filter = if cli.is_daemon() { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .init();
    let runtime = if cli.is_agent() {
        // One thread keeps an idle agent small.
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return std::process::ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(failure) => {
            let message = failure.message();
            let message = match &failure.field {
                Some(field) => flag_names::name_flag(&message, field, &flags),
                None => message,
            };
            eprintln!("error: {message}");
            std::process::ExitCode::from(failure.code)
        }
    }
}
