//! The local provider: each local instance is a `drover agent` process the server spawns, with
//! its own root under `<data>/instances/<stack>/<hostname>` and its own loopback address.
//!
//! Agents run in their own process group and outlive the server, so a server restart re-adopts
//! them (found by the pid file and checked against `/proc/<pid>/cmdline` and against the boot id
//! and start time recorded at spawn in `agent.identity.json`: a pid reused by another process
//! after a reboot is never taken for the agent, nor signalled); missing ones are started again.
//!
//! An agent that has not enrolled yet gets a join token made for its instance alone, for one use
//! within [`JOIN_TOKEN_LIFETIME`], in a 0600 file in its root (`--join-file`; never in argv or the
//! environment); it removes the file once enrolled. No token or credential of the server's own
//! environment reaches the agent (core `child_env`).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use drover_core::process::{PidNow, ProcessIdentity};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use drover_proto::token::{Token, TokenKind};

use crate::store::{InstanceRow, NewJoinToken, Store};
use crate::time::now_ms;

/// Spawns, finds and stops local agents.
#[derive(Clone)]
pub struct LocalProvider {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    binary: PathBuf,
    server_url: String,
    ca_fingerprint: String,
    store: Store,
    heartbeat_interval: Duration,
    /// Serialises address allocation with instance creation.
    allocation: tokio::sync::Mutex<()>,
}

/// How long a local agent's join token works: the agent enrolls at once; a slower one is
/// started again with a new token.
const JOIN_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// How long an agent has to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

