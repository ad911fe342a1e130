//! Templates and assets, embedded in the binary, and the headers every page carries: no script
//! or style from anywhere else, no framing, no referrer.

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_FRAME_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("error.html", include_str!("templates/error.html")),
    ("stacks.html", include_str!("templates/stacks.html")),
    ("stack.html", include_str!("templates/stack.html")),
    ("deploy.html", include_str!("templates/deploy.html")),
    ("deployment.html", include_str!("templates/deployment.html")),
    ("custom_json.html", include_str!("templates/custom_json.html")),
    ("releases.html", include_str!("templates/releases.html")),
    ("events.html", include_str!("templates/events.html")),
    ("instance_config.html", include_str!("templates/instance_config.html")),
];

/// The console's templates (HTML-escaped by name), checked at start-up.
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            // Embedded and covered by tests: a broken one is a build mistake.
            panic!("console template {name} does not parse: {e}");
        }
    }
    env
}

/// The headers of every console answer.
fn guarded(mut response: Response, content_type: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page from a template.
pub fn page(env: &Environment<'static>, status: StatusCode, name: &str, context: impl Serialize) -> Response {
    let html = env.get_template(name).and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(&context))));
    match html {
        Ok(html) => guarded((status, html).into_response(), "text/html; charset=utf-8"),
        Err(e) => {
            tracing::error!("console template {name} failed: {e:#}");
            let text = "the page could not be drawn; the server's log says why";
            guarded((StatusCode::INTERNAL_SERVER_ERROR, text).into_response(), "text/plain; charset=utf-8")
        }
    }
}

/// `GET /assets/console.css`.
pub async fn stylesheet() -> Response {
    guarded(include_str!("assets/console.css").into_response(), "text/css; charset=utf-8")
}

/// `GET /assets/console.js`.
pub async fn script() -> Response {
    guarded(include_str!("assets/console.js").into_response(), "text/javascript; charset=utf-8")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        let env = super::templates();
        assert_eq!(env.templates().count(), super::TEMPLATES.len());
    }
}

#[cfg(test)]
mod page_tests {
    use serde_json::json;

    fn draw(name: &str, context: serde_json::Value) -> String {
        let env = super::templates();
        env.get_template(name)
            .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(&context))))
            .unwrap_or_else(|e| panic!("{name}: {e:#}"))
    }

    #[test]
    fn pages_draw_and_escape() {
        let login = draw("login.html", json!({"title": "Sign in", "login_csrf": "abc", "error": "<b>no</b>"}));
        assert!(login.contains("value=\"abc\"") && login.contains("&lt;b&gt;no&lt;&#x2f;b&gt;"), "{login}");
        let error = draw("error.html", json!({"title": "Refused", "message": "m", "field": "f", "back": "/"}));
        assert!(error.contains("<code>f</code>"), "{error}");
        let stacks = draw(
            "stacks.html",
            json!({"title": "Stacks", "who": "admin", "csrf": "c", "stacks": [
                {"name": "prod", "layers": 2, "by_status": {"online": 3, "stopped": 1},
                 "last": {"id": 7, "kind": "deploy", "app": "site", "status": "successful", "created_at": "t"}},
            ]}),
        );
        assert!(stacks.contains("3 online") && stacks.contains("href=\"/deployments/7\""), "{stacks}");
        let deployment = draw(
            "deployment.html",
            json!({"title": "D", "who": "admin", "csrf": "c",
                   "d": {"id": 7, "stack": "prod", "kind": "deploy", "status": "running", "app": "site",
                         "commit": "0123456789abcdef", "created_at": "t", "finished_at": null, "comment": null,
                         "commands": [{"id": 11, "instance": "web1", "status": "running", "exit_code": null,
                                       "started_at": "t", "finished_at": null, "reason": null}]},
                   "logs": {"11": {"data": "<building>\n", "next_offset": 11}}}),
        );
        assert!(deployment.contains("data-offset=\"11\"") && deployment.contains("&lt;building&gt;"), "{deployment}");
    }
}
