//! A layer's host provider: `GET|PUT /stacks/{stack}/layers/{layer}/provider`. New instances of
//! the layer get it (unless `drover instance create --provider` says otherwise).

use std::collections::BTreeMap;

use drover_core::ec2::Ec2Settings;
use serde::{Deserialize, Serialize};

/// The layer's provider and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerProvider {
    /// `local`, `registered` or `ec2`.
    pub provider: String,
    /// For `ec2`: the machines' settings (required then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec2: Option<Ec2Config>,
}

/// What `GET` answers: the layer and its provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LayerProviderView {
    /// The layer.
    pub layer: String,
    /// `local` (the default), `registered` or `ec2`.
    pub provider: String,
    /// For `ec2`: the machines' settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec2: Option<Ec2Config>,
}

/// An `ec2` layer's machine settings. Credentials are never among them: the server takes them
/// from the AWS SDK's usual chain (environment, shared credentials and config files).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ec2Config {
    /// The image (`ami-…`).
    pub ami: String,
    /// The instance type (`t3.micro`).
    pub instance_type: String,
    /// The subnet (`subnet-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// Security group ids (`sg-…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    /// The key pair's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// Tags for the machines, besides Drover's `drover:stack`, `drover:layer`, `drover:hostname`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The region (default: the SDK's, from AWS_REGION or the config file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Another EC2 endpoint (an EC2-compatible service; moto in Drover's tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
}

impl From<Ec2Config> for Ec2Settings {
    fn from(c: Ec2Config) -> Self {
        Ec2Settings {
            ami: c.ami,
            instance_type: c.instance_type,
            subnet: c.subnet,
            security_groups: c.security_groups,
            key_name: c.key_name,
            tags: c.tags,
            region: c.region,
            endpoint_url: c.endpoint_url,
        }
    }
}

impl From<Ec2Settings> for Ec2Config {
    fn from(s: Ec2Settings) -> Self {
        Ec2Config {
            ami: s.ami,
            instance_type: s.instance_type,
            subnet: s.subnet,
            security_groups: s.security_groups,
            key_name: s.key_name,
            tags: s.tags,
            region: s.region,
            endpoint_url: s.endpoint_url,
        }
    }
}
