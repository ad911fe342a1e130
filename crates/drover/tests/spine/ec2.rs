//! The `ec2` provider against moto's EC2 server (a local stand-in for EC2; not real AWS): the
//! real server launches, stops, starts and terminates machines through the AWS SDK, and the test
//! plays the booted machine by running the agent with the registration from the user data moto
//! stored. What the server did is read back from moto's state (DescribeInstances by tags).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_ec2::Client as Ec2;
use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ec2::types::{Filter, InstanceAttributeName};
use base64::Engine;

use crate::ONLINE_WAIT;
use crate::support::{HostAgent, Options, TestStack, eventually, kill_group};

/// moto's `moto_server`: `DROVER_MOTO_SERVER`, or the venv `scripts/deps.sh` makes.
fn moto_server_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("DROVER_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let cache = PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/drover");
    let venvs = std::fs::read_dir(&cache).into_iter().flatten().flatten();
    let found = venvs
        .map(|e| e.path().join("bin/moto_server"))
        .filter(|p| p.parent().and_then(|b| b.parent()).is_some_and(|v| v.to_string_lossy().contains("moto-venv")))
        .find(|p| p.exists());
    found.unwrap_or_else(|| panic!("moto_server not found under {}: run scripts/deps.sh", cache.display()))
}

/// A `moto_server` on a free loopback port, stopped (its process group) on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    async fn start(dir: &std::path::Path) -> Self {
        use std::os::unix::process::CommandExt;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(dir.join("moto.log")).unwrap();
        let child = Command::new(moto_server_bin())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        let moto = Self { child, url: format!("http://127.0.0.1:{port}") };
        let client = moto.client();
        eventually(Duration::from_secs(60), "moto to answer", || async { client.describe_regions().send().await.ok() })
            .await;
        moto
    }

    /// The test's own EC2 client, to read moto's state (moto takes any credentials).
    fn client(&self) -> Ec2 {
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .build();
        Ec2::from_conf(config)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        kill_group(self.child.id() as i32);
        let _ = self.child.wait();
    }
}

/// A machine as moto has it.
#[derive(Debug)]
struct Seen {
    id: String,
    state: String,
    tags: Vec<(String, String)>,
}

/// The machines tagged with this stack and hostname.
async fn tagged(ec2: &Ec2, stack: &str, host: &str) -> Vec<Seen> {
    let filter = |k: &str, v: &str| Filter::builder().name(format!("tag:{k}")).values(v).build();
    let out = ec2
        .describe_instances()
        .filters(filter("drover:stack", stack))
        .filters(filter("drover:hostname", host))
        .send()
        .await
        .unwrap();
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| Seen {
            id: i.instance_id().unwrap().to_owned(),
            state: i.state().and_then(|s| s.name()).map(|n| n.as_str().to_owned()).unwrap_or_default(),
            tags: i.tags().iter().map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned())).collect(),
        })
        .collect()
}

async fn wait_state(ec2: &Ec2, id: &str, want: &str) {
    eventually(Duration::from_secs(60), &format!("machine {id} to be {want}"), || async {
        let out = ec2.describe_instances().instance_ids(id).send().await.ok()?;
        let state = out.reservations().first()?.instances().first()?.state()?.name()?.as_str().to_owned();
        (state == want).then_some(())
    })
    .await;
}

/// The user data moto stored for the machine, decoded.
async fn user_data(ec2: &Ec2, id: &str) -> String {
    let out = ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    let encoded = out.user_data().and_then(|u| u.value()).expect("the machine has user data");
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()).unwrap()
}

