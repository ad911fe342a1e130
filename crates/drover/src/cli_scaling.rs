//! Arguments of the scaling commands: `drover instance update --scaling`,
//! `drover instance schedule` and `drover layer scaling`.

use std::path::PathBuf;

use clap::Args;

use crate::cli::Format;

/// `drover instance update`.
#[derive(Debug, Args)]
pub struct InstanceUpdateArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// The instance.
    pub hostname: String,
    /// 24/7 (started and stopped by hand), time (by its schedule: `drover instance schedule`) or
    /// load (by its layer's thresholds).
    #[arg(long)]
    pub scaling: String,
    #[command(flatten)]
    pub format: Format,
}

/// `drover instance schedule`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  drover instance schedule --stack prod clients3 --on 'mon-fri 08-18' --on 'sat 10-14'\n  \
                        drover instance schedule --stack prod clients3 --grid schedule.json\n  \
                        drover instance schedule --stack prod clients3          # show it"
)]
pub struct ScheduleArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// The instance.
    pub hostname: String,
    /// Hours (UTC) the instance should be online: `mon-fri 08-18`, `sat 10-14`, `sun 22-02`
    /// (across midnight), `daily 09-17`; repeat for their union. Makes the instance time-based.
    #[arg(long, value_name = "SPEC")]
    pub on: Vec<String>,
    /// A JSON file with OpsWorks' TimeBasedAutoScaling grid (`{"Monday": {"8": "on", …}, …}`), as
    /// `aws opsworks describe-time-based-auto-scaling` prints it.
    #[arg(long, conflicts_with = "on")]
    pub grid: Option<PathBuf>,
    #[command(flatten)]
    pub format: Format,
}

/// `drover layer scaling`.
#[derive(Debug, Args)]
#[command(after_help = "Up-scaling starts stopped load-based instances when any threshold's average over the layer's \
                  online instances stays above it for the whole wait; down-scaling stops the most recently \
                  started ones when every threshold's average stays below it. Metrics are ignored for \
                  --ignore-metrics after each action. Only instances with `--scaling load` are started or \
                  stopped.\n\nExamples:\n  \
                  drover layer scaling --stack prod clients --enable --up cpu=80,memory=85,load=4 --down cpu=30 \
                  --thresholds-wait 5m --ignore-metrics 10m\n  \
                  drover layer scaling --stack prod clients          # show the rule and the layer's averages")]
pub struct LayerScalingArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// The layer.
    pub layer: String,
    /// Turn load-based scaling on.
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    /// Turn it off (the rule is kept).
    #[arg(long)]
    pub disable: bool,
    /// Up-scaling thresholds: cpu (%), memory (%), load (1-minute average); `-1` or `off`
    /// disables one, a metric left out is not watched.
    #[arg(long, value_name = "cpu=80,memory=85,load=4")]
    pub up: Option<String>,
    /// Down-scaling thresholds, the same form (e.g. cpu=30).
    #[arg(long, value_name = "cpu=30")]
    pub down: Option<String>,
    /// How many instances to start at once.
    #[arg(long, value_name = "N")]
    pub up_instances: Option<u32>,
    /// How many instances to stop at once.
    #[arg(long, value_name = "N")]
    pub down_instances: Option<u32>,
    /// How long a threshold must hold before acting (1m to 100m, e.g. 5m).
    #[arg(long, value_name = "DURATION")]
    pub thresholds_wait: Option<String>,
    /// How long metrics are ignored after starting or stopping instances (1m to 100m, e.g. 10m).
    #[arg(long, value_name = "DURATION")]
    pub ignore_metrics: Option<String>,
    #[command(flatten)]
    pub format: Format,
}
