//! The console's pages. Each reads and acts through the API ([`super::internal`]) with the
//! signed-in person's token; a refusal from the API is shown as the API worded it.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use drover_core::Shortname;
use drover_core::deploy::log_steps::LogProgress;
use drover_proto::api::{App, Deployment, DeploymentPlan, FrontendBackend, FrontendView, LogChunk, Stack, StackStatus};
use drover_proto::people::{CreatedToken, WhoAmI};
use serde_json::{Value, json};

use super::Console;
use super::internal::{Api, Refused};
use super::render::page;
use super::session::{
    LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL, Session, cookie, random_secret, same_secret, set_cookie,
};

/// The peer's address, when the connection gave one (the audit trail records it).
pub struct Peer(Option<ConnectInfo<SocketAddr>>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(parts.extensions.get::<ConnectInfo<SocketAddr>>().copied()))
    }
}

/// A signed-in request: the session and the API as that person.
pub(super) struct Signed {
    pub session: Session,
    pub api: Api,
}

/// A page for signed-in people: the session and the API as them; anyone else is sent to sign in.
impl FromRequestParts<Console> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        signed_request(parts, console).ok_or_else(|| see_other("/login"))
    }
}

/// The session and the API of a request's signed-in person, if it has one.
pub(super) fn signed_request(parts: &Parts, console: &Console) -> Option<Signed> {
    let peer = Peer(parts.extensions.get::<ConnectInfo<SocketAddr>>().copied());
    signed(console, &parts.headers, peer)
}

pub(super) fn signed(console: &Console, headers: &HeaderMap, peer: Peer) -> Option<Signed> {
    let session = console.sessions.find(headers)?;
    let api = Api::new(console.api.clone(), session.token.clone(), peer.0);
    Some(Signed { session, api })
}

/// A form's fields, in order, repeated names included.
pub(super) type Form = Vec<(String, String)>;

/// A signed-in form post: the session, the API and the form's fields, once the form carried the
/// session's CSRF secret; otherwise the answer to give (sign in first, or refused).
pub(super) fn posted(
    console: &Console,
    headers: &HeaderMap,
    peer: Peer,
    body: &str,
) -> Result<(Signed, Form), Box<Response>> {
    let Some(signed) = signed(console, headers, peer) else { return Err(Box::new(see_other("/login"))) };
    let form = fields(body);
    if !same_secret(&signed.session.csrf, field(&form, "csrf").unwrap_or_default()) {
        return Err(Box::new(forged(console, &signed.session)));
    }
    Ok((signed, form))
}

/// Whether both names can be a stack's and an app's (anything else is never passed on).
pub(super) fn app_names(stack: &str, app: &str) -> bool {
    Shortname::parse(stack).is_ok() && Shortname::parse(app).is_ok()
}

pub(super) fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// A page about a refusal, in the API's words.
pub(super) fn refused(console: &Console, who: Option<&Session>, refusal: Refused, back: &str) -> Response {
    let title = match refusal.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        s if s.is_client_error() => "Refused",
        _ => "Something went wrong",
    };
    let context = json!({
        "title": title, "who": who.map(|s| &s.name), "csrf": who.map(|s| &s.csrf),
        "message": refusal.error.message, "field": refusal.error.field, "back": back,
    });
    page(&console.templates, refusal.status, "error.html", context)
}

pub(super) fn not_found(console: &Console, who: &Session, what: &str) -> Response {
    let error = drover_proto::ApiError::new(drover_proto::ErrorCode::NotFound, format!("there is no {what}"));
    refused(console, Some(who), Refused { status: StatusCode::NOT_FOUND, error }, "/")
}

/// A form's fields, repeated ones included.
pub(super) fn fields(body: &str) -> Form {
    serde_urlencoded::from_str(body).unwrap_or_default()
}

pub(super) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// The caller's level on a stack, as `whoami` tells it.
pub(super) async fn level_on(api: &Api, stack: &str) -> Result<String, Refused> {
    let me: WhoAmI = api.get("/whoami").await?;
    if me.admin {
        return Ok("manage".to_owned());
    }
    Ok(me.stacks.into_iter().find(|g| g.stack == stack).map_or_else(|| "show".to_owned(), |g| g.level))
}

fn may_deploy(level: &str) -> bool {
    matches!(level, "deploy" | "manage")
}

/// `GET /login`.
pub async fn login_form(State(console): State<Console>, headers: HeaderMap) -> Response {
    if console.sessions.find(&headers).is_some() {
        return see_other("/");
    }
    login_page(&console, StatusCode::OK, None)
}

