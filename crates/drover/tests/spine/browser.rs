//! The web console in a real browser: headless Chromium, driven through WebDriver by Debian's
//! chromedriver, against a real server with local instances and the demo app. A person signs in
//! with a token, finds the stack, deploys a new commit with the Deploy button (rolling, through
//! the confirmation), watches the log grow on the deployment page until it succeeds, and rolls
//! back from the releases page; the Custom JSON editor shows a wrong type at its JSON path and
//! saves nothing, then shows the diff of a valid change and saves it; a `show` user has no Deploy
//! button and a deploy posted with their session anyway is refused.
//!
//! Every main page is checked with axe-core (critical violations fail the test). With
//! `DROVER_SCREENSHOTS=1`, the run saves the pictures shown in README.md as docs/console/*.png.

mod axe;
mod chrome;

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestStack, eventually};
use axe::Audit;
use chrome::{Chrome, UI_WAIT};

/// How long a deploy of the demo app may take on a loaded machine.
const DEPLOY_WAIT: Duration = Duration::from_secs(600);

/// Signs in through the sign-in form with `token`; the stacks page follows.
async fn sign_in(chrome: &Chrome, token: &str) {
    chrome.goto("/login").await;
    chrome.type_into("form[action='/login'] input[name='token']", token).await;
    chrome.button("Sign in with the token").await.click().await.unwrap();
    chrome.wait_for_path("the stacks page after signing in", |p| p == "/").await;
}

/// Clicks the link to `href` on the page shown, and waits for its page.
async fn follow(chrome: &Chrome, href: &str) {
    chrome.find(&format!("a[href='{href}']")).await.click().await.unwrap();
    chrome.wait_for_path(&format!("the page {href}"), |p| p == href).await;
}

/// The text of every log on the deployment page, and whether the page is still the one marked
/// (none while the page reloads).
async fn logs_now(chrome: &Chrome) -> Option<(bool, String)> {
    let script = "return [window.__droverTestMark === true, \
                  Array.from(document.querySelectorAll('pre.log')).map((p) => p.textContent).join('\\n')];";
    let answer = chrome.client.execute(script, vec![]).await.ok()?;
    Some((answer[0].as_bool()?, answer[1].as_str()?.to_owned()))
}

/// The status the deployment page shows, as the page shows it (it reloads itself when done).
async fn shown_status(chrome: &Chrome) -> Option<String> {
    let script = "const s = document.getElementById('deployment-status'); return s ? s.textContent.trim() : null;";
    chrome.client.execute(script, vec![]).await.ok()?.as_str().map(str::to_owned)
}

/// Waits, without reloading, until the deployment page shows `successful`; fails at once on
/// another final status.
async fn wait_shown_successful(chrome: &Chrome, what: &str) {
    eventually(DEPLOY_WAIT, what, || async {
        let status = shown_status(chrome).await?;
        assert!(
            matches!(status.as_str(), "pending" | "running" | "successful"),
            "{what}: the page shows {status}:\n{}",
            logs_now(chrome).await.map(|(_, log)| log).unwrap_or_default()
        );
        (status == "successful").then_some(())
    })
    .await;
}