/// The registration in the user data: the join token, and `--stack`/`--instance` of its
/// `drover agent install` line.
fn registration(script: &str) -> (String, String, String) {
    let lines: Vec<&str> = script.lines().collect();
    let start = lines.iter().position(|l| l.ends_with("<<'DROVER_JOIN_TOKEN'")).expect("a join token here-document");
    let token = lines[start + 1].to_owned();
    assert_eq!(lines[start + 2], "DROVER_JOIN_TOKEN");
    let install = lines.iter().find(|l| l.contains("drover agent install")).expect("an agent install line");
    let arg = |flag: &str| {
        let rest = install.split(&format!("{flag} '")).nth(1).unwrap();
        rest.split('\'').next().unwrap().to_owned()
    };
    (token, arg("--stack"), arg("--instance"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_machines_are_run_stopped_started_found_again_and_terminated() {
    let scratch = tempfile::tempdir().unwrap();
    let moto = Moto::start(scratch.path()).await;
    let ec2 = moto.client();
    // The server's credentials: a shared-credentials file, 0600 (moto takes any).
    let credentials = scratch.path().join("aws-credentials");
    std::fs::write(&credentials, "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n").unwrap();
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o600)).unwrap();
    let options = Options {
        server_env: vec![
            ("AWS_SHARED_CREDENTIALS_FILE".into(), credentials.to_string_lossy().into_owned()),
            ("AWS_CONFIG_FILE".into(), scratch.path().join("aws-config").to_string_lossy().into_owned()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ],
        ..Options::default()
    };
    let mut stack = TestStack::start_with(options).await;
    stack.create_stack("cloud", &[("web", "custom")]);

    // The layer's settings; a mistake names its flag.
    let images = ec2.describe_images().send().await.unwrap();
    let ami = images.images().iter().filter_map(|i| i.image_id()).find(|id| id.len() == 12).unwrap().to_owned();
    let bad = stack.cli(&[
        "layer",
        "provider",
        "--stack",
        "cloud",
        "web",
        "ec2",
        "--ami",
        "ubuntu",
        "--instance-type",
        "t3.micro",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--ami: \"ubuntu\" is not an image id"), "{bad:?}");
    let out = stack.cli_ok(&[
        "layer",
        "provider",
        "--stack",
        "cloud",
        "web",
        "ec2",
        "--ami",
        &ami,
        "--instance-type",
        "t3.micro",
        "--tag",
        "team=web",
        "--region",
        "us-east-1",
        "--endpoint-url",
        &moto.url,
    ]);
    assert!(out.contains("layer web: provider ec2") && out.contains(&format!("ami: {ami}")), "{out}");
    let shown = stack.cli_ok(&["layer", "provider", "--stack", "cloud", "web"]);
    assert!(shown.contains("tag: team=web") && shown.contains(&moto.url), "{shown}");

    // Create: RunInstances with Drover's tags and the user's.
    let out = stack.cli_ok(&["instance", "create", "--stack", "cloud", "--layer", "web"]);
    assert!(out.contains("created instance web1 (ec2, booting)"), "{out}");
    let machines = tagged(&ec2, "cloud", "web1").await;
    assert_eq!(machines.len(), 1, "{machines:?}");
    let machine = &machines[0];
    for tag in [("drover:stack", "cloud"), ("drover:layer", "web"), ("drover:hostname", "web1"), ("team", "web")] {
        assert!(machine.tags.contains(&(tag.0.to_owned(), tag.1.to_owned())), "{tag:?} in {:?}", machine.tags);
    }
    assert_eq!(machine.state, "running");
    let id = machine.id.clone();
    assert_eq!(stack.instance("cloud", "web1").await.machine_id.as_deref(), Some(id.as_str()));

    // The machine boots: its user data's registration comes online.
    let script = user_data(&ec2, &id).await;
    let (token, stack_name, host) = registration(&script);
    assert_eq!((stack_name.as_str(), host.as_str()), ("cloud", "web1"));
    let secret = token.parse::<drover_proto::token::Token>().unwrap().secret;
    let root = stack.dir.path().join("machine-web1");
    let join_file = stack.dir.path().join("machine-web1.token");
    std::fs::write(&join_file, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&join_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let reused = stack.dir.path().join("reused.token");
    std::fs::copy(&join_file, &reused).unwrap();
    let address = stack.first_address.to_string();
    let agent_args = ["--stack", "cloud", "--instance", "web1"];
    let agent = HostAgent::start_at(&root, &address, &join_file, &agent_args);
    let online = stack.wait_status("cloud", "web1", "online", ONLINE_WAIT).await;
    assert_eq!(online.provider, "ec2");
    // The token was for one use.
    let again = HostAgent::start_at(&stack.dir.path().join("another"), &address, &reused, &agent_args);
    let (status, log) = again.refused(&stack.dir.path().join("another")).await;
    assert!(!status.success(), "a second use of the machine's join token is refused: {log}");

    // The stack file carries the layer's provider and settings: its export applies back unchanged.
    let exported = stack.dir.path().join("cloud.toml");
    stack.cli_ok(&["export", "--stack", "cloud", "-o", exported.to_str().unwrap()]);
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.contains("provider = \"ec2\"\nec2 = {") && text.contains(&moto.url), "{text}");
    let out = stack.cli_ok(&["apply", "-f", exported.to_str().unwrap()]);
    assert!(out.contains("0 created, 0 updated"), "{out}");
    assert_eq!(tagged(&ec2, "cloud", "web1").await.len(), 1, "applying launched nothing");

    // Stop: Shutdown, then StopInstances; the machine is off, and so is its agent.
    stack.cli_ok(&["instance", "stop", "--stack", "cloud", "web1", "--wait", "--timeout", "120"]);
    wait_state(&ec2, &id, "stopped").await;
    drop(agent);

    // Start: StartInstances; the machine boots and its agent (enrolled) comes back.
    stack.cli_ok(&["instance", "start", "--stack", "cloud", "web1"]);
    wait_state(&ec2, &id, "running").await;
    let agent = HostAgent::start_at(&root, &address, &join_file, &agent_args);
    stack.wait_status("cloud", "web1", "online", ONLINE_WAIT).await;
    assert_eq!(tagged(&ec2, "cloud", "web1").await.len(), 1, "started again, not launched again");

    // A restarted server whose stored machine id is stale finds the machine by its tags.
    stack.stop_server();
    stack.store_sql("UPDATE instances SET machine_id = 'i-00000000000dead00' WHERE hostname = 'web1'");
    // From here a lost machine is healed within seconds (the heartbeat timeout).
    stack.options.heartbeat_timeout_secs = 15.0;
    stack.start_server().await;
    eventually(Duration::from_secs(60), "the server to find the machine by its tags", || async {
        let instance = stack.client().instance("cloud", "web1").await.ok()?;
        (instance.machine_id.as_deref() == Some(id.as_str())).then_some(())
    })
    .await;

    // Auto-healing: a machine whose agent is gone past the heartbeat timeout is stopped and
    // started again through the provider (StopInstances, waiting for `stopped`, then
    // StartInstances); the test's machine boots again and its agent comes back.
    stack.wait_status("cloud", "web1", "online", ONLINE_WAIT).await;
    drop(agent);
    let healing = eventually(Duration::from_secs(120), "a healing event for web1", || async {
        let events = stack.client().events("cloud", None, Duration::ZERO, 100).await.ok()?;
        events.into_iter().find(|e| e.kind == "healing" && e.instance.as_deref() == Some("web1"))
    })
    .await;
    assert!(healing.message.contains("through the ec2 provider"), "{}", healing.message);
    stack.wait_status("cloud", "web1", "booting", ONLINE_WAIT).await;
    wait_state(&ec2, &id, "running").await;
    let agent = HostAgent::start_at(&root, &address, &join_file, &agent_args);
    stack.wait_status("cloud", "web1", "online", ONLINE_WAIT).await;
    assert_eq!(tagged(&ec2, "cloud", "web1").await.len(), 1, "healed on the same machine");

    // A machine terminated behind Drover's back: the instance is lost, and healing launches a
    // new machine, whose user data carries a new single-use token; it enrolls in the old one's place.
    ec2.terminate_instances().instance_ids(&id).send().await.unwrap();
    drop(agent);
    wait_state(&ec2, &id, "terminated").await;
    let replacement = eventually(Duration::from_secs(120), "a new machine for web1", || async {
        let machines = tagged(&ec2, "cloud", "web1").await;
        machines.into_iter().find(|m| m.id != id && m.state == "running")
    })
    .await;
    let id = replacement.id;
    let (token, _, _) = registration(&user_data(&ec2, &id).await);
    assert_ne!(token.parse::<drover_proto::token::Token>().unwrap().secret, secret, "a new token");
    let new_join = stack.dir.path().join("machine-web1-new.token");
    std::fs::write(&new_join, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&new_join, std::fs::Permissions::from_mode(0o600)).unwrap();
    let new_root = stack.dir.path().join("machine-web1-new");
    let agent = HostAgent::start_at(&new_root, &address, &new_join, &agent_args);
    stack.wait_status("cloud", "web1", "online", ONLINE_WAIT).await;
    assert_eq!(stack.instance("cloud", "web1").await.machine_id.as_deref(), Some(id.as_str()));

    // Delete (once stopped): TerminateInstances.
    stack.cli_ok(&["instance", "stop", "--stack", "cloud", "web1", "--wait", "--timeout", "120"]);
    wait_state(&ec2, &id, "stopped").await;
    drop(agent);
    stack.cli_ok(&["instance", "delete", "--stack", "cloud", "web1"]);
    wait_state(&ec2, &id, "terminated").await;
    assert!(stack.client().instance("cloud", "web1").await.is_err(), "the instance is gone");

    // The join token is in the user data only, never in the server's log.
    assert!(!stack.server_log().contains(&secret), "the join token's secret is not logged");
}
