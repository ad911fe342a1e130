//! The app's repository, through the `git` CLI (so users' SSH keys and credential helpers work):
//! a bare mirror in `shared/`, updated on every deploy; revisions resolved to commit SHAs; a
//! commit exported into a release directory.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use super::paths::AppPaths;
use super::steps::{self, Step, StepError, redact_url};
use crate::output::OutputStream;

/// The environment git runs with: no prompts, and the deploy key when there is one.
pub fn git_env(paths: &AppPaths, deploy_key: Option<&str>) -> Result<BTreeMap<String, String>, String> {
    let mut env = BTreeMap::from([("GIT_TERMINAL_PROMPT".to_owned(), "0".to_owned())]);
    if let Some(key) = deploy_key {
        let key_path = paths.shared().join("deploy_key");
        let text = format!("{}\n", key.trim());
        crate::private_file::write_private(&key_path, text.as_bytes())
            .map_err(|e| format!("failed to write the deploy key: {e}"))?;
        let known_hosts = paths.shared().join("known_hosts");
        env.insert(
            "GIT_SSH_COMMAND".into(),
            format!(
                "ssh -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={}",
                key_path.display(),
                known_hosts.display()
            ),
        );
    }
    Ok(env)
}

/// Clones the mirror, or fetches into it.
pub async fn update_mirror(
    paths: &AppPaths,
    url: &str,
    env: &BTreeMap<String, String>,
    out: &OutputStream,
) -> Result<(), String> {
    let mirror = paths.mirror();
    let shared = paths.shared();
    let shown_url = redact_url(url);
    let fail = |e: StepError| {
        format!("failed to fetch the app's repository {shown_url}: {e}; check the URL, the deploy key and the network")
    };
    if !mirror.join("HEAD").exists() {
        let _ = std::fs::remove_dir_all(&mirror);
        let step = Step {
            shown: format!("git clone --mirror {shown_url}"),
            program: "git",
            args: vec![
                "clone".into(),
                "--mirror".into(),
                "--".into(),
                url.into(),
                mirror.to_string_lossy().into_owned(),
            ],
            cwd: &shared,
            env,
        };
        return steps::run(step, out).await.map_err(fail);
    }
    steps::query("git", &["remote", "set-url", "origin", url], &mirror, env).await.map_err(fail)?;
    let step = Step {
        shown: format!("git remote update --prune ({shown_url})"),
        program: "git",
        args: vec!["remote".into(), "update".into(), "--prune".into()],
        cwd: &mirror,
        env,
    };
    steps::run(step, out).await.map_err(fail)
}

/// Makes sure the mirror holds commit `sha` (the one the server resolved for the deployment):
/// no fetch when it does already, so a deploy of a known commit costs no network round trip.
pub async fn ensure_commit(
    paths: &AppPaths,
    url: &str,
    sha: &str,
    env: &BTreeMap<String, String>,
    out: &OutputStream,
) -> Result<(), String> {
    if paths.mirror().join("HEAD").exists() && has_commit(paths, sha, env).await {
        return Ok(());
    }
    update_mirror(paths, url, env, out).await?;
    if has_commit(paths, sha, env).await {
        return Ok(());
    }
    // A commit no ref reaches any more (a branch was force-pushed): ask for it by name.
    let _ = steps::query("git", &["fetch", "--quiet", "origin", sha], &paths.mirror(), env).await;
    if has_commit(paths, sha, env).await {
        return Ok(());
    }
    Err(format!(
        "commit {sha} is not in the app's repository {}; it may have been removed by a force-push: deploy again to resolve the revision anew",
        redact_url(url)
    ))
}

async fn has_commit(paths: &AppPaths, sha: &str, env: &BTreeMap<String, String>) -> bool {
    let spec = format!("{sha}^{{commit}}");
    steps::query("git", &["cat-file", "-e", &spec], &paths.mirror(), env).await.is_ok()
}

