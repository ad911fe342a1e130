//! The conversion on describe output and a template shaped like AWS's documented examples.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::scaling::ScalingType;

const STACKS: &str = r#"{"Stacks": [{"StackId": "s-1", "Name": "Plone Prod", "Region": "us-east-1",
  "Arn": "arn:aws:opsworks:us-east-1:111:stack/s-1/", "CreatedAt": "2015-01-01T00:00:00+00:00",
  "DefaultOs": "Ubuntu 14.04 LTS", "UseCustomCookbooks": true,
  "CustomCookbooksSource": {"Type": "git", "Url": "https://github.com/alecpm/opsworks-web-python.git"},
  "CustomJson": "{\"plone_instances\": {\"per_cpu\": 2, \"nfs_blobs\": true}, \"deploy\": {\"site\": {}}}"}]}"#;

const LAYERS: &str = r#"{"Layers": [
  {"LayerId": "l-clients", "StackId": "s-1", "Type": "custom", "Name": "Plone Instances", "Shortname": "plone_instances",
   "EnableAutoHealing": true, "AutoAssignElasticIps": false,
   "CustomRecipes": {"Setup": ["plone_buildout::instances-setup", "newrelic::default"], "Configure": ["plone_buildout::instances-configure"],
     "Deploy": ["plone_buildout::instances-deploy"], "Undeploy": [], "Shutdown": ["plone_buildout::instances-stop"]},
   "CustomJson": "{\"plone_instances\": {\"per_cpu\": 1}}"},
  {"LayerId": "l-zeo", "StackId": "s-1", "Type": "custom", "Name": "Zeoserver", "Shortname": "zeoserver", "EnableAutoHealing": false,
   "CustomRecipes": {"Setup": ["plone_buildout::zeoserver-setup"], "Configure": ["plone_buildout::enable_backups"]},
   "VolumeConfigurations": [{"MountPoint": "/srv/www/zeoserver/shared/var", "Size": 200, "NumberOfDisks": 1}]},
  {"LayerId": "l-lb", "StackId": "s-1", "Type": "lb", "Name": "HAProxy", "Shortname": "lb", "AutoAssignElasticIps": true,
   "Attributes": {"HaproxyStatsPassword": "*****FILTERED*****", "HaproxyStatsUser": null}},
  {"LayerId": "l-mc", "StackId": "s-1", "Type": "memcached", "Name": "Memcached", "Shortname": "memcached"},
  {"LayerId": "l-other", "StackId": "s-2", "Type": "custom", "Name": "Other", "Shortname": "other"}]}"#;

const APPS: &str = r#"{"Apps": [{"AppId": "a-1", "StackId": "s-1", "Shortname": "site", "Name": "My Plone Site", "Type": "other",
  "AppSource": {"Type": "git", "Url": "git@github.com:org/site.git", "Revision": "main", "SshKey": "*****FILTERED*****"},
  "Environment": [{"Key": "PLONE_ENV", "Value": "prod", "Secure": false}, {"Key": "DB_PASSWORD", "Value": "*****FILTERED*****", "Secure": true},
    {"Key": "API_TOKEN", "Secure": true}],
  "DataSources": [{"Type": "RdsDbInstance", "Arn": "arn:aws:rds:us-east-1:111:db:plone", "DatabaseName": "plone"}],
  "EnableSsl": false, "Domains": ["www.example.org"]},
 {"AppId": "a-2", "StackId": "s-1", "Shortname": "static", "Name": "Static", "Type": "static",
  "AppSource": {"Type": "s3", "Url": "https://s3.amazonaws.com/bucket/site.zip"}}]}"#;

const INSTANCES: &str = r#"{"Instances": [
  {"InstanceId": "i-1", "StackId": "s-1", "Hostname": "plone1", "LayerIds": ["l-clients"], "InstanceType": "c5.large", "Status": "online", "PrivateIp": "10.0.0.5"},
  {"InstanceId": "i-2", "StackId": "s-1", "Hostname": "plone2", "LayerIds": ["l-clients"], "AutoScalingType": "load", "InstanceType": "c5.large"},
  {"InstanceId": "i-3", "StackId": "s-1", "Hostname": "plone3", "LayerIds": ["l-clients"], "AutoScalingType": "timer", "ElasticIp": "54.1.2.3"},
  {"InstanceId": "i-4", "StackId": "s-1", "Hostname": "zeo1", "LayerIds": ["l-zeo", "l-mc"]},
  {"InstanceId": "i-5", "StackId": "s-1", "Hostname": "lb1", "LayerIds": ["l-lb"]}]}"#;

