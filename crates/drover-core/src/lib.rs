//! The Drover domain: model types and the pure decisions the server and the agent carry out.
//!
//! Nothing in this crate performs I/O. Every decision (status transitions, targeting, log
//! retention, address allocation, percentiles) is a function of its inputs with table tests beside
//! it, so the processes that carry them out stay thin.

pub mod access;
pub mod address;
pub mod agent_upgrade;
pub mod app;
pub mod attributes;
pub mod broker;
pub mod child_env;
pub mod civil;
pub mod config_values;
pub mod database_url;
pub mod deploy;
pub mod deployment;
pub mod duration;
pub mod ec2;
pub mod facts;
pub mod frontend;
pub mod hooks;
pub mod host_install;
pub mod import;
pub mod join;
pub mod lifecycle;
pub mod log_cap;
pub mod names;
pub mod password;
pub mod process;
pub mod rate_limit;
pub mod retention;
pub mod scaling;
pub mod service_logs;
pub mod stack_config;
pub mod stats;
pub mod status;
pub mod targeting;
pub mod text;
pub mod webhook;
pub mod zodb;

pub use names::{NameError, Shortname, next_hostname};
pub use status::{CommandStatus, DeploymentKind, DeploymentStatus, InstanceStatus, LayerType, Provider};
