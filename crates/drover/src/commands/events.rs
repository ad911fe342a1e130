//! `drover events`: what the server decided on its own for a stack, with the reason.

use std::time::Duration;

use drover_proto::events::Event;

use crate::cli::EventsArgs;
use crate::exit::{CliResult, Failure, OK};
use crate::login::client;
use crate::output::{print_json, table};

/// How long one follow request waits for a new event.
const FOLLOW_WAIT: Duration = Duration::from_secs(25);

fn row(e: &Event) -> Vec<String> {
    vec![
        e.id.to_string(),
        e.at.clone(),
        e.kind.clone(),
        e.instance.clone().unwrap_or_else(|| "-".into()),
        e.message.clone(),
    ]
}

/// Prints the newest events; with `--follow`, then every new one as it happens (JSON: one
/// object per line).
pub async fn run(args: EventsArgs) -> CliResult {
    if args.limit == 0 {
        return Err(Failure::usage("--limit must be at least 1"));
    }
    let client = client()?;
    let events = client.events(&args.stack, None, Duration::ZERO, args.limit).await?;
    if !args.follow {
        if args.format.json {
            print_json(&events);
        } else {
            print!(
                "{}",
                table(&["ID", "AT", "KIND", "INSTANCE", "MESSAGE"], &events.iter().map(row).collect::<Vec<_>>())
            );
        }
        return Ok(OK);
    }
    let print = |e: &Event| {
        if args.format.json {
            println!("{}", serde_json::to_string(e).unwrap_or_default());
        } else {
            println!("{}", row(e).join("  "));
        }
    };
    events.iter().for_each(print);
    let mut after = events.last().map_or(0, |e| e.id);
    loop {
        for event in client.events(&args.stack, Some(after), FOLLOW_WAIT, 1000).await? {
            after = event.id;
            print(&event);
        }
    }
}
