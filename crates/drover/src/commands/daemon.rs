//! `drover server` and `drover agent`.

use std::time::Duration;

use drover_agent::AgentConfig;
use drover_server::ServerConfig;

use crate::cli::{AgentArgs, ServerArgs};
use crate::exit::{CliResult, FAILED, Failure, OK, UNREACHABLE, USAGE};

fn secs(field: &str, v: f64) -> CliResult<Duration> {
    Duration::try_from_secs_f64(v)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| Failure::usage(format!("--{field} must be a positive number of seconds, not {v}")))
}

fn rate_limit(per_second: f64, burst: u32) -> CliResult<drover_core::rate_limit::Limit> {
    if !per_second.is_finite() || per_second < 0.0 {
        return Err(Failure::usage(format!(
            "--rate-limit-per-second must be 0 (no limit) or a positive number, not {per_second}"
        )));
    }
    Ok(drover_core::rate_limit::Limit { per_second, burst: f64::from(burst) })
}

pub async fn server(args: ServerArgs) -> CliResult {
    let mut config = ServerConfig::new(args.data_dir);
    config.database =
        args.database.as_deref().map(drover_core::database_url::parse).transpose().map_err(Failure::usage)?;
    config.listen = args.listen;
    config.advertise_url = args.advertise_url;
    config.extra_sans = args.sans;
    config.heartbeat_timeout = secs("heartbeat-timeout-secs", args.heartbeat_timeout_secs)?;
    config.agent_heartbeat_interval = secs("agent-heartbeat-interval-secs", args.agent_heartbeat_interval_secs)?;
    config.shutdown_timeout = Duration::from_secs(args.shutdown_timeout_secs);
    config.command_logs_kept = args.command_logs_kept;
    config.command_log_max_bytes = args.command_log_max_bytes;
    if !drover_core::address::valid_first(args.local_first_address) {
        return Err(Failure::usage(format!(
            "--local-first-address must be a loopback address from 127.x.y.2 to 127.x.y.254, not {}",
            args.local_first_address
        )));
    }
    config.local_first_address = args.local_first_address;
    config.schedule_clock_file = args.schedule_clock_file;
    if let Some(path) = args.agent_binary {
        config.served_binary = std::path::absolute(&path)
            .map_err(|e| Failure::usage(format!("--agent-binary {}: {e}", path.display())))?;
    }
    config.limits = drover_server::ConnectionLimits {
        header_read_timeout: secs("header-read-timeout-secs", args.header_read_timeout_secs)?,
        idle_timeout: secs("idle-timeout-secs", args.idle_timeout_secs)?,
        max_connections: args.max_connections.map_or_else(drover_server::default_max_connections, |n| n as usize),
        rate: rate_limit(args.rate_limit_per_second, args.rate_limit_burst)?,
    };
    if let Some(url) = &config.advertise_url
        && !url.starts_with("https://")
    {
        return Err(Failure::usage(format!("--advertise-url must start with https://, not {url:?}")));
    }
    drover_server::run(config).await.map_err(|e| Failure::new(FAILED, format!("{:#}", anyhow::Error::from(e))))?;
    Ok(OK)
}

pub async fn agent(args: AgentArgs) -> CliResult {
    if args.join_in_argv.is_some() {
        return Err(Failure::usage(
            "--join TOKEN is not accepted: every user can read a command line in /proc; save the token in a file \
             (chmod 600) and pass --join-file FILE, or pipe it in with --join-file -",
        ));
    }
    let config = AgentConfig {
        join_file: args.join_file,
        server_url: args.server,
        stack: args.stack,
        instance: args.instance,
        layers: args.layers,
        root: args.root,
        address: args.address,
        heartbeat_interval: secs("heartbeat-interval-secs", args.heartbeat_interval_secs)?,
        cpu_count: args.cpu_count,
    };
    drover_agent::run(config).await.map_err(|e| {
        let code = match &e {
            drover_agent::AgentError::Config(_) => USAGE,
            drover_agent::AgentError::Client(c) if c.is_unreachable_or_unauthorised() => UNREACHABLE,
            _ => FAILED,
        };
        Failure::new(code, format!("{:#}", anyhow::Error::from(e)))
    })?;
    Ok(OK)
}
