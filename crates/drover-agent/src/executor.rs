//! Runs commands: at most once per id (see [`crate::journal`]), streaming output, reporting the
//! result until the server has it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use drover_client::AgentClient;
use drover_core::broker::BrokerPlan;
use drover_core::deploy::plan::BuildPlan;
use drover_core::frontend::FrontendPlan;
use drover_core::text::take_utf8;
use drover_proto::agent::{
    AgentCommand, AppAction, AppSpec, AppWork, CommandSpec, Hook, LifecycleEvent, LifecycleReport, ResultReport,
    StartReport,
};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::app::slots::RestartSlots;
use crate::backoff::{Backoff, retry_until_accepted};
use crate::config::AgentConfig;
use crate::frontend::drain::Gate;
use crate::hooks::{HOOK_TIMEOUT, run_hooks};
use crate::journal::{Entry, Journal};
use crate::lifecycle::{run_event, write_stack_config};
use crate::output::{DEFAULT_CAP, OutputStream};
use crate::result_size::drop_old_configs;
use crate::supervisor::Supervisor;
use drover_core::deploy::restart_plan::RestartPolicy;

/// How long a timed-out or interrupted process group has between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// An app command's parts.
struct AppCommand<'a> {
    action: &'a AppAction,
    spec: &'a AppSpec,
    plan: &'a BuildPlan,
    stack_config: &'a serde_json::Value,
    hooks: &'a [Hook],
}

/// Where a command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Pending on the server: it may run.
    Pending,
    /// Acknowledged by an earlier run of this agent: only its outcome is reported.
    TakenBefore,
}

/// What running commands share.
#[derive(Clone)]
pub struct Executor {
    pub client: AgentClient,
    pub supervisor: Supervisor,
    pub journal: Journal,
    pub config: Arc<AgentConfig>,
    in_flight: Arc<Mutex<HashSet<i64>>>,
    /// One action at a time per app on this instance (a deploy after Setup and a user's deploy
    /// may arrive together; the second waits and then finds nothing to do).
    app_locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    groups: Arc<Mutex<HashSet<i32>>>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn failed(reason: String) -> ResultReport {
    ResultReport {
        success: false,
        exit_code: None,
        reason: Some(reason),
        finished_at_ms: now_ms(),
        data: None,
        nonce: None,
    }
}

/// The result of an app action or a lifecycle event, with what it reports; a failure's reason
/// also ends its log.
fn finished(outcome: Result<(), String>, data: Option<serde_json::Value>, out: &OutputStream) -> ResultReport {
    match outcome {
        Ok(()) => ResultReport {
            success: true,
            exit_code: Some(0),
            reason: None,
            finished_at_ms: now_ms(),
            data,
            nonce: None,
        },
        Err(reason) => {
            out.push(&format!("error: {reason}\n"));
            ResultReport { data, ..failed(reason) }
        }
    }
}

impl Executor {
    /// An executor with nothing in flight.
    pub fn new(client: AgentClient, supervisor: Supervisor, journal: Journal, config: Arc<AgentConfig>) -> Self {
        Self {
            client,
            supervisor,
            journal,
            config,
            in_flight: Arc::default(),
            app_locks: Arc::default(),
            groups: Arc::default(),
        }
    }

    /// Claims a command for handling; false if it is already being handled. Called before the
    /// handling task is spawned, so a second delivery of the same id cannot slip in.
    pub fn claim(&self, id: i64) -> bool {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(id)
    }

    /// Handles a claimed command: runs it if it is new and never ran here, or reports what the
    /// journal knows about it.
    pub async fn take(&self, command: AgentCommand, origin: Origin) {
        let id = command.id;
        let nonce = command.nonce.clone();
        let answer = |mut result: ResultReport| {
            result.nonce = nonce.clone();
            result
        };
        match (self.journal.get(id, nonce.as_deref()), origin) {
            (Some(Entry::Finished { result }), _) => self.report(id, answer(result)).await,
            (Some(Entry::Started), _) => {
                let reason = "the agent restarted while this command ran; it was not run again".to_owned();
                self.report(id, answer(failed(reason))).await;
            }
            (None, Origin::Pending) => self.run(command).await,
            (None, Origin::TakenBefore) => {
                let reason =
                    "this agent has no record of the command (its journal was lost); it was not run".to_owned();
                self.report(id, answer(failed(reason))).await;
            }
        }
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }

