//! The web console, served by `drover server` at `/` beside the API: server-rendered pages
//! (minijinja templates and a stylesheet and script embedded in the binary, nothing fetched at
//! run time) that act through the API in process with the signed-in person's token
//! ([`internal`]), so the console can do exactly what that token may do through the CLI.
//!
//! Sign-in takes a token and makes a session ([`session`]); every form carries the session's
//! CSRF secret. Pages: the stacks, a stack (apps with a Deploy button for `deploy`-level users,
//! layers, instances with their heartbeat metrics, recent deployments), the deploy form with a
//! confirmation of what will happen, and a deployment with its logs followed live.

mod config_pages;
mod internal;
mod live;
mod pages;
mod release_pages;
mod render;
mod session;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use session::Sessions;

/// What the console's handlers share.
#[derive(Clone)]
pub struct Console {
    /// The API, called in process.
    api: Router,
    sessions: Arc<Sessions>,
    templates: Arc<minijinja::Environment<'static>>,
}

/// The console's routes; everything else goes to `api` (which answers its own 404s).
pub fn router(api: Router) -> Router {
    let console = Console { api: api.clone(), sessions: Arc::default(), templates: Arc::new(render::templates()) };
    Router::new()
        .route("/", get(pages::stacks))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/stacks/{stack}", get(pages::stack))
        .route("/stacks/{stack}/apps/{app}/deploy", get(pages::deploy_form).post(pages::deploy))
        .route("/stacks/{stack}/custom-json", get(config_pages::show).post(config_pages::change))
        .route("/console/stacks/{stack}/custom-json/check", post(config_pages::check))
        .route("/stacks/{stack}/apps/{app}/releases", get(release_pages::releases))
        .route("/stacks/{stack}/apps/{app}/actions", post(release_pages::act))
        .route("/stacks/{stack}/events", get(release_pages::events))
        .route("/stacks/{stack}/instances/{host}/config", get(config_pages::instance_config))
        .route("/deployments/{id}", get(pages::deployment))
        .route("/console/commands/{id}/log", get(live::command_log))
        .route("/console/commands/{id}/events", get(live::command_events))
        .route("/assets/console.css", get(render::stylesheet))
        .route("/assets/console.js", get(render::script))
        .with_state(console)
        .fallback_service(api)
}