fn login_page(console: &Console, status: StatusCode, error: Option<String>) -> Response {
    let secret = random_secret();
    let context = json!({ "title": "Sign in", "login_csrf": secret, "error": error });
    let response = page(&console.templates, status, "login.html", context);
    with_cookie(response, &set_cookie(LOGIN_COOKIE, &secret, std::time::Duration::from_secs(3600)))
}

/// `POST /login`: a user name and password, or a token, that the API accepts starts a session.
/// A password makes a personal token that lasts as long as the session, revoked at sign-out.
pub async fn login(State(console): State<Console>, headers: HeaderMap, peer: Peer, body: String) -> Response {
    let form = fields(&body);
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !same_secret(&expected, field(&form, "csrf").unwrap_or_default()) {
        let why = "the sign-in form had expired or came from another site; sign in again".to_owned();
        return login_page(&console, StatusCode::FORBIDDEN, Some(why));
    }
    let (token, token_id) = match (field(&form, "user"), form.iter().find(|(k, _)| k == "password")) {
        (Some(user), Some((_, password))) => {
            let anonymous = Api::new(console.api.clone(), String::new(), peer.0);
            let request = json!({ "user": user, "password": password, "expires_in_secs": SESSION_TTL.as_secs() });
            match anonymous.post::<CreatedToken>("/sessions", &request).await {
                Ok(created) => (created.token, Some(created.info.id)),
                Err(refusal) => return login_page(&console, refusal.status, Some(refusal.error.message)),
            }
        }
        _ => match field(&form, "token") {
            Some(token) => (token.to_owned(), None),
            None => {
                let why = "enter your user name and password, or a token".to_owned();
                return login_page(&console, StatusCode::UNPROCESSABLE_ENTITY, Some(why));
            }
        },
    };
    let api = Api::new(console.api.clone(), token.clone(), peer.0);
    match api.get::<WhoAmI>("/whoami").await {
        Ok(me) => {
            let id = console.sessions.start(token, me.name, token_id);
            let response = with_cookie(see_other("/"), &set_cookie(SESSION_COOKIE, &id, SESSION_TTL));
            with_cookie(response, &set_cookie(LOGIN_COOKIE, "", std::time::Duration::ZERO))
        }
        Err(refusal) => login_page(&console, refusal.status, Some(refusal.error.message)),
    }
}

/// `POST /logout`.
pub async fn logout(State(console): State<Console>, headers: HeaderMap, peer: Peer, body: String) -> Response {
    let Some(session) = console.sessions.find(&headers) else { return see_other("/login") };
    if !same_secret(&session.csrf, field(&fields(&body), "csrf").unwrap_or_default()) {
        return forged(&console, &session);
    }
    console.sessions.end(&headers);
    if let Some(id) = session.token_id {
        // The token a password made ends with the session.
        let api = Api::new(console.api.clone(), session.token.clone(), peer.0);
        if let Err(refusal) = api.delete(&format!("/tokens/{id}")).await {
            tracing::warn!("failed to revoke the console session's token {id}: {}", refusal.error.message);
        }
    }
    with_cookie(see_other("/login"), &set_cookie(SESSION_COOKIE, "", std::time::Duration::ZERO))
}

pub(super) fn forged(console: &Console, session: &Session) -> Response {
    let error = drover_proto::ApiError::new(
        drover_proto::ErrorCode::Forbidden,
        "the form did not carry this session's CSRF secret (a stale page, or a request from another site); \
         nothing was done: reload the page and try again",
    );
    refused(console, Some(session), Refused { status: StatusCode::FORBIDDEN, error }, "/")
}

/// `GET /`: the stacks.
pub async fn stacks(State(console): State<Console>, Signed { session, api }: Signed) -> Response {
    let listed: Vec<Stack> = match api.get("/stacks").await {
        Ok(stacks) => stacks,
        Err(refusal) => return refused(&console, Some(&session), refusal, "/"),
    };
    // Each stack's status, read at once rather than one after another.
    let paths: Vec<String> = listed.iter().map(|s| format!("/stacks/{}/status", s.name)).collect();
    let statuses = futures_util::future::join_all(paths.iter().map(|p| api.get::<StackStatus>(p)));
    let site_paths: Vec<String> = listed.iter().map(|s| format!("/stacks/{}/frontends", s.name)).collect();
    let sites = futures_util::future::join_all(site_paths.iter().map(|p| api.get::<Vec<FrontendView>>(p)));
    let (statuses, sites) = tokio::join!(statuses, sites);
    let mut rows = Vec::new();
    for ((stack, status), site) in listed.into_iter().zip(statuses).zip(sites) {
        // A stack deleted since the list was read.
        let Ok(status) = status else { continue };
        let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
        for i in &status.instances {
            *by_status.entry(i.status.clone()).or_default() += 1;
        }
        rows.push(json!({
            "name": stack.name, "layers": status.layers.len(), "by_status": by_status,
            "last": status.recent_deployments.first(),
            "site": site.ok().and_then(|frontends| frontends.into_iter().next()).map(|f| f.url),
        }));
    }
    let context = json!({ "title": "Stacks", "who": session.name, "csrf": session.csrf, "stacks": rows });
    page(&console.templates, StatusCode::OK, "stacks.html", context)
}

