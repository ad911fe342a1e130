//! `drover agent install` and `drover agent uninstall` on a Debian host: the join token in a
//! 0600 file, a systemd unit (core `host_install`) and a logrotate file; systemd is asked to
//! enable and start the unit where it runs, and told what to do where it does not.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use drover_core::Shortname;
use drover_core::host_install::{HostAgent, JOIN_TOKEN_PATH, LOGROTATE_PATH, UNIT_NAME, UNIT_PATH};

use crate::cli_agent::{AgentAction, InstallArgs, UninstallArgs};
use crate::exit::{CliResult, FAILED, Failure, OK};

/// Runs an install or an uninstall.
pub async fn run(action: AgentAction) -> CliResult {
    match action {
        AgentAction::Install(args) => install(args),
        AgentAction::Uninstall(args) => uninstall(&args),
        AgentAction::Upgrade(args) => super::agent_upgrade::run(args).await,
    }
}

/// `path` (absolute, on the host) under the staging root.
fn staged(dest_root: &Path, path: &str) -> PathBuf {
    dest_root.join(path.trim_start_matches('/'))
}

/// Whether this host runs systemd (and the files go to the real root, where it reads them).
fn systemd_here(dest_root: &Path) -> bool {
    dest_root == Path::new("/") && Path::new("/run/systemd/system").is_dir()
}

fn name(field: &str, raw: &str) -> Result<Shortname, Failure> {
    Shortname::parse(raw).map_err(|e| Failure::usage(format!("{field} {raw:?} {e}")))
}

fn write(path: &Path, text: &str, mode: u32) -> Result<(), Failure> {
    let failed = |e: std::io::Error| Failure::new(FAILED, format!("failed to write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    // The token's file is private before a byte of it is written.
    let file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(path).map_err(failed)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode)).map_err(failed)?;
    std::fs::write(path, text).map_err(failed)
}

fn systemctl(args: &[&str]) -> Result<(), Failure> {
    let status = std::process::Command::new("systemctl")
        .args(args)
        .status()
        .map_err(|e| Failure::new(FAILED, format!("failed to run systemctl: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(FAILED, format!("`systemctl {}` failed ({status})", args.join(" "))))
    }
}

fn install(args: InstallArgs) -> CliResult {
    let binary = match args.binary {
        Some(path) => path,
        None => {
            std::env::current_exe().map_err(|e| Failure::new(FAILED, format!("failed to find this binary: {e}")))?
        }
    };
    let agent = HostAgent {
        binary: binary.to_string_lossy().into_owned(),
        stack: name("--stack", &args.stack)?,
        layers: args.layers.iter().map(|l| name("--layer", l)).collect::<Result<_, _>>()?,
        instance: args.instance.as_deref().map(|h| name("--instance", h)).transpose()?,
        address: args.address,
        root: args.agent_root.to_string_lossy().into_owned(),
        server: args.server,
    };
    agent.check().map_err(|e| Failure::usage(e.to_string()))?;
    let token = std::fs::read_to_string(&args.join_file)
        .map_err(|e| Failure::usage(format!("failed to read --join-file {}: {e}", args.join_file.display())))?;
    let token = token.trim();
    if token.parse::<drover_proto::token::Token>().is_err() {
        return Err(Failure::usage(format!(
            "{} does not hold a join token; make one with `drover token create --join --stack {}`",
            args.join_file.display(),
            agent.stack
        )));
    }
    let dest = &args.dest_root;
    write(&staged(dest, JOIN_TOKEN_PATH), &format!("{token}\n"), 0o600)?;
    write(&staged(dest, UNIT_PATH), &agent.unit(), 0o644)?;
    write(&staged(dest, LOGROTATE_PATH), &agent.logrotate(), 0o644)?;
    for path in [JOIN_TOKEN_PATH, UNIT_PATH, LOGROTATE_PATH] {
        println!("wrote {}", staged(dest, path).display());
    }
    if systemd_here(dest) {
        systemctl(&["daemon-reload"])?;
        systemctl(&["enable", "--now", UNIT_NAME])?;
        println!("started {UNIT_NAME}; follow it with: journalctl -u {UNIT_NAME} -f");
    } else {
        println!("systemd is not running here (or the files were staged under {}):", dest.display());
        println!("start the agent under your init system, or by hand, with:\n  {}", agent.command().join(" "));
        println!("the unit written for systemd hosts:\n{}", agent.unit());
    }
    Ok(OK)
}

fn uninstall(args: &UninstallArgs) -> CliResult {
    let dest = &args.dest_root;
    if systemd_here(dest) && staged(dest, UNIT_PATH).exists() {
        systemctl(&["disable", "--now", UNIT_NAME])?;
    }
    for path in [UNIT_PATH, LOGROTATE_PATH, JOIN_TOKEN_PATH] {
        let path = staged(dest, path);
        match std::fs::remove_file(&path) {
            Ok(()) => println!("removed {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Failure::new(FAILED, format!("failed to remove {}: {e}", path.display()))),
        }
    }
    if systemd_here(dest) {
        systemctl(&["daemon-reload"])?;
    }
    println!("the agent's data and the apps' releases stay where they are");
    Ok(OK)
}
