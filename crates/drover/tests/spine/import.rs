//! `drover import opsworks`: describe-* files and a CloudFormation template, written here by hand
//! in the shapes of AWS's documented examples, become stack files that list what was not carried
//! over; `drover apply` then builds the stacks on a real server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{TestStack, drover_bin};

const STACKS: &str = r#"{
  "Stacks": [{
    "StackId": "2f18b4cb-4de5-4429-a149-ff7da9f0d8ee", "Name": "Plone Production", "Region": "us-west-2",
    "Arn": "arn:aws:opsworks:us-west-2:123456789012:stack/2f18b4cb-4de5-4429-a149-ff7da9f0d8ee/",
    "VpcId": "vpc-0a1b2c3d", "DefaultOs": "Ubuntu 18.04 LTS", "HostnameTheme": "Layer_Dependent",
    "ConfigurationManager": {"Name": "Chef", "Version": "11.10"}, "UseCustomCookbooks": true,
    "CustomCookbooksSource": {"Type": "git", "Url": "https://github.com/alecpm/opsworks-web-python.git", "Revision": "master"},
    "CustomJson": "{\"plone_instances\": {\"per_cpu\": 2}, \"plone_zeoserver\": {\"enable_pack\": true}}",
    "CreatedAt": "2015-06-01T17:31:23+00:00"
  }]
}"#;

const LAYERS: &str = r#"{
  "Layers": [
    {"StackId": "2f18b4cb-4de5-4429-a149-ff7da9f0d8ee", "LayerId": "9a3f2a3d-1b5c-4c2e-8b0e-3f5c6e7d8a90",
     "Type": "custom", "Name": "Plone Instances", "Shortname": "plone_instances", "EnableAutoHealing": true,
     "AutoAssignElasticIps": false, "AutoAssignPublicIps": true, "Packages": [],
     "DefaultRecipes": {"Setup": ["opsworks_initial_setup"], "Configure": [], "Deploy": ["deploy::default"], "Undeploy": [], "Shutdown": []},
     "CustomRecipes": {"Setup": ["plone_buildout::instances-setup", "plone_buildout::papertrail"],
       "Configure": ["plone_buildout::instances-configure"], "Deploy": ["plone_buildout::instances-deploy"],
       "Undeploy": ["plone_buildout::instances-undeploy"], "Shutdown": ["plone_buildout::instances-stop"]},
     "CustomJson": "{\"plone_instances\": {\"per_cpu\": 1}}"},
    {"StackId": "2f18b4cb-4de5-4429-a149-ff7da9f0d8ee", "LayerId": "4c8e9f0a-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
     "Type": "custom", "Name": "Zeoserver", "Shortname": "zeoserver", "EnableAutoHealing": false,
     "CustomRecipes": {"Setup": ["plone_buildout::zeoserver-setup"], "Configure": ["plone_buildout::zeoserver-configure", "plone_buildout::enable_backups"],
       "Deploy": ["plone_buildout::zeoserver-deploy"], "Undeploy": [], "Shutdown": ["plone_buildout::zeoserver-stop"]},
     "VolumeConfigurations": [{"MountPoint": "/srv/www/zeoserver/shared/var", "NumberOfDisks": 1, "Size": 200, "VolumeType": "standard"}]},
    {"StackId": "2f18b4cb-4de5-4429-a149-ff7da9f0d8ee", "LayerId": "7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
     "Type": "lb", "Name": "HAProxy", "Shortname": "lb", "EnableAutoHealing": true, "AutoAssignElasticIps": true,
     "Attributes": {"HaproxyStatsPassword": "*****FILTERED*****", "HaproxyStatsUrl": "/haproxy?stats", "EnableHaproxyStats": "true"},
     "CustomRecipes": {"Setup": ["nginx::default"], "Configure": ["plone_buildout::nginx"]}}
  ]
}"#;

