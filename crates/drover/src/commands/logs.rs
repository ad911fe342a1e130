//! `drover logs`: one deployment of kind `logs`; each instance's agent streams its log lines as
//! its command's output, which this follows per instance and prints merged by the lines' times.
//! With `--follow`, lines are held [`HOLD`] so a line of one instance that arrives after a later
//! one of another still comes out in order; Ctrl-C cancels the deployment (the agents stop).

use std::time::Duration;

use drover_client::Client;
use drover_core::service_logs::{Merge, WireLine, rfc3339};
use drover_proto::api::{Command, CreateDeployment, LogsRequest};
use tokio::sync::mpsc;

use crate::cli_logs::LogsArgs;
use crate::exit::{CliResult, FAILED, Failure, OK};
use crate::login::client;

/// How long a followed line is held for lines of other instances that are older.
const HOLD: Duration = Duration::from_millis(250);
/// The pause between log requests of one instance.
const LOG_BATCH: Duration = Duration::from_millis(100);
/// The longest the history waits for an instance that has not sent its own (its agent is slow to
/// take the command): then what has come is printed and following goes on.
const HISTORY_WAIT: Duration = Duration::from_secs(10);
/// The longest follow the server accepts.
const MAX_FOLLOW: Duration = Duration::from_secs(24 * 3600);

/// What an instance's follower reports.
enum Event {
    /// A log line.
    Line(Shown),
    /// The instance has sent its history (it follows from now on).
    Live,
    /// Text of the command that is not a log line (an error of the agent).
    Note(String, String),
    /// The instance's stream has ended.
    Done,
}

/// A line as printed.
#[derive(Debug, Clone)]
struct Shown {
    time_ms: i64,
    instance: String,
    source: String,
    text: String,
}

fn seconds(flag: &str, raw: &str) -> CliResult<u64> {
    drover_core::duration::parse(raw).map(|d| d.as_secs()).map_err(|e| Failure::usage(format!("--{flag}: {e}")))
}

pub async fn run(args: LogsArgs) -> CliResult {
    let since_secs = args.since.as_deref().map(|s| seconds("since", s)).transpose()?;
    let follow_secs = if args.follow {
        let secs = seconds("follow-for", &args.follow_for)?;
        if secs == 0 || secs > MAX_FOLLOW.as_secs() {
            return Err(Failure::usage("--follow-for: follow for 1 second to 24h"));
        }
        Some(secs)
    } else {
        None
    };
    let client = client()?;
    let req = CreateDeployment {
        kind: "logs".into(),
        layers: args.layers,
        instances: args.instances,
        logs: Some(LogsRequest { services: args.services, since_secs, lines: args.lines, follow_secs }),
        ..Default::default()
    };
    let deployment = client.create_deployment(&args.stack, &req).await?;
    let mut streams = 0;
    let (tx, mut rx) = mpsc::unbounded_channel();
    for c in &deployment.commands {
        if c.status == "skipped" {
            eprintln!("{}: skipped ({})", c.instance, c.reason.as_deref().unwrap_or("not online"));
            continue;
        }
        streams += 1;
        let (client, command, tx) = (client.clone(), c.clone(), tx.clone());
        tokio::spawn(async move {
            let instance = command.instance.clone();
            if let Err(e) = follow(&client, &command, &tx).await {
                let _ = tx.send(Event::Note(instance, format!("stopped reading its logs: {}", e.message())));
            }
            let _ = tx.send(Event::Done);
        });
    }
    drop(tx);
    let mut printer = Printer { json: args.json, width: 0, merge: Merge::default() };
    let (mut live, mut done) = (0, 0);
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let started = std::time::Instant::now();
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                None => break,
                Some(Event::Line(line)) => printer.merge.push(line.time_ms, line),
                Some(Event::Live) => live += 1,
                Some(Event::Note(instance, text)) => eprintln!("{instance}: {text}"),
                Some(Event::Done) => done += 1,
            },
            _ = tick.tick() => {
                // History is printed once every instance has sent its own, all of it in order.
                if args.follow && (live + done >= streams || started.elapsed() > HISTORY_WAIT) {
                    printer.release(now_ms() - HOLD.as_millis() as i64);
                }
            }
            _ = &mut interrupted => {
                if let Err(e) = client.cancel_deployment(deployment.id).await {
                    eprintln!("failed to cancel deployment {}: {e}; its agents stop at --follow-for", deployment.id);
                }
                printer.drain();
                return Ok(OK);
            }
        }
    }
    printer.drain();
    let finished = client.deployment(deployment.id).await?;
    let failed: Vec<&Command> = finished.commands.iter().filter(|c| c.status == "failed").collect();
    if failed.is_empty() {
        return Ok(OK);
    }
    for c in &failed {
        eprintln!("{}: failed: {}", c.instance, c.reason.as_deref().unwrap_or("see its log"));
    }
    Ok(FAILED)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Prints lines as they are released.
