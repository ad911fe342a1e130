//! The agent replacing itself (`drover agent upgrade`): download the server's binary next to the
//! file it will become, check its SHA-256, check that it starts (`--version`), move the old one
//! to `<file>.previous`, rename the new one into place, then exec it with the same argv. The
//! process keeps its pid, so the services it supervises (their own process groups) stay its
//! children and the new image re-adopts them from their state files; a failed exec puts the old
//! binary back and the agent carries on.
//!
//! Where the new binary goes is core `agent_upgrade::install_target`: a local instance's agent
//! runs the server's own executable, which it never overwrites; it moves to its own copy under
//! its root.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use drover_client::AgentClient;
use drover_core::agent_upgrade::{InstallTarget, check_checksum, install_target, previous_path};
use drover_proto::upgrade::ServedBinary;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::output::OutputStream;

/// How long the new binary's `--version` may take.
const VERSION_CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// The version this agent reports: the package version and the first hex digits of its
/// executable's SHA-256 (core `agent_upgrade::build_version`), computed once.
pub fn own_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let sha = std::env::current_exe().ok().and_then(|exe| sha256_of(&exe).ok());
        drover_core::agent_upgrade::build_version(env!("CARGO_PKG_VERSION"), sha.as_deref())
    })
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

/// A new binary in place, ready to be executed.
pub struct Installed {
    target: InstallTarget,
    /// Where the binary it replaced went (none: there was none at the target).
    previous: Option<PathBuf>,
    /// The version the new binary will report.
    pub version: String,
}

/// Downloads, checks and installs the served binary; on any failure nothing is replaced and the
/// reason says what went wrong.
pub async fn install(
    client: &AgentClient,
    root: &Path,
    binary: &ServedBinary,
    limit: Duration,
    out: &OutputStream,
) -> Result<Installed, String> {
    let exe = std::env::current_exe().map_err(|e| format!("the agent cannot find its own executable: {e}"))?;
    let target = install_target(root, &exe);
    let dir = target.path.parent().ok_or_else(|| format!("{} has no directory", target.path.display()))?;
    create_private_dir(dir)?;
    let temp = dir.join(format!(".drover-upgrade-{}.tmp", std::process::id()));
    out.push(&format!(
        "downloading the agent binary ({} bytes, SHA-256 {}) to {}\n",
        binary.size,
        binary.sha256,
        temp.display()
    ));
    let fetched = download(client, &temp, limit).await;
    let checked = fetched.and_then(|sha| check_checksum(&binary.sha256, &sha).map_err(|e| e.to_string()));
    let started = match checked {
        Ok(()) => starts(&temp).await,
        Err(e) => Err(e),
    };
    let version_line = match started {
        Ok(line) => line,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
    };
    out.push(&format!("checksum verified; the new binary starts ({version_line})\n"));
    let previous = swap_in(&temp, &target.path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })?;
    out.push(&format!(
        "installed {}{}\n",
        target.path.display(),
        if target.in_place { "" } else { " (this agent's own copy; the executable it started from is left alone)" }
    ));
    Ok(Installed { target, previous, version: binary.version.clone() })
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("failed to create {}: {e}", dir.display()))
}

/// Streams the binary into `temp` (mode 0700), hashing it; returns its SHA-256.
async fn download(client: &AgentClient, temp: &Path, limit: Duration) -> Result<String, String> {
    let mut download =
        client.download_binary(limit).await.map_err(|e| format!("failed to download the agent binary: {e}"))?;
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o700)
        .open(temp)
        .await
        .map_err(|e| format!("failed to create {}: {e}", temp.display()))?;
    let mut hasher = Sha256::new();
    let write_failed = |e: std::io::Error| format!("failed to write {}: {e}", temp.display());
    while let Some(chunk) =
        download.chunk().await.map_err(|e| format!("the download of the agent binary broke off: {e}"))?
    {
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(write_failed)?;
    }
    file.sync_all().await.map_err(write_failed)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Runs `<binary> --version`: it must exit 0 and name itself `drover`. Returns its line.
