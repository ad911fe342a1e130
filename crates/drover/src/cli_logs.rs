//! `drover logs`: its arguments.

use clap::Args;

/// `drover logs`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  drover logs --stack prod\n  \
                        drover logs --stack prod --instance web1 --service client1 --since 10m\n  \
                        drover logs --stack prod --follow\n  \
                        drover logs --stack prod --service agent --lines 100 --json\n\n\
                        Lines are shown as `<instance>/<service> | <text>` (`<instance>/agent` for the \
                        agent's own log; --json also gives the app), merged by time. Reading logs takes the deploy level: services may \
                        print what they were given, secrets included.")]
pub struct LogsArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// Only this instance (repeatable).
    #[arg(long = "instance")]
    pub instances: Vec<String>,
    /// Only instances of this layer (repeatable).
    #[arg(long = "layer")]
    pub layers: Vec<String>,
    /// Only this service: `client1`, `site/client1`, or `agent` for the agent's own log
    /// (repeatable).
    #[arg(long = "service")]
    pub services: Vec<String>,
    /// Only lines of this last while, e.g. `10m`, `2h`.
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// The newest this many lines of each source (default 10 without --since).
    #[arg(long, value_name = "N")]
    pub lines: Option<u32>,
    /// Keep printing new lines until interrupted (Ctrl-C), for at most --follow-for.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: stop after this long (at most 24h).
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub follow_for: String,
    /// One JSON object per line: time, instance, source, line.
    #[arg(long)]
    pub json: bool,
}
