//! Without the `ec2` feature: every EC2 call fails, saying how to get it.

use drover_core::ec2::{Ec2Settings, Machine};

use crate::provider::ProviderError;

/// Stands in for the EC2 client.
pub struct Ec2Api {
    settings: Ec2Settings,
}

impl Ec2Api {
    pub async fn new(_settings: &Ec2Settings) -> Result<Self, ProviderError> {
        Err(ProviderError::NotBuilt)
    }

    pub fn settings(&self) -> &Ec2Settings {
        &self.settings
    }

    pub async fn describe(&self, _id: &str) -> Result<Option<Machine>, ProviderError> {
        Err(ProviderError::NotBuilt)
    }

    pub async fn describe_tagged(&self, _stack: &str, _hostname: &str) -> Result<Vec<Machine>, ProviderError> {
        Err(ProviderError::NotBuilt)
    }

    pub async fn run(&self, _tags: &[(String, String)], _user_data: &str) -> Result<String, ProviderError> {
        Err(ProviderError::NotBuilt)
    }

    pub async fn start(&self, _id: &str) -> Result<(), ProviderError> {
        Err(ProviderError::NotBuilt)
    }

    pub async fn stop(&self, _id: &str) -> Result<(), ProviderError> {
        Err(ProviderError::NotBuilt)
    }

    pub async fn terminate(&self, _id: &str) -> Result<(), ProviderError> {
        Err(ProviderError::NotBuilt)
    }
}