    async fn run(&self, command: AgentCommand) {
        let id = command.id;
        let nonce = command.nonce.clone();
        if let Err(e) = self.journal.put(id, nonce.as_deref(), &Entry::Started) {
            let mut result = failed(format!("the agent could not write its journal: {e}"));
            result.nonce = nonce;
            return self.report(id, result).await;
        }
        if let Err(e) = self.client.ack(id).await {
            tracing::debug!(id, "failed to acknowledge (the start report covers it): {e}");
        }
        let started_at_ms = now_ms();
        let client = self.client.clone();
        tokio::spawn(async move {
            let report = StartReport { started_at_ms };
            let _ = retry_until_accepted("report a start", Some(20), || client.started(id, &report)).await;
        });
        let cap = command.log_max_bytes.and_then(|c| usize::try_from(c).ok()).unwrap_or(DEFAULT_CAP);
        let out = OutputStream::new(cap);
        let sender = {
            let (out, client, nonce) = (out.clone(), self.client.clone(), nonce.clone());
            tokio::spawn(async move { out.send_all(&client, id, nonce).await })
        };
        let mut upgrade = None;
        let mut result = match command.spec {
            CommandSpec::Exec { argv, timeout_secs } => self.exec(&argv, timeout_secs, &out).await,
            CommandSpec::Logs { services, since_secs, lines, follow_secs } => {
                let ask = crate::service_logs::Ask { services: &services, since_secs, lines, follow_secs };
                finished(crate::service_logs::stream(&self.config.root, &ask, &out).await, None, &out)
            }
            CommandSpec::AgentUpgrade { binary, timeout_secs } => {
                match self.upgrade(id, &binary, timeout_secs, &out).await {
                    Ok(installed) => {
                        out.push(&format!(
                            "restarting the agent on the new binary (version {}); its services keep running\n",
                            installed.version
                        ));
                        upgrade = Some(installed);
                        finished(Ok(()), None, &out)
                    }
                    Err(reason) => finished(Err(reason), None, &out),
                }
            }
            CommandSpec::App { action, app, plan, timeout_secs, stack_config, hooks } => {
                let work =
                    AppCommand { action: &action, spec: &app, plan: &plan, stack_config: &stack_config, hooks: &hooks };
                self.app(id, work, timeout_secs, &out).await
            }
            CommandSpec::Lifecycle { event, stack_config, timeout_secs, apps, hooks, frontend, broker } => {
                let limit = timeout_secs.map(Duration::from_secs).unwrap_or(Duration::MAX);
                let hook_limit = timeout_secs.map_or(HOOK_TIMEOUT, Duration::from_secs);
                let work = self.lifecycle(
                    id,
                    event,
                    stack_config,
                    &apps,
                    (&hooks, hook_limit),
                    (frontend.as_deref(), broker.as_ref()),
                    &out,
                );
                match tokio::time::timeout(limit, work).await {
                    Ok(result) => result,
                    Err(_) => {
                        let reason = format!("timed out after {} s", limit.as_secs());
                        out.push(&format!("{reason}\n"));
                        failed(reason)
                    }
                }
            }
        };
        out.close();
        let _ = sender.await;
        result.nonce = nonce.clone();
        if let Err(e) = self.journal.put(id, nonce.as_deref(), &Entry::Finished { result: result.clone() }) {
            tracing::warn!(id, "failed to journal the result: {e}");
        }
        if let Some(installed) = upgrade {
            // The result is journaled: the new process reports it once it is back (a
            // successful upgrade is an agent running the new binary). Exec returns only on
            // failure, with the old binary back in place.
            tracing::info!(id, version = %installed.version, "executing the new agent binary");
            let reason = crate::upgrade::exec(&installed);
            tracing::error!(id, "{reason}");
            result = ResultReport { nonce: nonce.clone(), ..failed(reason) };
            if let Err(e) = self.journal.put(id, nonce.as_deref(), &Entry::Finished { result: result.clone() }) {
                tracing::warn!(id, "failed to journal the result: {e}");
            }
        }
        self.report(id, result).await;
    }

