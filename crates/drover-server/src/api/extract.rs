//! Parsing at the edge: request bodies and query strings become typed values or a [`Failure`]
//! naming the field; join tokens and agent credentials become [`Join`] or [`Agent`] (people's
//! tokens: `auth.rs`).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use drover_proto::{ApiError, ErrorCode};
use serde::de::DeserializeOwned;

use super::failure::Failure;
use drover_proto::token::{TokenKind, is_secret_shaped};

use crate::secrets::hash;
use crate::state::AppState;
use crate::store::JoinTokenRow;

/// A JSON body. Errors name the JSON path of the bad field.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Failure> {
        let bytes = read_limited(req.into_body(), state.config.body_limit).await?;
        parse_object(&bytes).map(Body)
    }
}

/// Parses a request body, which is a JSON object: serde would also read a struct from an array of
/// its fields in order (`[]` made a token with every default).
fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    if bytes.trim_ascii_start().starts_with(b"[") {
        return Err(Failure::invalid("body", "the body must be a JSON object, not an array"));
    }
    parse_json(bytes)
}

/// How much of an oversized body is read (and dropped) before answering 413, so that the client,
/// still sending, reads the answer instead of a reset connection.
const DRAIN_FACTOR: usize = 16;

/// Reads a body of at most `limit` bytes.
pub(crate) async fn read_limited(body: axum::body::Body, limit: usize) -> Result<Vec<u8>, Failure> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut out = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Failure::invalid("body", format!("failed to read the request body: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len();
        if seen <= limit {
            out.extend_from_slice(&data);
        } else if seen > limit * DRAIN_FACTOR {
            break;
        }
    }
    if seen > limit {
        return Err(Failure(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the request body is larger than {limit} bytes; send less"),
        )));
    }
    Ok(out)
}

/// Parses JSON, naming the path of the first bad field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    let bytes = if bytes.is_empty() { b"null".as_slice() } else { bytes };
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let malformed = inner.is_syntax() || inner.is_eof();
        let field = if malformed || path == "." || path == "?" || path.is_empty() { "body".to_owned() } else { path };
        let hint = if malformed { "; send a valid JSON document" } else { "" };
        Failure::invalid(field, format!("{inner}{hint}"))
    })?;
    // What follows the document (serde_json::from_slice checks this; a Deserializer does not).
    de.end().map_err(|e| Failure::invalid("body", format!("{e}; send one JSON document")))?;
    Ok(value)
}

/// A numeric id in the path (`/deployments/{id}`, `/commands/{id}`).
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        axum::extract::Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| Id(id))
            .map_err(|_| Failure::invalid("id", "the id in the path must be a whole number"))
    }
}

/// Path parameters (`/stacks/{stack}`, ...). A parameter that is not UTF-8 once percent-decoded is
/// a 422 in the API's error shape (axum's own answer is a plain-text 400).
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(path_refused)
    }
}

/// The refusal of a path whose parameters cannot be read.
pub(crate) fn path_refused(rejection: impl axum::response::IntoResponse + std::fmt::Display) -> Failure {
    Failure::invalid("path", format!("{rejection}; percent-encode names as UTF-8"))
}

/// A query string.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Failure> {
        let raw = parts.uri.query().unwrap_or_default();
        serde_urlencoded_like(raw).map(Query)
    }
}

fn serde_urlencoded_like<T: DeserializeOwned>(raw: &str) -> Result<T, Failure> {
    let mut map = serde_json::Map::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = match (v.parse::<u64>(), v.parse::<i64>()) {
            (Ok(n), _) => serde_json::Value::from(n),
            (_, Ok(n)) => serde_json::Value::from(n),
            _ => serde_json::Value::from(v),
        };
        map.insert(k.to_owned(), value);
    }
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| Failure::invalid("query", format!("bad query string: {e}")))
}

/// The bearer token of a request, or a 401 saying how to send one.
pub(super) fn bearer(parts: &Parts) -> Result<&str, Failure> {
    let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or_else(|| {
        Failure::unauthorized(
            "no token: send `Authorization: Bearer <token>` (the CLI reads DROVER_TOKEN or `drover login`)",
        )
    })?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| Failure::unauthorized("the Authorization header is not `Bearer <token>`"))
}

