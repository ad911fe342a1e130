//! The Drover agent: one per instance. It enrolls with a join token (read from a file), then pulls commands over
//! one long-poll, runs them, streams their output and reports results until the server
//! acknowledges them. It never runs a command id twice (a journal under its root remembers).
//!
//! Everything it writes lives under `--root`.

mod app;
mod backoff;
mod broker;
mod child_env;
mod config;
mod enroll;
mod executor;
mod frontend;
mod health;
mod heartbeat;
mod hooks;
mod journal;
mod lifecycle;
mod output;
mod private_file;
mod process_identity;
mod result_size;
mod run;
mod service_logs;
mod step_groups;
mod supervisor;
mod upgrade;

pub use config::AgentConfig;
pub use run::{AgentError, run};
