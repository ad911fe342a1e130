//! The EC2 calls, through the official AWS SDK for Rust, with a layer's region and endpoint.

use aws_config::BehaviorVersion;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{Filter, InstanceType, ResourceType, Tag, TagSpecification};
use base64::Engine;
use drover_core::ec2::{Ec2Settings, Machine, MachineState, TAG_HOSTNAME, TAG_STACK};

use crate::provider::ProviderError;

/// An EC2 client for one layer's settings.
pub struct Ec2Api {
    client: Client,
    settings: Ec2Settings,
}

fn failed<E, R>(call: &'static str) -> impl FnOnce(SdkError<E, R>) -> ProviderError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    move |e| ProviderError::Ec2 { call, message: DisplayErrorContext(&e).to_string() }
}

/// Whether EC2 answered that the instance id names no machine.
fn is_not_found<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|code| code == "InvalidInstanceID.NotFound" || code == "InvalidInstanceID.Malformed")
}

fn machine(instance: &aws_sdk_ec2::types::Instance) -> Option<Machine> {
    Some(Machine {
        id: instance.instance_id()?.to_owned(),
        state: instance.state().and_then(|s| s.name()).and_then(|n| MachineState::parse(n.as_str())),
        launched_ms: instance.launch_time().map(|t| t.secs() * 1000).unwrap_or_default(),
    })
}

fn machines(out: &aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput) -> Vec<Machine> {
    out.reservations().iter().flat_map(|r| r.instances()).filter_map(machine).collect()
}

impl Ec2Api {
    /// A client for the settings' region and endpoint, with credentials from the SDK's chain.
    pub async fn new(settings: &Ec2Settings) -> Result<Self, ProviderError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &settings.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        let config = loader.load().await;
        if config.region().is_none() {
            return Err(ProviderError::Settings(
                "no AWS region: give the layer one (`drover layer provider … --region eu-west-1`) or set AWS_REGION for the server"
                    .into(),
            ));
        }
        Ok(Self { client: Client::new(&config), settings: settings.clone() })
    }

    /// The settings the client was made for.
    pub fn settings(&self) -> &Ec2Settings {
        &self.settings
    }

    /// The machine of this id; none when EC2 knows no such machine.
    pub async fn describe(&self, id: &str) -> Result<Option<Machine>, ProviderError> {
        match self.client.describe_instances().instance_ids(id).send().await {
            Ok(out) => Ok(machines(&out).into_iter().find(|m| m.id == id)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(failed("DescribeInstances")(e)),
        }
    }

    /// The machines tagged with this stack and hostname.
    pub async fn describe_tagged(&self, stack: &str, hostname: &str) -> Result<Vec<Machine>, ProviderError> {
        let filter = |key: &str, value: &str| Filter::builder().name(format!("tag:{key}")).values(value).build();
        let out = self
            .client
            .describe_instances()
            .filters(filter(TAG_STACK, stack))
            .filters(filter(TAG_HOSTNAME, hostname))
            .send()
            .await
            .map_err(failed("DescribeInstances"))?;
        Ok(machines(&out))
    }

    /// Launches one machine with the settings, these tags and this user data; its id.
    pub async fn run(&self, tags: &[(String, String)], user_data: &str) -> Result<String, ProviderError> {
        let s = &self.settings;
        let tags: Vec<Tag> = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        let out = self
            .client
            .run_instances()
            .image_id(&s.ami)
            .instance_type(InstanceType::from(s.instance_type.as_str()))
            .min_count(1)
            .max_count(1)
            .set_subnet_id(s.subnet.clone())
            .set_security_group_ids((!s.security_groups.is_empty()).then(|| s.security_groups.clone()))
            .set_key_name(s.key_name.clone())
            .user_data(base64::engine::general_purpose::STANDARD.encode(user_data))
            .tag_specifications(
                TagSpecification::builder().resource_type(ResourceType::Instance).set_tags(Some(tags)).build(),
            )
            .send()
            .await
            .map_err(failed("RunInstances"))?;
        out.instances()
            .first()
            .and_then(|i| i.instance_id())
            .map(str::to_owned)
            .ok_or(ProviderError::Ec2 { call: "RunInstances", message: "the answer names no instance".into() })
    }

    /// Starts a stopped machine.
    pub async fn start(&self, id: &str) -> Result<(), ProviderError> {
        self.client.start_instances().instance_ids(id).send().await.map(|_| ()).map_err(failed("StartInstances"))
    }

    /// Stops a machine.
    pub async fn stop(&self, id: &str) -> Result<(), ProviderError> {
        self.client.stop_instances().instance_ids(id).send().await.map(|_| ()).map_err(failed("StopInstances"))
    }

    /// Terminates a machine.
    pub async fn terminate(&self, id: &str) -> Result<(), ProviderError> {
        self.client
            .terminate_instances()
            .instance_ids(id)
            .send()
            .await
            .map(|_| ())
            .map_err(failed("TerminateInstances"))
    }
}