const APPS: &str = r#"{
  "Apps": [{
    "StackId": "2f18b4cb-4de5-4429-a149-ff7da9f0d8ee", "AppId": "26a61ead-d201-47e3-b55c-2a7c666942f8",
    "Shortname": "site", "Name": "My Plone Site", "Type": "other", "EnableSsl": false, "SslConfiguration": {},
    "AppSource": {"Type": "git", "Url": "git@github.com:example/plone-site.git", "Revision": "production", "SshKey": "*****FILTERED*****"},
    "Environment": [
      {"Key": "PLONE_ENV", "Value": "production", "Secure": false},
      {"Key": "DB_PASSWORD", "Value": "*****FILTERED*****", "Secure": true}
    ],
    "DataSources": [{"Type": "RdsDbInstance", "Arn": "arn:aws:rds:us-west-2:123456789012:db:plone", "DatabaseName": "plone"}],
    "CreatedAt": "2015-06-02T09:12:00+00:00"
  }]
}"#;

const INSTANCES: &str = r#"{
  "Instances": [
    {"StackId": "2f18b4cb-4de5-4429-a149-ff7da9f0d8ee", "InstanceId": "5e2a8b1c-0001-4d3e-9f8a-7b6c5d4e3f2a",
     "Hostname": "plone-app1", "LayerIds": ["9a3f2a3d-1b5c-4c2e-8b0e-3f5c6e7d8a90"], "InstanceType": "c5.large",
     "Status": "online", "PrivateIp": "10.0.1.12", "Os": "Ubuntu 18.04 LTS", "Architecture": "x86_64"},
    {"StackId": "2f18b4cb-4de5-4429-a149-ff7da9f0d8ee", "InstanceId": "5e2a8b1c-0002-4d3e-9f8a-7b6c5d4e3f2a",
     "Hostname": "plone-app2", "LayerIds": ["9a3f2a3d-1b5c-4c2e-8b0e-3f5c6e7d8a90"], "InstanceType": "c5.large",
     "AutoScalingType": "load", "Status": "stopped"},
    {"StackId": "2f18b4cb-4de5-4429-a149-ff7da9f0d8ee", "InstanceId": "5e2a8b1c-0003-4d3e-9f8a-7b6c5d4e3f2a",
     "Hostname": "plone-app3", "LayerIds": ["9a3f2a3d-1b5c-4c2e-8b0e-3f5c6e7d8a90"], "InstanceType": "c5.large",
     "AutoScalingType": "timer", "Status": "stopped"},
    {"StackId": "2f18b4cb-4de5-4429-a149-ff7da9f0d8ee", "InstanceId": "5e2a8b1c-0004-4d3e-9f8a-7b6c5d4e3f2a",
     "Hostname": "zeo1", "LayerIds": ["4c8e9f0a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"], "InstanceType": "m5.large",
     "BlockDeviceMappings": [{"DeviceName": "/dev/sdh", "Ebs": {"VolumeSize": 200}}]},
    {"StackId": "2f18b4cb-4de5-4429-a149-ff7da9f0d8ee", "InstanceId": "5e2a8b1c-0005-4d3e-9f8a-7b6c5d4e3f2a",
     "Hostname": "lb1", "LayerIds": ["7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d"], "InstanceType": "t3.small", "ElasticIp": "54.214.1.10"}
  ]
}"#;

const TIME: &str = r#"{
  "TimeBasedAutoScalingConfigurations": [{
    "InstanceId": "5e2a8b1c-0003-4d3e-9f8a-7b6c5d4e3f2a",
    "AutoScalingSchedule": {
      "Monday": {"8": "on", "9": "on", "10": "on", "11": "on"}, "Tuesday": {"8": "on", "9": "on", "10": "on", "11": "on"},
      "Wednesday": {"8": "on", "9": "on", "10": "on", "11": "on"}, "Thursday": {"8": "on", "9": "on", "10": "on", "11": "on"},
      "Friday": {"8": "on", "9": "on", "10": "on", "11": "on"}, "Saturday": {}, "Sunday": {}
    }
  }]
}"#;

