//! Wire types of the Drover API (`/api/v1`) and of the agent protocol, the error shape every
//! endpoint answers with, and the token format.
//!
//! These types carry raw strings where users type names, so that the server can validate them
//! and name the offending field; `drover-core` holds the validated forms.

pub mod agent;
pub mod api;
pub mod error;
pub mod events;
pub mod hooks;
pub mod layer_provider;
pub mod layer_scaling;
pub mod people;
pub mod relay;
pub mod scaling;
mod schema;
pub mod servers;
pub mod token;
pub mod upgrade;
pub mod zodb;

pub use error::{ApiError, ErrorBody, ErrorCode, FieldError};

/// The path prefix of every endpoint.
pub const API_PREFIX: &str = "/api/v1";
