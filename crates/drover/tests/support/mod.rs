//! `TestStack`: a real `drover server` (the binary cargo built for these tests) on a free loopback
//! port with a temporary data dir, and helpers to run the real CLI against it. Every process it
//! starts it stops by pid when dropped: the server, and each local agent (by its pid file, with
//! its process group).
#![allow(dead_code, clippy::unwrap_used)]

pub mod memcached;
pub mod postgres;
mod store;

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use drover_client::{AgentClient, Client};
use drover_proto::api::Instance;
use drover_proto::token::Token;

/// The `drover` binary under test.
pub fn drover_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_drover"))
}

/// Each server in this process gets its own /24 of loopback addresses for its local instances:
/// 127.0.N.0/24 from N = 10, or from `DROVER_TEST_NET_BASE` so that two test runs on one machine
/// (say, two worktrees) keep out of each other's addresses.
static NEXT_NET: AtomicU8 = AtomicU8::new(0);

fn next_net() -> u8 {
    let base = std::env::var("DROVER_TEST_NET_BASE").ok().and_then(|b| b.parse::<u8>().ok()).unwrap_or(10);
    base.saturating_add(NEXT_NET.fetch_add(1, Ordering::SeqCst))
}

/// How the server is started.
#[derive(Clone)]
pub struct Options {
    pub heartbeat_timeout_secs: f64,
    pub agent_heartbeat_secs: f64,
    pub shutdown_timeout_secs: u64,
    pub command_logs_kept: usize,
    /// The data dir, when not `data` in the test's temporary directory (e.g. a long path); the
    /// test creates and removes it.
    pub data_dir: Option<PathBuf>,
    /// `--command-log-max-bytes` (none: the server's default).
    pub command_log_max_bytes: Option<u64>,
    /// More `drover server` flags.
    pub server_args: Vec<String>,
    /// A command the server runs under, which execs it (e.g. `prlimit --nofile=64:64 --`).
    pub server_wrapper: Vec<String>,
    /// More environment for the server process (as an operator's shell might export).
    pub server_env: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            heartbeat_timeout_secs: 300.0,
            agent_heartbeat_secs: 5.0,
            shutdown_timeout_secs: 30,
            command_logs_kept: 30,
            data_dir: None,
            command_log_max_bytes: None,
            server_args: Vec::new(),
            server_wrapper: Vec::new(),
            server_env: Vec::new(),
        }
    }
}

/// A running server and its data dir.
pub struct TestStack {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub options: Options,
    pub first_address: Ipv4Addr,
    server: Option<Child>,
    /// Under `DROVER_TEST_DATABASE=postgres`: the store's own PostgreSQL (dropped after the server),
    /// shared with peers started by [`TestStack::start_peer`].
    store_database: Option<std::sync::Arc<PostgresStore>>,
    /// The admin token's file: the data dir's, or for a peer the first server's (a peer makes
    /// none of its own: the first server's works on every server of the store).
    token_file: Option<PathBuf>,
}

/// A server's store in PostgreSQL: a cluster of its own, and a database in it that the server
/// reaches as the `drover` role with the password from a 0600 passfile (never in argv or env).
pub struct PostgresStore {
    pub cluster: postgres::Postgres,
    /// The `--database` URL (no password in it).
    pub url: String,
    /// The passfile the server is given in `PGPASSFILE`.
    pub passfile: PathBuf,
}

impl PostgresStore {
    /// Starts a cluster with an empty `drover` database owned by a `drover` role.
    pub fn start(dir: &Path) -> Self {
        use std::os::unix::fs::OpenOptionsExt;
        let cluster = postgres::Postgres::start();
        let password = format!("pw-{}-{}", std::process::id(), free_port());
        cluster.create_database("drover", "drover", &password);
        let passfile = dir.join("pgpass");
        let mut file = std::fs::OpenOptions::new().create_new(true).write(true).mode(0o600).open(&passfile).unwrap();
        std::io::Write::write_all(
            &mut file,
            format!("127.0.0.1:{}:drover:drover:{password}\n", cluster.port).as_bytes(),
        )
        .unwrap();
        let url = format!("postgres://drover@127.0.0.1:{}/drover", cluster.port);
        Self { cluster, url, passfile }
    }
}

