//! Exit codes (documented in the README) and the CLI's error type.
//!
//! 0 success · 1 a remote command (or the server) failed · 2 usage or validation error ·
//! 3 cannot reach the server or not authorised.

use drover_client::ClientError;

/// Everything succeeded.
pub const OK: u8 = 0;
/// A remote command failed, or the server failed.
pub const FAILED: u8 = 1;
/// Bad usage or input refused by validation.
pub const USAGE: u8 = 2;
/// The server cannot be reached, or the credentials were refused.
pub const UNREACHABLE: u8 = 3;

/// A failure with its exit code; the message carries the cause chain.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    error: anyhow::Error,
    /// The request field the server refused, when it named one (the CLI names the flag instead).
    pub field: Option<String>,
}

impl Failure {
    /// A failure with an explicit exit code.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self { code, error: anyhow::anyhow!(message.into()), field: None }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }

    /// The message with its causes.
    pub fn message(&self) -> String {
        format!("{:#}", self.error)
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        let code = match &e {
            e if e.is_unreachable_or_unauthorised() => UNREACHABLE,
            ClientError::Api { status: 429, .. } => FAILED,
            ClientError::Api { status, .. } if (400..500).contains(status) => USAGE,
            _ => FAILED,
        };
        let hint = match e.status() {
            Some(401) => {
                "\nhint: set DROVER_TOKEN to the admin token (admin.token in the server's data dir) or a personal token \
                 (`drover token create`), or run `drover login`"
            }
            Some(429) => {
                "\nhint: the server limits requests per token (`drover server --rate-limit-per-second`); wait, then run the command again"
            }
            _ => "",
        };
        let field = match &e {
            ClientError::Api { error, .. } => error.field.clone(),
            _ => None,
        };
        Self { code, error: anyhow::anyhow!("{e}{hint}"), field }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self { code: FAILED, error: e.into(), field: None }
    }
}

/// What commands return.
pub type CliResult<T = u8> = Result<T, Failure>;