const TIME: &str = r#"{"TimeBasedAutoScalingConfigurations": [{"InstanceId": "i-3",
  "AutoScalingSchedule": {"Monday": {"8": "on", "9": "on", "10": "on"}, "Tuesday": {"8": "on", "9": "on", "10": "on"}, "Sunday": {}}}]}"#;

const LOAD: &str = r#"{"LoadBasedAutoScalingConfigurations": [{"LayerId": "l-clients", "Enable": true,
  "UpScaling": {"InstanceCount": 2, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10, "CpuThreshold": 80.0, "MemoryThreshold": -1, "LoadThreshold": 4.0},
  "DownScaling": {"InstanceCount": 1, "ThresholdsWaitTime": 10, "IgnoreMetricsTime": 10, "CpuThreshold": 30.0, "MemoryThreshold": -1, "LoadThreshold": -1,
    "Alarms": ["low-traffic"]}}]}"#;

fn files(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut files: BTreeMap<String, String> = [
        ("describe-stacks.json", STACKS),
        ("describe-layers.json", LAYERS),
        ("describe-apps.json", APPS),
        ("describe-instances.json", INSTANCES),
        ("describe-time-based-auto-scaling.json", TIME),
        ("describe-load-based-auto-scaling.json", LOAD),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in extra {
        files.insert((*k).to_owned(), (*v).to_owned());
    }
    files
}

fn import(files: &BTreeMap<String, String>) -> Import {
    convert(&describe::read(files).unwrap(), &Options::default()).unwrap()
}

fn left(import: &Import) -> Vec<String> {
    import.left_out.iter().map(ToString::to_string).collect()
}

#[test]
fn describe_output_becomes_a_stack() {
    let i = import(&files(&[]));
    assert_eq!(i.name, "plone-prod");
    assert_eq!(i.custom_json, json!({"plone_instances": {"per_cpu": 2, "nfs_blobs": true}, "deploy": {"site": {}}}));
    let layers: Vec<(&str, LayerType, bool)> =
        i.layers.iter().map(|l| (l.name.as_str(), l.layer_type, l.auto_healing)).collect();
    assert_eq!(
        layers,
        [
            ("plone_instances", LayerType::PloneInstances, true),
            ("zeoserver", LayerType::Zeoserver, false),
            ("lb", LayerType::Frontend, true),
            ("memcached", LayerType::Custom, true),
        ]
    );
    assert_eq!(i.layers[0].custom_json, json!({"plone_instances": {"per_cpu": 1}}));
    let load = i.layers[0].load_scaling.unwrap();
    assert!(load.enabled);
    assert_eq!((load.rule.up.cpu, load.rule.up.memory, load.rule.up.load), (Some(80.0), None, Some(4.0)));
    assert_eq!((load.rule.down.cpu, load.rule.up_instances, load.rule.down_instances), (Some(30.0), 2, 1));
    assert_eq!((load.rule.thresholds_wait_secs, load.rule.ignore_metrics_secs), (300, 600));

    let app = &i.apps[0];
    assert_eq!(i.apps.len(), 1, "the s3 app is left out");
    assert_eq!(
        (app.name.as_str(), app.git.as_str(), app.revision.as_deref()),
        ("site", "git@github.com:org/site.git", Some("main"))
    );
    assert_eq!(app.layers, ["plone_instances", "zeoserver"]);
    assert_eq!(app.environment, BTreeMap::from([("PLONE_ENV".to_owned(), "prod".to_owned())]));
    assert_eq!(app.secrets, ["DB_PASSWORD", "API_TOKEN"]);
    assert!(app.deploy_key);

    let instances: Vec<(&str, ScalingType, Vec<String>)> =
        i.instances.iter().map(|h| (h.hostname.as_str(), h.scaling, h.schedule.clone())).collect();
    assert_eq!(
        instances,
        [
            ("plone1", ScalingType::AlwaysOn, vec![]),
            ("plone2", ScalingType::Load, vec![]),
            ("plone3", ScalingType::Time, vec!["mon-tue 08-11".to_owned()]),
            ("zeo1", ScalingType::AlwaysOn, vec![]),
            ("lb1", ScalingType::AlwaysOn, vec![]),
        ]
    );
    assert_eq!(i.instances[3].layers, ["zeoserver", "memcached"]);
    assert!(i.instances.iter().all(|h| h.provider == "registered"));
}

#[test]
fn what_is_not_carried_over_is_listed_by_name() {
    let i = import(&files(&[]));
    let shown = left(&i);
    for want in [
        "stack: CustomCookbooksSource: Chef cookbooks are not run",
        "stack: DefaultOs = Ubuntu 14.04 LTS: the machine is the host's own",
        "layer plone_instances: Chef recipe newrelic::default (Setup): no Drover equivalent",
        "layer zeoserver: Chef recipe plone_buildout::enable_backups (Configure)",
        "layer zeoserver: VolumeConfigurations (1 item(s)): EBS volumes are not managed",
        "layer lb: AutoAssignElasticIps = true: Elastic IPs",
        "layer lb: Attributes: OpsWorks attributes",
        "layer memcached: layer type memcached: no Drover equivalent",
        "layer plone_instances: load-based scaling DownScaling.Alarms (1 item(s))",
        "layer plone_instances: load-based scaling DownScaling.ThresholdsWaitTime = 10: Drover has one",
        "app site: DataSources (1 item(s)): databases (RDS)",
        "app site: Domains (1 item(s))",
        "app static: the app (its source is s3 https://s3.amazonaws.com/bucket/site.zip)",
        "instance plone1: InstanceType = c5.large",
        "instance plone3: ElasticIp = 54.1.2.3: Elastic IPs",
    ] {
        assert!(shown.iter().any(|s| s.starts_with(want)), "missing {want:?} in\n{}", shown.join("\n"));
    }
    let all = shown.join("\n");
    for never in [
        "FILTERED",
        "PrivateIp",
        "Status",
        "plone_buildout::instances-setup",
        "plone_buildout::zeoserver-setup",
        "l-other",
    ] {
        assert!(!all.contains(never), "{never} in\n{all}");
    }
    assert!(i.notes.iter().any(|n| n.contains("stack \"Plone Prod\" is named plone-prod")), "{:?}", i.notes);
}

#[test]
fn missing_files_and_bad_json_are_named() {
    let mut without = files(&[]);
    without.remove("describe-layers.json");
    let e = describe::read(&without).unwrap_err().to_string();
    assert!(e.starts_with("describe-layers.json: is missing; write it with `aws opsworks describe-layers"), "{e}");

    let mut few = files(&[]);
    few.remove("describe-time-based-auto-scaling.json");
    let i = convert(&describe::read(&few).unwrap(), &Options::default()).unwrap();
    assert!(i.notes.iter().any(|n| n.starts_with("describe-time-based-auto-scaling.json was not given")));
    assert!(i.notes.iter().any(|n| n.starts_with("instance plone3 is time-based but no schedule")), "{:?}", i.notes);

    // (file, text, expected error)
    let cases = [
        ("describe-stacks.json", "{", "describe-stacks.json: is not valid JSON"),
        ("describe-layers.json", r#"{"Apps": []}"#, "describe-layers.json: has no \"Layers\" list (it has: Apps)"),
        ("describe-layers.json", r#"{"Layers": {}}"#, "describe-layers.json: Layers: expected a list, found an object"),
        ("describe-layers.json", r#"{"Layers": [3]}"#, "describe-layers.json: Layers[0]: expected an object"),
        (
            "describe-layers.json",
            r#"{"Layers": [{"LayerId": "l", "Type": "custom", "Shortname": 3}]}"#,
            "describe-layers.json: Layers[0].Shortname: expected a string, found a number",
        ),
        (
            "describe-layers.json",
            r#"{"Layers": [{"LayerId": "l", "Type": "custom", "Shortname": "a", "CustomJson": "{nope"}]}"#,
            "describe-layers.json: Layers[0].CustomJson: is not valid JSON",
        ),
        (
            "describe-instances.json",
            r#"{"Instances": [{"InstanceId": "i", "Hostname": "h", "LayerIds": ["l-gone"]}]}"#,
            "describe-instances.json: Instances[0].LayerIds[0]: \"l-gone\" is not a layer of the stack",
        ),
        (
            "describe-apps.json",
            r#"{"Apps": [{"Shortname": "a", "AppSource": {"Type": "git", "Url": "https://x/y.git"}, "Environment": [{"Key": "1X", "Value": "v"}]}]}"#,
            "describe-apps.json: Apps[0].Environment[0].Key: ",
        ),
        (
            "describe-load-based-auto-scaling.json",
            r#"{"LoadBasedAutoScalingConfigurations": [{"LayerId": "l-clients", "UpScaling": {"CpuThreshold": "high"}}]}"#,
            "describe-load-based-auto-scaling.json: LoadBasedAutoScalingConfigurations[0].UpScaling.CpuThreshold: expected a number",
        ),
    ];
    for (file, text, want) in cases {
        let got = describe::read(&files(&[(file, text)])).and_then(|i| convert(&i, &Options::default()));
        let e = got.unwrap_err().to_string();
        assert!(e.starts_with(want), "{file} {text}: {e}");
    }
}

#[test]
fn a_stack_is_chosen_by_name_or_id() {
    let two = r#"{"Stacks": [{"StackId": "s-1", "Name": "A"}, {"StackId": "s-2", "Name": "B"}]}"#;
    let inputs = describe::read(&files(&[("describe-stacks.json", two)])).unwrap();
    let e = convert(&inputs, &Options::default()).unwrap_err().to_string();
    assert!(e.contains("holds 2 stacks: \"A\" (s-1), \"B\" (s-2); choose one with --stack NAME"), "{e}");
    let b = convert(&inputs, &Options { stack: Some("s-2".into()), ..Default::default() }).unwrap();
    assert_eq!(b.layers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["other"]);
    let named = Options { stack: Some("A".into()), name: Some("prod".into()), provider: Some("local".into()) };
    let a = convert(&inputs, &named).unwrap();
    assert_eq!(a.name, "prod");

    let bare =
        files(&[("describe-layers.json", r#"{"Layers": []}"#), ("describe-instances.json", r#"{"Instances": []}"#)]);
    let none = import(&bare);
    assert!(none.layers.is_empty() && none.apps.is_empty(), "no layers, so no app");
    assert!(
        left(&none).iter().any(|l| l.starts_with("app site: the app: the stack has no layer")),
        "{:?}",
        left(&none)
    );
    assert!(a.instances.iter().all(|h| h.provider == "local"));
}

const TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {"Revision": {"Type": "String", "Default": "v2"}, "DbPassword": {"Type": "String", "NoEcho": true}},
  "Resources": {
    "PloneStack": {"Type": "AWS::OpsWorks::Stack", "Properties": {"Name": "cfn-plone", "ServiceRoleArn": "arn:aws:iam::111:role/ops",
      "DefaultInstanceProfileArn": "arn:aws:iam::111:instance-profile/ops", "CustomJson": {"plone_instances": {"per_cpu": 1}}}},
    "Clients": {"Type": "AWS::OpsWorks::Layer", "Properties": {"StackId": {"Ref": "PloneStack"}, "Name": "Clients", "Type": "custom",
      "Shortname": "clients", "EnableAutoHealing": true, "AutoAssignElasticIps": false, "AutoAssignPublicIps": true,
      "CustomRecipes": {"Setup": ["plone_buildout::instances-setup"]},
      "LoadBasedAutoScaling": {"Enable": true, "UpScaling": {"CpuThreshold": 75, "InstanceCount": 1, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10},
        "DownScaling": {"CpuThreshold": 20, "InstanceCount": 1, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10}}}},
    "Site": {"Type": "AWS::OpsWorks::App", "Properties": {"StackId": {"Ref": "PloneStack"}, "Name": "site", "Type": "other",
      "AppSource": {"Type": "git", "Url": "https://github.com/org/site.git", "Revision": {"Ref": "Revision"}},
      "Environment": [{"Key": "DB_PASSWORD", "Value": {"Ref": "DbPassword"}, "Secure": true}, {"Key": "MODE", "Value": "prod"}]}},
    "Client1": {"Type": "AWS::OpsWorks::Instance", "Properties": {"StackId": {"Ref": "PloneStack"}, "LayerIds": [{"Ref": "Clients"}],
      "InstanceType": "m5.large", "Hostname": "client1", "AutoScalingType": "timer",
      "TimeBasedAutoScaling": {"Friday": {"22": "on", "23": "on"}, "Saturday": {"0": "on"}}}},
    "Elb": {"Type": "AWS::OpsWorks::ElasticLoadBalancerAttachment", "Properties": {"ElasticLoadBalancerName": "web", "LayerId": {"Ref": "Clients"}}},
    "Data": {"Type": "AWS::OpsWorks::Volume", "Properties": {"Ec2VolumeId": "vol-1", "StackId": {"Ref": "PloneStack"}}},
    "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {}}
  }}"#;

#[test]
fn a_cloudformation_template_becomes_a_stack() {
    let inputs = cloudformation::read("plone.template", TEMPLATE).unwrap();
    let i = convert(&inputs, &Options::default()).unwrap();
    assert_eq!(i.name, "cfn-plone");
    assert_eq!(i.custom_json, json!({"plone_instances": {"per_cpu": 1}}));
    assert_eq!(i.layers[0].layer_type, LayerType::PloneInstances);
    let load = i.layers[0].load_scaling.unwrap();
    assert_eq!((load.enabled, load.rule.up.cpu, load.rule.down.cpu), (true, Some(75.0), Some(20.0)));
    let app = &i.apps[0];
    assert_eq!((app.git.as_str(), app.revision.as_deref()), ("https://github.com/org/site.git", Some("v2")));
    assert_eq!(app.secrets, ["DB_PASSWORD"]);
    assert_eq!(app.environment, BTreeMap::from([("MODE".to_owned(), "prod".to_owned())]));
    assert!(!app.deploy_key);
    let h = &i.instances[0];
    assert_eq!(
        (h.hostname.as_str(), h.scaling, h.layers.clone()),
        ("client1", ScalingType::Time, vec!["clients".to_owned()])
    );
    assert_eq!(h.schedule, ["fri 22-01"]);
    let shown = left(&i).join("\n");
    for want in [
        "resource Elb: AWS::OpsWorks::ElasticLoadBalancerAttachment: load balancers",
        "resource Data: AWS::OpsWorks::Volume: EBS volumes",
        "resource Db: AWS::RDS::DBInstance: databases",
        "stack: ServiceRoleArn = arn:aws:iam::111:role/ops: AWS networking",
        "instance client1: InstanceType = m5.large",
        "layer clients: AutoAssignPublicIps = true",
    ] {
        assert!(shown.contains(want), "missing {want:?} in\n{shown}");
    }
}

#[test]
fn bad_templates_are_named() {
    // (text, expected error)
    let cases = [
        (
            "Resources:\n  A: 1\n",
            "t.yaml: is not valid JSON: expected value at line 1 column 1; only JSON templates are read",
        ),
        ("{}", "t.yaml: Resources: is missing or not an object"),
        (r#"{"Resources": {"A": {"Properties": {}}}}"#, "t.yaml: Resources.A.Type: is missing"),
        (r#"{"Resources": {"A": {"Type": "AWS::EC2::EIP"}}}"#, "t.yaml: Resources: has no AWS::OpsWorks::Stack"),
        (
            r#"{"Resources": {"S": {"Type": "AWS::OpsWorks::Stack", "Properties": {"Name": "s"}},
                "L": {"Type": "AWS::OpsWorks::Layer", "Properties": {"StackId": {"Ref": "S"}, "Type": "custom"}}}}"#,
            "t.yaml: Resources.L.Properties.Shortname: is missing",
        ),
    ];
    for (text, want) in cases {
        let e = cloudformation::read("t.yaml", text).and_then(|i| convert(&i, &Options::default())).unwrap_err();
        assert!(e.to_string().starts_with(want), "{text}: {e}");
    }
}
