//! Following a deployment: each command's log streamed as it is written, line by line with the
//! instance's name in front, until every command has finished.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drover_core::deploy::log_steps::LogProgress;

use drover_client::Client;
use drover_proto::api::{Command, Deployment, LogChunk};
use tokio::task::JoinSet;

use crate::exit::{CliResult, FAILED, Failure, OK};
use crate::output::{or_dash, print_json, table};
use crate::progress::Progress;

/// How long one log request waits for output.
const LOG_WAIT: Duration = Duration::from_secs(20);
/// The pause between log requests of one command while it runs.
const LOG_BATCH: Duration = Duration::from_millis(200);

/// The step each instance is on, from its log, and since when.
type Steps = Arc<Mutex<HashMap<String, (String, Instant)>>>;

/// Streams every command's output (to stdout, or to stderr when stdout carries JSON); returns
/// when all have finished. The progress line names the instances still running, as they finish
/// in any order, with the step each is on, and (on a terminal) how long it and the whole have
/// taken.
async fn stream_logs(client: &Client, deployment: &Deployment, to_stderr: bool) -> CliResult<()> {
    let width = deployment.commands.iter().map(|c| c.instance.len()).max().unwrap_or(0);
    let progress = Arc::new(Mutex::new(Progress::new(to_stderr)));
    let steps = Steps::default();
    let mut followers = JoinSet::new();
    let mut running = Vec::new();
    for c in deployment.commands.iter().filter(|c| c.status != "skipped") {
        let (client, command, progress, steps) = (client.clone(), c.clone(), progress.clone(), steps.clone());
        running.push(c.instance.clone());
        followers.spawn(async move {
            follow_one(&client, &command, width, &progress, &steps).await.map(|()| command.instance)
        });
    }
    let (total, started) = (running.len(), Instant::now());
    let batch_of: HashMap<String, u32> = deployment.commands.iter().map(|c| (c.instance.clone(), c.batch)).collect();
    let batches = deployment.commands.iter().map(|c| c.batch + 1).max().unwrap_or(1);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        {
            let mut progress = lock(&progress);
            let terminal = progress.is_terminal();
            let on = lock(&steps);
            let named: Vec<Running> = running
                .iter()
                .map(|host| Running {
                    host,
                    step: on
                        .get(host)
                        .map(|(step, since)| (step.as_str(), terminal.then(|| since.elapsed().as_secs()))),
                })
                .collect();
            let batch = running.iter().filter_map(|h| batch_of.get(h)).min().map(|b| (b + 1, batches));
            let line = waiting_for(&named, total, terminal.then(|| started.elapsed().as_secs()));
            progress.update(&match batch {
                Some((at, of)) if of > 1 => format!("batch {at} of {of}: {line}"),
                _ => line,
            });
        }
        tokio::select! {
            joined = followers.join_next() => match joined {
                None => break,
                Some(Ok(Ok(done))) => running.retain(|r| *r != done),
                Some(Ok(Err(e))) => return Err(e),
                Some(Err(e)) => return Err(Failure::new(FAILED, format!("log follower failed: {e}"))),
            },
            _ = tick.tick() => {}
        }
    }
    lock(&progress).finish();
    Ok(())
}

/// An instance still running, with the step its log says it is on and for how long.
struct Running<'a> {
    host: &'a str,
    step: Option<(&'a str, Option<u64>)>,
}

/// "waiting for web2 (bin/buildout 42 s), web3 (2 of 5 instance(s)), 70 s": the instances still
/// running, the first few by name with their step.
fn waiting_for(running: &[Running], total: usize, elapsed_secs: Option<u64>) -> String {
    const NAMED: usize = 3;
    const STEP_CHARS: usize = 40;
    let named: Vec<String> = running
        .iter()
        .take(NAMED)
        .map(|r| match r.step {
            None => r.host.to_owned(),
            Some((step, secs)) => {
                let mut step: String = step.chars().take(STEP_CHARS).collect();
                if let Some(secs) = secs {
                    step.push_str(&format!(" {secs} s"));
                }
                format!("{} ({step})", r.host)
            }
        })
        .collect();
    let mut names = named.join(", ");
    if running.len() > NAMED {
        names.push_str(&format!(" and {} more", running.len() - NAMED));
    }
    let elapsed = elapsed_secs.map(|s| format!(", {s} s")).unwrap_or_default();
    format!("waiting for {names} ({} of {total} instance(s)){elapsed}", running.len())
}

