//! The one error shape of the API: `{"error": {"code", "message", "field"?}}`.

use serde::{Deserialize, Serialize};

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

/// What went wrong, where, and (in the message) what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiError {
    /// A stable, machine-readable code.
    pub code: ErrorCode,
    /// A sentence for a person: what was wrong and what to do.
    pub message: String,
    /// The request field (a JSON path such as `layers[1]`) the error is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every problem found, when there are several (e.g. each invalid Custom JSON path).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
}

/// One of several problems, by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field or JSON path.
    pub field: String,
    /// What was wrong there.
    pub message: String,
}

/// Stable error codes; each maps to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 401: no token, or a token the server does not know.
    Unauthorized,
    /// 403: a valid token that may not do this.
    Forbidden,
    /// 404: the named thing does not exist.
    NotFound,
    /// 400/422: the request is malformed or fails validation.
    Invalid,
    /// 409: the request conflicts with the current state.
    Conflict,
    /// 405: the endpoint exists but does not take that HTTP method (`Allow` lists those it takes).
    MethodNotAllowed,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 429: too many requests with one token; the message and `Retry-After` say when to retry.
    TooManyRequests,
    /// 500: a fault in the server.
    Internal,
}

impl ErrorCode {
    /// The HTTP status code for this error.
    pub fn http_status(self) -> u16 {
        match self {
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Invalid => 422,
            Self::Conflict => 409,
            Self::MethodNotAllowed => 405,
            Self::PayloadTooLarge => 413,
            Self::TooManyRequests => 429,
            Self::Internal => 500,
        }
    }
}

impl ApiError {
    /// An error about the request as a whole.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None, details: Vec::new() }
    }

    /// An error about one field of the request.
    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: Some(field.into()), details: Vec::new() }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ApiError {}