struct Printer {
    json: bool,
    width: usize,
    merge: Merge<Shown>,
}

impl Printer {
    fn release(&mut self, up_to_ms: i64) {
        for line in self.merge.release(up_to_ms) {
            self.print(&line);
        }
    }

    fn drain(&mut self) {
        for line in self.merge.drain() {
            self.print(&line);
        }
    }

    fn print(&mut self, line: &Shown) {
        if self.json {
            let row = serde_json::json!({
                "time": rfc3339(line.time_ms),
                "time_ms": line.time_ms,
                "instance": line.instance,
                "source": line.source,
                "line": line.text,
            });
            println!("{row}");
            return;
        }
        let prefix = format!("{}/{}", line.instance, shown_source(&line.source));
        self.width = self.width.max(prefix.len());
        println!("{prefix:<width$} | {}", line.text, width = self.width);
    }
}

/// The source as the prefix shows it: the service without its app (`client1`), or `agent`.
fn shown_source(source: &str) -> &str {
    source.split_once('/').map_or(source, |(_, service)| service)
}

/// Reads one instance's stream to its end, sending each line.
async fn follow(client: &Client, command: &Command, tx: &mpsc::UnboundedSender<Event>) -> CliResult<()> {
    let instance = &command.instance;
    let (mut offset, mut partial, mut live) = (0, String::new(), false);
    loop {
        let Some(chunk) = super::follow::log_page(client, command.id, offset).await? else { continue };
        partial.push_str(&chunk.data);
        let mut lines: Vec<String> = Vec::new();
        while let Some(end) = partial.find('\n') {
            lines.push(partial[..end].to_owned());
            partial.drain(..=end);
        }
        if chunk.complete && !partial.is_empty() {
            lines.push(std::mem::take(&mut partial));
        }
        for raw in lines {
            let event = match WireLine::decode(&raw) {
                Some(line) if line.is_keepalive() => {
                    if live {
                        continue;
                    }
                    live = true;
                    Event::Live
                }
                Some(line) => Event::Line(Shown {
                    time_ms: line.time_ms,
                    instance: instance.clone(),
                    source: line.source,
                    text: line.text,
                }),
                None if raw.trim().is_empty() => continue,
                None => Event::Note(instance.clone(), raw),
            };
            if tx.send(event).is_err() {
                return Ok(());
            }
        }
        offset = chunk.next_offset;
        if chunk.complete {
            return Ok(());
        }
        tokio::time::sleep(LOG_BATCH).await;
    }
}

#[cfg(test)]
mod tests {
    use super::shown_source;

    #[test]
    fn the_prefix_shows_the_service_without_its_app() {
        let cases = [("site/client1", "client1"), ("agent", "agent"), (".frontend/nginx", "nginx")];
        for (source, want) in cases {
            assert_eq!(shown_source(source), want, "{source}");
        }
    }
}
