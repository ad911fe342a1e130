//! The web console over real HTTPS against a real server: sign-in makes a session cookie that is
//! Secure, HttpOnly and SameSite=Strict; forms without the session's CSRF secret do nothing; a
//! `show`-level user sees no Deploy button and is refused if they post one anyway; the Deploy
//! button, through its confirmation, deploys the app and its page shows the log.

use std::collections::HashMap;
use std::time::Duration;

use crate::support::{TestStack, eventually};

/// A cookie-keeping HTTPS client that does not follow redirects (also used by `relstorage.rs`).
pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: HashMap<String, String>,
    set_cookies: Vec<String>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    location: Option<String>,
    pub(crate) body: String,
}

impl Browser {
    pub(crate) fn new(stack: &TestStack) -> Self {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(drover_client::tls::pinned_client_config(&stack.fingerprint()).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { http, base: stack.url(), cookies: HashMap::new(), set_cookies: Vec::new() }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let response = request.header("Cookie", cookie.join("; ")).send().await.unwrap();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap().to_owned();
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            if set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
            self.set_cookies.push(set);
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        Page { status, location, body: response.text().await.unwrap() }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let form: Vec<(&str, &str)> = form.to_vec();
        let body = serde_urlencoded::to_string(&form).unwrap();
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    /// Reads a Server-Sent Events stream until its `end` event (or ten minutes).
    async fn events(&mut self, path: &str) -> String {
        let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Cookie", cookie.join("; "))
            .header("Accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        let mut text = String::new();
        let read = async {
            while let Some(chunk) = response.chunk().await.unwrap() {
                text.push_str(&String::from_utf8_lossy(&chunk));
                if text.contains("event: end\n") && text.ends_with("\n\n") {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(600), read).await.expect("the stream to end");
        text
    }

    /// Signs in with `token`; answers the session's CSRF secret (from the next page's forms).
    pub(crate) async fn sign_in(&mut self, token: &str) -> String {
        let form = self.get("/login").await;
        let csrf = hidden(&form.body, "csrf");
        let signed = self.post("/login", &[("csrf", &csrf), ("token", token)]).await;
        assert_eq!((signed.status, signed.location.as_deref()), (303, Some("/")), "{}", signed.body);
        hidden(&self.get("/").await.body, "csrf")
    }
}

/// The value of the first hidden input named `name`.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in:\n{html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_see_the_stack_and_deploy_with_the_button() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver")]);
    let host = stack.create_online_instance("demo", &["zeoserver"]);
    let repo = stack.create_demo_app("demo", &["zeoserver"]);
    let mut browser = Browser::new(&stack);

    // Signed out, every page sends you to sign in; the API is where it was.
    let home = browser.get("/").await;
    assert_eq!((home.status, home.location.as_deref()), (303, Some("/login")));
    let api = browser.get("/api/v1/stacks").await;
    assert_eq!(api.status, 401, "the API still wants its token: {}", api.body);

    // The sign-in form's own CSRF secret, and a refused token, change nothing.
    let form = browser.get("/login").await;
    assert_eq!(form.status, 200);
    let forged = browser.post("/login", &[("csrf", "0123"), ("token", &stack.admin_token())]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(!browser.cookies.contains_key("drover_session"));
    let csrf = hidden(&browser.get("/login").await.body, "csrf");
    let wrong = browser.post("/login", &[("csrf", &csrf), ("token", "drv1:user:00:nope:x")]).await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains("not valid for this server"), "{}", wrong.body);

    // Signed in as the admin: a session cookie a script cannot read, sent to this site only.
    let csrf = browser.sign_in(&stack.admin_token()).await;
    let session = browser.set_cookies.iter().find(|c| c.starts_with("drover_session=")).unwrap();
    for part in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(session.contains(part), "{session}");
    }
    let stacks = browser.get("/").await;
    assert!(stacks.body.contains("href=\"/stacks/demo\""), "{}", stacks.body);
    let page = browser.get("/stacks/demo").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&host) && page.body.contains("zeoserver"), "{}", page.body);
    assert!(page.body.contains("/stacks/demo/apps/site/deploy"), "an admin has the Deploy button");

    // The Deploy button: the form, the confirmation of what will happen, then the deployment.
    let v2 = repo.write_and_commit("release-mark.txt", "v2\n", "v2");
    let deploy_path = "/stacks/demo/apps/site/deploy";
    assert_eq!(browser.get(deploy_path).await.status, 200);
    let no_csrf = browser.post(deploy_path, &[("step", "go")]).await;
    assert_eq!(no_csrf.status, 403, "a form without the CSRF secret does nothing: {}", no_csrf.body);
    let bad = [("csrf", csrf.as_str()), ("step", "confirm"), ("custom_json", "[1]")];
    let refused = browser.post(deploy_path, &bad).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("custom_json") && refused.body.contains("a JSON object"), "{}", refused.body);
    let with_json = [
        ("csrf", csrf.as_str()),
        ("step", "confirm"),
        ("layer", "zeoserver"),
        ("custom_json", r#"{"deploy": {"site": {"environment": {"MARK": "console"}}}}"#),
    ];
    let reviewed = browser.post(deploy_path, &with_json).await;
    assert_eq!(reviewed.status, 200, "{}", reviewed.body);
    assert!(
        reviewed.body.contains("MARK") && reviewed.body.contains("name=\"layer\" value=\"zeoserver\""),
        "{}",
        reviewed.body
    );
    let confirm = browser.post(deploy_path, &[("csrf", &csrf), ("step", "confirm"), ("batch", "1")]).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("What will happen") && confirm.body.contains(&host), "{}", confirm.body);
    assert!(confirm.body.contains(&v2), "the confirmation shows the commit it will build: {}", confirm.body);
    assert_eq!(hidden(&confirm.body, "expect_commit"), v2);
    assert!(stack.client().deployments("demo").await.unwrap().iter().all(|d| d.kind != "deploy"), "not yet");

