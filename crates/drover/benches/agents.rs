//! Many agents on one server: a load generator that speaks the agent protocol for N simulated
//! agents against a real `drover server` (release build), and measures what operators feel.
//!
//! Run: `cargo bench -p drover --bench agents` (release build). Settings, from the environment:
//! - `DROVER_BENCH_AGENTS`: agent counts to run, one fresh server each (default `1000`; the full
//!   curve is `1000,2000,5000,10000`);
//! - `DROVER_BENCH_PER_STACK`: agents per stack (default 100; stacks of one layer);
//! - `DROVER_BENCH_SVG`: where to write the plot of p99 latency against agent count (default
//!   `target/agents-scale.svg`);
//! - `DROVER_BENCH_SERVERS`: servers of the control plane (default 1; more need the store on
//!   PostgreSQL, `DROVER_TEST_DATABASE=postgres`). Agent i long-polls server i mod N and knows the
//!   others to fail over to; deployments are created through the first server, so most dispatches
//!   cross servers; CPU and RSS are the servers' sums; the restart is the first server's, whose
//!   agents fail over to the others.
//!
//! Each simulated agent enrolls with its stack's join token (`POST /agent/enroll`), says hello,
//! holds one long-poll (`GET /agent/commands/next?wait=25`) on its own TLS connection, sends a
//! heartbeat every 30 s, and runs every command it gets at once (ack, started, result: success).
//! So each instance goes through Setup and Configure as a real one does.
//!
//! For each count it prints:
//! - the time from the first enrollment until every instance is `online`;
//! - while all are connected: p50/p99 of CLI reads (a stack's status, its instances, the stacks)
//!   and of command dispatch (from the API call that creates an `execute` deployment for one
//!   instance until that agent has the command);
//! - the server's CPU (percent of one core, over the measuring window), RSS and open file
//!   descriptors (an agent's calls share one HTTP/2 connection: about one per agent);
//! - after a server restart (SIGTERM, start again on the same data dir): how long until every
//!   agent's long-poll is answered again. A simulated agent retries as the real one does (from
//!   200 ms doubling to 10 s, with jitter) and, after an error, first polls with a 1 s wait, so
//!   the moment it is back is seen at once.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drover_client::AgentClient;
use drover_core::stats::percentile;
use drover_proto::agent::{EnrollRequest, Heartbeat, Hello, HostFacts, ResultReport, StartReport};
use drover_proto::api::{CreateDeployment, CreateJoinToken};
use support::{Options, TestStack};

const POLL_WAIT: Duration = Duration::from_secs(25);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);
const READS: usize = 100;
const DISPATCHES: usize = 100;
/// Enrollments in flight at once (hosts booting together).
const ENROLLING: usize = 50;
const MEASURE_CPU_FOR: Duration = Duration::from_secs(60);

/// What the simulated agents share with the measuring side.
#[derive(Default)]
struct Shared {
    /// Command id → when its agent got it.
    received: Mutex<HashMap<i64, Instant>>,
    /// Per agent: milliseconds since `epoch` of its last answered long-poll.
    answered_ms: Vec<AtomicI64>,
    enrolled: AtomicUsize,
    /// Failed long-polls by kind (the status, or the error), to see what holds
    /// agents back after a restart.
    poll_errors: Mutex<HashMap<String, usize>>,
}

struct Agent {
    index: usize,
    client: AgentClient,
    facts: HostFacts,
}

fn facts(index: usize) -> HostFacts {
    // 127.64.0.0/10 and up: loopback addresses no test instance uses. The agents only report them.
    let (a, b) = (64 + index / 65_536, index % 65_536);
    HostFacts {
        address: format!("127.{a}.{}.{}", b / 256, b % 256),
        cpu_count: 2,
        memory_bytes: 4 << 30,
        agent_version: env!("CARGO_PKG_VERSION").into(),
        pid: 1_000_000 + index as u32,
    }
}

fn now_ms(epoch: Instant) -> i64 {
    epoch.elapsed().as_millis() as i64
}

/// Jittered exponential backoff between 200 ms and 10 s, as the real agent's long-poll retry.
struct Retry(Duration);

impl Retry {
    async fn wait(&mut self) {
        let jitter = 0.5 + rand::random::<f64>();
        tokio::time::sleep(self.0.mul_f64(jitter)).await;
        self.0 = (self.0 * 2).min(Duration::from_secs(10));
    }
}

