//! The OpenAPI 3.1 document of the API, generated from the handlers' `#[utoipa::path]`
//! annotations and the wire types of `drover-proto`. It is served at `GET /api/v1/openapi.json`
//! without a token (it holds no secrets) and checked in as `docs/openapi.json`; the test below
//! fails when the two differ, and `DROVER_BLESS=1 cargo test -p drover-server --lib openapi`
//! rewrites the file.
//!
//! The error responses every operation shares are added here by rule (see [`Contract`]); the
//! annotations name the successes and the refusals particular to a handler (403, 409, ...).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use drover_proto::{API_PREFIX, ErrorBody};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi};

use super::{
    agent_upgrades, apps, audit, config, deployments, events, frontend_backend, instances, join_tokens, layer_provider,
    layer_scaling, passwords, people, resources, scaling, servers, user_tokens, webhooks, zodb,
};

/// What the document says about itself; `info.description` of the document.
const DESCRIPTION: &str = "\
The API of a Drover server. Every request carries `Authorization: Bearer <token>` (the admin \
token in the data dir's `admin.token`, or a personal token from `drover token create`), except \
this document and deploy webhooks, which are signed instead. The server speaks HTTPS with its own \
CA; the token names the CA's SHA-256 fingerprint.\n\n\
Every failure answers `{\"error\": {\"code\", \"message\", \"field\"?, \"details\"?}}` with the \
status its code maps to: `invalid` 422, `unauthorized` 401, `forbidden` 403, `not_found` 404 \
(also for a stack the caller is denied), `method_not_allowed` 405 (with `Allow`), `conflict` 409, \
`payload_too_large` 413 (bodies over 1 MiB), `too_many_requests` 429 (with `Retry-After`), `internal` 500.\n\n\
The agent protocol (`/api/v1/agent/...`: enrollment with a join token, then an agent's own \
credential) is left out: it is not for people to call, and only `drover agent` speaks it.";

#[derive(OpenApi)]
#[openapi(
    info(title = "Drover API", description = DESCRIPTION),
    paths(
        serve,
        resources::list_stacks,
        resources::create_stack,
        resources::show_stack,
        resources::delete_stack,
        resources::stack_status,
        resources::list_layers,
        resources::create_layer,
        resources::show_layer,
        config::update_layer,
        resources::delete_layer,
        config::set_layer_json,
        config::set_stack_json,
        config::check_json,
        config::effective,
        config::history,
        config::revert,
        config::configure,
        config::frontends,
        frontend_backend::show,
        instances::list,
        instances::create,
        instances::show,
        instances::delete,
        instances::start,
        instances::stop,
        scaling::show,
        scaling::set,
        layer_scaling::show,
        layer_scaling::set,
        layer_provider::show,
        layer_provider::set,
        apps::list,
        apps::create,
        apps::show,
        apps::update,
        apps::delete,
        apps::releases,
        webhooks::enable,
        webhooks::disable,
        webhooks::deploy,
        deployments::list,
        deployments::create,
        deployments::plan,
        zodb::run,
        agent_upgrades::create,
        deployments::show,
        deployments::cancel,
        deployments::show_command,
        deployments::log,
        events::list,
        join_tokens::list,
        join_tokens::create,
        join_tokens::list_all,
        join_tokens::revoke,
        people::whoami,
        people::list,
        people::create,
        people::delete,
        people::grant,
        passwords::set,
        passwords::remove,
        passwords::sign_in,
        user_tokens::list,
        user_tokens::create,
        user_tokens::revoke,
        audit::list,
        servers::list,
    ),
    components(schemas(ErrorBody)),
    security(("bearer" = [])),
    modifiers(&Contract),
    tags(
        (name = "stacks", description = "Stacks: the top of everything"),
        (name = "layers", description = "Layers of a stack"),
        (name = "config", description = "Custom JSON, its history, the configuration in force, Configure"),
        (name = "instances", description = "Instances and their lifecycle"),
        (name = "apps", description = "Apps and their releases"),
        (name = "webhooks", description = "Deploy webhooks (the delivery is signed, not authenticated)"),
        (name = "deployments", description = "Deployments, their commands and logs"),
        (name = "join-tokens", description = "Tokens agents enroll with"),
        (name = "people", description = "Users, grants, personal tokens and the audit trail"),
        (name = "server", description = "The servers of the control plane"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as the server serves it and `docs/openapi.json` holds it.
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// `GET /api/v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "meta",
    summary = "This document (OpenAPI 3.1)",
    security(()),
    responses((status = 200, description = "The OpenAPI document", body = serde_json::Value))
)]
pub async fn serve() -> impl IntoResponse {
    static TEXT: OnceLock<String> = OnceLock::new();
    ([(header::CONTENT_TYPE, "application/json")], TEXT.get_or_init(document_json).as_str())
}

/// Adds what every operation shares: the path prefix, the bearer scheme, and the error
/// responses that follow from an operation's shape (401 when it takes a token, 404 when its path
/// names something, 413 and 422 when it takes a body, 422 when it takes a query or a numeric id,
/// 429 always), each in the one error shape.
struct Contract;

