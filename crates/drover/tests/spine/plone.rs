//! The slow one, run once: the quickstart's stack (`examples/plone6-stack.toml`) with a real
//! Plone 6.2 site built by zc.buildout from `examples/plone6`, served by ZEO clients behind real
//! nginx and HAProxy, and a rolling redeploy that the site answers through.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{DemoRepo, TestStack, cli_with, eventually};

/// Plone's first build fetches and converts ~245 eggs: minutes on 2 cores.
const BUILD_WAIT: Duration = Duration::from_secs(2400);
const WAIT: Duration = Duration::from_secs(600);

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).no_proxy().build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow (a cold Plone build): run alone with `cargo test -p drover --test spine plone -- --ignored`"]
async fn a_plone_6_site_behind_the_frontend_answers_through_a_rolling_redeploy() {
    let stack = TestStack::start().await;
    let repo = DemoRepo::from_example(&stack.data_dir(), "plone6");
    let example = include_str!("../../../../examples/plone6-stack.toml");
    let file = stack.data_dir().join("plone.toml");
    std::fs::write(&file, example.replace("../drover-data/plone6.git", &repo.url())).unwrap();
    stack.cli_ok(&["apply", "-f", file.to_str().unwrap(), "--wait"]);

    // Each instance deploys the site right after its Setup; wait for all three builds.
    let client = stack.client();
    let releases = eventually(BUILD_WAIT, "the site deployed on every instance", || async {
        let running = client.deployments("plone").await.ok()?.iter().any(|d| d.status == "running");
        let releases = client.releases("plone", "site").await.ok()?;
        let current = releases.iter().filter(|r| r.current && r.outcome == "built").count();
        (!running && current == 3).then_some(releases)
    })
    .await;
    assert!(releases.iter().all(|r| r.outcome == "built"), "{releases:#?}");

    // Create the site through a client, as the quickstart does.
    let clients1 = stack.instance("plone", "clients1").await.address.unwrap();
    let body =
        serde_json::json!({"site_id": "Plone", "title": "Plone", "default_language": "en", "portal_timezone": "UTC"});
    eventually(WAIT, "the site to be created", || async {
        let resp = http()
            .post(format!("http://{clients1}:8081/@sites/classic"))
            .basic_auth("admin", Some("admin"))
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .ok()?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (status.is_success() || text.contains("already")).then_some(())
    })
    .await;

    // Through nginx and HAProxy.
    let frontends = eventually(WAIT, "the frontend", || async {
        client.frontends("plone").await.ok().filter(|f| f.len() == 1 && f[0].servers.len() == 2)
    })
    .await;
    let url = frontends[0].url.clone();
    let page = eventually(WAIT, "the site through nginx", || async {
        let resp = http().get(&url).send().await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.text().await.ok()
    })
    .await;
    assert!(page.contains("Plone"), "{}", &page[..page.len().min(500)]);

    // A rolling redeploy of a new commit: the site keeps answering, and the ZEO server, whose
    // script and configuration are the same in the new release, keeps running.
    let zeo_pid = || stack.service_pid("plone", "zeoserver1", "zeoserver").expect("the ZEO server runs");
    let zeo_before = zeo_pid();
    repo.write_and_commit("release-note.txt", "second release\n", "a second release");
    let deploy = tokio::task::spawn_blocking({
        let (server, token) = (stack.url(), stack.admin_token());
        move || cli_with(&server, &token, &["deploy", "--stack", "plone", "site", "--rolling", "--wait", "--json"])
    });
    let began = Instant::now();
    let (mut ok, mut failed) = (0usize, Vec::new());
    while !deploy.is_finished() && began.elapsed() < BUILD_WAIT {
        match http().get(&url).send().await {
            Ok(r) if r.status().is_success() => ok += 1,
            Ok(r) => failed.push(format!("{:.1} s: HTTP {}", began.elapsed().as_secs_f64(), r.status())),
            Err(e) => failed.push(format!("{:.1} s: {e}", began.elapsed().as_secs_f64())),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = deploy.await.unwrap();
    let d: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(out.status.code(), Some(0), "{d:#}");
    println!("plone: {ok} requests through the rolling redeploy, {} failed", failed.len());
    assert!(ok > 10, "the site was requested during the redeploy");
    assert!(
        failed.is_empty(),
        "{} of {} failed: {:?}",
        failed.len(),
        ok + failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert_eq!(http().get(&url).send().await.unwrap().status(), 200);
    assert_eq!(zeo_pid(), zeo_before, "the ZEO server was restarted by a deploy that changed none of its files");
}
