//! Arguments of `drover layer provider`.

use clap::Args;

use crate::cli::Format;

/// `drover layer provider`.
#[derive(Debug, Args)]
#[command(after_help = "New instances of the layer get this provider (`drover instance create --provider` overrides \
                  it). An ec2 layer's instances are EC2 machines the server runs, stops, starts and terminates; \
                  their user data installs the agent (the image must have `drover` on its PATH). The server takes \
                  AWS credentials from the SDK's usual chain (AWS_* environment, ~/.aws/credentials and config); \
                  Drover stores none.\n\nExamples:\n  \
                  drover layer provider --stack prod web ec2 --ami ami-0abc1234def567890 --instance-type t3.small \
                  --subnet subnet-0abc1234 --security-group sg-0abc1234 --key-name deploy --tag team=web --region eu-west-1\n  \
                  drover layer provider --stack prod web          # show it")]
pub struct LayerProviderArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// The layer.
    pub layer: String,
    /// local, registered or ec2; leave out to show the layer's provider.
    pub provider: Option<String>,
    /// ec2: the image (ami-…).
    #[arg(long)]
    pub ami: Option<String>,
    /// ec2: the instance type (t3.micro).
    #[arg(long)]
    pub instance_type: Option<String>,
    /// ec2: the subnet (subnet-…); the default VPC's when left out.
    #[arg(long)]
    pub subnet: Option<String>,
    /// ec2: a security group id (sg-…); repeat.
    #[arg(long = "security-group", value_name = "SG")]
    pub security_groups: Vec<String>,
    /// ec2: the key pair for SSH.
    #[arg(long)]
    pub key_name: Option<String>,
    /// ec2: a tag KEY=VALUE for the machines, besides drover:stack, drover:layer and
    /// drover:hostname; repeat.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// ec2: the region (default: the SDK's, AWS_REGION or the config file).
    #[arg(long)]
    pub region: Option<String>,
    /// ec2: another EC2 endpoint (an EC2-compatible service, or moto for tests).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    #[command(flatten)]
    pub format: Format,
}