/// Whether the servers of these tests keep their store in PostgreSQL (`DROVER_TEST_DATABASE=postgres`)
/// rather than SQLite in the data dir.
pub fn on_postgres() -> bool {
    std::env::var("DROVER_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `check` every 100 ms until it returns `Some`, or panics after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl TestStack {
    /// Starts a server with default options.
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// Starts a server and waits until its API answers.
    pub async fn start_with(options: Options) -> Self {
        let net = next_net();
        let dir = tempfile::tempdir().unwrap();
        let store_database = on_postgres().then(|| std::sync::Arc::new(PostgresStore::start(dir.path())));
        Self::start_in(dir, net, options, store_database, None).await
    }

    /// Starts a server whose store is `store`, whatever `DROVER_TEST_DATABASE` says.
    pub async fn start_on_postgres(options: Options, store: impl FnOnce(&Path) -> PostgresStore) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(store(dir.path()));
        Self::start_in(dir, next_net(), options, Some(store), None).await
    }

    /// Starts another server on this one's PostgreSQL store: its own data dir, port and local
    /// addresses; this one's admin token.
    pub async fn start_peer(&self) -> Self {
        let store = self.store_database.clone().expect("peers share a PostgreSQL store");
        let token = self.token_file();
        Self::start_in(tempfile::tempdir().unwrap(), next_net(), self.options.clone(), Some(store), Some(token)).await
    }

    async fn start_in(
        dir: tempfile::TempDir,
        net: u8,
        options: Options,
        store_database: Option<std::sync::Arc<PostgresStore>>,
        token_file: Option<PathBuf>,
    ) -> Self {
        let mut stack = Self {
            dir,
            port: free_port(),
            options,
            first_address: Ipv4Addr::new(127, 0, net, 2),
            server: None,
            store_database,
            token_file,
        };
        stack.start_server().await;
        stack
    }

    /// Where the admin token this server accepts is kept.
    pub fn token_file(&self) -> PathBuf {
        self.token_file.clone().unwrap_or_else(|| self.data_dir().join("admin.token"))
    }

    pub fn data_dir(&self) -> PathBuf {
        self.options.data_dir.clone().unwrap_or_else(|| self.dir.path().join("data"))
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// (Re)starts the server process on the same port and data dir.
    pub async fn start_server(&mut self) {
        assert!(self.server.is_none(), "server already running");
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("server.log")).unwrap();
        let mut command = match self.options.server_wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(drover_bin());
                command
            }
            None => Command::new(drover_bin()),
        };
        command.arg("server").args(&self.options.server_args);
        if let Some(store) = &self.store_database {
            command.arg("--database").arg(&store.url).env("PGPASSFILE", &store.passfile);
        }
        if let Some(cap) = self.options.command_log_max_bytes {
            command.arg("--command-log-max-bytes").arg(cap.to_string());
        }
        let child = command
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--heartbeat-timeout-secs")
            .arg(self.options.heartbeat_timeout_secs.to_string())
            .arg("--agent-heartbeat-interval-secs")
            .arg(self.options.agent_heartbeat_secs.to_string())
            .arg("--shutdown-timeout-secs")
            .arg(self.options.shutdown_timeout_secs.to_string())
            .arg("--command-logs-kept")
            .arg(self.options.command_logs_kept.to_string())
            .arg("--local-first-address")
            .arg(self.first_address.to_string())
            .env("RUST_LOG", "info")
            .envs(self.options.server_env.iter().map(|(k, v)| (k, v)))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.server = Some(child);
        let token_file = self.token_file();
        eventually(Duration::from_secs(60), "the server to answer", || async {
            if !token_file.exists() {
                return None;
            }
            self.client().stacks().await.ok()
        })
        .await;
        if let Some(store) = &self.store_database {
            let said = format!("store: PostgreSQL at {}", store.url);
            assert!(self.server_log().contains(&said), "the server did not say {said:?}");
        }
    }

    /// Keeps the store in `store` from the next server start on (after `drover server migrate`).
    pub fn switch_store(&mut self, store: PostgresStore) {
        assert!(self.server.is_none(), "stop the server before switching its store");
        self.store_database = Some(std::sync::Arc::new(store));
    }

    /// The server's pid, while it runs.
    pub fn server_pid(&self) -> Option<u32> {
        self.server.as_ref().map(Child::id)
    }

    /// Stops the server with SIGTERM (local agents keep running, as in production).
    pub fn stop_server(&mut self) {
        if let Some(mut child) = self.server.take() {
            signal(child.id() as i32, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server with SIGKILL (a crash: nothing of it runs after), and waits for it to exit.
    pub fn kill_server(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.token_file()).unwrap().trim().to_owned()
    }

    /// One instance in the layers `zeoserver` and `clients`, with one client (`--cpu-count 1`),
    /// online.
    pub fn create_zeo_and_client_instance(&self, stack: &str) {
        let layers = ["--layer", "zeoserver", "--layer", "clients", "--cpu-count", "1", "--wait"];
        let mut args = vec!["instance", "create", "--stack", stack];
        args.extend(layers);
        self.cli_ok(&args);
    }

    /// A new join token: `drover token create --join` with these arguments (`--stack S`, ...).
    pub fn join_token(&self, args: &[&str]) -> String {
        let mut all = vec!["token", "create", "--join"];
        all.extend_from_slice(args);
        self.cli_ok(&all).trim().to_owned()
    }

    /// A new join token (as [`Self::join_token`]) in a new 0600 file in the test's directory, for
    /// `drover agent --join-file`.
    pub fn join_file(&self, args: &[&str]) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.path().join(format!("join-{n}.token"));
        let mut all = vec!["token", "create", "--join", "--output", path.to_str().unwrap()];
        all.extend_from_slice(args);
        self.cli_ok(&all);
        path
    }

    pub fn fingerprint(&self) -> String {
        self.admin_token().parse::<Token>().unwrap().ca_fingerprint
    }

    /// The typed API client with the admin token.
    pub fn client(&self) -> Client {
        Client::new(&self.url(), &self.fingerprint(), &self.admin_token()).unwrap()
    }

    /// The agent client of a local instance, with the credential it saved at enrollment.
    pub fn agent_client(&self, stack: &str, host: &str) -> AgentClient {
        let saved: serde_json::Value = serde_json::from_slice(
            &std::fs::read(self.instance_root(stack, host).join("var/lib/drover/agent.json")).unwrap(),
        )
        .unwrap();
        AgentClient::new(&self.url(), &self.fingerprint(), saved["credential"].as_str().unwrap()).unwrap()
    }

    pub fn instance_root(&self, stack: &str, host: &str) -> PathBuf {
        self.data_dir().join("instances").join(stack).join(host)
    }

    /// Runs the CLI with this server's credentials (blocking; call from `spawn_blocking` when a
    /// test must do other things meanwhile).
    pub fn cli(&self, args: &[&str]) -> Output {
        cli_with(&self.url(), &self.admin_token(), args)
    }

    /// Runs the CLI and asserts it exits 0; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "drover {args:?} failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Creates a stack with these layers (shortname, type).
    pub fn create_stack(&self, stack: &str, layers: &[(&str, &str)]) {
        self.cli_ok(&["stack", "create", stack]);
        for (layer, kind) in layers {
            self.cli_ok(&["layer", "create", "--stack", stack, layer, "--type", kind]);
        }
    }

    /// Creates a local instance in these layers and waits until it is online.
    pub fn create_online_instance(&self, stack: &str, layers: &[&str]) -> String {
        self.create_online_instance_with(stack, layers, &[])
    }

    /// [`Self::create_online_instance`] with more `instance create` flags.
    pub fn create_online_instance_with(&self, stack: &str, layers: &[&str], extra: &[&str]) -> String {
        let mut args = vec!["instance", "create", "--stack", stack, "--wait", "--timeout", "120"];
        for l in layers {
            args.extend(["--layer", l]);
        }
        args.extend_from_slice(extra);
        let out = self.cli_ok(&args);
        out.lines().find_map(|l| l.strip_prefix("created instance ")).unwrap().split(' ').next().unwrap().to_owned()
    }

    pub async fn instance(&self, stack: &str, host: &str) -> Instance {
        self.client().instance(stack, host).await.unwrap()
    }

    /// Waits until an instance has the status.
    pub async fn wait_status(&self, stack: &str, host: &str, status: &str, timeout: Duration) -> Instance {
        eventually(timeout, &format!("{host} to be {status}"), || async {
            self.client().instance(stack, host).await.ok().filter(|i| i.status == status)
        })
        .await
    }

    /// The pid of a local instance's agent.
    pub fn agent_pid(&self, stack: &str, host: &str) -> Option<i32> {
        std::fs::read_to_string(self.instance_root(stack, host).join("agent.pid")).ok()?.trim().parse().ok()
    }

    /// Every local agent pid this server wrote.
    pub fn agent_pids(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        let Ok(stacks) = std::fs::read_dir(self.data_dir().join("instances")) else { return pids };
        for stack in stacks.flatten() {
            for host in std::fs::read_dir(stack.path()).into_iter().flatten().flatten() {
                if let Some(pid) = read_pid(&host.path().join("agent.pid")) {
                    pids.push(pid);
                }
            }
        }
        pids
    }

    /// Pids of every supervised service under this server's local instances.
    pub fn service_pids(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        let pattern = self.data_dir().join("instances");
        for stack in std::fs::read_dir(pattern).into_iter().flatten().flatten() {
            for host in std::fs::read_dir(stack.path()).into_iter().flatten().flatten() {
                for app in std::fs::read_dir(host.path().join("srv/www")).into_iter().flatten().flatten() {
                    for state in std::fs::read_dir(app.path().join("shared/run")).into_iter().flatten().flatten() {
                        pids.extend(service_state_pid(&state.path()));
                    }
                }
            }
        }
        pids
    }

    /// The pid of app `site`'s `service` on `host`, from its supervisor's state file.
    pub fn service_pid(&self, stack: &str, host: &str, service: &str) -> Option<i32> {
        service_state_pid(&self.instance_root(stack, host).join(format!("srv/www/site/shared/run/{service}.json")))
    }

    /// Prints the end of the server's, each agent's and each service's log: what a failed test
    /// run (in CI, say) leaves to go on once its temporary directory is gone.
    fn print_log_tails(&self) {
        let mut logs = vec![self.dir.path().join("server.log")];
        let mut stack = vec![self.data_dir().join("instances")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for path in entries.flatten().map(|e| e.path()) {
                let is_release = path.parent().is_some_and(|p| p.ends_with("releases"));
                let is_link = path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink());
                if path.is_dir() && !is_link && !is_release && !path.ends_with("env") && !path.ends_with("cache") {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "log") {
                    logs.push(path);
                }
            }
        }
        logs.sort();
        for log in logs {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
            eprintln!("----- the last {} lines of {} -----", tail.len(), log.display());
            for line in tail {
                eprintln!("{line}");
            }
        }
    }

    /// Pids (with command lines) of processes, other than this one, whose command line names
    /// this test's directory.
    fn stray_pids(&self) -> Vec<(i32, String)> {
        let dirs = [self.dir.path().to_string_lossy().into_owned(), self.data_dir().to_string_lossy().into_owned()];
        let me = std::process::id() as i32;
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else { continue };
            let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
            if pid != me && dirs.iter().any(|dir| cmdline.contains(dir.as_str())) {
                pids.push((pid, cmdline));
            }
        }
        pids
    }

    /// Makes a git repository of the example buildout and creates app `site` from it in `stack`,
    /// deployed to `layers`.
    pub fn create_demo_app(&self, stack: &str, layers: &[&str]) -> DemoRepo {
        let repo = DemoRepo::create(self.dir.path());
        let url = repo.url();
        let mut args = vec!["app", "create", "--stack", stack, "site", "--git", url.as_str()];
        for layer in layers {
            args.extend(["--layer", layer]);
        }
        self.cli_ok(&args);
        repo
    }

    /// Runs the CLI (with `--custom-json FILE` when a document is given): exit code, stdout as
    /// JSON (null when it is not), stderr.
    pub fn cli_json(
        &self,
        args: &[&str],
        custom_json: Option<serde_json::Value>,
    ) -> (Option<i32>, serde_json::Value, String) {
        let mut args: Vec<&str> = args.to_vec();
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let file = self.dir.path().join(format!("custom-{stamp}.json"));
        if let Some(doc) = custom_json {
            std::fs::write(&file, doc.to_string()).unwrap();
            args.extend(["--custom-json", file.to_str().unwrap()]);
        }
        let out = self.cli(&args);
        let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (out.status.code(), json, String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// Removes the frontends' socket directories (outside the data dir, under `/run/drover` or
    /// `/tmp/drover-<uid>`) of this server's local instances.
    fn remove_socket_dirs(&self) {
        use std::os::unix::fs::MetadataExt;
        let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else { return };
        for stack in std::fs::read_dir(self.data_dir().join("instances")).into_iter().flatten().flatten() {
            for host in std::fs::read_dir(stack.path()).into_iter().flatten().flatten() {
                let root = std::fs::canonicalize(host.path()).unwrap_or_else(|_| host.path());
                for writable in [true, false] {
                    let base = drover_core::frontend::sockets::runtime_base(writable, uid);
                    let _ = std::fs::remove_dir_all(drover_core::frontend::sockets::Sockets::new(&base, &root).dir);
                }
            }
        }
    }

    /// The server's log so far (for assertion messages).
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

/// The pid in a supervisor's service state file (`shared/run/<service>.json`).
fn service_state_pid(path: &Path) -> Option<i32> {
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    state["pid"].as_i64().map(|p| p as i32)
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn signal(pid: i32, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
}

/// Kills a process group (an agent runs as the leader of its own group).
pub fn kill_group(pgid: i32) {
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), nix::sys::signal::Signal::SIGKILL);
}

/// An agent the test runs itself, as an operator would on another host (root `root`, its log
/// beside it as `<root>.log`); its process group is killed on drop.
pub struct HostAgent(pub Child);

impl HostAgent {
    /// Starts `drover agent --root ROOT --join-file FILE EXTRA...` with `env` added.
    pub fn start(root: &Path, join_file: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        Self::spawn(root, "127.0.0.1", join_file.as_os_str(), extra, env, None)
    }

    /// Starts `drover agent --root ROOT --address ADDRESS --join-file FILE EXTRA...`.
    pub fn start_at(root: &Path, address: &str, join_file: &Path, extra: &[&str]) -> Self {
        Self::spawn(root, address, join_file.as_os_str(), extra, &[], None)
    }

    /// Starts `drover agent --root ROOT --join-file - EXTRA...` and writes `token` to its stdin,
    /// as `echo "$TOKEN" | drover agent --join-file -` in a provisioning script would.
    pub fn start_with_token_on_stdin(root: &Path, token: &str, extra: &[&str]) -> Self {
        Self::spawn(root, "127.0.0.1", std::ffi::OsStr::new("-"), extra, &[], Some(token))
    }

    fn spawn(
        root: &Path,
        address: &str,
        join_file: &std::ffi::OsStr,
        extra: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Self {
        use std::os::unix::process::CommandExt;
        std::fs::create_dir_all(root).unwrap();
        let log = std::fs::File::create(root.with_extension("log")).unwrap();
        let mut child = Command::new(drover_bin())
            .arg("agent")
            .arg("--root")
            .arg(root)
            .arg("--address")
            .arg(address)
            .arg("--heartbeat-interval-secs")
            .arg("1")
            .arg("--join-file")
            .arg(join_file)
            .args(extra)
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        if let Some(token) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            std::io::Write::write_all(&mut pipe, format!("{token}\n").as_bytes()).unwrap();
        }
        Self(child)
    }

    /// Waits (up to 60 s) for the agent to give up; its exit status and log.
    pub async fn refused(mut self, root: &Path) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the agent of {} did not give up", root.display());
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        (status, std::fs::read_to_string(root.with_extension("log")).unwrap_or_default())
    }
}

