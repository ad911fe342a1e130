//! Arguments of `drover import`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `drover import`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Write a stack file from an OpsWorks stack: the output of `aws opsworks describe-*`, or a
    /// CloudFormation template; lists what could not be carried over.
    Opsworks(ImportOpsworksArgs),
}

/// `drover import opsworks`.
#[derive(Debug, Args)]
#[command(after_help = "The describe directory holds one JSON file per AWS CLI call, named after it: \
                  describe-stacks.json and describe-layers.json (required), describe-apps.json, \
                  describe-instances.json, describe-time-based-auto-scaling.json and \
                  describe-load-based-auto-scaling.json. CloudFormation templates are read as JSON only \
                  (convert a YAML one first, e.g. with cfn-flip).\n\nSecret values are never imported: \
                  secure environment variables become env: references to export before applying, deploy \
                  keys a file: path to fill in. Everything that has no Drover equivalent (Chef recipes, \
                  EBS volumes, Elastic IPs, load balancers, RDS, ...) is listed by name on stderr (and in \
                  --json) and at the end of the file.\n\nExamples:\n  \
                  aws opsworks describe-stacks --stack-ids $ID > ow/describe-stacks.json\n  \
                  for c in layers apps instances; do aws opsworks describe-$c --stack-id $ID > ow/describe-$c.json; done\n  \
                  drover import opsworks --describe ow/ -o prod.toml\n  \
                  drover import opsworks --cloudformation plone.template.json --provider local -o prod.toml\n  \
                  drover apply -f prod.toml --dry-run")]
pub struct ImportOpsworksArgs {
    /// A directory with the describe-*.json files.
    #[arg(long, value_name = "DIR", required_unless_present = "cloudformation", conflicts_with = "cloudformation")]
    pub describe: Option<PathBuf>,
    /// A CloudFormation template (JSON) with AWS::OpsWorks::* resources.
    #[arg(long, value_name = "FILE")]
    pub cloudformation: Option<PathBuf>,
    /// Write the stack file here (an existing file is kept unless --force); default: standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// The OpsWorks stack to import (name or id) when the input holds several.
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
    /// The Drover stack's name (default: the OpsWorks name as a valid name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The instances' provider: registered (the hosts join with a token) or local (this machine).
    #[arg(long, default_value = "registered", value_parser = ["registered", "local"])]
    pub provider: String,
    /// Print the result as JSON on standard output (the stack file as `stack_file` unless -o).
    #[arg(long)]
    pub json: bool,
}
