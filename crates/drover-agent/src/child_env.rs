//! The one way the agent starts a process (commands, build steps, hooks, git, services, the
//! frontend's checks): without the tokens and credentials of the agent's own environment (core
//! `child_env::is_withheld`). A join token or admin token exported where the agent was started
//! stays with the agent; commands, buildout and Zope never see it.

use std::ffi::{OsStr, OsString};

/// Names of the agent's environment variables no child inherits.
fn withheld() -> Vec<OsString> {
    std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| name.to_str().is_some_and(drover_core::child_env::is_withheld))
        .collect()
}

/// An async command for `program`, without the withheld variables. Call before adding its own
/// environment, which may set anything.
pub fn command(program: impl AsRef<OsStr>) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    for name in withheld() {
        cmd.env_remove(name);
    }
    cmd
}

/// A blocking command for `program`, without the withheld variables.
pub fn std_command(program: impl AsRef<OsStr>) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    for name in withheld() {
        cmd.env_remove(name);
    }
    cmd
}

#[cfg(test)]
mod tests {
    /// Every process the agent starts goes through this module: a `Command::new` anywhere else
    /// would hand the agent's tokens to a child.
    #[test]
    fn no_other_file_starts_processes() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![src];
        let mut offenders = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("child_env.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    if text.contains("Command::new(") {
                        offenders.push(path.display().to_string());
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "start processes with child_env::command instead: {offenders:?}");
    }
}