/// How long the stack page waits for HAProxy's backend as the frontends see it.
const BACKEND_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// `GET /stacks/{stack}`.
pub async fn stack(
    State(console): State<Console>,
    Signed { session, api }: Signed,
    Path(name): Path<String>,
) -> Response {
    if Shortname::parse(&name).is_err() {
        return not_found(&console, &session, "such stack");
    }
    let read = async {
        let paths = [
            format!("/stacks/{name}/status"),
            format!("/stacks/{name}/apps"),
            format!("/stacks/{name}/frontends/backend"),
        ];
        // The frontends' agents answer through the relay: one that is slow to answer must not
        // hold the page, so the section is left out (with a note) after a short wait.
        let backends = async {
            tokio::time::timeout(BACKEND_WAIT, api.get::<Vec<FrontendBackend>>(&paths[2]))
                .await
                .ok()
                .and_then(Result::ok)
        };
        let (status, apps, level, backends) = tokio::join!(
            api.get::<StackStatus>(&paths[0]),
            api.get::<Vec<App>>(&paths[1]),
            level_on(&api, &name),
            backends,
        );
        Ok::<_, Refused>((status?, apps?, level?, backends))
    };
    let (status, apps, level, backends) = match read.await {
        Ok(read) => read,
        Err(refusal) => return refused(&console, Some(&session), refusal, "/"),
    };
    let layers: Vec<Value> = status
        .layers
        .iter()
        .map(|l| {
            let members = status.instances.iter().filter(|i| i.layers.contains(&l.shortname));
            let online = members.clone().filter(|i| i.status == "online").count();
            let scaling = status.load_scaling.iter().find(|s| s.layer == l.shortname).map(|s| {
                let on = if s.enabled { "on" } else { "off" };
                format!("{on}: {}", s.decision)
            });
            json!({
                "shortname": l.shortname, "type": l.layer_type, "online": online, "total": members.count(),
                "auto_healing": l.auto_healing, "scaling": scaling,
            })
        })
        .collect();
    let mut runs: HashMap<&str, Vec<String>> = HashMap::new();
    for r in &status.running {
        runs.entry(r.instance.as_str()).or_default().push(format!(
            "{} {}",
            r.app,
            r.commit.get(..12).unwrap_or(&r.commit)
        ));
    }
    let context = json!({
        "title": format!("Stack {name}"), "who": session.name, "csrf": session.csrf, "stack": name,
        "level": level, "can_deploy": may_deploy(&level), "apps": apps, "layers": layers,
        "instances": status.instances, "deployments": status.recent_deployments, "runs": runs,
        "backends_unanswered": backends.is_none() && status.layers.iter().any(|l| l.layer_type == "frontend"),
        "backends": backends,
    });
    page(&console.templates, StatusCode::OK, "stack.html", context)
}

/// What the deploy pages need: the app, its instances and the caller's level.
struct DeployTarget {
    app: App,
    instances: Vec<drover_proto::api::Instance>,
    level: String,
}

async fn deploy_target(api: &Api, stack: &str, app: &str) -> Result<DeployTarget, Refused> {
    let found: App = api.get(&format!("/stacks/{stack}/apps/{app}")).await?;
    let status: StackStatus = api.get(&format!("/stacks/{stack}/status")).await?;
    let mut instances: Vec<_> =
        status.instances.into_iter().filter(|i| i.layers.iter().any(|l| found.layers.contains(l))).collect();
    instances.sort_by(|a, b| a.hostname.cmp(&b.hostname));
    Ok(DeployTarget { app: found, instances, level: level_on(api, stack).await? })
}

