//! The agent's main loop: enroll, say hello, then heartbeat and long-poll for commands (and, on
//! a frontend, relayed requests for its HAProxy) until SIGTERM. While the server is away it retries with backoff; commands keep running and their
//! output and results wait for it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use drover_client::{AgentClient, ClientError};
use drover_proto::agent::{AgentCommand, Hello};

use crate::backoff::Backoff;
use crate::config::AgentConfig;
use crate::enroll::load_or_enroll;
use crate::executor::{Executor, Origin};
use crate::heartbeat::Meter;
use crate::journal::Journal;

/// How long one command long-poll is held open.
const POLL_WAIT: Duration = Duration::from_secs(25);
/// How long journal entries are kept.
const JOURNAL_KEPT: Duration = Duration::from_secs(24 * 3600);
/// Consecutive "credential refused" answers after which the agent gives up (its instance was
/// deleted, or the server's data was reset).
const MAX_REFUSALS: u32 = 10;

/// Error policy: `AgentError` covers what stops the agent; everything transient is retried.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A setting or saved state is wrong; the message says what to do.
    #[error("{0}")]
    Config(String),
    /// A file under the root.
    #[error("{0}")]
    Io(String),
    /// The server refused us for good.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// Runs the agent until SIGTERM or SIGINT.
pub async fn run(config: AgentConfig) -> Result<(), AgentError> {
    let config = Arc::new(config);
    crate::private_file::make_private(&config.root);
    let mut meter = Meter::new(&config).map_err(|e| AgentError::Io(format!("failed to read host metrics: {e}")))?;
    let facts = meter.checked_facts(&config)?;
    let enrollment = load_or_enroll(&config, &facts).await?;
    let client = AgentClient::new(&enrollment.server_url, &enrollment.ca_fingerprint, &enrollment.credential)?;
    let journal = Journal::open(config.state_dir().join("commands"))
        .map_err(|e| AgentError::Io(format!("failed to create the journal under {}: {e}", config.root.display())))?;
    crate::step_groups::kill_leftovers(&config.state_dir().join("step-groups"));
    crate::app::fail_interrupted_builds(&config.root);
    let supervisor = crate::supervisor::Supervisor::default();
    supervisor.adopt_all(&config.root);
    meter.watch_services(supervisor.clone());
    let executor = Executor::new(client.clone(), supervisor, journal.clone(), config.clone());
    let pruning = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            journal.prune(JOURNAL_KEPT);
        }
    });

    let rotation = {
        let root = config.root.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::service_logs::ROTATION_CHECK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let root = root.clone();
                let _ = tokio::task::spawn_blocking(move || crate::service_logs::rotate_all(&root)).await;
            }
        })
    };

    say_hello(&client, &Hello { facts }).await?;
    tracing::info!(instance = %enrollment.hostname, server = %enrollment.server_url, "agent running");

    let heartbeats = {
        let (client, interval) = (client.clone(), config.heartbeat_interval);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = client.heartbeat(&meter.sample()).await {
                    tracing::debug!("failed to send a heartbeat: {e}");
                }
            }
        })
    };

    let outcome = tokio::select! {
        r = poll_forever(&client, &executor, &config.root) => r,
        () = stop_signal() => Ok(()),
    };
    heartbeats.abort();
    pruning.abort();
    rotation.abort();
    executor.kill_all();
    outcome
}

/// Counts consecutive refusals of the agent's credential; gives up after [`MAX_REFUSALS`].
#[derive(Default)]
struct Refusals(u32);

impl Refusals {
    /// Hands the error back to be retried, or gives up (`Err`) after too many refusals in a row.
    fn check(&mut self, e: ClientError) -> Result<ClientError, AgentError> {
        if !matches!(e.status(), Some(401 | 403)) {
            return Ok(e);
        }
        self.0 += 1;
        if self.0 >= MAX_REFUSALS { Err(e.into()) } else { Ok(e) }
    }

    fn reset(&mut self) {
        self.0 = 0;
    }
}

async fn say_hello(client: &AgentClient, hello: &Hello) -> Result<(), AgentError> {
    let mut backoff = Backoff::new();
    let mut refusals = Refusals::default();
    loop {
        match client.hello(hello).await {
            Ok(()) => return Ok(()),
            // The server refused the facts themselves: saying them again changes nothing.
            Err(e) if e.status() == Some(422) => return Err(e.into()),
            Err(e) => {
                let e = refusals.check(e)?;
                tracing::warn!("failed to reach the server, retrying: {e}");
                backoff.wait_after(&e).await;
            }
        }
    }
}

async fn poll_forever(client: &AgentClient, executor: &Executor, root: &Path) -> Result<(), AgentError> {
    let mut backoff = Backoff::between(Duration::from_millis(200), Duration::from_secs(10));
    let mut refusals = Refusals::default();
    let mut recovered = false;
    loop {
        // After (re)connecting, settle commands taken before: report results the server lacks.
        if !recovered {
            match client.unfinished().await {
                Ok(commands) => {
                    recovered = true;
                    for command in commands {
                        spawn_take(executor, command, Origin::TakenBefore);
                    }
                }
                Err(e) => {
                    tracing::debug!("failed to list unfinished commands: {e}");
                }
            }
        }
        match client.next_command(POLL_WAIT).await {
            Ok(next) => {
                backoff.reset();
                refusals.reset();
                // Relayed requests for this frontend's HAProxy: at once, beside any command.
                for request in next.frontend_requests {
                    tokio::spawn(crate::frontend::relay::serve(client.clone(), root.to_owned(), request));
                }
                if let Some(command) = next.command {
                    spawn_take(executor, command, Origin::Pending);
                }
            }
            Err(e) => {
                let e = refusals.check(e)?;
                tracing::debug!("failed to poll for commands, retrying: {e}");
                recovered = false;
                backoff.wait_after(&e).await;
            }
        }
    }
}

fn spawn_take(executor: &Executor, command: AgentCommand, origin: Origin) {
    if executor.claim(command.id) {
        let executor = executor.clone();
        tokio::spawn(async move { executor.take(command, origin).await });
    }
}

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
}