async fn enroll(url: &str, fingerprint: &str, token: &str, stack: &str, index: usize) -> Agent {
    let joining = AgentClient::new(url, fingerprint, token).unwrap();
    let req = EnrollRequest { instance: None, stack: stack.into(), layers: vec!["web".into()], facts: facts(index) };
    let mut retry = Retry(Duration::from_millis(200));
    let enrolled = loop {
        match joining.enroll(&req).await {
            Ok(enrolled) => break enrolled,
            Err(e) if e.status().is_none() || e.status() == Some(429) || e.status().is_some_and(|s| s >= 500) => {
                retry.wait().await;
            }
            Err(e) => panic!("agent {index} could not enroll: {e}"),
        }
    };
    let client = AgentClient::new(url, fingerprint, &enrolled.credential).unwrap();
    Agent { index, client, facts: facts(index) }
}

/// Runs a command at once: acknowledged, started, successful.
async fn run_command(agent: &Agent, command: &drover_proto::agent::AgentCommand) {
    let id = command.id;
    let _ = agent.client.ack(id).await;
    let _ = agent.client.started(id, &StartReport { started_at_ms: wall_ms() }).await;
    let result = ResultReport {
        success: true,
        exit_code: Some(0),
        reason: None,
        finished_at_ms: wall_ms(),
        data: None,
        nonce: command.nonce.clone(),
    };
    let mut retry = Retry(Duration::from_millis(200));
    for _ in 0..20 {
        match agent.client.result(id, &result).await {
            Ok(()) => return,
            Err(e) if e.status().is_none() || e.status() == Some(429) || e.status().is_some_and(|s| s >= 500) => {
                retry.wait().await;
            }
            Err(_) => return,
        }
    }
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// One agent's life: hello, heartbeats, and the long-poll loop, until the bench ends.
async fn live(agent: Agent, shared: Arc<Shared>, epoch: Instant) {
    let agent = Arc::new(agent);
    let hello = Hello { facts: agent.facts.clone() };
    while agent.client.hello(&hello).await.is_err() {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let beating = agent.clone();
    tokio::spawn(async move {
        // Spread heartbeats over the interval, as agents that booted at different times do.
        tokio::time::sleep(HEARTBEAT_EVERY.mul_f64(rand::random::<f64>())).await;
        let mut every = tokio::time::interval(HEARTBEAT_EVERY);
        loop {
            every.tick().await;
            let beat = Heartbeat {
                cpu_percent: 5.0,
                memory_percent: 20.0,
                load_1m: 0.1,
                cpu_count: 2,
                memory_bytes: 4 << 30,
                services: vec![],
            };
            let _ = beating.client.heartbeat(&beat).await;
        }
    });
    let mut retry = Retry(Duration::from_millis(200));
    let mut after_error = false;
    loop {
        let wait = if after_error { Duration::from_secs(1) } else { POLL_WAIT };
        match agent.client.next_command(wait).await {
            Ok(next) => {
                shared.answered_ms[agent.index].store(now_ms(epoch), Ordering::Relaxed);
                retry = Retry(Duration::from_millis(200));
                after_error = false;
                if let Some(command) = next.command {
                    shared.received.lock().unwrap().insert(command.id, Instant::now());
                    let agent = agent.clone();
                    tokio::spawn(async move { run_command(&agent, &command).await });
                }
            }
            Err(e) => {
                let kind = match e.status() {
                    Some(status) => format!("HTTP {status}"),
                    None => e.to_string().chars().take(300).collect(),
                };
                *shared.poll_errors.lock().unwrap().entry(kind).or_default() += 1;
                after_error = true;
                retry.wait().await;
            }
        }
    }
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    // utime and stime are fields 14 and 15; after the ")" they are the 12th and 13th.
    fields.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

fn summary(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    (percentile(&ms, 50.0).unwrap_or(0.0), percentile(&ms, 99.0).unwrap_or(0.0))
}

/// One count's figures.
struct Figures {
    agents: usize,
    online_secs: f64,
    read: (f64, f64),
    dispatch: (f64, f64),
    cpu_percent: f64,
    rss_mib: f64,
    descriptors: usize,
    back_secs: f64,
    back: usize,
}

/// Agent `index`'s server list: its own server first, then the others.
fn urls_of(urls: &[String], index: usize) -> String {
    let first = index % urls.len();
    let mut list = vec![urls[first].clone()];
    list.extend(urls.iter().enumerate().filter(|(n, _)| *n != first).map(|(_, u)| u.clone()));
    list.join(",")
}

async fn run(agents: usize, per_stack: usize, servers: usize) -> Figures {
    let options = Options {
        agent_heartbeat_secs: HEARTBEAT_EVERY.as_secs_f64(),
        // The server's own connection cap: its open-files limit (raised to the hard limit, which
        // it inherits from this process) less what it keeps for itself.
        ..Options::default()
    };
    let mut stack = TestStack::start_with(options).await;
    assert!(servers == 1 || support::on_postgres(), "several servers need DROVER_TEST_DATABASE=postgres");
    let mut peers = Vec::new();
    for _ in 1..servers {
        peers.push(stack.start_peer().await);
    }
    let mut urls = vec![stack.url()];
    urls.extend(peers.iter().map(TestStack::url));
    let admin = stack.client();
    let stacks: Vec<String> = (0..agents.div_ceil(per_stack)).map(|n| format!("scale-{n:04}")).collect();
    let mut tokens = Vec::new();
    for name in &stacks {
        stack.create_stack(name, &[("web", "custom")]);
        let req = CreateJoinToken { uses: Some(per_stack as u32), expires_in_secs: Some(3600), ..Default::default() };
        tokens.push(admin.create_join_token(name, &req).await.unwrap().token);
    }
    let fingerprint = stack.fingerprint();
    let epoch = Instant::now();
    let shared =
        Arc::new(Shared { answered_ms: (0..agents).map(|_| AtomicI64::new(-1)).collect(), ..Default::default() });

    // Enroll, ENROLLING at a time, each agent then living on its own task.
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(ENROLLING));
    for index in 0..agents {
        let (url, fingerprint, shared) = (urls_of(&urls, index), fingerprint.clone(), shared.clone());
        let (token, name) = (tokens[index / per_stack].clone(), stacks[index / per_stack].clone());
        let permit = gate.clone().acquire_owned().await.unwrap();
        tokio::spawn(async move {
            let agent = enroll(&url, &fingerprint, &token, &name, index).await;
            drop(permit);
            shared.enrolled.fetch_add(1, Ordering::Relaxed);
            live(agent, shared, epoch).await;
        });
    }
    let mut online = 0;
    while online < agents {
        tokio::time::sleep(Duration::from_secs(2)).await;
        online = 0;
        for name in &stacks {
            online +=
                admin.instances(name).await.map(|l| l.iter().filter(|i| i.status == "online").count()).unwrap_or(0);
        }
        assert!(started.elapsed() < Duration::from_secs(1800), "only {online} of {agents} online after 30 min");
    }
    let online_secs = started.elapsed().as_secs_f64();
    println!("{agents} agents: all online after {online_secs:.1} s");
    // Let the Configure events of the last arrivals settle.
    tokio::time::sleep(Duration::from_secs(10)).await;

    let pids: Vec<u32> = std::iter::once(&stack).chain(&peers).map(|s| s.server_pid().unwrap()).collect();
    let all_ticks = || pids.iter().map(|pid| cpu_ticks(*pid)).sum::<u64>();
    let ticks_before = (all_ticks(), Instant::now());
    // Each read's time, by what it read: a stack's status, its instances, the stacks.
    let mut by_kind: [Vec<f64>; 3] = Default::default();
    for n in 0..READS {
        let name = &stacks[n % stacks.len()];
        let t = Instant::now();
        admin.stack_status(name).await.unwrap();
        by_kind[0].push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        admin.instances(name).await.unwrap();
        by_kind[1].push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        admin.stacks().await.unwrap();
        by_kind[2].push(t.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (kind, ms) in ["stack status", "instances", "stacks"].iter().zip(&by_kind) {
        let (p50, p99) = summary(ms.clone());
        let max = ms.iter().copied().fold(0.0, f64::max);
        println!("{agents} agents, reads of {kind}: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms");
    }
    let reads: Vec<f64> = by_kind.concat();
    let mut dispatch = Vec::with_capacity(DISPATCHES);
    for n in 0..DISPATCHES {
        let index = (n * 7919) % agents;
        let name = &stacks[index / per_stack];
        let host = admin.instances(name).await.unwrap();
        let host = &host[(n * 31) % host.len()].hostname;
        let req = CreateDeployment {
            kind: "execute".into(),
            command: vec!["true".into()],
            instances: vec![host.clone()],
            ..Default::default()
        };
        let t = Instant::now();
        let created = admin.create_deployment(name, &req).await.unwrap();
        let id = created.commands[0].id;
        let got = support::eventually(Duration::from_secs(60), "the agent to get its command", || async {
            shared.received.lock().unwrap().get(&id).copied()
        })
        .await;
        dispatch.push(got.duration_since(t).as_secs_f64() * 1000.0);
    }
    let left = MEASURE_CPU_FOR.saturating_sub(ticks_before.1.elapsed());
    tokio::time::sleep(left).await;
    let ticks = all_ticks() - ticks_before.0;
    let cpu_percent = ticks as f64 / 100.0 / ticks_before.1.elapsed().as_secs_f64() * 100.0;
    let rss = pids.iter().map(|pid| rss_mib(*pid)).sum::<f64>();
    let descriptors = pids.iter().map(|pid| open_descriptors(*pid)).sum::<usize>();

    shared.poll_errors.lock().unwrap().clear();
    stack.stop_server();
    stack.start_server().await;
    let restarted_ms = now_ms(epoch);
    let restarted = Instant::now();
    let mut back = 0;
    while restarted.elapsed() < Duration::from_secs(180) {
        back = shared.answered_ms.iter().filter(|a| a.load(Ordering::Relaxed) >= restarted_ms).count();
        if back == agents {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let back_secs = restarted.elapsed().as_secs_f64();
    let mut errors: Vec<(String, usize)> = shared.poll_errors.lock().unwrap().drain().collect();
    errors.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (kind, count) in errors.iter().take(5) {
        println!("{agents} agents, failed long-polls around the restart: {count} × {kind}");
    }
    drop(peers);
    stack.stop_server();
    Figures {
        agents,
        online_secs,
        read: summary(reads),
        dispatch: summary(dispatch),
        cpu_percent,
        rss_mib: rss,
        descriptors,
        back_secs,
        back,
    }
}

/// A small line plot of p99 read and dispatch latency against the agent count.
fn svg(figures: &[Figures]) -> String {
    let (w, h, left, bottom) = (640.0, 360.0, 60.0, 40.0);
    let max_agents = figures.iter().map(|f| f.agents).max().unwrap_or(1) as f64;
    let max_ms = figures.iter().map(|f| f.read.1.max(f.dispatch.1)).fold(100.0_f64, f64::max) * 1.1;
    let x = |agents: usize| left + (agents as f64 / max_agents) * (w - left - 20.0);
    let y = |ms: f64| (h - bottom) - (ms / max_ms) * (h - bottom - 20.0);
    let line = |pick: &dyn Fn(&Figures) -> f64| {
        figures.iter().map(|f| format!("{:.1},{:.1}", x(f.agents), y(pick(f)))).collect::<Vec<_>>().join(" ")
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"black\"/>\n\
         <line x1=\"{left}\" y1=\"20\" x2=\"{left}\" y2=\"{b}\" stroke=\"black\"/>\n\
         <text x=\"{cx}\" y=\"{t}\" text-anchor=\"middle\">connected agents</text>\n\
         <text x=\"14\" y=\"{cy}\" transform=\"rotate(-90 14 {cy})\" text-anchor=\"middle\">p99 latency (ms)</text>\n\
         <line x1=\"{left}\" y1=\"{target}\" x2=\"{r}\" y2=\"{target}\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n\
         <text x=\"{r}\" y=\"{tl}\" text-anchor=\"end\" fill=\"#666\">target 100 ms</text>\n",
        b = h - bottom,
        r = w - 20.0,
        cx = (w + left) / 2.0,
        t = h - 8.0,
        cy = h / 2.0,
        target = y(100.0),
        tl = y(100.0) - 4.0,
    );
    for f in figures {
        out += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            x(f.agents),
            h - bottom + 16.0,
            f.agents
        );
    }
    out += &format!(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f6feb\" stroke-width=\"2\"/>\n",
        line(&|f: &Figures| f.read.1)
    );
    out += &format!(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#d1242f\" stroke-width=\"2\"/>\n",
        line(&|f: &Figures| f.dispatch.1)
    );
    out += "<text x=\"80\" y=\"34\" fill=\"#1f6feb\">API reads p99</text>\n";
    out += "<text x=\"80\" y=\"50\" fill=\"#d1242f\">command dispatch p99</text>\n</svg>\n";
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
    let counts: Vec<usize> = std::env::var("DROVER_BENCH_AGENTS")
        .unwrap_or_else(|_| "1000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("DROVER_BENCH_AGENTS: agent counts separated by commas"))
        .collect();
    let per_stack: usize = std::env::var("DROVER_BENCH_PER_STACK").ok().and_then(|n| n.parse().ok()).unwrap_or(100);
    let servers: usize = std::env::var("DROVER_BENCH_SERVERS").ok().and_then(|n| n.parse().ok()).unwrap_or(1).max(1);
    let mut figures = Vec::new();
    for agents in counts {
        let f = run(agents, per_stack, servers).await;
        println!(
            "{servers} server(s), {} agents: online in {:.1} s | reads p50 {:.1} ms p99 {:.1} ms | dispatch p50 {:.1} ms p99 {:.1} ms | \
             server CPU {:.0} % of a core, RSS {:.0} MiB, {} open descriptors | after a restart {} of {} back in {:.1} s",
            f.agents,
            f.online_secs,
            f.read.0,
            f.read.1,
            f.dispatch.0,
            f.dispatch.1,
            f.cpu_percent,
            f.rss_mib,
            f.descriptors,
            f.back,
            f.agents,
            f.back_secs
        );
        figures.push(f);
    }
    // Cargo runs benches in the package's directory: the default is the workspace's target/.
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/agents-scale.svg");
    let path = std::env::var("DROVER_BENCH_SVG").unwrap_or_else(|_| default.into());
    std::fs::write(&path, svg(&figures)).unwrap_or_else(|e| panic!("writing the plot to {path}: {e}"));
    println!("plot: {path}");
}