fn deployment_id(path: &str) -> i64 {
    path.trim_start_matches("/deployments/").parse().unwrap_or_else(|_| panic!("not a deployment page: {path}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_signs_in_deploys_with_the_button_follows_the_log_and_rolls_back() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver")]);
    // A deploy hook that writes a line a second: the log keeps growing for a while after the build.
    stack.cli_ok(&[
        "layer",
        "update",
        "--stack",
        "demo",
        "zeoserver",
        "--hook",
        "deploy=for i in 1 2 3 4 5 6; do echo \"warming up $i\"; sleep 1; done",
    ]);
    let hosts =
        [stack.create_online_instance("demo", &["zeoserver"]), stack.create_online_instance("demo", &["zeoserver"])];
    let repo = stack.create_demo_app("demo", &["zeoserver"]);
    stack.cli_ok(&["deploy", "--stack", "demo", "site", "--wait", "--timeout", "600"]);
    let client = stack.client();
    let v1 = client.releases("demo", "site").await.unwrap().into_iter().find(|r| r.current).unwrap().sha;
    let v2 = repo.write_and_commit("release-mark.txt", "v2\n", "v2");
    let chrome = Chrome::start(&stack.url()).await;
    let mut audit = Audit::default();

    // 1. Signed out, the console sends you to sign in; a token signs you in.
    chrome.goto("/").await;
    chrome.wait_for_path("the sign-in page", |p| p == "/login").await;
    audit.check(&chrome, "sign in").await;
    sign_in(&chrome, &stack.admin_token()).await;

    // 2. The stacks page, then the stack with its instances and apps.
    assert!(chrome.page_text().await.contains("Signed in as"), "{}", chrome.page_text().await);
    assert!(chrome.has("a[href='/stacks/demo']").await, "the stacks page lists demo: {}", chrome.page_text().await);
    chrome.screenshot("stacks").await;
    audit.check(&chrome, "stacks").await;
    follow(&chrome, "/stacks/demo").await;
    let page = chrome.page_text().await;
    for shown in [hosts[0].as_str(), hosts[1].as_str(), "zeoserver", "site"] {
        assert!(page.contains(shown), "the stack page shows {shown}:\n{page}");
    }
    chrome.screenshot("stack").await;
    audit.check(&chrome, "stack").await;

    // 3. The Deploy button, rolling (one instance at a time), through the confirmation.
    let deploy_link = chrome.find("a[href='/stacks/demo/apps/site/deploy']").await;
    assert!(deploy_link.text().await.unwrap().contains("Deploy"), "the Deploy button");
    follow(&chrome, "/stacks/demo/apps/site/deploy").await;
    audit.check(&chrome, "deploy form").await;
    let form = "form[action='/stacks/demo/apps/site/deploy']";
    chrome.type_into(&format!("{form} input[name='batch']"), "1").await;
    chrome.type_into(&format!("{form} input[name='comment']"), "from the browser").await;
    chrome.button("Review the deploy").await.click().await.unwrap();
    let plan = chrome.find("section[aria-labelledby='plan']").await.text().await.unwrap();
    assert!(plan.contains("What will happen"), "{plan}");
    assert!(plan.contains(&v2), "the confirmation names the commit it will build: {plan}");
    let batches =
        chrome.client.find_all(fantoccini::Locator::Css("section[aria-labelledby='plan'] ol li")).await.unwrap();
    let mut order = Vec::new();
    for batch in &batches {
        let text = batch.text().await.unwrap();
        let named: Vec<&String> =
            hosts.iter().filter(|h| text.split([' ', ',', '(']).any(|w| w == h.as_str())).collect();
        assert_eq!(named.len(), 1, "rolling: one instance a batch: {plan}");
        order.push(named[0].clone());
    }
    order.sort();
    let mut both = hosts.to_vec();
    both.sort();
    assert_eq!(order, both, "rolling: each instance in one batch: {plan}");
    let started_before = client.deployments("demo").await.unwrap().len();
    chrome.screenshot("deploy-confirmation").await;
    audit.check(&chrome, "deploy confirmation").await;
    assert_eq!(client.deployments("demo").await.unwrap().len(), started_before, "the confirmation deploys nothing");
    chrome.button("Deploy now").await.click().await.unwrap();
    let path = chrome.wait_for_path("the deployment page", |p| p.starts_with("/deployments/")).await;
    let id = deployment_id(&path);

    // 4. The log grows on the page, read twice and more, without a reload; then the page shows
    //    the deployment successful (it reloads itself once every instance is done).
    chrome.mark_page().await;
    let (_, first) = logs_now(&chrome).await.expect("the deployment page answers");
    let mut seen = vec![first.len()];
    let deadline = std::time::Instant::now() + DEPLOY_WAIT;
    let mut finished_at = None;
    while seen.len() < 3 {
        assert!(std::time::Instant::now() < deadline, "the log did not grow twice (lengths {seen:?})");
        // A page that does not follow the log fails soon after the deployment ends, not at the deadline.
        if finished_at.is_none() && client.deployment(id).await.unwrap().finished_at.is_some() {
            finished_at = Some(std::time::Instant::now());
        }
        assert!(
            finished_at.is_none_or(|at| at.elapsed() < Duration::from_secs(30)),
            "the deployment ended 30 s ago, and its page's log was not seen growing twice (lengths {seen:?})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Some((same_page, log)) = logs_now(&chrome).await else { continue };
        assert!(same_page, "the page was reloaded or left before its log was seen growing twice (lengths {seen:?})");
        if log.len() > *seen.last().unwrap() {
            seen.push(log.len());
        }
    }
    eprintln!("the log grew live: lengths {seen:?}");
    wait_shown_successful(&chrome, "the deployment page to show the deploy successful").await;
    let done = client.deployment(id).await.unwrap();
    assert_eq!(
        (done.kind.as_str(), done.status.as_str(), done.commit.as_deref(), done.comment.as_deref()),
        ("deploy", "successful", Some(v2.as_str()), Some("from the browser")),
        "{done:#?}"
    );
    let log = logs_now(&chrome).await.unwrap().1;
    assert!(log.contains("warming up 6"), "the page shows the whole log:\n{log}");
    let text = chrome.page_text().await;
    assert!(text.contains("new revision"), "the case each instance took:\n{text}");
    chrome.screenshot("deployment").await;
    audit.check(&chrome, "deployment").await;

    // 5. Roll the first instance back to the first release from the releases page.
    chrome.goto("/stacks/demo").await;
    follow(&chrome, "/stacks/demo/apps/site/releases").await;
    let page = chrome.page_text().await;
    assert!(page.contains(&v1[..12]) && page.contains(&v2[..12]) && page.contains("(current)"), "{page}");
    chrome.screenshot("releases").await;
    audit.check(&chrome, "releases").await;
    let rollback = format!(
        "//h2[normalize-space()='{}']/following-sibling::table[1]//tr[.//code[starts-with(normalize-space(), '{}')]]//button[normalize-space()='Roll back to this']",
        hosts[0],
        &v1[..12]
    );
    chrome.client.find(fantoccini::Locator::XPath(&rollback)).await.unwrap().click().await.unwrap();
    let path = chrome.wait_for_path("the rollback's deployment page", |p| p.starts_with("/deployments/")).await;
    let id = deployment_id(&path);
    wait_shown_successful(&chrome, "the deployment page to show the rollback successful").await;
    let done = client.deployment(id).await.unwrap();
    assert_eq!((done.kind.as_str(), done.status.as_str()), ("rollback", "successful"), "{done:#?}");
    let current: Vec<(String, String)> = client
        .releases("demo", "site")
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.current)
        .map(|r| (r.instance, r.sha))
        .collect();
    assert!(current.contains(&(hosts[0].clone(), v1.clone())), "rolled back: {current:?}");
    assert!(current.contains(&(hosts[1].clone(), v2.clone())), "the other instance kept v2: {current:?}");

    chrome.close().await;
    audit.assert_no_critical();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_custom_json_editor_shows_a_wrong_type_at_its_path_then_the_diff_and_saves() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    let client = stack.client();
    let stored = || async { client.stack("demo").await.unwrap().custom_json };
    let versions = || async { client.config_history("demo", None).await.unwrap().len() };
    let (before, versions_before) = (stored().await, versions().await);
    let chrome = Chrome::start(&stack.url()).await;
    let mut audit = Audit::default();
    sign_in(&chrome, &stack.admin_token()).await;
    chrome.goto("/stacks/demo").await;
    follow(&chrome, "/stacks/demo/custom-json").await;
    let editor = "textarea[name='document']";

    // 6. A wrong type: shown at its JSON path as it is typed, and again by the review; nothing saved.
    chrome.type_into(editor, r#"{"plone_instances": {"per_cpu": "many"}}"#).await;
    let shown = eventually(UI_WAIT, "the check as you type to show the error", || async {
        let error = chrome.find("#json-error").await;
        let text = error.text().await.ok()?;
        (error.is_displayed().await.ok()? && text.contains("plone_instances.per_cpu")).then_some(text)
    })
    .await;
    eprintln!("as typed: {shown}");
    chrome.button("Review the change").await.click().await.unwrap();
    let error = eventually(UI_WAIT, "the review to show the error", || async {
        let text = chrome.find("#json-error").await.text().await.ok()?;
        text.contains("Nothing was saved").then_some(text)
    })
    .await;
    assert!(error.contains("plone_instances.per_cpu"), "the error names its JSON path: {error}");
    assert!(!chrome.has("#review").await, "no diff to save for a refused document");
    chrome.screenshot("custom-json-error").await;
    audit.check(&chrome, "custom JSON with an error").await;
    assert_eq!(stored().await, before, "nothing was saved");
    assert_eq!(versions().await, versions_before, "no new version");

    // 7. A valid change: the error goes as it is typed, the review shows the diff, and it saves.
    chrome.type_into(editor, r#"{"plone_instances": {"per_cpu": 2}}"#).await;
    eventually(UI_WAIT, "the check as you type to clear the error", || async {
        (!chrome.find("#json-error").await.is_displayed().await.ok()?).then_some(())
    })
    .await;
    chrome.button("Review the change").await.click().await.unwrap();
    let diff = chrome.find("#review ~ pre.diff").await.text().await.unwrap();
    assert!(diff.contains("+") && diff.contains("\"plone_instances\"") && diff.contains("\"per_cpu\": 2"), "{diff}");
    assert_eq!(versions().await, versions_before, "a review saves nothing");
    chrome.screenshot("custom-json-diff").await;
    audit.check(&chrome, "custom JSON diff").await;
    chrome.type_into("form[action='/stacks/demo/custom-json'] input[name='comment']", "two per CPU").await;
    chrome.button("Save").await.click().await.unwrap();
    chrome.wait_for_path("the editor after saving", |p| p.contains("saved=")).await;
    assert!(chrome.page_text().await.contains("Saved: version"), "{}", chrome.page_text().await);
    assert_eq!(stored().await, json!({"plone_instances": {"per_cpu": 2}}));
    let history = client.config_history("demo", None).await.unwrap();
    assert_eq!(history.len(), versions_before + 1);
    assert_eq!(history[0].comment.as_deref(), Some("two per CPU"));

    chrome.close().await;
    audit.assert_no_critical();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_show_user_has_no_deploy_button_and_a_forged_deploy_is_refused() {
    let stack = TestStack::start().await;
    stack.create_stack("shop", &[("web", "custom")]);
    stack.create_online_instance("shop", &["web"]);
    stack.cli_ok(&["app", "create", "--stack", "shop", "site", "--layer", "web", "--git", "/srv/git/site.git"]);
    stack.cli_ok(&["user", "create", "sam"]);
    stack.cli_ok(&["user", "grant", "--stack", "shop", "--level", "show", "sam"]);
    let token = stack.cli_ok(&["token", "create", "--user", "sam"]).trim().to_owned();
    let chrome = Chrome::start(&stack.url()).await;
    sign_in(&chrome, &token).await;

    // 8. No Deploy button, nor any button that changes the app.
    follow(&chrome, "/stacks/shop").await;
    let page = chrome.page_text().await;
    assert!(page.contains("Your level on this stack: show"), "{page}");
    assert!(!chrome.has("a[href$='/deploy']").await, "a show user has no Deploy button:\n{page}");
    follow(&chrome, "/stacks/shop/apps/site/releases").await;
    for action in ["Restart (one at a time)", "Start", "Stop", "Roll back to this"] {
        assert!(chrome.buttons(action).await.is_empty(), "a show user has no {action} button");
    }

    // A deploy posted anyway, with their session and its CSRF secret, is refused by the API.
    let forge = r#"
        const done = arguments[arguments.length - 1];
        const csrf = document.querySelector("form[action='/logout'] input[name='csrf']").value;
        fetch("/stacks/shop/apps/site/deploy", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ csrf: csrf, step: "go", batch: "1" }).toString(),
          redirect: "manual",
        }).then(async (r) => done([r.status, await r.text()])).catch((e) => done([0, String(e)]));
    "#;
    let answer: Value = chrome.client.execute_async(forge, vec![]).await.unwrap();
    assert_eq!(answer[0], 403, "the forged deploy is refused: {answer}");
    assert!(answer[1].as_str().unwrap().contains("deploy level"), "{answer}");
    // The same as a form submitted in the page: the person sees why.
    let submit = r#"
        const csrf = document.querySelector("form[action='/logout'] input[name='csrf']").value;
        const form = document.createElement("form");
        form.method = "post";
        form.action = "/stacks/shop/apps/site/deploy";
        for (const [name, value] of [["csrf", csrf], ["step", "go"], ["batch", "1"]]) {
          const input = document.createElement("input");
          input.type = "hidden"; input.name = name; input.value = value;
          form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
    "#;
    chrome.js(submit, vec![]).await;
    eventually(UI_WAIT, "the refusal page", || async {
        let text = chrome.client.find(fantoccini::Locator::Css("body")).await.ok()?.text().await.ok()?;
        text.contains("deploy level").then_some(())
    })
    .await;
    let deployments = stack.client().deployments("shop").await.unwrap();
    assert!(deployments.iter().all(|d| d.kind != "deploy"), "no deployment was made: {deployments:#?}");

    chrome.close().await;
}
