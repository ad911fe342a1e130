//! What went wrong starting, stopping or removing a host.

/// A provider's failure.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// A local agent could not be started.
    #[error("failed to start the local agent: {0}")]
    Local(#[from] std::io::Error),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    /// The instance's join token could not be made.
    #[error("failed to make the join token: {0}")]
    JoinToken(#[from] crate::store::StoreError),
    /// The layer's provider settings are missing or wrong.
    #[error("{0}")]
    Settings(String),
    /// EC2 refused or failed a call.
    #[error("EC2 {call} failed: {message}")]
    Ec2 {
        /// The API call (RunInstances, StopInstances, …).
        call: &'static str,
        /// What EC2 (or the SDK) said.
        message: String,
    },
    /// This server was built without the `ec2` feature.
    #[cfg_attr(feature = "ec2", allow(dead_code))]
    #[error(
        "this drover server was built without the `ec2` feature; rebuild it with `--features ec2` to manage EC2 machines"
    )]
    NotBuilt,
}