fn deploy_page(console: &Console, session: &Session, stack: &str, target: &DeployTarget, extra: Value) -> Response {
    let mut context = json!({
        "title": format!("Deploy {}", target.app.name), "who": session.name, "csrf": session.csrf,
        "stack": stack, "app": target.app.name, "instances": target.instances,
        "app_layers": target.app.layers, "default_revision": target.app.revision, "pinned": target.app.pinned.as_ref().map(|p| &p.commit),
    });
    let status = extra.get("status").and_then(Value::as_u64).and_then(|s| StatusCode::from_u16(s as u16).ok());
    if let (Some(context), Some(extra)) = (context.as_object_mut(), extra.as_object()) {
        context.extend(extra.clone());
    }
    page(&console.templates, status.unwrap_or(StatusCode::OK), "deploy.html", context)
}

fn forbidden_to_deploy(console: &Console, session: &Session, stack: &str, level: &str) -> Response {
    let error = drover_proto::ApiError::new(
        drover_proto::ErrorCode::Forbidden,
        format!(
            "{} may not deploy on stack {stack}: it needs the deploy level (yours is {level}); ask an admin for \
             `drover user grant --stack {stack} --level deploy {}`",
            session.name, session.name
        ),
    );
    refused(console, Some(session), Refused { status: StatusCode::FORBIDDEN, error }, &format!("/stacks/{stack}"))
}

/// `GET /stacks/{stack}/apps/{app}/deploy`: the deploy form.
pub async fn deploy_form(
    State(console): State<Console>,
    Signed { session, api }: Signed,
    Path((stack, app)): Path<(String, String)>,
) -> Response {
    if !app_names(&stack, &app) {
        return not_found(&console, &session, "such app");
    }
    let target = match deploy_target(&api, &stack, &app).await {
        Ok(target) => target,
        Err(refusal) => return refused(&console, Some(&session), refusal, &format!("/stacks/{stack}")),
    };
    if !may_deploy(&target.level) {
        return forbidden_to_deploy(&console, &session, &stack, &target.level);
    }
    deploy_page(&console, &session, &stack, &target, json!({ "confirm": false }))
}

/// `POST /stacks/{stack}/apps/{app}/deploy`: `step=confirm` shows what will happen; `step=go`
/// starts the deployment and goes to its page.
pub async fn deploy(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Peer,
    Path((stack, app)): Path<(String, String)>,
    body: String,
) -> Response {
    let (Signed { session, api }, form) = match posted(&console, &headers, peer, &body) {
        Ok(posted) => posted,
        Err(answer) => return *answer,
    };
    if !app_names(&stack, &app) {
        return not_found(&console, &session, "such app");
    }
    let target = match deploy_target(&api, &stack, &app).await {
        Ok(target) => target,
        Err(refusal) => return refused(&console, Some(&session), refusal, &format!("/stacks/{stack}")),
    };
    let chosen: Vec<String> = form.iter().filter(|(k, _)| k == "instance").map(|(_, v)| v.clone()).collect();
    let revision = field(&form, "revision").map(str::to_owned);
    let comment = field(&form, "comment").map(str::to_owned);
    let batch = match field(&form, "batch").map(str::parse::<u32>) {
        None => None,
        Some(Ok(n)) if n >= 1 => Some(n),
        Some(_) => {
            let extra = json!({ "confirm": false, "status": 422, "error_field": "batch",
                                "error": "instances at a time: give a whole number of at least 1, or leave it empty" });
            return deploy_page(&console, &session, &stack, &target, extra);
        }
    };
    let layers: Vec<String> = form.iter().filter(|(k, _)| k == "layer").map(|(_, v)| v.clone()).collect();
    let override_text = field(&form, "custom_json").map(str::to_owned);
    let custom_json = match deploy_json(&app, override_text.as_deref(), revision.as_deref()) {
        Ok(doc) => doc,
        Err(error) => {
            let extra = json!({ "confirm": false, "status": 422, "error_field": "custom_json", "error": error });
            return deploy_page(&console, &session, &stack, &target, extra);
        }
    };
    let expect_commit = field(&form, "expect_commit").map(str::to_owned);
    let request = json!({
        "kind": "deploy", "app": app, "instances": chosen, "layers": layers, "batch_size": batch,
        "comment": comment, "custom_json": custom_json, "expect_commit": expect_commit,
    });
    if field(&form, "step") != Some("go") {
        let plan = match api.post::<DeploymentPlan>(&format!("/stacks/{stack}/deployments/plan"), &request).await {
            Ok(plan) => plan,
            Err(refusal) => {
                let extra = json!({ "confirm": false, "status": refusal.status.as_u16(),
                                    "error": refusal.error.message, "error_field": refusal.error.field });
                return deploy_page(&console, &session, &stack, &target, extra);
            }
        };
        let pacing = match (batch, plan.batches.len()) {
            (_, 1) => "All at once:",
            (Some(1), _) => "One instance at a time, in this order; each starts after the one before succeeded:",
            _ => "In batches, in this order; each batch starts after the one before succeeded:",
        };
        let extra = json!({
            "confirm": true, "chosen": chosen, "chosen_layers": layers, "batch": batch, "revision": revision,
            "comment": comment, "custom_json": override_text, "plan": plan, "pacing": pacing,
        });
        return deploy_page(&console, &session, &stack, &target, extra);
    }
    match api.post::<Deployment>(&format!("/stacks/{stack}/deployments"), &request).await {
        Ok(deployment) => see_other(&format!("/deployments/{}", deployment.id)),
        Err(refusal) => {
            let extra = json!({ "confirm": false, "status": refusal.status.as_u16(),
                                "error": refusal.error.message, "error_field": refusal.error.field });
            deploy_page(&console, &session, &stack, &target, extra)
        }
    }
}

