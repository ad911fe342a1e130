//! `drover instance update --scaling` and `drover instance schedule`.

use drover_proto::scaling::{InstanceScaling, SetScaling};

use crate::cli_scaling::{InstanceUpdateArgs, ScheduleArgs};
use crate::exit::{CliResult, Failure, OK};
use crate::login::client;
use crate::output::print_json;

fn print(scaling: &InstanceScaling, json: bool) {
    if json {
        print_json(scaling);
        return;
    }
    println!("{}: {}", scaling.hostname, scaling.scaling);
    if let Some(schedule) = &scaling.schedule {
        println!("schedule (UTC): {schedule}");
    }
    if let Some(wants) = scaling.wants_online {
        let now = if wants { "online" } else { "offline" };
        match &scaling.next_change {
            Some(at) => println!("the schedule wants it {now} now, until {at}"),
            None => println!("the schedule wants it {now} at all hours"),
        }
    }
}

/// Sets an instance's scaling type.
pub async fn update(args: InstanceUpdateArgs) -> CliResult {
    let req = SetScaling { scaling: Some(args.scaling), ..SetScaling::default() };
    let scaling = client()?.set_scaling(&args.stack, &args.hostname, &req).await?;
    print(&scaling, args.format.json);
    Ok(OK)
}

/// Sets a time-based instance's schedule, or shows it.
pub async fn schedule(args: ScheduleArgs) -> CliResult {
    let client = client()?;
    let grid = match &args.grid {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("failed to read {}: {e}", path.display())))?;
            Some(serde_json::from_str(&text).map_err(|e| {
                Failure::usage(format!(
                    "{} is not valid JSON: {e} (line {}, column {})",
                    path.display(),
                    e.line(),
                    e.column()
                ))
            })?)
        }
        None => None,
    };
    let scaling = if args.on.is_empty() && grid.is_none() {
        client.scaling(&args.stack, &args.hostname).await?
    } else {
        let req = SetScaling { scaling: None, on: args.on, grid };
        client.set_scaling(&args.stack, &args.hostname, &req).await?
    };
    print(&scaling, args.format.json);
    Ok(OK)
}