    // The branch moves between the review and the click: nothing is deployed, and the page says
    // to review again; the new review shows the new commit.
    let v2 = repo.write_and_commit("release-mark.txt", "v2b\n", "v2b");
    let go = |commit: &str| {
        [
            ("csrf", csrf.clone()),
            ("step", "go".into()),
            ("batch", "1".into()),
            ("comment", "from the console".into()),
            ("expect_commit", commit.to_owned()),
        ]
    };
    let moved = browser.post(deploy_path, &pairs(&go(&hidden(&confirm.body, "expect_commit")))).await;
    assert_eq!(moved.status, 409, "{}", moved.body);
    assert!(moved.body.contains("review") && moved.body.contains(&v2), "{}", moved.body);
    assert!(stack.client().deployments("demo").await.unwrap().iter().all(|d| d.kind != "deploy"), "not yet");
    let confirm = browser.post(deploy_path, &[("csrf", &csrf), ("step", "confirm"), ("batch", "1")]).await;
    assert_eq!(hidden(&confirm.body, "expect_commit"), v2, "{}", confirm.body);
    let started = browser.post(deploy_path, &pairs(&go(&v2))).await;
    assert_eq!(started.status, 303, "{}", started.body);
    let deployment_path = started.location.unwrap();
    assert!(deployment_path.starts_with("/deployments/"), "{deployment_path}");
    let id: i64 = deployment_path.trim_start_matches("/deployments/").parse().unwrap();

