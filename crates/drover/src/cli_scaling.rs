//! Arguments of the scaling commands: `drover instance update --scaling` and
//! `drover instance schedule`.

use std::path::PathBuf;

use clap::Args;

use crate::cli::Format;

/// `drover instance update`.
#[derive(Debug, Args)]
pub struct InstanceUpdateArgs {
    /// The stack.
    #[arg(long)]
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
    #[arg(long)]
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