const LOAD: &str = r#"{
  "LoadBasedAutoScalingConfigurations": [{
    "LayerId": "9a3f2a3d-1b5c-4c2e-8b0e-3f5c6e7d8a90", "Enable": true,
    "UpScaling": {"InstanceCount": 2, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10, "CpuThreshold": 80.0, "MemoryThreshold": 85.0, "LoadThreshold": -1.0},
    "DownScaling": {"InstanceCount": 1, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10, "CpuThreshold": 30.0, "MemoryThreshold": -1.0, "LoadThreshold": -1.0}
  }]
}"#;

const TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {"SiteRevision": {"Type": "String", "Default": "v2"}, "DbPassword": {"Type": "String", "NoEcho": "true"}},
  "Resources": {
    "PloneStack": {"Type": "AWS::OpsWorks::Stack", "Properties": {
      "Name": "cfn-plone", "ServiceRoleArn": "arn:aws:iam::123456789012:role/aws-opsworks-service-role",
      "DefaultInstanceProfileArn": "arn:aws:iam::123456789012:instance-profile/aws-opsworks-ec2-role",
      "CustomJson": {"plone_instances": {"per_cpu": 1}, "nginx_plone": {"hostname": "www.example.org"}}}},
    "ClientsLayer": {"Type": "AWS::OpsWorks::Layer", "Properties": {
      "StackId": {"Ref": "PloneStack"}, "Name": "Clients", "Type": "custom", "Shortname": "clients",
      "EnableAutoHealing": true, "AutoAssignElasticIps": false, "AutoAssignPublicIps": true,
      "CustomRecipes": {"Setup": ["plone_buildout::instances-setup"], "Deploy": ["plone_buildout::instances-deploy"]},
      "LoadBasedAutoScaling": {"Enable": false,
        "UpScaling": {"CpuThreshold": 75, "InstanceCount": 1, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10},
        "DownScaling": {"CpuThreshold": 20, "InstanceCount": 1, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10}}}},
    "SiteApp": {"Type": "AWS::OpsWorks::App", "Properties": {
      "StackId": {"Ref": "PloneStack"}, "Name": "site", "Type": "other",
      "AppSource": {"Type": "git", "Url": "https://github.com/example/plone-site.git", "Revision": {"Ref": "SiteRevision"}},
      "Environment": [{"Key": "DB_PASSWORD", "Value": {"Ref": "DbPassword"}, "Secure": true}, {"Key": "MODE", "Value": "cfn"}]}},
    "Client1": {"Type": "AWS::OpsWorks::Instance", "Properties": {
      "StackId": {"Ref": "PloneStack"}, "LayerIds": [{"Ref": "ClientsLayer"}], "InstanceType": "m5.large",
      "Hostname": "client1", "AutoScalingType": "timer",
      "TimeBasedAutoScaling": {"Saturday": {"10": "on", "11": "on"}, "Sunday": {"10": "on", "11": "on"}}}},
    "Client2": {"Type": "AWS::OpsWorks::Instance", "Properties": {
      "StackId": {"Ref": "PloneStack"}, "LayerIds": [{"Ref": "ClientsLayer"}], "InstanceType": "m5.large", "Hostname": "client2"}},
    "ElbAttachment": {"Type": "AWS::OpsWorks::ElasticLoadBalancerAttachment", "Properties": {
      "ElasticLoadBalancerName": "plone-elb", "LayerId": {"Ref": "ClientsLayer"}}},
    "DataVolume": {"Type": "AWS::OpsWorks::Volume", "Properties": {"Ec2VolumeId": "vol-0a1b2c3d", "StackId": {"Ref": "PloneStack"}}}
  }
}"#;

