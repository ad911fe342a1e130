//! Running external programs (git, python, buildout) with their output streamed into the
//! command's log.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use crate::output::OutputStream;

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

/// Runs a step, streaming its output, and logs how long it took. `Err` says which step failed and how.
pub async fn run(step: Step<'_>, out: &OutputStream) -> Result<(), String> {
    out.push(&format!("$ {}\n", step.shown));
    let began = std::time::Instant::now();
    let mut child = tokio::process::Command::new(step.program)
        .args(&step.args)
        .current_dir(step.cwd)
        .envs(step.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // In the agent's own process group: whoever kills the agent's group kills its builds.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("failed to start {}: {e}", step.program))?;
    let readers = [
        child.stdout.take().map(|s| tokio::spawn(crate::executor::pump(s, out.clone()))),
        child.stderr.take().map(|s| tokio::spawn(crate::executor::pump(s, out.clone()))),
    ];
    let status = child.wait().await.map_err(|e| format!("failed to wait for {}: {e}", step.program))?;
    for r in readers.into_iter().flatten() {
        let _ = r.await;
    }
    out.push(&format!("({} took {:.2} s)\n", step.program_name(), began.elapsed().as_secs_f64()));
    if status.success() { Ok(()) } else { Err(format!("`{}` failed ({status})", step.shown)) }
}

/// Runs a program and returns its trimmed stdout (for short queries such as `git rev-parse`).
pub async fn query(program: &str, args: &[&str], cwd: &Path, env: &BTreeMap<String, String>) -> Result<String, String> {
    let output = tokio::process::Command::new(program)
        .args(args)
        .current_dir(cwd)
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("failed to start {program}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
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