    /// Installs the server's binary for an upgrade, once no other command runs here (exec would
    /// cut them short), all within the command's time limit.
    async fn upgrade(
        &self,
        id: i64,
        binary: &drover_proto::upgrade::ServedBinary,
        timeout_secs: Option<u64>,
        out: &OutputStream,
    ) -> Result<crate::upgrade::Installed, String> {
        let limit = Duration::from_secs(timeout_secs.unwrap_or(600));
        let work = async {
            let mut told = false;
            loop {
                let others: Vec<i64> = {
                    let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
                    in_flight.iter().copied().filter(|c| *c != id).collect()
                };
                if others.is_empty() {
                    break;
                }
                if !told {
                    out.push(&format!("waiting for the commands running here to end first: {others:?}\n"));
                    told = true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            crate::upgrade::install(&self.client, &self.config.root, binary, limit, out).await
        };
        match tokio::time::timeout(limit, work).await {
            Ok(installed) => installed,
            Err(_) => Err(format!(
                "timed out after {} s (waiting for other commands, or downloading); the agent keeps its current \
                 binary",
                limit.as_secs()
            )),
        }
    }

    /// Runs a lifecycle event: the built-in recipe, the frontend (Setup, Configure), each app
    /// (Configure), then the hooks.
    #[allow(clippy::too_many_arguments)]
    async fn lifecycle(
        &self,
        id: i64,
        event: LifecycleEvent,
        stack_config: serde_json::Value,
        apps: &[AppWork],
        (hooks, hook_limit): (&[Hook], Duration),
        (frontend, broker): (Option<&FrontendPlan>, Option<&BrokerPlan>),
        out: &OutputStream,
    ) -> ResultReport {
        let (root, out2) = (self.config.root.clone(), out.clone());
        let recipe = tokio::task::spawn_blocking({
            let config = stack_config.clone();
            move || run_event(&root, event, &config, &out2)
        })
        .await;
        if event == LifecycleEvent::Shutdown {
            // The instance stops: so do its apps' services (they outlive only agent restarts),
            // its clients drained on the frontends first.
            let policy = RestartPolicy::from_attributes(&stack_config);
            let gate = Gate::new(&stack_config, Vec::new(), &policy, (self.client.clone(), id));
            self.supervisor.stop_all_drained(gate.as_ref(), out).await;
        }
        let mut problems = Vec::new();
        match recipe {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => problems.push(reason),
            Err(e) => problems.push(format!("the event's recipe panicked: {e}")),
        }
        if let (Some(plan), true) = (frontend, problems.is_empty())
            && let Err(e) = crate::frontend::configure(&self.config.root, &self.supervisor, plan, out).await
        {
            problems.push(e);
        }
        if let (Some(plan), true) = (broker, problems.is_empty())
            && let Err(e) = crate::broker::configure(&self.config.root, &self.supervisor, plan, out).await
        {
            problems.push(e);
        }
        let mut report = LifecycleReport::default();
        if problems.is_empty() {
            for work in apps {
                let secrets = match self.client.app_secrets(id, &work.app.name).await {
                    Ok(s) => s,
                    Err(e) => {
                        problems.push(format!("failed to fetch the secrets of app {}: {e}", work.app.name));
                        continue;
                    }
                };
                let _serialised = self.app_lock(&work.app.name).await;
                let done = crate::app::run(
                    &self.config.root,
                    &self.supervisor,
                    &AppAction::Configure,
                    &work.app,
                    &work.plan,
                    &secrets,
                    &stack_config,
                    out,
                    &RestartSlots::new(self.client.clone(), id),
                )
                .await;
                if let Err(reason) = done.outcome {
                    problems.push(format!("app {}: {reason}", work.app.name));
                }
                report.apps.push(done.report);
            }
        }
        if problems.is_empty()
            && let Err(reason) = run_hooks(&self.config.root, hooks, &BTreeMap::new(), hook_limit, out).await
        {
            problems.push(reason);
        }
        let data = (!apps.is_empty()).then(|| serde_json::to_value(&report).ok()).flatten();
        let outcome = if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) };
        finished(outcome, data, out)
    }

    /// Waits for the app's turn: one action at a time per app on this instance.
    async fn app_lock(&self, app: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self.app_locks.lock().unwrap_or_else(|e| e.into_inner()).entry(app.to_owned()).or_default().clone();
        lock.lock_owned().await
    }

    /// Runs an app action, with the app's secrets fetched for it alone; then the layer hooks of
    /// its event.
    async fn app(&self, id: i64, work: AppCommand<'_>, timeout_secs: Option<u64>, out: &OutputStream) -> ResultReport {
        let secrets = match self.client.secrets(id).await {
            Ok(s) => s,
            Err(e) => return failed(format!("failed to fetch the app's secrets: {e}")),
        };
        let _serialised = self.app_lock(&work.spec.name).await;
        let root = &self.config.root;
        if !work.stack_config.is_null()
            && let Err(e) = write_stack_config(root, work.stack_config, out)
        {
            return failed(e);
        }
        let task = async {
            let mut done = crate::app::run(
                root,
                &self.supervisor,
                work.action,
                work.spec,
                work.plan,
                &secrets,
                work.stack_config,
                out,
                &RestartSlots::new(self.client.clone(), id),
            )
            .await;
            if done.outcome.is_ok() && !work.hooks.is_empty() {
                let mut env = work.spec.environment.clone();
                env.extend(secrets.environment.clone());
                let hook_limit = timeout_secs.map_or(HOOK_TIMEOUT, Duration::from_secs);
                done.outcome = run_hooks(root, work.hooks, &env, hook_limit, out).await;
            }
            done
        };
        let limit = timeout_secs.map(Duration::from_secs).unwrap_or(Duration::MAX);
        let Ok(done) = tokio::time::timeout(limit, task).await else {
            let reason = format!("timed out after {} s", limit.as_secs());
            out.push(&format!("{reason}\n"));
            return failed(reason);
        };
        let data = serde_json::to_value(&done.report).ok();
        finished(done.outcome, data, out)
    }