/// The shared error responses: name in `components.responses`, status, description.
const SHARED: [(&str, u16, &str); 5] = [
    ("Unauthorized", 401, "No token, or one the server does not know (`unauthorized`)"),
    ("NotFound", 404, "What the path names does not exist, or the caller may not see it (`not_found`)"),
    ("PayloadTooLarge", 413, "The body is larger than the limit (`payload_too_large`)"),
    ("Invalid", 422, "The request is malformed or fails validation; `field` names where (`invalid`)"),
    ("TooManyRequests", 429, "Too many requests with this token or from this address (`too_many_requests`)"),
];

impl Modify for Contract {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(
            "bearer".into(),
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("drv1:<admin|user>:<ca-sha256>:<secret>:<url>")
                    .build(),
            ),
        );
        for (name, status, description) in SHARED {
            let mut response = ResponseBuilder::new().description(description).content(
                "application/json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
            );
            if status == 429 {
                let seconds = utoipa::openapi::schema::ObjectBuilder::new().schema_type(Type::Integer).build();
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new().schema(seconds).description(Some("Seconds to wait")).build(),
                );
            }
            components.responses.insert(name.into(), RefOr::T(response.build()));
        }
        let paths = std::mem::take(&mut doc.paths.paths);
        for (path, mut item) in paths {
            let named = path.contains('{');
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
            {
                add_shared(op, named);
            }
            doc.paths.paths.insert(format!("{API_PREFIX}{path}"), item);
        }
    }
}

fn add_shared(op: &mut Operation, named: bool) {
    let anonymous = op.security.as_ref().is_some_and(|s| s.contains(&SecurityRequirement::default()));
    let params = op.parameters.as_deref().unwrap_or_default();
    let query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let numeric_id = params.iter().any(|p| {
        p.parameter_in == ParameterIn::Path
            && matches!(&p.schema, Some(RefOr::T(utoipa::openapi::Schema::Object(o)))
                if o.schema_type == utoipa::openapi::schema::SchemaType::Type(Type::Integer))
    });
    let body = op.request_body.is_some();
    let wanted = [
        ("Unauthorized", !anonymous),
        ("NotFound", named),
        ("PayloadTooLarge", body),
        ("Invalid", body || query || numeric_id),
        ("TooManyRequests", true),
    ];
    for ((name, want), (_, status, _)) in wanted.into_iter().zip(SHARED) {
        if want {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    #[test]
    fn checked_in_openapi_document_is_current() {
        let generated = document_json();
        if std::env::var_os("DROVER_BLESS").is_some_and(|v| v == "1") {
            std::fs::write(CHECKED_IN, &generated).expect("failed to write docs/openapi.json");
            return;
        }
        let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
        assert!(
            checked_in == generated,
            "docs/openapi.json differs from the document the code generates; regenerate it with \
             `DROVER_BLESS=1 cargo test -p drover-server --lib openapi` and commit it"
        );
    }

    /// Every route of the router (`api/mod.rs`) but the agent protocol's is in the document, with
    /// each of its methods: a handler added without its `#[utoipa::path]` fails here.
    #[test]
    fn every_route_but_the_agent_protocol_is_documented() {
        let doc = serde_json::to_value(document()).unwrap();
        let source: String = include_str!("mod.rs").split_whitespace().collect();
        let mut routes = 0;
        for call in source.split(".route(\"").skip(1) {
            let (path, rest) = call.split_once('"').unwrap();
            if path.starts_with("/agent/") {
                continue;
            }
            let rest = rest.split(".route(").next().unwrap_or(rest);
            let rest = rest.split(';').next().unwrap_or(rest);
            for method in ["get", "put", "post", "delete", "patch"] {
                let called =
                    [format!("({method}("), format!(".{method}("), format!(",{method}("), format!("::{method}(")];
                if called.iter().any(|c| rest.contains(c.as_str())) {
                    let documented = &doc["paths"][format!("{API_PREFIX}{path}")][method];
                    assert!(
                        documented.is_object(),
                        "{} {path} has no #[utoipa::path] in the document",
                        method.to_uppercase()
                    );
                    routes += 1;
                }
            }
        }
        assert!(routes >= 50, "{routes} routes read from mod.rs");
    }

    #[test]
    fn every_operation_has_an_id_and_answers_errors_in_the_one_shape() {
        let doc = document();
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            assert!(path.starts_with(API_PREFIX), "{path}");
            for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch].into_iter().flatten() {
                let id = op.operation_id.clone().unwrap_or_default();
                assert!(ids.insert(id.clone()), "{path}: operation id {id:?} twice");
                assert!(op.responses.responses.contains_key("429"), "{path}: no 429");
                for (status, response) in &op.responses.responses {
                    if status.starts_with('4') {
                        let text = serde_json::to_string(response).unwrap_or_default();
                        assert!(
                            text.contains("ErrorBody") || text.contains("#/components/responses/"),
                            "{path} {status}"
                        );
                    }
                }
            }
        }
        assert!(ids.len() >= 50, "{} operations", ids.len());
    }
}
