//! `drover instance ...`.

use std::time::Duration;

use drover_client::Client;
use drover_proto::api::{CreateInstance, Instance};

use crate::cli::InstanceCommand;
use crate::exit::{CliResult, FAILED, Failure, OK};
use crate::login::client;
use crate::output::{or_dash, print_json, table};
use crate::progress::Progress;

/// The services table of these instances (also used by `drover status`): what each agent last
/// reported. Empty when no instance reported any.
pub fn service_rows(instances: &[Instance]) -> String {
    let rows: Vec<Vec<String>> = instances
        .iter()
        .flat_map(|i| {
            i.services.iter().map(|s| {
                vec![
                    i.hostname.clone(),
                    s.app.clone(),
                    s.name.clone(),
                    s.state.clone(),
                    or_dash(s.pid),
                    or_dash(s.uptime_secs.map(uptime)),
                    s.restarts.to_string(),
                ]
            })
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    table(&["INSTANCE", "APP", "SERVICE", "STATE", "PID", "UPTIME", "RESTARTS"], &rows)
}

/// An uptime as people read it: `42s`, `3m05s`, `2h07m`, `3d04h`.
fn uptime(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// The instances table (also used by `drover status`).
pub fn rows(instances: &[Instance]) -> String {
    let rows: Vec<Vec<String>> = instances
        .iter()
        .map(|i| {
            vec![
                i.hostname.clone(),
                i.status.clone(),
                i.layers.join(","),
                i.provider.clone(),
                i.scaling.clone(),
                or_dash(i.address.clone()),
                or_dash(i.cpu_count),
                or_dash(i.memory_bytes.map(|b| format!("{} MiB", b / (1024 * 1024)))),
                or_dash(i.metrics.as_ref().map(|m| format!("{:.0}%", m.cpu_percent))),
                or_dash(i.metrics.as_ref().map(|m| format!("{:.2}", m.load_1m))),
                or_dash(i.last_heartbeat.clone()),
                or_dash(i.agent_version.clone()),
            ]
        })
        .collect();
    table(
        &[
            "HOSTNAME",
            "STATUS",
            "LAYERS",
            "PROVIDER",
            "SCALING",
            "ADDRESS",
            "CPUS",
            "MEMORY",
            "CPU",
            "LOAD",
            "LAST HEARTBEAT",
            "AGENT",
        ],
        &rows,
    )
}

/// Polls until the instance reaches one of `want`; fails on one of `failed` or after `timeout`.
async fn wait_for(
    client: &Client,
    stack: &str,
    host: &str,
    want: &[&str],
    failed: &[&str],
    timeout: Duration,
) -> CliResult<Instance> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut progress = Progress::new(false);
    loop {
        let instance = client.instance(stack, host).await?;
        if want.contains(&instance.status.as_str()) {
            progress.finish();
            return Ok(instance);
        }
        if failed.contains(&instance.status.as_str()) {
            progress.finish();
            return Err(Failure::new(
                FAILED,
                format!(
                    "instance {host} is {}; `drover deployment list --stack {stack}` and `drover deployment show ID` show the log",
                    instance.status
                ),
            ));
        }
        if tokio::time::Instant::now() >= deadline {
            progress.finish();
            return Err(Failure::new(
                FAILED,
                format!(
                    "instance {host} is still {} after {} s; check again with `drover status {stack}`",
                    instance.status,
                    timeout.as_secs()
                ),
            ));
        }
        progress.update(&format!("{host}: {}", instance.status));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

const ONLINE: &[&str] = &["online"];
const START_FAILED: &[&str] = &["setup_failed", "start_failed"];

pub async fn run(cmd: InstanceCommand) -> CliResult {
    let client = client()?;
    match cmd {
        InstanceCommand::Create { stack, layers, provider, hostname, cpu_count, scaling, wait, timeout } => {
            let req = CreateInstance { layers, provider, hostname, cpu_count, scaling: Some(scaling) };
            let instance = client.create_instance(&stack, &req).await?;
            println!("created instance {} ({}, {})", instance.hostname, instance.provider, instance.status);
            if instance.provider == "registered" {
                println!("{}", super::token::join_hint(&stack, &instance.hostname));
            }
            let scheduled = instance.scaling != "24/7";
            if scheduled {
                let by = if instance.scaling == "time" {
                    format!("its schedule (`drover instance schedule --stack {stack} {} --on ...`)", instance.hostname)
                } else {
                    "its layer's load-based rule (`drover layer scaling`)".to_owned()
                };
                println!("it stays stopped until {by} starts it");
            }
            if wait && !scheduled {
                let i =
                    wait_for(&client, &stack, &instance.hostname, ONLINE, START_FAILED, Duration::from_secs(timeout))
                        .await?;
                println!("{} is {} at {}", i.hostname, i.status, or_dash(i.address));
            }
        }
        InstanceCommand::Update(args) => return super::scaling::update(args).await,
        InstanceCommand::Schedule(args) => return super::scaling::schedule(args).await,
        InstanceCommand::List { stack, format } => {
            let instances = client.instances(&stack).await?;
            if format.json { print_json(&instances) } else { print!("{}", rows(&instances)) }
        }
        InstanceCommand::Show { stack, hostname, format } => {
            let instance = client.instance(&stack, &hostname).await?;
            if format.json {
                print_json(&instance)
            } else {
                let one = std::slice::from_ref(&instance);
                print!("{}", rows(one));
                if let Some(machine) = &instance.machine_id {
                    println!("machine: {machine}");
                }
                let services = service_rows(one);
                if !services.is_empty() {
                    print!("\nservices:\n{services}");
                }
            }
        }
        InstanceCommand::Start { stack, hostname, wait, timeout } => {
            let instance = client.start_instance(&stack, &hostname).await?;
            println!("{} is {}", instance.hostname, instance.status);
            if wait {
                let i =
                    wait_for(&client, &stack, &hostname, ONLINE, START_FAILED, Duration::from_secs(timeout)).await?;
                println!("{} is {}", i.hostname, i.status);
            }
        }
        InstanceCommand::Stop { stack, hostname, wait, timeout } => {
            let instance = client.stop_instance(&stack, &hostname).await?;
            println!("{} is {}", instance.hostname, instance.status);
            if wait {
                let i =
                    wait_for(&client, &stack, &hostname, &["stopped"], &["stop_failed"], Duration::from_secs(timeout))
                        .await?;
                println!("{} is {}", i.hostname, i.status);
            }
        }
        InstanceCommand::Delete { stack, hostname } => {
            client.delete_instance(&stack, &hostname).await?;
            println!("deleted instance {hostname}");
        }
    }
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use super::uptime;

    #[test]
    fn uptimes_read_easily() {
        let cases = [
            (0, "0s"),
            (59, "59s"),
            (60, "1m00s"),
            (185, "3m05s"),
            (3600, "1h00m"),
            (7620, "2h07m"),
            (273_600, "3d04h"),
        ];
        for (secs, want) in cases {
            assert_eq!(uptime(secs), want, "{secs}");
        }
    }
}
