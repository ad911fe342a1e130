//! `drover layer provider`: sets or shows the provider new instances of a layer get.

use std::collections::BTreeMap;

use drover_client::Client;
use drover_core::ec2::{Ec2Settings, parse_tag};
use drover_proto::layer_provider::{Ec2Config, LayerProvider, LayerProviderView};

use crate::cli_provider::LayerProviderArgs;
use crate::exit::{CliResult, Failure, OK};
use crate::output::print_json;

/// A setting's flag (`instance_type` → `--instance-type`, `security_groups[1]` → `--security-group`).
fn flag(field: &str) -> String {
    let name = field.split(['[', '.']).next().unwrap_or(field);
    let name = match name {
        "security_groups" => "security_group",
        "tags" => "tag",
        other => other,
    };
    format!("--{}", name.replace('_', "-"))
}

fn ec2_flags_given(args: &LayerProviderArgs) -> bool {
    args.ami.is_some()
        || args.instance_type.is_some()
        || args.subnet.is_some()
        || !args.security_groups.is_empty()
        || args.key_name.is_some()
        || !args.tags.is_empty()
        || args.region.is_some()
        || args.endpoint_url.is_some()
}

/// The request the arguments make; none when they name no provider (show only). EC2 settings
/// are checked here first, so a mistake names its flag.
fn request(args: &LayerProviderArgs) -> CliResult<Option<LayerProvider>> {
    let Some(provider) = args.provider.clone() else {
        if ec2_flags_given(args) {
            return Err(Failure::usage("EC2 settings need the provider: `drover layer provider LAYER ec2 --ami …`"));
        }
        return Ok(None);
    };
    if provider != "ec2" {
        if ec2_flags_given(args) {
            return Err(Failure::usage(format!(
                "--ami, --instance-type and the other EC2 flags are for the ec2 provider, not {provider}"
            )));
        }
        return Ok(Some(LayerProvider { provider, ec2: None }));
    }
    let mut tags = BTreeMap::new();
    for raw in &args.tags {
        let (key, value) = parse_tag(raw).map_err(|e| Failure::usage(format!("--tag: {e}")))?;
        tags.insert(key, value);
    }
    let settings = Ec2Settings {
        ami: args.ami.clone().ok_or_else(|| Failure::usage("--ami is required for ec2 (e.g. --ami ami-0abc1234)"))?,
        instance_type: args
            .instance_type
            .clone()
            .ok_or_else(|| Failure::usage("--instance-type is required for ec2 (e.g. --instance-type t3.micro)"))?,
        subnet: args.subnet.clone(),
        security_groups: args.security_groups.clone(),
        key_name: args.key_name.clone(),
        tags,
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
    };
    if let Err(problems) = settings.validate() {
        let lines: Vec<String> = problems.iter().map(|p| format!("{}: {}", flag(&p.field), p.message)).collect();
        return Err(Failure::usage(lines.join("\n")));
    }
    Ok(Some(LayerProvider { provider, ec2: Some(Ec2Config::from(settings)) }))
}

fn print(view: &LayerProviderView) {
    println!("layer {}: provider {}", view.layer, view.provider);
    let Some(ec2) = &view.ec2 else { return };
    println!("  ami: {}", ec2.ami);
    println!("  instance type: {}", ec2.instance_type);
    let or_default = |v: &Option<String>, default: &str| v.clone().unwrap_or_else(|| default.to_owned());
    println!("  subnet: {}", or_default(&ec2.subnet, "(the default VPC's)"));
    if !ec2.security_groups.is_empty() {
        println!("  security groups: {}", ec2.security_groups.join(", "));
    }
    if let Some(key) = &ec2.key_name {
        println!("  key pair: {key}");
    }
    for (k, v) in &ec2.tags {
        println!("  tag: {k}={v}");
    }
    println!("  region: {}", or_default(&ec2.region, "(the SDK's default)"));
    if let Some(url) = &ec2.endpoint_url {
        println!("  endpoint: {url}");
    }
}

/// Sets the provider given, then shows it; without one, shows it.
pub async fn run(client: &Client, args: LayerProviderArgs) -> CliResult {
    let view = match request(&args)? {
        Some(req) => client.set_layer_provider(&args.stack, &args.layer, &req).await?,
        None => client.layer_provider(&args.stack, &args.layer).await?,
    };
    if args.format.json {
        print_json(&view)
    } else {
        print(&view)
    }
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command, LayerCommand};

    fn args(line: &[&str]) -> LayerProviderArgs {
        let mut all = vec!["drover", "layer", "provider", "--stack", "prod", "web"];
        all.extend_from_slice(line);
        match Cli::try_parse_from(all).unwrap().command {
            Command::Layer(LayerCommand::Provider(args)) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_become_a_request_and_none_shows() {
        let req = request(&args(&[
            "ec2",
            "--ami",
            "ami-12345678",
            "--instance-type",
            "t3.micro",
            "--security-group",
            "sg-12345678",
            "--tag",
            "team=web",
            "--region",
            "us-east-1",
            "--endpoint-url",
            "http://127.0.0.1:5000",
        ]))
        .unwrap()
        .unwrap();
        let ec2 = req.ec2.unwrap();
        assert_eq!(
            (req.provider.as_str(), ec2.ami.as_str(), ec2.region.as_deref()),
            ("ec2", "ami-12345678", Some("us-east-1"))
        );
        assert_eq!(ec2.tags.get("team").map(String::as_str), Some("web"));
        assert!(request(&args(&[])).unwrap().is_none());
        assert_eq!(request(&args(&["local"])).unwrap().unwrap().ec2, None);
    }

    #[test]
    fn mistakes_name_the_flag() {
        // (arguments, expected part of the message)
        let cases: [(&[&str], &str); 7] = [
            (&["ec2", "--instance-type", "t3.micro"], "--ami is required"),
            (&["ec2", "--ami", "ami-12345678"], "--instance-type is required"),
            (&["ec2", "--ami", "ubuntu", "--instance-type", "t3.micro"], "--ami: \"ubuntu\" is not an image id"),
            (&["ec2", "--ami", "ami-12345678", "--instance-type", "t3"], "--instance-type: "),
            (
                &["ec2", "--ami", "ami-12345678", "--instance-type", "t3.micro", "--security-group", "web"],
                "--security-group: ",
            ),
            (&["ec2", "--ami", "ami-12345678", "--instance-type", "t3.micro", "--tag", "team"], "--tag: "),
            (&["local", "--ami", "ami-12345678"], "for the ec2 provider, not local"),
        ];
        for (line, want) in cases {
            let err = request(&args(line)).unwrap_err();
            assert!(err.message().contains(want), "{line:?}: {}", err.message());
        }
    }
}