/// The deploy's own Custom JSON: the form's document (an object, or nothing), with the revision
/// asked for set at `deploy.<app>.scm.revision`; none when neither was given.
fn deploy_json(app: &str, text: Option<&str>, revision: Option<&str>) -> Result<Option<Value>, String> {
    let mut doc = match text {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(doc @ Value::Object(_)) => doc,
            Ok(_) => return Err("Custom JSON for this deploy is a JSON object, like {\"deploy\": {…}}".to_owned()),
            Err(e) => return Err(format!("not valid JSON: {e}")),
        },
        None => json!({}),
    };
    if let Some(revision) = revision {
        let scm = doc
            .as_object_mut()
            .map(|d| d.entry("deploy").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
            .map(|d| d.entry(app).or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
            .map(|a| a.entry("scm").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut);
        match scm {
            Some(scm) => {
                scm.insert("revision".to_owned(), json!(revision));
            }
            None => return Err(format!("deploy.{app}.scm in the Custom JSON must be an object to take the revision")),
        }
    }
    Ok((doc != json!({})).then_some(doc))
}

/// `GET /deployments/{id}`: its commands, the case and steps each took, and their logs
/// (followed live by the page's script, [`super::live`]).
pub async fn deployment(
    State(console): State<Console>,
    Signed { session, api }: Signed,
    Path(id): Path<i64>,
) -> Response {
    let read = async {
        let d: Deployment = api.get(&format!("/deployments/{id}")).await?;
        let mut logs: HashMap<String, LogChunk> = HashMap::new();
        for c in d.commands.iter().filter(|c| c.status != "skipped") {
            logs.insert(c.id.to_string(), api.get(&format!("/commands/{}/log?offset=0", c.id)).await?);
        }
        Ok::<_, Refused>((d, logs))
    };
    let (d, logs) = match read.await {
        Ok(read) => read,
        Err(refusal) => return refused(&console, Some(&session), refusal, "/"),
    };
    let progress: HashMap<&String, LogProgress> =
        logs.iter().map(|(id, chunk)| (id, LogProgress::read(&chunk.data))).collect();
    let running: HashMap<&String, Option<&str>> =
        progress.iter().map(|(id, p)| (*id, p.running().map(|s| s.shown.as_str()))).collect();
    let title = format!("Deployment {id}");
    let context = json!({
        "title": title, "who": session.name, "csrf": session.csrf, "d": d, "logs": logs,
        "progress": progress, "running": running,
    });
    page(&console.templates, StatusCode::OK, "deployment.html", context)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::deploy_json;

    #[test]
    fn the_deploys_custom_json_takes_the_revision() {
        // (document, revision, result)
        let cases = [
            (None, None, Ok(None)),
            (None, Some("v2"), Ok(Some(json!({"deploy": {"site": {"scm": {"revision": "v2"}}}})))),
            (
                Some(r#"{"deploy": {"site": {"environment": {"A": "1"}}}}"#),
                Some("v2"),
                Ok(Some(json!({"deploy": {"site": {"environment": {"A": "1"}, "scm": {"revision": "v2"}}}}))),
            ),
            (Some(r#"{"haproxy": {"maxconn": 10}}"#), None, Ok(Some(json!({"haproxy": {"maxconn": 10}})))),
            (Some("{}"), None, Ok(None)),
        ];
        for (text, revision, result) in cases {
            assert_eq!(deploy_json("site", text, revision), result, "{text:?} {revision:?}");
        }
        for (text, needle) in
            [("[1]", "a JSON object"), ("{", "not valid JSON"), (r#"{"deploy": 1}"#, "must be an object")]
        {
            let error = deploy_json("site", Some(text), Some("v2")).unwrap_err();
            assert!(error.contains(needle), "{text}: {error}");
        }
    }
}
