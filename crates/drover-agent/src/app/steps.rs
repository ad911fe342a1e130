//! Running external programs (git, python, buildout) with their output streamed into the
//! command's log.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::output::OutputStream;
use crate::step_groups::StepGroup;

/// A program to run as one step of a deploy.
pub struct Step<'a> {
    /// What the log shows (no secrets).
    pub shown: String,
    /// The program.
    pub program: &'a str,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its working directory.
    pub cwd: &'a Path,
    /// Extra environment.
    pub env: &'a BTreeMap<String, String>,
}

impl Step<'_> {
    /// The program's file name, for the timing line.
    fn program_name(&self) -> &str {
        self.program.rsplit('/').next().unwrap_or(self.program)
    }
}

/// How long a build step may run when nothing else says: buildout on a cold cache takes long.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(3600);
/// How long a step's output is still read after its main process exited: a child it left
/// running may hold its pipes open, and is then killed with the step's group.
const PIPE_GRACE: Duration = Duration::from_secs(2);
/// How long a timed-out step's group has between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Why a step (git, python, pip, buildout) failed. Each message names the step as the log
/// shows it.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The program could not be started.
    #[error("failed to start {program}: {source}")]
    Start {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for it failed.
    #[error("failed to wait for {program}: {source}")]
    Wait {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It ran past its limit; its process group was killed.
    #[error("`{shown}` timed out after {secs} s and was killed")]
    TimedOut {
        /// The step as the log shows it.
        shown: String,
        /// The limit.
        secs: u64,
    },
    /// It exited unsuccessfully.
    #[error("`{shown}` failed ({status})")]
    Failed {
        /// The step as the log shows it.
        shown: String,
        /// How it ended.
        status: std::process::ExitStatus,
    },
    /// A query exited unsuccessfully; what it printed on stderr.
    #[error("{stderr}")]
    Query {
        /// Its standard error, trimmed.
        stderr: String,
    },
}

/// The agent's app actions report failures as text in the command's log and result.
impl From<StepError> for String {
    fn from(e: StepError) -> Self {
        e.to_string()
    }
}

/// Runs a step with the default timeout ([`STEP_TIMEOUT`]).
pub async fn run(step: Step<'_>, out: &OutputStream) -> Result<(), StepError> {
    run_for(step, STEP_TIMEOUT, out).await
}

/// Runs a step in a process group of its own, streaming its output, and logs how long it took.
/// After `limit` the whole group is stopped (SIGTERM, then SIGKILL); whatever of the group is
/// left once the main process exited is killed too. `Err` says which step failed and how.
pub async fn run_for(step: Step<'_>, limit: Duration, out: &OutputStream) -> Result<(), StepError> {
    out.push(&format!("$ {}\n", step.shown));
    let began = std::time::Instant::now();
    let mut child = crate::child_env::command(step.program)
        .args(&step.args)
        .current_dir(step.cwd)
        .envs(step.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| StepError::Start { program: step.program.to_owned(), source })?;
    // Dropped (the command timed out, or the step ended): the group is killed.
    let group = StepGroup::note(child.id().map(|p| p as i32).unwrap_or_default());
    let mut readers: Vec<_> = [
        child.stdout.take().map(|s| tokio::spawn(crate::executor::pump(s, out.clone()))),
        child.stderr.take().map(|s| tokio::spawn(crate::executor::pump(s, out.clone()))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let waited = tokio::time::timeout(limit, child.wait()).await;
    if waited.is_err() {
        group.signal(Signal::SIGTERM);
        if tokio::time::timeout(KILL_GRACE, child.wait()).await.is_err() {
            group.signal(Signal::SIGKILL);
            let _ = child.wait().await;
        }
    }
    // The main process is gone; a child it left may hold the pipes: read a little longer, then
    // kill the group so the readers see the end.
    let deadline = tokio::time::Instant::now() + PIPE_GRACE;
    let mut lingering = false;
    for reader in &mut readers {
        lingering |= tokio::time::timeout_at(deadline, reader).await.is_err();
    }
    drop(group);
    if lingering {
        for reader in &mut readers {
            if tokio::time::timeout(KILL_GRACE, &mut *reader).await.is_err() {
                reader.abort();
            }
        }
        out.push("(processes the step left running held its output open; they were killed)\n");
    }
    out.push(&format!("({} took {:.2} s)\n", step.program_name(), began.elapsed().as_secs_f64()));
    let status = match waited {
        Ok(status) => status.map_err(|source| StepError::Wait { program: step.program.to_owned(), source })?,
        Err(_) => return Err(StepError::TimedOut { shown: step.shown, secs: limit.as_secs() }),
    };
    if status.success() { Ok(()) } else { Err(StepError::Failed { shown: step.shown, status }) }
}

/// Runs a program and returns its trimmed stdout (for short queries such as `git rev-parse`).
pub async fn query(
    program: &str,
    args: &[&str],
    cwd: &Path,
    env: &BTreeMap<String, String>,
) -> Result<String, StepError> {
    let output = crate::child_env::command(program)
        .args(args)
        .current_dir(cwd)
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|source| StepError::Start { program: program.to_owned(), source })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(StepError::Query { stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned() })
    }
}

/// A URL with any password or token removed, for logs.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((userinfo, host)) if !userinfo.contains('/') => {
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}:***@{host}")
            }
            _ => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("https://bob:s3cret@git.example.org/a.git"),
            "https://bob:***@git.example.org/a.git"
        );
        assert_eq!(super::redact_url("https://git.example.org/a.git"), "https://git.example.org/a.git");
        assert_eq!(super::redact_url("git@github.com:org/a.git"), "git@github.com:org/a.git");
    }
}