/// The secret of an admin or join token of the given kind. The URL and fingerprint in a token
/// may change (a new listen address), so only the secret is checked.
fn secret_of(token: &str, kind: TokenKind) -> Option<&str> {
    let mut parts = token.splitn(5, ':');
    let (Some("drv1"), Some(k), Some(_fingerprint), Some(secret)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let want = match kind {
        TokenKind::Admin => "admin",
        TokenKind::Join => "join",
        TokenKind::User => "user",
    };
    (k == want && is_secret_shaped(secret)).then_some(secret)
}

/// A join token the server made: enrollment only, within the token's scope (checked by the
/// enrollment, with the request in hand).
pub struct Join(pub JoinTokenRow);

impl FromRequestParts<AppState> for Join {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let token = bearer(parts)?;
        let row = match secret_of(token, TokenKind::Join) {
            Some(secret) => state.store.join_token_by_hash(&hash(secret)).await?,
            None => None,
        };
        row.map(Join).ok_or_else(|| {
            Failure::unauthorized(
                "the join token is not valid for this server; create one with `drover token create --join --stack STACK`",
            )
        })
    }
}

/// An enrolled agent: it may act only on its own instance.
pub struct Agent {
    /// The agent's instance.
    pub instance_id: i64,
}

impl FromRequestParts<AppState> for Agent {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let token = bearer(parts)?;
        let refused = || {
            Failure::unauthorized(
                "the agent credential is not valid; re-enroll the agent with a join token (`drover token create --join`)",
            )
        };
        let mut fields = token.splitn(4, ':');
        let (Some("drv1"), Some("agent"), Some(id), Some(_secret)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(refused());
        };
        let instance_id: i64 = id.parse().map_err(|_| refused())?;
        let instance = state.store.instance_by_id(instance_id).await?.ok_or_else(refused)?;
        match instance.credential_hash {
            Some(h) if h == hash(token) => Ok(Agent { instance_id }),
            _ => Err(refused()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Since {
        since: Option<i64>,
        name: Option<String>,
    }

    /// Schemathesis found `GET /audit?since=-1` refused with "expected i64": negative numbers
    /// stayed strings.
    #[test]
    fn negative_numbers_in_a_query_reach_signed_fields() {
        let q: Since = serde_urlencoded_like("since=-9223372036854775808&name=web").unwrap();
        assert_eq!(q, Since { since: Some(i64::MIN), name: Some("web".into()) });
        assert!(serde_urlencoded_like::<Since>("since=18446744073709551615").is_err(), "past i64 is refused");
    }

    /// Schemathesis found `POST /tokens` with the body `[]` accepted (201): serde reads a struct
    /// from an array of its fields, and every field of `CreateToken` has a default.
    #[test]
    fn a_body_is_an_object_never_an_array() {
        use drover_proto::people::CreateToken;
        let refused = parse_object::<CreateToken>(b" []").unwrap_err();
        assert_eq!(refused.0.field.as_deref(), Some("body"));
        assert!(parse_object::<CreateToken>(b"[\"alice\"]").is_err());
        assert!(parse_object::<CreateToken>(b"{}").is_ok());
    }

    /// Schemathesis found `PATCH .../layers/web` with the body `{}` and random bytes after it
    /// accepted (200).
    #[test]
    fn nothing_may_follow_the_json_document() {
        use drover_proto::api::UpdateLayer;
        let refused = parse_json::<UpdateLayer>(b"{}\xff\xfe").unwrap_err();
        assert_eq!(refused.0.field.as_deref(), Some("body"));
        assert!(parse_json::<UpdateLayer>(b"{} {}").is_err());
        assert!(parse_json::<UpdateLayer>(b" {} \n").is_ok());
    }

    /// A name in the path that is not UTF-8 (`/stacks/%FF`) was answered with axum's plain-text
    /// 400 (and with a 500 for a personal token, through `Can`), outside the API's error shape.
    #[tokio::test]
    async fn a_path_that_is_not_utf8_is_refused_in_the_error_shape() {
        use http_body_util::BodyExt;
        use tower::Service;
        let mut app = axum::Router::new()
            .route("/stacks/{stack}", axum::routing::get(|Path(stack): Path<String>| async move { stack }));
        let request = axum::http::Request::get("/stacks/%FF").body(axum::body::Body::empty()).unwrap();
        let response = app.call(request).await.unwrap();
        assert_eq!(response.status(), 422);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let error: drover_proto::ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(error.error.field.as_deref(), Some("path"));
    }
}
