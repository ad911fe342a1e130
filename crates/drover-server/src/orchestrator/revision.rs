//! Resolving an app's revision to one commit on the server, when a deployment is created, so
//! that every instance of the deployment builds the same commit whatever the branch does
//! meanwhile. `git ls-remote` lists the repository's refs without a clone; the app's deploy key,
//! when it has one, is used from a 0600 file that lives only as long as the call.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use drover_core::deploy::revision::{is_full_sha, pick_commit};

use crate::state::AppState;
use crate::store::AppRow;

/// How long listing a repository's refs may take.
const LS_REMOTE_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a revision could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The repository could not be listed.
    #[error(
        "failed to list the refs of the app's repository {url}: {detail}; check the URL, the deploy key and the network"
    )]
    Listing {
        /// The repository (credentials removed).
        url: String,
        /// What git said.
        detail: String,
    },
    /// The revision names nothing in it.
    #[error(transparent)]
    Revision(#[from] drover_core::deploy::revision::RevisionError),
    /// The store failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The repository URL without a password (`https://user:secret@host/...`).
fn shown_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

/// A deploy key written for one git call; removed when dropped.
struct KeyFile(std::path::PathBuf);

impl KeyFile {
    fn write(dir: &Path, key: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("deploy-key-{}", &crate::secrets::generate()[..16]));
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        f.write_all(format!("{}\n", key.trim()).as_bytes())?;
        f.sync_all()?;
        Ok(Self(path))
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The commit `revision` (none: the default branch) names in the app's repository.
pub async fn resolve(state: &AppState, app: &AppRow, revision: Option<&str>) -> Result<String, ResolveError> {
    if let Some(sha) = revision.map(str::trim).filter(|r| is_full_sha(r)) {
        return Ok(sha.to_owned());
    }
    let key = state.store.app_secrets(app.id).await?.into_iter().find(|(kind, _, _)| kind == "deploy_key");
    let listing_failed = |detail: String| ResolveError::Listing { url: shown_url(&app.repository), detail };
    let key_file = match key {
        Some((_, _, value)) => Some(
            KeyFile::write(&state.config.data_dir.join("tmp"), &value)
                .map_err(|e| listing_failed(format!("failed to write the deploy key: {e}")))?,
        ),
        None => None,
    };
    let mut command = tokio::process::Command::new("git");
    crate::secrets::withhold_env(&mut command);
    command
        .args(["ls-remote", "--", &app.repository])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some(k) = &key_file {
        command.env(
            "GIT_SSH_COMMAND",
            format!(
                "ssh -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={}",
                k.0.display(),
                state.config.data_dir.join("known_hosts").display()
            ),
        );
    }
    let output = match tokio::time::timeout(LS_REMOTE_TIMEOUT, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(listing_failed(format!("failed to run git: {e}"))),
        Err(_) => return Err(listing_failed(format!("no answer within {} s", LS_REMOTE_TIMEOUT.as_secs()))),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(listing_failed(stderr.trim().lines().last().unwrap_or("git failed").to_owned()));
    }
    Ok(pick_commit(&String::from_utf8_lossy(&output.stdout), revision)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(shown_url("https://u:secret@example.org/r.git"), "https://…@example.org/r.git");
        assert_eq!(shown_url("git@example.org:org/r.git"), "git@example.org:org/r.git");
        assert_eq!(shown_url("/srv/git/r.git"), "/srv/git/r.git");
    }
}