async fn starts(binary: &Path) -> Result<String, String> {
    let run = crate::child_env::command(binary).arg("--version").kill_on_drop(true).output();
    let output = match tokio::time::timeout(VERSION_CHECK_TIMEOUT, run).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(format!("the new binary does not start ({e}); the agent keeps its current binary")),
        Err(_) => {
            return Err(format!(
                "the new binary's --version did not answer within {} s; the agent keeps its current binary",
                VERSION_CHECK_TIMEOUT.as_secs()
            ));
        }
    };
    let line = String::from_utf8_lossy(&output.stdout).lines().next().unwrap_or_default().trim().to_owned();
    if !output.status.success() || !line.starts_with("drover ") {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "the new binary does not start: `--version` exited with {} and printed {line:?} {}; the agent keeps its \
             current binary",
            output.status,
            stderr.trim()
        ));
    }
    Ok(line)
}

/// Moves the file at `target` (if any) to `<target>.previous`, then `temp` to `target`; returns
/// where the old one went. On failure the old one is back in place.
fn swap_in(temp: &Path, target: &Path) -> Result<Option<PathBuf>, String> {
    let previous = previous_path(target);
    let moved = if target.exists() {
        std::fs::rename(target, &previous)
            .map_err(|e| format!("failed to move {} to {}: {e}", target.display(), previous.display()))?;
        Some(previous)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(temp, target) {
        if let Some(previous) = &moved {
            let _ = std::fs::rename(previous, target);
        }
        return Err(format!("failed to move the new binary to {}: {e}", target.display()));
    }
    Ok(moved)
}

/// Executes the installed binary in this process with the agent's own arguments. Returns only
/// if that failed, after putting the old binary back.
pub fn exec(installed: &Installed) -> String {
    use std::os::unix::process::CommandExt;
    let mut args = std::env::args_os();
    let mut cmd = crate::child_env::std_command(&installed.target.path);
    if let Some(arg0) = args.next() {
        // The same argv as before: the server knows a local agent by its cmdline's `--root`.
        cmd.arg0(arg0);
    }
    cmd.args(args);
    let error = cmd.exec();
    let path = &installed.target.path;
    let restored = match &installed.previous {
        Some(previous) => std::fs::rename(previous, path),
        None => std::fs::remove_file(path),
    };
    let mut reason = format!("failed to execute the new binary {}: {error}", path.display());
    match restored {
        Ok(()) => reason.push_str("; the old binary is back in place and the agent carries on with it"),
        Err(e) => reason.push_str(&format!("; putting the old binary back failed too: {e}")),
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapping_in_keeps_the_old_binary_as_previous() {
        let dir = tempfile::tempdir().unwrap();
        let (temp, target) = (dir.path().join(".new.tmp"), dir.path().join("drover"));
        std::fs::write(&temp, "new").unwrap();
        std::fs::write(&target, "old").unwrap();
        let previous = swap_in(&temp, &target).unwrap();
        assert_eq!(previous, Some(dir.path().join("drover.previous")));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(dir.path().join("drover.previous")).unwrap(), "old");
        assert!(!temp.exists());
    }

    #[test]
    fn a_first_install_has_no_previous_and_a_failed_swap_leaves_the_old_binary() {
        let dir = tempfile::tempdir().unwrap();
        let (temp, target) = (dir.path().join(".new.tmp"), dir.path().join("drover"));
        std::fs::write(&temp, "new").unwrap();
        assert_eq!(swap_in(&temp, &target).unwrap(), None);
        // The new file is gone: the rename fails, and the old binary is back in place.
        let e = swap_in(&dir.path().join("missing.tmp"), &target).unwrap_err();
        assert!(e.contains("failed to move the new binary"), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }

    #[tokio::test]
    async fn a_binary_that_does_not_start_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("broken");
        std::fs::write(&script, "#!/bin/sh\necho broken >&2\nexit 3\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let e = starts(&script).await.unwrap_err();
        assert!(e.contains("does not start") && e.contains("broken"), "{e}");
        let not_drover = dir.path().join("echo");
        std::fs::write(&not_drover, "#!/bin/sh\necho hello\n").unwrap();
        std::fs::set_permissions(&not_drover, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        assert!(starts(&not_drover).await.is_err());
    }
}
