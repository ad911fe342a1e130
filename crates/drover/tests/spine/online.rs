//! Instances come online: enrollment, Setup, addresses, status views.

use crate::support::TestStack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_come_online_with_their_own_addresses() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom"), ("db", "zeoserver")]);
    let a = stack.create_online_instance("demo", &["web"]);
    let b = stack.create_online_instance("demo", &["web"]);
    let c = stack.create_online_instance("demo", &["db", "web"]);
    assert_eq!([a.as_str(), b.as_str(), c.as_str()], ["web1", "web2", "db1"]);

    let instances = stack.client().instances("demo").await.unwrap();
    let mut addresses: Vec<String> = instances.iter().map(|i| i.address.clone().unwrap()).collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 3, "each local instance has its own address: {instances:?}");
    for i in &instances {
        assert_eq!(i.status, "online");
        assert!(i.address.as_deref().unwrap().starts_with("127."), "{i:?}");
        assert!(i.cpu_count.unwrap() >= 1 && i.memory_bytes.unwrap() > 0, "{i:?}");
        assert!(i.agent_version.is_some(), "{i:?}");
    }
    // Setup ran on each: it lays out the instance's directories under its own root.
    for host in ["web1", "web2", "db1"] {
        let root = stack.instance_root("demo", host);
        assert!(root.join("srv/www").is_dir(), "{host} has no srv/www");
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join("var/lib/drover/stack-config.json")).unwrap()).unwrap();
        assert_eq!(config["opsworks"]["instance"]["hostname"], host);
    }
    // The status view shows them.
    let status = stack.cli_ok(&["status", "demo"]);
    assert!(status.contains("web2") && status.contains("online"), "{status}");
    let json: serde_json::Value =
        serde_json::from_str(&stack.cli_ok(&["instance", "list", "--stack", "demo", "--json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
}
