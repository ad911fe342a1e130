//! A headless Chromium driven through WebDriver, for the console's tests: `Chrome::start` runs
//! Debian's `chromedriver` on a free loopback port and opens one browser session on it. Dropping
//! it stops chromedriver and every Chromium process under it, by pid.

use std::collections::HashMap;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support::eventually;

/// How long a page, an element or a script may take on a loaded 2-core machine.
pub const UI_WAIT: Duration = Duration::from_secs(90);

/// The browser window (and so every screenshot): fixed, for stable pictures.
const WINDOW: (u32, u32) = (1280, 1040);

/// One chromedriver process and one browser session in it.
pub struct Chrome {
    pub client: Client,
    /// The console's base URL (`https://127.0.0.1:PORT`).
    pub base: String,
    driver: Child,
    /// The browser's profile and chromedriver's log: kept until the drop removes them.
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The binaries, with what to do when they are missing.
fn require(path: &str) -> &str {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: the browser tests need Debian's chromium and chromium-driver (scripts/deps.sh installs them)"
    );
    path
}

impl Chrome {
    /// Starts chromedriver and a headless Chromium that opens `base` (the console).
    pub async fn start(base: &str) -> Self {
        let chromedriver = require("/usr/bin/chromedriver");
        let chromium = require("/usr/bin/chromium");
        let dir = tempfile::tempdir().unwrap();
        let (mut driver, port) = start_driver(chromedriver, dir.path()).await;
        match open_session(chromium, port, &dir.path().join("profile")).await {
            Ok(client) => Self { client, base: base.to_owned(), driver, _dir: dir },
            Err(e) => {
                stop_tree(&mut driver);
                panic!("no browser session from chromedriver: {e}\n{}", log_tail(dir.path()));
            }
        }
    }

    /// Opens `path` of the console and waits for the page to load.
    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// The path of the page shown now.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the page shown is one whose path satisfies `wanted`; answers that path.
    pub async fn wait_for_path(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        eventually(UI_WAIT, what, || async {
            let path = self.path().await;
            wanted(&path).then_some(path)
        })
        .await
    }

    /// The first element matching a CSS selector, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(UI_WAIT).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => self.fail(&format!("no element {css:?}: {e}")).await,
        }
    }

    /// Whether an element matches `css` now (no waiting).
    pub async fn has(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.unwrap().is_empty()
    }

    /// The button whose text is `text`, waiting for it to appear.
    pub async fn button(&self, text: &str) -> Element {
        let xpath = format!("//button[normalize-space()='{text}']");
        match self.client.wait().at_most(UI_WAIT).for_element(Locator::XPath(&xpath)).await {
            Ok(element) => element,
            Err(e) => self.fail(&format!("no button {text:?}: {e}")).await,
        }
    }

    /// The buttons whose text is `text`, now.
    pub async fn buttons(&self, text: &str) -> Vec<Element> {
        let xpath = format!("//button[normalize-space()='{text}']");
        self.client.find_all(Locator::XPath(&xpath)).await.unwrap()
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// The whole page's visible text.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Runs a script in the page; answers what it returns.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Replaces what is typed in the field `css` with `text`, as a user would type it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Marks the page shown now: a reload, or another page, has no mark.
    pub async fn mark_page(&self) {
        self.js("window.__droverTestMark = true;", vec![]).await;
    }

    /// With `DROVER_SCREENSHOTS=1`, saves what the browser shows as `docs/console/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        if std::env::var("DROVER_SCREENSHOTS").as_deref() != Ok("1") {
            return;
        }
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Fails the test with `what`, the page shown and its text.
    async fn fail(&self, what: &str) -> ! {
        let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_else(|e| format!("unknown ({e})"));
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(e) => format!("(no page text: {e})"),
        };
        panic!("{what}\non {url}:\n{text}");
    }

    /// Ends the browser session (chromedriver stops Chromium); the drop stops chromedriver.
    pub async fn close(self) {
        let client = self.client.clone();
        let _ = tokio::time::timeout(Duration::from_secs(30), client.close()).await;
    }
}

/// Where the screenshots shown by README.md live.
fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/console")
}

/// The last lines of chromedriver's log in `dir`.
fn log_tail(dir: &Path) -> String {
    let log = std::fs::read_to_string(dir.join("chromedriver.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// A WebDriver session in a new headless Chromium with its profile in `profile`.
async fn open_session(chromium: &str, port: u16, profile: &Path) -> Result<Client, String> {
    let capabilities = json!({
        "browserName": "chrome",
        // The test server's certificate is self-signed (the CLI pins its fingerprint; a browser
        // cannot). This session alone accepts it: the test browser, nothing else.
        "acceptInsecureCerts": true,
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                // The tests run as root, where Chromium's sandbox cannot start.
                "--no-sandbox",
                "--disable-dev-shm-usage",
                format!("--window-size={},{}", WINDOW.0, WINDOW.1),
                "--force-device-scale-factor=1",
                "--hide-scrollbars",
                "--lang=en-US",
                format!("--user-data-dir={}", profile.display()),
                // Traffic stays on loopback: no name resolves but 127.0.0.1, and none of the
                // browser's own background calls (updates, safe browsing, metrics) are made.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--no-pings",
                "--disable-breakpad",
                "--disable-crash-reporter",
                "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
            ],
        },
    });
    let Value::Object(capabilities) = capabilities else { unreachable!("a JSON object") };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .map_err(|e| e.to_string())?;
    let timeouts = TimeoutConfiguration::new(Some(UI_WAIT), Some(UI_WAIT), None);
    client.update_timeouts(timeouts).await.map_err(|e| e.to_string())?;
    Ok(client)
}

/// Starts chromedriver on a free loopback port (another, if that one was taken in between) and
/// waits until it answers that it is ready.
async fn start_driver(chromedriver: &str, dir: &Path) -> (Child, u16) {
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port();
        let log = dir.join("chromedriver.log");
        let mut child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().unwrap();
        let status_url = format!("http://127.0.0.1:{port}/status");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(exit)) = child.try_wait() {
                last = format!("chromedriver exited ({exit}): {}", std::fs::read_to_string(&log).unwrap_or_default());
                break;
            }
            let ready = match http.get(&status_url).send().await {
                Ok(answer) => answer.json::<Value>().await.ok().is_some_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                return (child, port);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        stop_tree(&mut child);
        if last.is_empty() {
            last = "chromedriver did not answer ready within 60 s".into();
        }
    }
    panic!("could not start chromedriver: {last}");
}

impl Drop for Chrome {
    fn drop(&mut self) {
        stop_tree(&mut self.driver);
    }
}

/// Kills `child` and every process under it (Chromium and its helpers), by pid: the whole tree
/// is read first, then each is killed, so none escapes by being re-parented in between.
fn stop_tree(child: &mut Child) {
    let root = child.id() as i32;
    let mut tree = descendants(root);
    tree.push(root);
    for pid in tree {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
    let _ = child.wait();
}

/// The pids under `root`, from each process's parent in /proc.
fn descendants(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse::<i32>().ok()) {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or_default() {
            found.push(child);
            queue.push(child);
        }
    }
    found
}
