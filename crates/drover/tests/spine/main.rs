//! The spine, end to end: the real `drover` server, real local agents, the real CLI.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod agent_install;
mod apps;
mod auth;
mod bad_input;
mod browser;
mod celery;
mod cluster;
mod config;
mod console;
mod cookbook;
mod deploy;
#[cfg(feature = "ec2")]
mod ec2;
mod exec;
mod faults;
mod file_modes;
mod frontend;
mod frontend_names;
mod hardening;
mod http_load;
mod https;
mod import;
mod join_tokens;
mod load_scaling;
mod logs;
mod lost;
mod migrate;
mod no_outage;
mod online;
mod pacing;
mod people;
mod pid_reuse;
mod pinning;
mod plone;
mod power;
mod registered;
mod relstorage;
mod restart;
mod schedules;
mod shell_help;
mod solr;
mod stackfile;
mod stranded;
mod supervise;
mod untrusted_facts;
mod upgrade;
mod webhook;
mod zodb;

use std::time::Duration;

use drover_proto::api::CreateDeployment;

/// How long an instance may take to come online on a loaded machine.
pub const ONLINE_WAIT: Duration = Duration::from_secs(120);

/// An `execute` deployment request.
pub fn exec_request(command: &[&str], layers: &[&str], instances: &[&str]) -> CreateDeployment {
    CreateDeployment {
        kind: "execute".into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        layers: layers.iter().map(|s| s.to_string()).collect(),
        instances: instances.iter().map(|s| s.to_string()).collect(),
        comment: None,
        timeout_secs: None,
        ..Default::default()
    }
}
