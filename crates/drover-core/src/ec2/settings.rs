//! A layer's EC2 settings: what RunInstances is given for its instances' machines.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The settings of an `ec2` layer. Credentials are not among them: the server takes them from
/// the AWS SDK's usual chain (environment, shared credentials and config files).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ec2Settings {
    /// The image (`ami-…`).
    pub ami: String,
    /// The instance type (`t3.micro`).
    pub instance_type: String,
    /// The subnet (`subnet-…`); the default VPC's when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// Security group ids (`sg-…`); the VPC's default group when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    /// The EC2 key pair's name, for SSH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// Tags for the machines, besides Drover's own.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The region; the SDK's default (`AWS_REGION`, the config file) when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Another EC2 endpoint (an EC2-compatible service, or moto for tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
}

/// What is wrong with one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// The setting's name: `ami`, `instance_type`, `subnet`, `security_groups[1]`, `tags.Name`, …
    pub field: String,
    /// What is wrong and what to give instead.
    pub message: String,
}

/// EC2's limit of tags per resource, less Drover's three.
const MAX_USER_TAGS: usize = 47;

fn is_id(raw: &str, prefix: &str) -> bool {
    raw.strip_prefix(prefix).is_some_and(|hex| {
        (8..=17).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn is_instance_type(raw: &str) -> bool {
    let Some((family, size)) = raw.split_once('.') else { return false };
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok(family) && ok(size) && raw.len() <= 64
}

fn is_region(raw: &str) -> bool {
    let parts: Vec<&str> = raw.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts.last().is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_endpoint(raw: &str) -> bool {
    let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty() && !r.starts_with('/') && !r.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

impl Ec2Settings {
    /// Every problem at once, by setting.
    pub fn validate(&self) -> Result<(), Vec<SettingProblem>> {
        let mut problems = Vec::new();
        let mut bad = |field: &str, message: String| problems.push(SettingProblem { field: field.to_owned(), message });
        if !is_id(&self.ami, "ami-") {
            bad("ami", format!("{:?} is not an image id; give one like ami-0abc1234def567890", self.ami));
        }
        if !is_instance_type(&self.instance_type) {
            bad("instance_type", format!("{:?} is not an instance type; give one like t3.micro", self.instance_type));
        }
        if let Some(subnet) = &self.subnet
            && !is_id(subnet, "subnet-")
        {
            bad("subnet", format!("{subnet:?} is not a subnet id; give one like subnet-0abc1234"));
        }
        for (i, group) in self.security_groups.iter().enumerate() {
            if !is_id(group, "sg-") {
                bad(
                    &format!("security_groups[{i}]"),
                    format!("{group:?} is not a security group id; give one like sg-0abc1234"),
                );
            }
        }
        if let Some(key) = &self.key_name
            && (key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x20..0x7f).contains(&b)))
        {
            bad("key_name", format!("{key:?} is not a key pair name; use 1 to 255 printable ASCII characters"));
        }
        if self.tags.len() > MAX_USER_TAGS {
            bad(
                "tags",
                format!("{} tags are too many; EC2 takes {MAX_USER_TAGS} besides Drover's own", self.tags.len()),
            );
        }
        for (key, value) in &self.tags {
            let field = format!("tags.{key}");
            if key.is_empty() || key.chars().count() > 128 {
                bad(&field, "a tag's key has 1 to 128 characters".to_owned());
            } else if key.starts_with("aws:") || key.starts_with("drover:") {
                bad(&field, format!("{key:?}: keys starting with aws: or drover: are reserved; pick another key"));
            } else if value.chars().count() > 256 {
                bad(&field, "a tag's value has at most 256 characters".to_owned());
            }
        }
        if let Some(region) = &self.region
            && !is_region(region)
        {
            bad("region", format!("{region:?} is not a region; give one like eu-west-1"));
        }
        if let Some(url) = &self.endpoint_url
            && !is_endpoint(url)
        {
            bad("endpoint_url", format!("{url:?} is not an endpoint URL; give one like http://127.0.0.1:5000"));
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

/// A `--tag` argument: `KEY=VALUE` (the value may be empty).
pub fn parse_tag(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("{raw:?} is not a tag; give KEY=VALUE, e.g. team=web")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Ec2Settings {
        Ec2Settings {
            ami: "ami-0abc1234def567890".into(),
            instance_type: "t3.micro".into(),
            subnet: Some("subnet-0abc1234".into()),
            security_groups: vec!["sg-12345678".into()],
            key_name: Some("deploy key".into()),
            tags: BTreeMap::from([("team".into(), "web".into())]),
            region: Some("eu-west-1".into()),
            endpoint_url: Some("http://127.0.0.1:5000".into()),
        }
    }

    #[test]
    fn settings_are_checked_by_field() {
        assert_eq!(good().validate(), Ok(()));
        let minimal =
            Ec2Settings { ami: "ami-12345678".into(), instance_type: "m5.large".into(), ..Default::default() };
        assert_eq!(minimal.validate(), Ok(()));
        // (the change, the fields refused)
        type Change = fn(&mut Ec2Settings);
        let cases: Vec<(Change, Vec<&str>)> = vec![
            (|s| s.ami = "ubuntu".into(), vec!["ami"]),
            (|s| s.ami = "ami-XYZ12345".into(), vec!["ami"]),
            (|s| s.instance_type = "micro".into(), vec!["instance_type"]),
            (|s| s.instance_type = "T3.micro".into(), vec!["instance_type"]),
            (|s| s.subnet = Some("sg-12345678".into()), vec!["subnet"]),
            (|s| s.security_groups.push("default".into()), vec!["security_groups[1]"]),
            (|s| s.key_name = Some(String::new()), vec!["key_name"]),
            (|s| drop(s.tags.insert("drover:stack".into(), "x".into())), vec!["tags.drover:stack"]),
            (|s| drop(s.tags.insert("aws:x".into(), "x".into())), vec!["tags.aws:x"]),
            (|s| drop(s.tags.insert("long".into(), "v".repeat(257))), vec!["tags.long"]),
            (|s| s.region = Some("Europe".into()), vec!["region"]),
            (|s| s.region = Some("eu-west".into()), vec!["region"]),
            (|s| s.endpoint_url = Some("127.0.0.1:5000".into()), vec!["endpoint_url"]),
            (|s| s.endpoint_url = Some("http://a b".into()), vec!["endpoint_url"]),
            (
                |s| {
                    s.ami = String::new();
                    s.instance_type = String::new();
                },
                vec!["ami", "instance_type"],
            ),
        ];
        for (change, fields) in cases {
            let mut settings = good();
            change(&mut settings);
            let problems = settings.validate().unwrap_err();
            let got: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
            assert_eq!(got, fields, "{settings:?}");
        }
    }

    #[test]
    fn tags_parse_as_key_value() {
        assert_eq!(parse_tag("team=web"), Ok(("team".into(), "web".into())));
        assert_eq!(parse_tag("empty="), Ok(("empty".into(), String::new())));
        assert_eq!(parse_tag("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_tag("team").unwrap_err().contains("KEY=VALUE"));
        assert!(parse_tag("=web").is_err());
    }

    #[test]
    fn settings_round_trip_as_json() {
        let json = serde_json::to_string(&good()).unwrap();
        assert_eq!(serde_json::from_str::<Ec2Settings>(&json).unwrap(), good());
        let err = serde_json::from_str::<Ec2Settings>(r#"{"ami":"ami-12345678","instance_type":"t3.micro","x":1}"#);
        assert!(err.is_err());
    }
}