impl Drop for HostAgent {
    fn drop(&mut self) {
        kill_group(self.0.id() as i32);
        let _ = self.0.wait();
    }
}

/// Runs the CLI against `url` with `token`.
pub fn cli_with(url: &str, token: &str, args: &[&str]) -> Output {
    cli_command(url, token, args).output().unwrap()
}

/// The CLI with these arguments, against this server, with nothing of the caller's environment
/// that would change what it does.
pub fn cli_command(url: &str, token: &str, args: &[&str]) -> Command {
    let mut command = Command::new(drover_bin());
    command
        .args(args)
        .env("DROVER_SERVER", url)
        .env("DROVER_TOKEN", token)
        .env("HOME", "/nonexistent")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("DROVER_STACK")
        .stdin(Stdio::null());
    command
}

/// How many lines of each log a failed test prints.
const LOG_TAIL_LINES: usize = 40;

impl Drop for TestStack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.print_log_tails();
            if std::env::var_os("DROVER_TEST_KEEP").is_some() {
                self.dir.disable_cleanup(true);
                eprintln!("DROVER_TEST_KEEP: kept {}", self.dir.path().display());
            }
        }
        self.stop_server();
        // SIGTERM lets each agent kill the process groups of commands it still runs.
        let pids = self.agent_pids();
        for pid in &pids {
            signal(*pid, nix::sys::signal::Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && pids.iter().any(|p| Path::new(&format!("/proc/{p}/cmdline")).exists()) {
            std::thread::sleep(Duration::from_millis(50));
        }
        for pid in pids {
            kill_group(pid);
        }
        // The services the agents supervised (they outlive agents by design).
        for pid in self.service_pids() {
            kill_group(pid);
        }
        // Anything else still running from this test's directory once those have exited was
        // lost track of: a bug, but it must not outlive the test and answer on a later test's
        // addresses.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && !self.stray_pids().is_empty() {
            std::thread::sleep(Duration::from_millis(100));
        }
        for (pid, cmdline) in self.stray_pids() {
            eprintln!("killing stray process {pid}: {cmdline}");
            signal(pid, nix::sys::signal::Signal::SIGKILL);
        }
        self.remove_socket_dirs();
    }
}