/// Follows a deployment to its end and returns it finished. With `timeout`, gives up waiting
/// after that many seconds with an error that says the deployment goes on.
pub async fn follow_to_end(
    client: &Client,
    deployment: &Deployment,
    to_stderr: bool,
    timeout: Option<u64>,
) -> CliResult<Deployment> {
    let streamed = async {
        stream_logs(client, deployment, to_stderr).await?;
        finished(client, deployment.id).await
    };
    match timeout {
        None => streamed.await,
        Some(secs) => tokio::time::timeout(Duration::from_secs(secs), streamed).await.map_err(|_| {
            Failure::new(
                FAILED,
                format!(
                    "deployment {id} is still running after {secs} s (--timeout); it goes on without you: \
                     follow it with `drover deployment show {id} --follow`",
                    id = deployment.id
                ),
            )
        })?,
    }
}

/// What a command that started a deployment prints last. With `wait`: follows it to its end
/// (within `timeout`), then prints the results (or the finished deployment as JSON, the logs
/// having gone to stderr) and answers its exit code. Without: prints the deployment (as JSON) or
/// how to follow it.
pub async fn report(
    client: &Client,
    deployment: &Deployment,
    wait: bool,
    json: bool,
    timeout: Option<u64>,
) -> CliResult {
    if !wait {
        if json {
            print_json(deployment);
        } else {
            println!("follow it with: drover deployment show {} --follow", deployment.id);
        }
        return Ok(OK);
    }
    let finished = follow_to_end(client, deployment, json, timeout).await?;
    if json {
        print_json(&finished);
    } else {
        print!("{}", results(&finished));
    }
    Ok(exit_code(&finished))
}

/// The deployment once the server has closed it. Its commands' logs end a moment before the
/// deployment's own status is settled, so it is read again until it has its end time (the server
/// sets the end time and the final status together, and never one without the other).
async fn finished(client: &Client, id: i64) -> CliResult<Deployment> {
    loop {
        let deployment = client.deployment(id).await?;
        if deployment.finished_at.is_some() {
            return Ok(deployment);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One page of a command's log from `offset`, long-polled; `None` after waiting out the server's
/// request limit (many chatty commands followed at once), to be asked again.
pub async fn log_page(client: &Client, id: i64, offset: u64) -> CliResult<Option<LogChunk>> {
    match client.command_log(id, offset, LOG_WAIT).await {
        Ok(chunk) => Ok(Some(chunk)),
        Err(e) if e.status() == Some(429) => {
            tokio::time::sleep(e.retry_after().unwrap_or(Duration::from_secs(1)).min(LOG_WAIT)).await;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn lock<T>(shared: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

async fn follow_one(
    client: &Client,
    command: &Command,
    width: usize,
    progress: &Mutex<Progress>,
    steps: &Steps,
) -> CliResult<()> {
    let mut offset = 0;
    let mut partial = String::new();
    let mut read = LogProgress::default();
    let prefix = format!("[{:<width$}]", command.instance);
    loop {
        let Some(chunk) = log_page(client, command.id, offset).await? else { continue };
        read.feed(&chunk.data);
        let step = read.running().map(|s| s.shown.clone());
        {
            let mut steps = lock(steps);
            match step {
                Some(step) if steps.get(&command.instance).is_none_or(|(shown, _)| *shown != step) => {
                    steps.insert(command.instance.clone(), (step, Instant::now()));
                }
                Some(_) => {}
                None => {
                    steps.remove(&command.instance);
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::{Running, waiting_for};

    #[test]
    fn the_progress_line_names_who_is_still_running_and_their_step() {
        let at = |host, step| Running { host, step };
        // (running, total, elapsed, line)
        let cases: Vec<(Vec<Running>, usize, Option<u64>, &str)> = vec![
            (
                vec![at("web1", None), at("web2", None), at("web3", None)],
                3,
                None,
                "waiting for web1, web2, web3 (3 of 3 instance(s))",
            ),
            (vec![at("web3", None)], 3, Some(42), "waiting for web3 (1 of 3 instance(s)), 42 s"),
            (
                vec![at("web2", Some(("bin/buildout -c deploy.cfg", Some(42)))), at("web3", Some(("git fetch", None)))],
                5,
                Some(70),
                "waiting for web2 (bin/buildout -c deploy.cfg 42 s), web3 (git fetch) (2 of 5 instance(s)), 70 s",
            ),
            (
                vec![at("a", None), at("b", None), at("c", None), at("d", None), at("e", None)],
                9,
                None,
                "waiting for a, b, c and 2 more (5 of 9 instance(s))",
            ),
        ];
        for (running, total, elapsed, line) in cases {
            assert_eq!(waiting_for(&running, total, elapsed), line);
        }
        let long = "x".repeat(100);
        let shown = waiting_for(&[at("web1", Some((long.as_str(), None)))], 1, None);
        assert_eq!(shown, format!("waiting for web1 ({}) (1 of 1 instance(s))", "x".repeat(40)));
    }
}