    // The deployment's page follows the log live, as Server-Sent Events, with the step and case.
    let client = stack.client();
    let command = client.deployment(id).await.unwrap().commands[0].id;
    let events = browser.events(&format!("/console/commands/{command}/events?offset=0")).await;
    assert!(events.contains("event: log") && events.contains("event: progress"), "{events}");
    assert!(events.contains(r#""case":"new_revision""#), "{events}");
    assert!(events.contains("event: end") && events.contains(r#""status":"successful""#), "{events}");
    assert!(events.contains("\nid: "), "log events carry their offset, to resume from: {events}");
    let done = eventually(Duration::from_secs(600), "the console's deploy to finish", || async {
        let d = client.deployment(id).await.ok()?;
        d.finished_at.is_some().then_some(d)
    })
    .await;
    assert_eq!(done.status, "successful", "{done:#?}");
    assert_eq!(done.comment.as_deref(), Some("from the console"));
    assert_eq!(done.commit.as_deref(), Some(v2.as_str()));
    let shown = browser.get(&deployment_path).await;
    assert!(shown.body.contains("successful") && shown.body.contains(&host), "{}", shown.body);
    assert!(shown.body.contains("class=\"log\""), "{}", shown.body);
    assert!(shown.body.contains("new revision"), "the case each instance took: {}", shown.body);
    let page = browser.get("/stacks/demo").await;
    assert!(page.body.contains(&format!("site {}", &v2[..12])), "the commit the instance runs: {}", page.body);
    let config = browser.get(&format!("/stacks/demo/instances/{host}/config")).await;
    assert_eq!(config.status, 200, "{}", config.body);
    assert!(config.body.contains("plone_zeoserver"), "the configuration in force: {}", config.body);
    let log = browser.get(&format!("/console/commands/{command}/log?offset=0")).await;
    let chunk: serde_json::Value = serde_json::from_str(&log.body).unwrap();
    assert_eq!(chunk["complete"], true, "{chunk}");
    assert!(!chunk["data"].as_str().unwrap().is_empty(), "the log followed by the page has the output");

    // Releases: a newer deploy from the CLI, then the console rolls back to the console's one.
    let v3 = repo.write_and_commit("release-mark.txt", "v3\n", "v3");
    stack.cli_ok(&["deploy", "--stack", "demo", "site", "--wait", "--timeout", "600"]);
    let releases = browser.get("/stacks/demo/apps/site/releases").await;
    assert_eq!(releases.status, 200, "{}", releases.body);
    assert!(releases.body.contains(&v3[..12]) && releases.body.contains("(current)"), "{}", releases.body);
    let kept = stack.client().releases("demo", "site").await.unwrap();
    let earlier = kept.iter().find(|r| r.sha == v2 && !r.current).expect("the console's release is kept");
    assert!(releases.body.contains("Roll back to this"), "{}", releases.body);
    let rollback = [("csrf", csrf.as_str()), ("action", "rollback"), ("to", &earlier.name), ("instance", &host)];
    let rolled = browser.post("/stacks/demo/apps/site/actions", &rollback).await;
    assert_eq!(rolled.status, 303, "{}", rolled.body);
    let id: i64 = rolled.location.unwrap().trim_start_matches("/deployments/").parse().unwrap();
    let done = eventually(Duration::from_secs(600), "the console's rollback to finish", || async {
        let d = client.deployment(id).await.ok()?;
        d.finished_at.is_some().then_some(d)
    })
    .await;
    assert_eq!((done.kind.as_str(), done.status.as_str()), ("rollback", "successful"), "{done:#?}");
    let current = stack.client().releases("demo", "site").await.unwrap().into_iter().find(|r| r.current).unwrap();
    assert_eq!(current.sha, v2, "rolled back to the console's release");
    let events = browser.get("/stacks/demo/events").await;
    assert_eq!(events.status, 200, "{}", events.body);

    // The audit trail names the console's actor and the deploy.
    let audit = stack.cli_ok(&["audit", "list", "--stack", "demo", "--json"]);
    assert!(audit.contains("deployments"), "{audit}");

    // Signing out ends the session.
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/login")));
    assert_eq!(browser.get("/stacks/demo").await.location.as_deref(), Some("/login"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_show_user_gets_no_deploy_button_and_a_forged_deploy_is_refused() {
    let stack = TestStack::start().await;
    stack.create_stack("shop", &[("web", "custom")]);
    stack.create_online_instance("shop", &["web"]);
    stack.cli_ok(&["app", "create", "--stack", "shop", "site", "--layer", "web", "--git", "/srv/git/site.git"]);
    stack.cli_ok(&["user", "create", "sam"]);
    stack.cli_ok(&["user", "grant", "--stack", "shop", "--level", "show", "sam"]);
    let token = stack.cli_ok(&["token", "create", "--user", "sam"]).trim().to_owned();
    let mut browser = Browser::new(&stack);
    let csrf = browser.sign_in(&token).await;

    let page = browser.get("/stacks/shop").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<strong>show</strong>"), "{}", page.body);
    assert!(!page.body.contains("/apps/site/deploy"), "a show user sees no Deploy button:\n{}", page.body);
    let form = browser.get("/stacks/shop/apps/site/deploy").await;
    assert_eq!(form.status, 403, "{}", form.body);
    // With a good CSRF secret, the API itself refuses: the console offers nothing the API allows not.
    let forged = browser.post("/stacks/shop/apps/site/deploy", &[("csrf", &csrf), ("step", "go")]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("deploy level"), "{}", forged.body);
    assert!(stack.client().deployments("shop").await.unwrap().iter().all(|d| d.kind != "deploy"));
    let refusals = stack.cli_ok(&["audit", "list", "--user", "sam", "--json"]);
    assert!(refusals.contains("403") || refusals.contains("forbidden"), "the refusal is audited: {refusals}");

    // Names that cannot be a stack or app are not passed on.
    assert_eq!(browser.get("/stacks/..%2Fusers").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_custom_json_editor_checks_shows_the_diff_saves_and_reverts() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    let mut browser = Browser::new(&stack);
    let csrf = browser.sign_in(&stack.admin_token()).await;
    let versions = || async { stack.client().config_history("demo", None).await.unwrap().len() };
    let before = versions().await;
    let editor = browser.get("/stacks/demo/custom-json").await;
    assert_eq!(editor.status, 200, "{}", editor.body);
    assert!(editor.body.contains("<textarea"), "an admin may edit: {}", editor.body);

    // A wrong type is shown at its JSON path, a syntax error at its line, and nothing is saved.
    let review = |doc: &'static str| [("csrf", csrf.clone()), ("step", "review".into()), ("document", doc.into())];
    let wrong =
        browser.post("/stacks/demo/custom-json", &pairs(&review(r#"{"plone_instances": {"per_cpu": "many"}}"#))).await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong.body.contains("plone_instances.per_cpu") && wrong.body.contains("Nothing was saved"),
        "{}",
        wrong.body
    );
    let broken = browser.post("/stacks/demo/custom-json", &pairs(&review(r#"{"plone_instances": "#))).await;
    assert_eq!(broken.status, 422);
    assert!(broken.body.contains("not valid JSON") && broken.body.contains("line 1"), "{}", broken.body);
    assert_eq!(versions().await, before);

    // The check as you type: the API's own check, behind the session's secret.
    let checked = browser
        .send(
            browser
                .http
                .post(format!("{}/console/stacks/demo/custom-json/check", browser.base))
                .header("X-Drover-Csrf", &csrf)
                .header("Content-Type", "application/json")
                .body(r#"{"custom_json": {"plone_instances": {"per_cpu": "many"}}}"#),
        )
        .await;
    assert_eq!(checked.status, 422, "{}", checked.body);
    let error: serde_json::Value = serde_json::from_str(&checked.body).unwrap();
    assert_eq!(error["error"]["field"], "custom_json.plone_instances.per_cpu", "{error}");
    let unsigned = browser
        .send(
            browser
                .http
                .post(format!("{}/console/stacks/demo/custom-json/check", browser.base))
                .header("Content-Type", "application/json")
                .body(r#"{"custom_json": {}}"#),
        )
        .await;
    assert_eq!(unsigned.status, 403);

    // A valid change: the diff first, then the save.
    let good = r#"{"plone_instances": {"per_cpu": 2}}"#;
    let shown = browser.post("/stacks/demo/custom-json", &pairs(&review(good))).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown.body.contains("What will change") && shown.body.contains("+  &quot;plone_instances&quot;"),
        "{}",
        shown.body
    );
    assert_eq!(versions().await, before, "a review saves nothing");
    let save = [("csrf", csrf.as_str()), ("step", "save"), ("document", good), ("comment", "two per CPU")];
    let saved = browser.post("/stacks/demo/custom-json", &save).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(saved.location.as_deref().unwrap().contains("saved="), "{:?}", saved.location);
    let history = stack.client().config_history("demo", None).await.unwrap();
    assert_eq!(history.len(), before + 1);
    assert_eq!(history[0].custom_json["plone_instances"]["per_cpu"], 2);
    assert_eq!(history[0].comment.as_deref(), Some("two per CPU"));

    // A revert brings the earlier version back as a new one.
    if let Some(earlier) = history.get(1) {
        let version = earlier.version.to_string();
        let revert = [("csrf", csrf.as_str()), ("step", "revert"), ("version", version.as_str())];
        assert_eq!(browser.post("/stacks/demo/custom-json", &revert).await.status, 303);
        let after = stack.client().config_history("demo", None).await.unwrap();
        assert_eq!(after[0].custom_json, earlier.custom_json);
    }

    // Without the session's secret, a save does nothing.
    let forged = browser.post("/stacks/demo/custom-json", &[("step", "save"), ("document", "{}")]).await;
    assert_eq!(forged.status, 403);
}

fn pairs<'a>(fields: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Runs the CLI with `input` on its standard input.
fn cli_with_input(stack: &TestStack, args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = crate::support::cli_command(&stack.url(), &stack.admin_token(), args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_signs_in_wrong_ones_are_slowed_and_signing_out_revokes_its_token() {
    let stack = TestStack::start().await;
    stack.create_stack("shop", &[("web", "custom")]);
    stack.cli_ok(&["user", "create", "dana"]);
    stack.cli_ok(&["user", "grant", "--stack", "shop", "--level", "deploy", "dana"]);

    // A weak password is refused, naming the field; a good one is taken from stdin.
    let weak = cli_with_input(&stack, &["user", "password", "dana", "--password-file", "-"], "short\n");
    assert_eq!(weak.status.code(), Some(2), "{}", String::from_utf8_lossy(&weak.stdout));
    let stderr = String::from_utf8_lossy(&weak.stderr);
    assert!(stderr.contains("password") && stderr.contains("at least 12"), "{stderr}");
    let password = "correct horse battery staple";
    let set = cli_with_input(&stack, &["user", "password", "dana", "--password-file", "-"], &format!("{password}\n"));
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));

    // Signed in with it: a session that acts as dana.
    let mut browser = Browser::new(&stack);
    let form = browser.get("/login").await;
    let csrf = hidden(&form.body, "csrf");
    let signed = browser.post("/login", &[("csrf", &csrf), ("user", "dana"), ("password", password)]).await;
    assert_eq!((signed.status, signed.location.as_deref()), (303, Some("/")), "{}", signed.body);
    let page = browser.get("/stacks/shop").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<strong>deploy</strong>") && page.body.contains("dana"), "{}", page.body);
    let tokens = stack.client().tokens().await.unwrap();
    let made = tokens.iter().find(|t| t.user == "dana" && t.comment.as_deref() == Some("signed in with a password"));
    let made = made.expect("the sign-in made a token").clone();
    assert!(made.expires_at.is_some() && made.revoked_at.is_none(), "{made:?}");

    // Signing out revokes that token.
    let csrf = hidden(&page.body, "csrf");
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    let after = stack.client().tokens().await.unwrap().into_iter().find(|t| t.id == made.id).unwrap();
    assert!(after.revoked_at.is_some(), "{after:?}");

    // Wrong passwords (and unknown names) get one answer; after five, even the right one waits.
    for (user, wrong) in [("dana", "not the password"), ("nobody", password)] {
        let csrf = hidden(&browser.get("/login").await.body, "csrf");
        let refused = browser.post("/login", &[("csrf", &csrf), ("user", user), ("password", wrong)]).await;
        assert_eq!(refused.status, 401, "{}", refused.body);
        assert!(refused.body.contains("wrong user name or password"), "{}", refused.body);
    }
    for _ in 0..4 {
        let csrf = hidden(&browser.get("/login").await.body, "csrf");
        browser.post("/login", &[("csrf", &csrf), ("user", "dana"), ("password", "still not it")]).await;
    }
    let csrf = hidden(&browser.get("/login").await.body, "csrf");
    let slowed = browser.post("/login", &[("csrf", &csrf), ("user", "dana"), ("password", password)]).await;
    assert_eq!(slowed.status, 429, "{}", slowed.body);
    assert!(slowed.body.contains("too many wrong passwords"), "{}", slowed.body);
    assert!(!browser.cookies.contains_key("drover_session"));

    // Only dana herself or an admin sets her password; a removed one signs nobody in.
    stack.cli_ok(&["user", "create", "sam"]);
    let sam = stack.cli_ok(&["token", "create", "--user", "sam"]).trim().to_owned();
    let mut command = crate::support::cli_command(&stack.url(), &sam, &["user", "password", "dana", "--remove"]);
    let refused = command.output().unwrap();
    assert_ne!(refused.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only your own password"), "{refused:?}");
    stack.cli_ok(&["user", "password", "dana", "--remove"]);
}