/// A git repository made from `examples/demo-buildout`, committed on branch `main`.
pub struct DemoRepo {
    pub path: PathBuf,
}

impl DemoRepo {
    /// Copies the example into `dir/repo` and commits it.
    pub fn create(dir: &Path) -> Self {
        Self::from_example(dir, "demo-buildout")
    }

    /// Copies `examples/<example>` into `dir/repo` and commits it.
    pub fn from_example(dir: &Path, example: &str) -> Self {
        let path = dir.join("repo");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(example);
        let status = Command::new("cp").arg("-r").arg(&example).arg(&path).status().unwrap();
        assert!(status.success());
        let repo = Self { path };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.commit("initial");
        repo
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.path)
            .env("GIT_AUTHOR_NAME", "test")
            .env("GIT_AUTHOR_EMAIL", "test@example.org")
            .env("GIT_COMMITTER_NAME", "test")
            .env("GIT_COMMITTER_EMAIL", "test@example.org")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Writes a file and commits everything; returns the new commit's SHA.
    pub fn write_and_commit(&self, file: &str, contents: &str, message: &str) -> String {
        let path = self.path.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self.commit(message)
    }

    /// Tags the current commit (a lightweight tag).
    pub fn tag(&self, name: &str) {
        self.git(&["tag", name]);
    }

    /// Commits everything; returns the SHA.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn url(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

/// GET a demo client over plain HTTP; its JSON answer.
pub async fn client_status(address: &str) -> Option<serde_json::Value> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).no_proxy().build().ok()?;
    http.get(format!("http://{address}/")).send().await.ok()?.json().await.ok()
}

/// POST /commit to a demo client: one ZODB transaction through ZEO.
pub async fn client_commit(address: &str) -> Option<i64> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).no_proxy().build().ok()?;
    let v: serde_json::Value = http.post(format!("http://{address}/commit")).send().await.ok()?.json().await.ok()?;
    v["hits"].as_i64()
}