    /// Sends a result until the server acknowledges it. A result too large for the server goes
    /// again without the older releases' `deploy.cfg` texts, then as a failure without its
    /// report; a result the server refuses for good goes once more as a failure that says why,
    /// so the command ends either way. A server that has another command under this id (its
    /// database was restored) gets nothing.
    async fn report(&self, id: i64, mut result: ResultReport) {
        let mut backoff = Backoff::new();
        let mut refusals = 0;
        loop {
            let e = match self.client.result(id, &result).await {
                Ok(()) => return,
                Err(e) => e,
            };
            match e.status() {
                Some(403 | 404 | 409) => {
                    tracing::warn!(id, "the server has no such command for this agent, dropping its result: {e}");
                    return;
                }
                Some(413) if result.data.as_mut().is_some_and(drop_old_configs) => {
                    tracing::warn!(
                        id,
                        "the result is too large for the server; sending it without old deploy.cfg texts"
                    );
                }
                Some(status) if (400..500).contains(&status) && status != 408 && status != 429 => {
                    refusals += 1;
                    if refusals > 1 {
                        tracing::warn!(id, "the server refused the command's result again, dropping it: {e}");
                        return;
                    }
                    tracing::warn!(id, "the server refused the command's result; reporting the refusal instead: {e}");
                    let reason = format!(
                        "the server refused the result{} ({e}); the command's report of releases was dropped",
                        if result.success { " of this successful command" } else { "" }
                    );
                    result = ResultReport { nonce: result.nonce.take(), ..failed(reason) };
                }
                _ => {
                    tracing::debug!(id, "failed to report the result, retrying: {e}");
                    backoff.wait_after(&e).await;
                }
            }
        }
    }

    /// Runs a program (no shell) in its own process group, streaming its output.
    async fn exec(&self, argv: &[String], timeout_secs: Option<u64>, out: &OutputStream) -> ResultReport {
        let Some((program, args)) = argv.split_first() else { return failed("no program given".into()) };
        let spawned = crate::child_env::command(program)
            .args(args)
            .current_dir(&self.config.root)
            .env("DROVER_ROOT", &self.config.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let reason = format!("failed to start {program:?}: {e}");
                out.push(&format!("{reason}\n"));
                return failed(reason);
            }
        };
        let pgid = child.id().map(|p| p as i32).unwrap_or_default();
        self.groups.lock().unwrap_or_else(|e| e.into_inner()).insert(pgid);
        let readers = [
            child.stdout.take().map(|s| tokio::spawn(pump(s, out.clone()))),
            child.stderr.take().map(|s| tokio::spawn(pump(s, out.clone()))),
        ];
        let limit = timeout_secs.map(Duration::from_secs).unwrap_or(Duration::MAX);
        let waited = tokio::time::timeout(limit, child.wait()).await;
        let result = match waited {
            Ok(Ok(status)) => match status.code() {
                Some(code) => ResultReport {
                    success: code == 0,
                    exit_code: Some(code),
                    reason: None,
                    finished_at_ms: now_ms(),
                    data: None,
                    nonce: None,
                },
                None => failed(format!("killed by signal {}", status.signal().unwrap_or_default())),
            },
            Ok(Err(e)) => failed(format!("failed to wait for the process: {e}")),
            Err(_) => {
                let group = Pid::from_raw(pgid);
                let _ = killpg(group, Signal::SIGTERM);
                if tokio::time::timeout(KILL_GRACE, child.wait()).await.is_err() {
                    let _ = killpg(group, Signal::SIGKILL);
                    let _ = child.wait().await;
                }
                let reason = format!("timed out after {} s and was killed", limit.as_secs());
                out.push(&format!("{reason}\n"));
                failed(reason)
            }
        };
        self.groups.lock().unwrap_or_else(|e| e.into_inner()).remove(&pgid);
        for reader in readers.into_iter().flatten() {
            // A background grandchild may hold the pipe open; do not wait for it forever.
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
        result
    }

    /// Kills the process groups of commands still running (the agent is stopping). Their
    /// journal entries say `started`, so after a restart they are reported, not re-run.
    pub fn kill_all(&self) {
        crate::step_groups::kill_running();
        for pgid in self.groups.lock().unwrap_or_else(|e| e.into_inner()).drain() {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
}

/// Copies a pipe into the output stream as text.
pub(crate) async fn pump(mut pipe: impl AsyncRead + Unpin, out: OutputStream) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                carry.extend_from_slice(&buf[..n]);
                let (text, rest) = take_utf8(&carry);
                let rest = rest.to_vec();
                out.push(&text);
                carry = rest;
            }
        }
    }
    if !carry.is_empty() {
        out.push(&String::from_utf8_lossy(&carry));
    }
}