/// Writes a full checkout of commit `sha` into `dest` (`deploy.<app>.scm.checkout: "full"`):
/// a clone of the mirror with the history, tags and submodules, so `git describe` and
/// setuptools-scm work in the release; its `origin` is the app's repository.
pub async fn checkout(
    paths: &AppPaths,
    url: &str,
    sha: &str,
    dest: &Path,
    env: &BTreeMap<String, String>,
    out: &OutputStream,
) -> Result<(), String> {
    let mirror = paths.mirror().to_string_lossy().into_owned();
    let target = dest.to_string_lossy().into_owned();
    let shared = paths.shared();
    // The release directory already holds its record (`.drover/`): a repository is made in it
    // and fetches from the mirror, rather than a clone, which wants an empty directory.
    git_step(format!("git init {target}"), &["init", "--quiet", &target], &shared, env, out)
        .await
        .map_err(|e| format!("failed to make the release a repository: {e}"))?;
    steps::query("git", &["remote", "add", "origin", &mirror], dest, env)
        .await
        .map_err(|e| format!("failed to add the mirror as the release's origin: {e}"))?;
    git_step("git fetch --tags (mirror)".into(), &["fetch", "--quiet", "--tags", "origin"], dest, env, out)
        .await
        .map_err(|e| format!("failed to fetch the mirror into the release: {e}"))?;
    steps::query("git", &["remote", "set-url", "origin", url], dest, env)
        .await
        .map_err(|e| format!("failed to set the release's origin: {e}"))?;
    git_step(format!("git checkout --detach {sha}"), &["checkout", "--quiet", "--detach", sha], dest, env, out)
        .await
        .map_err(|e| format!("failed to check out {sha}: {e}"))?;
    if dest.join(".gitmodules").exists() {
        let update = ["submodule", "update", "--init", "--recursive"];
        git_step("git submodule update --init --recursive".into(), &update, dest, env, out)
            .await
            .map_err(|e| format!("failed to check out the submodules: {e}; check their URLs and the deploy key"))?;
    }
    Ok(())
}

async fn git_step(
    shown: String,
    args: &[&str],
    cwd: &Path,
    env: &BTreeMap<String, String>,
    out: &OutputStream,
) -> Result<(), StepError> {
    let args = args.iter().map(|a| (*a).to_owned()).collect();
    steps::run(Step { shown, program: "git", args, cwd, env }, out).await
}

/// The commit a branch, tag or SHA names; the default branch when none is given.
pub async fn resolve(
    paths: &AppPaths,
    revision: Option<&str>,
    env: &BTreeMap<String, String>,
) -> Result<String, String> {
    let mirror = paths.mirror();
    let rev = match revision {
        Some(r) => r.to_owned(),
        None => steps::query("git", &["symbolic-ref", "--short", "HEAD"], &mirror, env)
            .await
            .map_err(|e| format!("failed to find the repository's default branch: {e}"))?,
    };
    let spec = format!("{rev}^{{commit}}");
    steps::query("git", &["rev-parse", "--verify", "--quiet", "--end-of-options", &spec], &mirror, env)
        .await
        .map_err(|_| format!("revision {rev:?} is not a branch, tag or commit of the app's repository"))
}

/// Whether `path` exists in commit `sha`.
pub async fn has_file(paths: &AppPaths, sha: &str, path: &str, env: &BTreeMap<String, String>) -> bool {
    steps::query("git", &["cat-file", "-e", &format!("{sha}:{path}")], &paths.mirror(), env).await.is_ok()
}

/// The files under `dir` at `sha` (recursive, repository-relative paths); empty when none.
pub async fn list_files(paths: &AppPaths, sha: &str, dir: &str, env: &BTreeMap<String, String>) -> Vec<String> {
    let listing = steps::query("git", &["ls-tree", "-r", "--name-only", sha, "--", dir], &paths.mirror(), env).await;
    listing.map(|text| text.lines().map(String::from).collect()).unwrap_or_default()
}

/// A text file's content at `sha`.
pub async fn read_file(
    paths: &AppPaths,
    sha: &str,
    path: &str,
    env: &BTreeMap<String, String>,
) -> Result<String, String> {
    let output = crate::child_env::command("git")
        .args(["show", &format!("{sha}:{path}")])
        .current_dir(paths.mirror())
        .envs(env)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("failed to start git: {e}"))?;
    if !output.status.success() {
        return Err(format!("failed to read {path} at {sha}: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    String::from_utf8(output.stdout).map_err(|_| format!("{path} at {sha} is not UTF-8 text"))
}

/// Writes the files of commit `sha` into `dest` (`git archive | tar -x`).
pub async fn export(paths: &AppPaths, sha: &str, dest: &Path, out: &OutputStream) -> Result<(), String> {
    out.push(&format!("$ git archive {sha} | tar -x -C {}\n", dest.display()));
    let mut archive = crate::child_env::command("git")
        .args(["archive", "--format=tar", sha])
        .current_dir(paths.mirror())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("failed to start git archive: {e}"))?;
    let pipe: Stdio = archive
        .stdout
        .take()
        .ok_or("git archive has no output")?
        .try_into()
        .map_err(|e| format!("failed to connect git archive to tar: {e}"))?;
    let tar = crate::child_env::command("tar")
        .args(["-x", "-C"])
        .arg(dest)
        .stdin(pipe)
        .output()
        .await
        .map_err(|e| format!("failed to run tar: {e}"))?;
    let archived = archive.wait_with_output().await.map_err(|e| format!("failed to wait for git archive: {e}"))?;
    if !archived.status.success() {
        return Err(format!("git archive failed: {}", String::from_utf8_lossy(&archived.stderr).trim()));
    }
    if !tar.status.success() {
        return Err(format!("tar failed: {}", String::from_utf8_lossy(&tar.stderr).trim()));
    }
    Ok(())
}
