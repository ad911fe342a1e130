//! The HTTP API under `/api/v1`. Handlers parse at the edge ([`extract`], [`parse`]), call the
//! store or the orchestrator, and answer with wire types or a [`Failure`].

mod agent;
mod agent_upgrades;
mod apps;
pub mod audit;
mod auth;
mod config;
pub mod deployments;
mod events;
mod extract;
mod failure;
mod frontend_backend;
mod frontend_relay;
mod instances;
mod join_tokens;
mod layer_provider;
mod layer_scaling;
pub mod openapi;
pub mod parse;
mod parse_agent;
mod parse_app;
mod passwords;
mod people;
mod resources;
mod restart_slots;
mod scaling;
mod servers;
mod user_tokens;
mod views;
mod webhooks;
pub mod zodb;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use drover_proto::{API_PREFIX, ApiError, ErrorCode};

pub use failure::Failure;

use crate::state::AppState;

/// Every route.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi::serve))
        .route("/stacks", get(resources::list_stacks).post(resources::create_stack))
        .route("/stacks/{stack}", get(resources::show_stack).delete(resources::delete_stack))
        .route("/stacks/{stack}/status", get(resources::stack_status))
        .route("/stacks/{stack}/layers", get(resources::list_layers).post(resources::create_layer))
        .route(
            "/stacks/{stack}/layers/{layer}",
            get(resources::show_layer).patch(config::update_layer).delete(resources::delete_layer),
        )
        .route("/stacks/{stack}/layers/{layer}/custom_json", put(config::set_layer_json))
        .route("/stacks/{stack}/layers/{layer}/scaling", get(layer_scaling::show).put(layer_scaling::set))
        .route("/stacks/{stack}/layers/{layer}/provider", get(layer_provider::show).put(layer_provider::set))
        .route("/stacks/{stack}/custom_json", put(config::set_stack_json))
        .route("/stacks/{stack}/custom_json/check", post(config::check_json))
        .route("/stacks/{stack}/config", get(config::effective))
        .route("/stacks/{stack}/config/history", get(config::history))
        .route("/stacks/{stack}/config/revert", post(config::revert))
        .route("/stacks/{stack}/configure", post(config::configure))
        .route("/stacks/{stack}/frontends", get(config::frontends))
        .route("/stacks/{stack}/frontends/backend", get(frontend_backend::show))
        .route("/stacks/{stack}/instances", get(instances::list).post(instances::create))
        .route("/stacks/{stack}/instances/{host}", get(instances::show).delete(instances::delete))
        .route("/stacks/{stack}/instances/{host}/start", post(instances::start))
        .route("/stacks/{stack}/instances/{host}/stop", post(instances::stop))
        .route("/stacks/{stack}/instances/{host}/scaling", get(scaling::show).put(scaling::set))
        .route("/stacks/{stack}/apps", get(apps::list).post(apps::create))
        .route("/stacks/{stack}/apps/{app}", get(apps::show).patch(apps::update).delete(apps::delete))
        .route("/stacks/{stack}/apps/{app}/releases", get(apps::releases))
        .route("/stacks/{stack}/apps/{app}/webhook", post(webhooks::enable).delete(webhooks::disable))
        .route("/hooks/apps/{id}/deploy", post(webhooks::deploy))
        .route("/stacks/{stack}/deployments", get(deployments::list).post(deployments::create))
        .route("/stacks/{stack}/deployments/plan", post(deployments::plan))
        .route("/stacks/{stack}/zodb/{job}", post(zodb::run))
        .route("/stacks/{stack}/agent-upgrades", post(agent_upgrades::create))
        .route("/stacks/{stack}/events", get(events::list))
        .route("/stacks/{stack}/join-tokens", get(join_tokens::list).post(join_tokens::create))
        .route("/join-tokens", get(join_tokens::list_all))
        .route("/join-tokens/{id}", delete(join_tokens::revoke))
        .route("/deployments/{id}", get(deployments::show))
        .route("/deployments/{id}/cancel", post(deployments::cancel))
        .route("/commands/{id}", get(deployments::show_command))
        .route("/commands/{id}/log", get(deployments::log))
        .route("/whoami", get(people::whoami))
        .route("/users", get(people::list).post(people::create))
        .route("/users/{name}", axum::routing::delete(people::delete))
        .route("/users/{name}/grants/{stack}", put(people::grant))
        .route("/users/{name}/password", put(passwords::set).delete(passwords::remove))
        .route("/sessions", post(passwords::sign_in))
        .route("/tokens", get(user_tokens::list).post(user_tokens::create))
        .route("/tokens/{id}", axum::routing::delete(user_tokens::revoke))
        .route("/audit", get(audit::list))
        .route("/servers", get(servers::list))
        .route("/agent/enroll", post(agent::enroll))
        .route("/agent/hello", post(agent::hello))
        .route("/agent/heartbeat", post(agent::heartbeat))
        .route("/agent/binary", get(agent_upgrades::binary))
        .route("/agent/commands/next", get(agent::next))
        .route("/agent/commands/unfinished", get(agent::unfinished))
        .route("/agent/commands/{id}/secrets", get(agent::secrets))
        .route("/agent/commands/{id}/ack", post(agent::ack))
        .route("/agent/commands/{id}/start", post(agent::start))
        .route("/agent/commands/{id}/output", post(agent::output))
        .route("/agent/commands/{id}/result", post(agent::result))
        .route("/agent/commands/{id}/restart-slot", post(restart_slots::take).delete(restart_slots::give_back))
        .route("/agent/commands/{id}/frontends", post(frontend_relay::call))
        .route("/agent/frontend-requests/{id}", post(frontend_relay::answer));
    Router::new()
        .nest(API_PREFIX, api)
        .fallback(|| async {
            Failure(ApiError::new(ErrorCode::NotFound, "no such endpoint; the API lives under /api/v1"))
        })
        .method_not_allowed_fallback(|| async {
            Failure(ApiError::new(ErrorCode::MethodNotAllowed, "this endpoint does not accept that HTTP method"))
        })
        // Body<T> enforces the limit itself (and answers 413 in the API's error shape).
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit::record))
        .with_state(state)
}
