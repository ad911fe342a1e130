//! Following a deployment: each command's log streamed as it is written, line by line with the
//! instance's name in front, until every command has finished.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use drover_client::Client;
use drover_proto::api::{Command, Deployment};

use crate::exit::{CliResult, FAILED, OK};
use crate::output::{or_dash, table};
use crate::progress::Progress;

/// How long one log request waits for output.
const LOG_WAIT: Duration = Duration::from_secs(20);
/// The pause between log requests of one command while it runs.
const LOG_BATCH: Duration = Duration::from_millis(200);

/// Streams every command's output (to stdout, or to stderr when stdout carries JSON); returns
/// when all have finished.
pub async fn stream_logs(client: &Client, deployment: &Deployment, to_stderr: bool) -> CliResult<()> {
    let width = deployment.commands.iter().map(|c| c.instance.len()).max().unwrap_or(0);
    let progress = Arc::new(Mutex::new(Progress::new(to_stderr)));
    let followers: Vec<_> = deployment
        .commands
        .iter()
        .filter(|c| c.status != "skipped")
        .map(|c| {
            let (client, command, progress) = (client.clone(), c.clone(), progress.clone());
            tokio::spawn(async move { follow_one(&client, &command, width, &progress).await })
        })
        .collect();
    let total = followers.len();
    for (done, follower) in followers.into_iter().enumerate() {
        lock(&progress).update(&format!("waiting for {} of {total} instance(s)", total - done));
        follower.await.map_err(|e| crate::exit::Failure::new(FAILED, format!("log follower failed: {e}")))??;
    }
    lock(&progress).finish();
    Ok(())
}

fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(|e| e.into_inner())
}

async fn follow_one(client: &Client, command: &Command, width: usize, progress: &Mutex<Progress>) -> CliResult<()> {
    let mut offset = 0;
    let mut partial = String::new();
    let prefix = format!("[{:<width$}]", command.instance);
    loop {
        let chunk = match client.command_log(command.id, offset, LOG_WAIT).await {
            Ok(chunk) => chunk,
            // Over the server's request limit (many chatty commands followed at once): wait as told.
            Err(e) if e.status() == Some(429) => {
                tokio::time::sleep(e.retry_after().unwrap_or(Duration::from_secs(1)).min(LOG_WAIT)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        partial.push_str(&chunk.data);
        while let Some(end) = partial.find('\n') {
            lock(progress).println(&format!("{prefix} {}", &partial[..end]));
            partial.drain(..=end);
        }
        offset = chunk.next_offset;
        if chunk.complete {
            if !partial.is_empty() {
                lock(progress).println(&format!("{prefix} {partial}"));
            }
            return Ok(());
        }
        // Gather output for a moment: a chatty command then costs a few requests a second.
        tokio::time::sleep(LOG_BATCH).await;
    }
}

/// The per-instance results table.
pub fn results(deployment: &Deployment) -> String {
    let rows: Vec<Vec<String>> = deployment
        .commands
        .iter()
        .map(|c| {
            vec![
                c.instance.clone(),
                c.status.clone(),
                or_dash(c.exit_code),
                or_dash(c.started_at.clone()),
                or_dash(c.finished_at.clone()),
                or_dash(c.reason.clone()),
            ]
        })
        .collect();
    table(&["INSTANCE", "STATUS", "EXIT", "STARTED", "FINISHED", "NOTE"], &rows)
}

/// Exit code for a finished deployment: 1 if any command failed.
pub fn exit_code(deployment: &Deployment) -> u8 {
    if deployment.commands.iter().any(|c| c.status == "failed") { FAILED } else { OK }
}
