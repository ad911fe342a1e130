//! Stack files: a whole stack (Custom JSON, layers, apps, instances) in one TOML document that
//! `drover apply` reconciles and `drover export` writes back out.
//!
//! The format (`examples/demo-stack.toml` is a commented example):
//!
//! ```toml
//! [stack]
//! name = "demo"
//! custom_json = '''{"plone_instances": {"per_cpu": 1}}'''   # a JSON string, or a TOML table
//!
//! [layers.clients]
//! type = "plone_instances"          # custom | zeoserver | plone_instances | frontend
//! auto_healing = true               # default true
//! hooks = { configure = "scripts/configure.sh" }
//! custom_json = { }                 # a JSON string, or a TOML table
//! provider = "local"                # default local; registered; or ec2 with an ec2 table:
//! # ec2 = { ami = "ami-0abc1234", instance_type = "t3.micro", subnet = "subnet-0abc1234",
//! #         security_groups = ["sg-0abc1234"], key_name = "deploy", tags = { team = "web" },
//! #         region = "eu-west-1" }  # endpoint_url for an EC2-compatible endpoint
//! load_scaling = { up = { cpu = 80, load = 4 }, down = { cpu = 30 } }   # optional; also enabled,
//! #   up_instances, down_instances, thresholds_wait_secs, ignore_metrics_secs (defaults: on, 1, 1, 300, 600)
//!
//! [apps.site]
//! git = "../site.git"               # a URL, an absolute path, or a path relative to this file
//! revision = "main"                 # default: the repository's default branch
//! layers = ["clients"]
//! environment = { PLONE_ENV = "prod" }
//! secret_environment = { DB_PASSWORD = "env:DB_PASSWORD" }   # references: env:NAME or file:PATH
//! deploy_key = "file:~/.ssh/site_deploy"
//!
//! [[instances]]
//! hostname = "clients1"             # required: instances are matched by hostname
//! layers = ["clients"]
//! cpu_count = 2                     # optional, local instances only
//! provider = "local"                # default: its first layer's provider; local, registered, ec2
//! scaling = "time"                  # optional: 24/7, time or load (left out: left as it is)
//! schedule = ["mon-fri 08-18"]      # for time: the hours it is online (UTC), as `--on` specs
//! ```
//!
//! An object in the file is described completely: what it omits takes its default (no hooks, no
//! Custom JSON, auto-healing on, no deploy key, the default branch). Objects on the server that
//! the file does not name are left alone. Secret values never appear in the file: app secrets
//! and deploy keys are references resolved when `drover apply` runs; secret values inside
//! Custom JSON may be written as `"<redacted>"` to keep the value the server stores.
//!
//! Parsing and checking (`load`), planning (`plan`) and rendering (`render`) are pure apart from
//! reading the file and resolving secret references; the commands do the API calls.

mod check;
mod imported;
mod locate;
mod plan;
#[cfg(test)]
mod properties;
mod raw;
mod render;

pub use check::{AppSpec, StackFile, load};
pub use imported::render_import;
pub use plan::{Call, Current, Plan, Step, plan};
pub use render::render;

/// One thing wrong with a stack file (or with applying it): where, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The TOML key path, e.g. `layers.clients.type` or `instances[0].hostname`.
    pub path: String,
    /// Line and column (1-based) in the file, when known.
    pub at: Option<(usize, usize)>,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    /// A problem at a key path.
    pub fn new(path: impl Into<String>, at: Option<(usize, usize)>, message: impl Into<String>) -> Self {
        Self { path: path.into(), at, message: message.into() }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some((line, column)) => write!(f, "{} (line {line}, column {column}): {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}
