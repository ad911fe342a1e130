//! What an app's buildout defines at a commit, as far as its repository shows: the section
//! headers and extended URLs of its `*.cfg` files, read from the mirror with `git grep`. A plan
//! is fitted to it: parts only a default adds and the buildout lacks are left out, with a
//! warning in the deploy log (`BuildPlan::fit` decides).

use std::collections::BTreeMap;

use drover_core::deploy::plan::{BuildPlan, Defined};

use super::paths::AppPaths;
use crate::output::OutputStream;

/// Section headers at the start of a line: `[name]`, `[name:condition]`.
const HEADERS: &str = r"^\[[^]]+\]";
/// Lines that may name a URL the buildout extends: `extends = http…` or a continuation line.
const URL_LINES: &str = r"^(extends[[:space:]]*[+-]?=)?[[:space:]]*https?://";

/// The lines of the commit's `*.cfg` files that match `pattern`; none when nothing matches.
async fn grep(paths: &AppPaths, sha: &str, pattern: &str, env: &BTreeMap<String, String>) -> Result<String, String> {
    let output = crate::child_env::command("git")
        .args(["grep", "-h", "-I", "-E", pattern, sha, "--", "*.cfg"])
        .current_dir(paths.mirror())
        .envs(env)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("failed to start git grep: {e}"))?;
    match output.status.code() {
        Some(0) => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
        // git grep's "no line matched".
        Some(1) => Ok(String::new()),
        _ => Err(format!("git grep failed: {}", String::from_utf8_lossy(&output.stderr).trim())),
    }
}

/// The sections commit `sha`'s `*.cfg` files define, and the URLs they extend.
pub async fn defined(paths: &AppPaths, sha: &str, env: &BTreeMap<String, String>) -> Result<Defined, String> {
    let headers = grep(paths, sha, HEADERS, env).await?;
    let urls = grep(paths, sha, URL_LINES, env).await?;
    Ok(Defined::from_lines(headers.lines(), urls.lines()))
}

/// `plan` fitted to what commit `sha` defines, with a warning in the log for each part left
/// out. When the repository cannot be searched, the plan stays whole (buildout then names any
/// missing section).
pub async fn fit(
    plan: &BuildPlan,
    paths: &AppPaths,
    sha: &str,
    env: &BTreeMap<String, String>,
    out: &OutputStream,
) -> BuildPlan {
    if plan.defaulted_parts.is_empty() {
        return plan.clone();
    }
    match defined(paths, sha, env).await {
        Ok(defined) => {
            let (fitted, warnings) = plan.fit(&defined);
            for w in warnings {
                out.push(&format!("warning: {w}\n"));
            }
            fitted
        }
        Err(e) => {
            out.push(&format!("warning: could not list the buildout's sections ({e}); building every part\n"));
            plan.clone()
        }
    }
}