const DEPLOY_KEY: &str =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const SECRET: &str = "db-secret-from-the-env";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the CLI against the server with `env` added (DB_PASSWORD unset otherwise).
fn drover(stack: &TestStack, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(drover_bin());
    cmd.args(args)
        .env("DROVER_SERVER", stack.url())
        .env("DROVER_TOKEN", stack.admin_token())
        .env("HOME", "/nonexistent")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("DB_PASSWORD")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json_out(stack: &TestStack, args: &[&str]) -> Value {
    serde_json::from_str(&stack.cli_ok(args)).unwrap()
}

fn write_describe(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in [
        ("describe-stacks.json", STACKS),
        ("describe-layers.json", LAYERS),
        ("describe-apps.json", APPS),
        ("describe-instances.json", INSTANCES),
        ("describe-time-based-auto-scaling.json", TIME),
        ("describe-load-based-auto-scaling.json", LOAD),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// Applies `file` with the secret set; asserts success; returns stdout.
fn apply(stack: &TestStack, file: &Path) -> String {
    let run = drover(stack, &["apply", "-f", file.to_str().unwrap()], &[("DB_PASSWORD", SECRET)]);
    assert_eq!(run.code, Some(0), "apply {}:\n{}\n{}", file.display(), run.stdout, run.stderr);
    run.stdout
}

/// Hostname and scaling of each instance of a stack.
fn scalings(stack: &TestStack, name: &str) -> Vec<(String, String, String)> {
    let list = json_out(stack, &["instance", "list", "--stack", name, "--json"]);
    let mut out: Vec<(String, String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap_or_default().to_owned();
            (s("hostname"), s("scaling"), s("provider"))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_output_becomes_a_stack_that_apply_builds() {
    let stack = TestStack::start().await;
    let dir = stack.dir.path().join("opsworks");
    let out_file = stack.dir.path().join("plone.toml");
    let file = out_file.to_str().unwrap();

    // Missing input: the file is named, nothing is written.
    std::fs::create_dir_all(&dir).unwrap();
    let run = drover(&stack, &["import", "opsworks", "--describe", dir.to_str().unwrap(), "-o", file], &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("opsworks/describe-stacks.json: is missing; write it with `aws opsworks describe-stacks"),
        "{}",
        run.stderr
    );
    assert!(!out_file.exists());
    write_describe(&dir);
    std::fs::write(dir.join("describe-apps.json"), r#"{"Apps": [{"Shortname": "x", "AppSource": 7}]}"#).unwrap();
    let run = drover(&stack, &["import", "opsworks", "--describe", dir.to_str().unwrap(), "-o", file], &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("describe-apps.json: Apps[0].AppSource: expected an object, found a number"),
        "{}",
        run.stderr
    );
    std::fs::write(dir.join("describe-apps.json"), APPS).unwrap();

    // The import: a stack file, and what was not carried over by name (stderr and --json).
    let run = drover(&stack, &["import", "opsworks", "--describe", dir.to_str().unwrap(), "-o", file], &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("wrote stack plone-production to"), "{}", run.stdout);
    for left in [
        "not carried over: stack: CustomCookbooksSource: Chef cookbooks are not run",
        "not carried over: layer plone_instances: Chef recipe plone_buildout::papertrail (Setup)",
        "not carried over: layer zeoserver: Chef recipe plone_buildout::enable_backups (Configure)",
        "not carried over: layer zeoserver: VolumeConfigurations (1 item(s)): EBS volumes",
        "not carried over: layer lb: AutoAssignElasticIps = true: Elastic IPs",
        "not carried over: app site: DataSources (1 item(s)): databases (RDS)",
        "not carried over: instance zeo1: BlockDeviceMappings (1 item(s)): EBS volumes",
        "not carried over: instance lb1: ElasticIp = 54.214.1.10",
    ] {
        assert!(run.stderr.contains(left), "missing {left:?} in\n{}", run.stderr);
    }
    assert!(!run.stderr.contains("FILTERED") && !run.stderr.contains("instances-setup"), "{}", run.stderr);
    let again = drover(&stack, &["import", "opsworks", "--describe", dir.to_str().unwrap(), "-o", file], &[]);
    assert_eq!(again.code, Some(2), "an existing file is kept: {}", again.stderr);
    let json_run = drover(&stack, &["import", "opsworks", "--describe", dir.to_str().unwrap(), "--json"], &[]);
    let answer: Value = serde_json::from_str(&json_run.stdout).unwrap();
    let left_out = answer["left_out"].as_array().unwrap();
    assert!(
        left_out.iter().any(|l| l["owner"] == "layer zeoserver" && l["item"] == "VolumeConfigurations (1 item(s))"),
        "{answer}"
    );
    assert_eq!(answer["secrets_to_fill_in"], json!(["DB_PASSWORD (app site)"]));
    assert_eq!(answer["deploy_keys_to_fill_in"], json!(["site"]));
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(answer["stack_file"].as_str(), Some(text.as_str()), "--json carries the same file");
    assert!(text.contains("secret_environment = { DB_PASSWORD = \"env:DB_PASSWORD\" }"), "{text}");
    assert!(!text.contains("FILTERED"), "{text}");

    // Until the secrets are filled in, apply refuses, naming them, and changes nothing.
    let run = drover(&stack, &["apply", "-f", file], &[]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(run.stderr.contains("apps.site.secret_environment.DB_PASSWORD"), "{}", run.stderr);
    assert!(run.stderr.contains("apps.site.deploy_key"), "{}", run.stderr);
    assert!(!stack.cli(&["stack", "show", "plone-production"]).status.success(), "nothing was created");

    let key = stack.dir.path().join("site_deploy");
    std::fs::write(&key, DEPLOY_KEY).unwrap();
    std::fs::write(&out_file, text.replace("REPLACE_WITH_KEY_PATH", key.to_str().unwrap())).unwrap();
    let out = apply(&stack, &out_file);
    assert!(out.contains("to stack plone-production: 10 created, 0 updated, 0 unchanged"), "{out}");

    // What the server has now, read back through the CLI.
    let name = "plone-production";
    let shown = json_out(&stack, &["stack", "show", name, "--json"]);
    assert_eq!(
        shown["custom_json"],
        json!({"plone_instances": {"per_cpu": 2}, "plone_zeoserver": {"enable_pack": true}})
    );
    let layer = |l: &str| json_out(&stack, &["layer", "show", "--stack", name, l, "--json"]);
    let clients = layer("plone_instances");
    assert_eq!((clients["type"].as_str(), clients["auto_healing"].as_bool()), (Some("plone_instances"), Some(true)));
    assert_eq!(clients["custom_json"], json!({"plone_instances": {"per_cpu": 1}}));
    let zeo = layer("zeoserver");
    assert_eq!((zeo["type"].as_str(), zeo["auto_healing"].as_bool()), (Some("zeoserver"), Some(false)));
    assert_eq!(layer("lb")["type"], "frontend");
    let app = json_out(&stack, &["app", "show", "--stack", name, "site", "--json"]);
    assert_eq!(app["repository"], "git@github.com:example/plone-site.git");
    assert_eq!(app["revision"], "production");
    assert_eq!(app["environment"]["PLONE_ENV"], "production");
    assert_eq!(app["secret_environment"], json!(["DB_PASSWORD"]));
    assert_eq!(app["deploy_key"], true);
    let mut app_layers: Vec<String> = serde_json::from_value(app["layers"].clone()).unwrap();
    app_layers.sort();
    assert_eq!(app_layers, ["plone_instances", "zeoserver"]);
    let r = |h: &str, s: &str| (h.to_owned(), s.to_owned(), "registered".to_owned());
    assert_eq!(
        scalings(&stack, name),
        [
            r("lb1", "24/7"),
            r("plone-app1", "24/7"),
            r("plone-app2", "load"),
            r("plone-app3", "time"),
            r("zeo1", "24/7")
        ]
    );
    let schedule = json_out(&stack, &["instance", "schedule", "--stack", name, "plone-app3", "--json"]);
    assert_eq!(schedule["schedule"], "mon-fri 08-12", "{schedule}");
    let rule = json_out(&stack, &["layer", "scaling", "--stack", name, "plone_instances", "--json"]);
    assert_eq!(rule["enabled"], true, "{rule}");
    assert_eq!(rule["rule"]["up"], json!({"cpu": 80.0, "memory": 85.0, "load": null}), "{rule}");
    assert_eq!(rule["rule"]["down"]["cpu"], 30.0, "{rule}");
    assert_eq!((&rule["rule"]["up_instances"], &rule["rule"]["thresholds_wait_secs"]), (&json!(2), &json!(300)));

    // Applying the import again changes nothing.
    let out = apply(&stack, &out_file);
    assert!(out.contains("0 created, 0 updated, 10 unchanged"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloudformation_template_becomes_a_stack_that_apply_builds() {
    let stack = TestStack::start().await;
    let template: PathBuf = stack.dir.path().join("plone.template.json");
    std::fs::write(&template, TEMPLATE).unwrap();
    let out_file = stack.dir.path().join("cfn.toml");
    let args = ["import", "opsworks", "--cloudformation", template.to_str().unwrap(), "--name", "cfn", "-o"];
    let run = drover(&stack, &[&args[..], &[out_file.to_str().unwrap()]].concat(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    for left in [
        "not carried over: resource ElbAttachment: AWS::OpsWorks::ElasticLoadBalancerAttachment: load balancers",
        "not carried over: resource DataVolume: AWS::OpsWorks::Volume: EBS volumes",
        "not carried over: stack: ServiceRoleArn",
        "not carried over: instance client1: InstanceType = m5.large",
    ] {
        assert!(run.stderr.contains(left), "missing {left:?} in\n{}", run.stderr);
    }
    let yaml = stack.dir.path().join("plone.template.yaml");
    std::fs::write(&yaml, "Resources:\n  PloneStack:\n    Type: AWS::OpsWorks::Stack\n").unwrap();
    let run = drover(&stack, &["import", "opsworks", "--cloudformation", yaml.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("plone.template.yaml: is not valid JSON") && run.stderr.contains("cfn-flip"),
        "{}",
        run.stderr
    );

    let out = apply(&stack, &out_file);
    assert!(out.contains("to stack cfn: 5 created"), "{out}");
    let shown = json_out(&stack, &["stack", "show", "cfn", "--json"]);
    assert_eq!(
        shown["custom_json"],
        json!({"plone_instances": {"per_cpu": 1}, "nginx_plone": {"hostname": "www.example.org"}})
    );
    assert_eq!(json_out(&stack, &["layer", "show", "--stack", "cfn", "clients", "--json"])["type"], "plone_instances");
    let app = json_out(&stack, &["app", "show", "--stack", "cfn", "site", "--json"]);
    assert_eq!((app["revision"].as_str(), app["environment"]["MODE"].as_str()), (Some("v2"), Some("cfn")));
    assert_eq!(app["secret_environment"], json!(["DB_PASSWORD"]));
    let r = |h: &str, s: &str| (h.to_owned(), s.to_owned(), "registered".to_owned());
    assert_eq!(scalings(&stack, "cfn"), [r("client1", "time"), r("client2", "24/7")]);
    let schedule = json_out(&stack, &["instance", "schedule", "--stack", "cfn", "client1", "--json"]);
    assert_eq!(schedule["schedule"], "sat-sun 10-12", "{schedule}");
    let rule = json_out(&stack, &["layer", "scaling", "--stack", "cfn", "clients", "--json"]);
    assert_eq!((rule["enabled"].as_bool(), rule["rule"]["up"]["cpu"].as_f64()), (Some(false), Some(75.0)), "{rule}");
}
