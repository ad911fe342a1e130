//! `drover layer scaling`: sets or shows a layer's load-based scaling.

use drover_client::Client;
use drover_core::scaling::Thresholds;
use drover_proto::layer_scaling::{LayerScaling, SetLayerScaling};

use crate::cli_scaling::LayerScalingArgs;
use crate::exit::{CliResult, Failure, OK};
use crate::output::print_json;

/// `--up`/`--down` in the form `cpu=80,memory=85,load=4`.
fn thresholds(flag: &str, raw: Option<&str>) -> CliResult<Option<Thresholds>> {
    raw.map(|text| Thresholds::parse(text).map_err(|p| Failure::usage(format!("{flag}: {}: {}", p.field, p.message))))
        .transpose()
}

/// `--thresholds-wait`/`--ignore-metrics` as seconds (the server checks the 1-100 minute range).
fn seconds(flag: &str, raw: Option<&str>) -> CliResult<Option<u64>> {
    raw.map(|text| {
        drover_core::duration::parse(text).map(|d| d.as_secs()).map_err(|e| Failure::usage(format!("{flag}: {e}")))
    })
    .transpose()
}

/// The request the options make; none when they change nothing (show only).
fn request(args: &LayerScalingArgs) -> CliResult<Option<SetLayerScaling>> {
    let req = SetLayerScaling {
        enabled: if args.enable {
            Some(true)
        } else if args.disable {
            Some(false)
        } else {
            None
        },
        up: thresholds("--up", args.up.as_deref())?,
        down: thresholds("--down", args.down.as_deref())?,
        up_instances: args.up_instances,
        down_instances: args.down_instances,
        thresholds_wait_secs: seconds("--thresholds-wait", args.thresholds_wait.as_deref())?,
        ignore_metrics_secs: seconds("--ignore-metrics", args.ignore_metrics.as_deref())?,
    };
    let empty = serde_json::to_value(&req).map(|v| v == serde_json::json!({})).unwrap_or(false);
    Ok((!empty).then_some(req))
}

/// `300` → `5m`, `90` → `90s`.
fn span(secs: u64) -> String {
    if secs.is_multiple_of(60) { format!("{}m", secs / 60) } else { format!("{secs}s") }
}

fn print(scaling: &LayerScaling) {
    let rule = &scaling.rule;
    let on = if scaling.enabled { "on" } else { "off" };
    println!("layer {}: load-based scaling {on}", scaling.layer);
    println!("  up (when any holds):   {} -> start {}", rule.up, rule.up_instances);
    println!("  down (when all hold):  {} -> stop {}", rule.down, rule.down_instances);
    println!(
        "  thresholds wait {}, metrics ignored {} after an action",
        span(rule.thresholds_wait_secs),
        span(rule.ignore_metrics_secs)
    );
    match &scaling.averages {
        Some(a) => println!(
            "  averages over the last {} on {}: cpu {:.0} %, memory {:.0} %, load {:.2}",
            span(a.window_secs),
            a.instances.join(", "),
            a.cpu_percent,
            a.memory_percent,
            a.load_1m
        ),
        None => println!("  averages: no metrics from an online instance of the layer yet"),
    }
    println!("  now: {}", scaling.decision);
    if let Some(at) = &scaling.last_action_at {
        println!("  last action: {at}");
    }
}

/// Sets the options given, then shows the rule; without options, shows it.
pub async fn run(client: &Client, args: LayerScalingArgs) -> CliResult {
    let scaling = match request(&args)? {
        Some(req) => client.set_layer_scaling(&args.stack, &args.layer, &req).await?,
        None => client.layer_scaling(&args.stack, &args.layer).await?,
    };
    if args.format.json {
        print_json(&scaling)
    } else {
        print(&scaling)
    }
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command, LayerCommand};

    fn args(line: &[&str]) -> LayerScalingArgs {
        let mut all = vec!["drover", "layer", "scaling", "--stack", "prod", "clients"];
        all.extend_from_slice(line);
        match Cli::try_parse_from(all).unwrap().command {
            Command::Layer(LayerCommand::Scaling(args)) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_become_a_request_and_none_shows() {
        let req = request(&args(&[
            "--enable",
            "--up",
            "cpu=80,memory=85,load=4",
            "--down",
            "cpu=30",
            "--up-instances",
            "2",
            "--thresholds-wait",
            "5m",
            "--ignore-metrics",
            "1h",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(req.enabled, Some(true));
        assert_eq!(req.up.unwrap().load, Some(4.0));
        assert_eq!(req.down.unwrap().to_string(), "cpu=30");
        assert_eq!((req.up_instances, req.down_instances), (Some(2), None));
        assert_eq!((req.thresholds_wait_secs, req.ignore_metrics_secs), (Some(300), Some(3600)));
        assert!(request(&args(&[])).unwrap().is_none());
        assert!(request(&args(&["--json"])).unwrap().is_none());
        assert_eq!(request(&args(&["--disable"])).unwrap().unwrap().enabled, Some(false));
    }

    #[test]
    fn bad_options_name_the_flag_and_field() {
        // (options, expected part of the message)
        let cases: [(&[&str], &str); 3] = [
            (&["--up", "cpu=lots"], "--up: cpu: \"lots\" is not a number"),
            (&["--down", "disk=3"], "--down: disk:"),
            (&["--thresholds-wait", "5 minutes"], "--thresholds-wait: "),
        ];
        for (line, want) in cases {
            let err = request(&args(line)).unwrap_err();
            assert!(err.message().contains(want), "{line:?}: {}", err.message());
        }
        assert!(
            Cli::try_parse_from(["drover", "layer", "scaling", "--stack", "s", "l", "--enable", "--disable"]).is_err()
        );
    }
}
