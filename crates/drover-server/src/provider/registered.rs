//! Registered hosts run their own agent: Drover neither starts nor stops them. Starting one
//! means its agent begins Setup at its next heartbeat; stopping one runs Shutdown only.

use super::{HostProvider, ProviderError};
use crate::store::InstanceRow;

/// The hosts that joined with a join token.
pub struct RegisteredHosts;

impl HostProvider for RegisteredHosts {
    async fn start(&self, _instance: &InstanceRow) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn stop(&self, _instance: &InstanceRow) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn remove(&self, _instance: &InstanceRow) -> Result<(), ProviderError> {
        Ok(())
    }
}