impl LocalProvider {
    /// A provider that spawns `binary agent`, with join tokens for `server_url` pinning the CA
    /// of `ca_fingerprint`, made in `store`.
    pub fn new(
        data_dir: PathBuf,
        binary: PathBuf,
        server_url: String,
        ca_fingerprint: String,
        store: Store,
        heartbeat_interval: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                data_dir,
                binary,
                server_url,
                ca_fingerprint,
                store,
                heartbeat_interval,
                allocation: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Held while choosing a new local instance's address and creating it.
    pub async fn allocation_guard(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.allocation.lock().await
    }

    /// The instance's root directory.
    pub fn root(&self, instance: &InstanceRow) -> PathBuf {
        self.inner.data_dir.join("instances").join(&instance.stack_name).join(&instance.hostname)
    }

    fn pid_file(&self, instance: &InstanceRow) -> PathBuf {
        self.root(instance).join("agent.pid")
    }

    fn identity_file(&self, instance: &InstanceRow) -> PathBuf {
        self.root(instance).join("agent.identity.json")
    }

    /// The pid the instance's agent was last started with, running or not.
    pub fn last_pid(&self, instance: &InstanceRow) -> Option<i32> {
        std::fs::read_to_string(self.pid_file(instance)).ok()?.trim().parse().ok()
    }

    /// The running agent's pid, if its process is alive and is this instance's agent.
    pub fn running_pid(&self, instance: &InstanceRow) -> Option<i32> {
        let pid = self.last_pid(instance)?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let root = self.root(instance);
        let root = root.to_string_lossy();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let ours = args.windows(2).any(|w| w[0] == b"--root" && w[1] == root.as_bytes());
        // A zombie still has a /proc entry but an empty cmdline.
        if !ours {
            return None;
        }
        // Agents spawned by an older server have no identity file: the cmdline check stands alone.
        let Ok(raw) = std::fs::read(self.identity_file(instance)) else { return Some(pid) };
        let recorded: ProcessIdentity = serde_json::from_slice(&raw).ok()?;
        match recorded.judge(read_identity(pid).as_ref()) {
            PidNow::Ours => Some(pid),
            PidNow::Gone => None,
            PidNow::Stranger(why) => {
                tracing::warn!(instance = %instance.hostname, pid, "the agent's pid belongs to another process: {why}");
                None
            }
        }
    }

    /// Writes a join token made for this instance alone (one use, [`JOIN_TOKEN_LIFETIME`]) to a
    /// 0600 file in its root; returns the file's path.
    async fn write_join_token(&self, instance: &InstanceRow, root: &std::path::Path) -> std::io::Result<PathBuf> {
        let secret = crate::secrets::generate();
        let layers = instance.layers();
        let comment = format!("local agent of {}", instance.hostname);
        self.inner
            .store
            .create_join_token(&NewJoinToken {
                secret_hash: &crate::secrets::hash(&secret),
                stack_id: instance.stack_id,
                layers: &layers,
                instance: Some(&instance.hostname),
                comment: Some(&comment),
                expires_at: Some(now_ms() + JOIN_TOKEN_LIFETIME.as_millis() as i64),
                uses: Some(1),
            })
            .await
            .map_err(std::io::Error::other)?;
        let token = Token {
            kind: TokenKind::Join,
            ca_fingerprint: self.inner.ca_fingerprint.clone(),
            secret,
            server_url: self.inner.server_url.clone(),
        };
        let path = root.join("join.token");
        crate::secrets::write_private(&path, &format!("{token}\n")).map_err(std::io::Error::other)?;
        Ok(path)
    }

    /// The servers an agent is given, comma-separated: this one first, then the other servers of
    /// the control plane that are up, which it fails over to.
    async fn server_urls(&self) -> String {
        let own = &self.inner.server_url;
        let mut urls = vec![own.clone()];
        if !self.inner.store.is_shared() {
            return own.clone();
        }
        let up_since = crate::time::now_ms() - crate::cluster::members::SILENT_AFTER.as_millis() as i64;
        match self.inner.store.servers().await {
            Ok(servers) => {
                urls.extend(servers.into_iter().filter(|s| s.seen_at >= up_since && &s.url != own).map(|s| s.url))
            }
            Err(e) => tracing::warn!("failed to list the other servers for a local agent: {e}"),
        }
        urls.dedup();
        urls.join(",")
    }

    /// Starts the instance's agent (unless it already runs). Returns its pid.
    pub async fn spawn(&self, instance: &InstanceRow) -> std::io::Result<i32> {
        if let Some(pid) = self.running_pid(instance) {
            return Ok(pid);
        }
        let root = self.root(instance);
        std::fs::create_dir_all(&root)?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(root.join("agent.log"))?;
        let address = instance.address.clone().unwrap_or_else(|| "127.0.0.1".into());
        let servers = self.server_urls().await;
        let mut cmd = tokio::process::Command::new(&self.inner.binary);
        cmd.arg("agent")
            .arg("--server")
            .arg(&servers)
            .arg("--stack")
            .arg(&instance.stack_name)
            .arg("--instance")
            .arg(&instance.hostname)
            .arg("--root")
            .arg(&root)
            .arg("--address")
            .arg(&address)
            .arg("--heartbeat-interval-secs")
            .arg(self.inner.heartbeat_interval.as_secs_f64().to_string())
            // Local instances share one machine: they share its buildout cache too.
            .env("DROVER_BUILDOUT_CACHE", self.inner.data_dir.join("cache/buildout"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .kill_on_drop(false);
        if let Some(cpus) = instance.cpu_count_override {
            cmd.arg("--cpu-count").arg(cpus.to_string());
        }
        crate::secrets::withhold_env(&mut cmd);
        if instance.credential_hash.is_none() {
            cmd.arg("--join-file").arg(self.write_join_token(instance, &root).await?);
        }
        let mut child = cmd.spawn()?;
        let pid = child.id().map(|p| p as i32).unwrap_or_default();
        std::fs::write(self.pid_file(instance), pid.to_string())?;
        // `spawn` returns once the agent was executed: this is the agent's own identity.
        match read_identity_after_spawn(pid).await.map(|id| serde_json::to_string(&id)) {
            Some(Ok(json)) => std::fs::write(self.identity_file(instance), json)?,
            _ => tracing::warn!(instance = %instance.hostname, pid, "failed to read the new agent's identity"),
        }
        let host = instance.hostname.clone();
        // Reap the child when it exits, so it does not linger as a zombie.
        tokio::spawn(async move {
            match child.wait().await {
                Ok(status) => tracing::info!(instance = %host, "local agent exited: {status}"),
                Err(e) => tracing::warn!(instance = %host, "failed to wait for local agent: {e}"),
            }
        });
        tracing::info!(instance = %instance.hostname, pid, "started local agent");
        Ok(pid)
    }

    /// Stops the instance's agent: SIGTERM, then SIGKILL after a grace period.
    pub async fn stop(&self, instance: &InstanceRow) {
        let Some(pid) = self.running_pid(instance) else { return };
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        let deadline = tokio::time::Instant::now() + STOP_GRACE;
        while tokio::time::Instant::now() < deadline {
            if self.running_pid(instance).is_none() {
                let _ = std::fs::remove_file(self.pid_file(instance));
                let _ = std::fs::remove_file(self.identity_file(instance));
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tracing::warn!(instance = %instance.hostname, pid, "agent did not exit after SIGTERM; killing it");
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        let _ = std::fs::remove_file(self.pid_file(instance));
        let _ = std::fs::remove_file(self.identity_file(instance));
    }

    /// Removes a deleted instance's root.
    pub fn remove_root(&self, instance: &InstanceRow) -> std::io::Result<()> {
        let root = self.root(instance);
        if root.exists() { std::fs::remove_dir_all(root) } else { Ok(()) }
    }
}

/// The identity of a process just spawned: `exec` is known to have succeeded a moment before
/// the kernel sets the program's arguments, so an empty cmdline is read again for a while.
async fn read_identity_after_spawn(pid: i32) -> Option<ProcessIdentity> {
    for _ in 0..40 {
        if let Some(identity) = read_identity(pid) {
            return Some(identity);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

/// What process `pid` is now (boot id, start time, cmdline); `None` when there is none.
fn read_identity(pid: i32) -> Option<ProcessIdentity> {
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    ProcessIdentity::from_proc(&boot_id, &stat, &cmdline)
}

impl super::HostProvider for LocalProvider {
    async fn start(&self, instance: &InstanceRow) -> Result<(), super::ProviderError> {
        self.spawn(instance).await.map(|_| ()).map_err(Into::into)
    }

    async fn stop(&self, instance: &InstanceRow) -> Result<(), super::ProviderError> {
        LocalProvider::stop(self, instance).await;
        Ok(())
    }

    async fn remove(&self, instance: &InstanceRow) -> Result<(), super::ProviderError> {
        LocalProvider::stop(self, instance).await;
        if let Err(e) = self.remove_root(instance) {
            tracing::warn!(instance = %instance.hostname, "failed to remove the instance's root: {e}");
        }
        Ok(())
    }
}
