use serde_json::json;

use super::*;

fn plan(doc: &Value) -> FrontendPlan {
    let (haproxy, nginx, proxy_port) = settings(doc, "generated-secret").unwrap();
    let servers = [("clients1", "127.0.0.3", 2), ("clients2", "127.0.0.4", 1)]
        .iter()
        .flat_map(|(host, address, clients)| {
            (1..=*clients).map(move |n| BackendServer {
                name: server_name(host, &format!("client{n}")),
                address: format!("{address}:{}", 8080 + n),
                maxconn: 2,
            })
        })
        .collect();
    FrontendPlan {
        hostname: "frontend1".into(),
        address: "127.0.0.2".into(),
        http_port: HTTP_PORT,
        proxy_port,
        runtime_port: RUNTIME_PORT,
        servers,
        haproxy,
        nginx,
    }
}

#[test]
fn haproxy_with_the_defaults() {
    let text = plan(&json!({})).haproxy_cfg("/srv/frontend/run").unwrap();
    assert!(text.contains("    server clients2-client1 127.0.0.4:8081 check maxconn 2\n"), "{text}");
    assert!(text.contains("default-server inter 10000 fastinter 1000 downinter 5000 rise 1 fall 5"), "{text}");
    assert!(text.contains("stats auth stats:generated-secret"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn haproxy_tuned() {
    let doc = json!({"haproxy": {
        "balance": "roundrobin", "check_interval": 2000, "rise": 2, "fall": 3, "stats_password": "given",
        "health_check_method": "GET", "health_check_url": "/ok", "server_timeout": "300s", "enable_stats": true,
        "sticky_sessions": true
    }});
    let text = plan(&doc).haproxy_cfg("/run").unwrap();
    assert!(text.contains("stats auth stats:given") && !text.contains("generated-secret"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn haproxy_without_stats() {
    let text = plan(&json!({"haproxy": {"enable_stats": false}})).haproxy_cfg("/run").unwrap();
    assert!(!text.contains("stats auth") && !text.contains("stats uri"), "{text}");
}

#[test]
fn nginx_with_the_defaults() {
    let text = plan(&json!({})).nginx_conf("/srv/frontend/run", "/srv/frontend/log").unwrap();
    assert!(text.contains("listen 127.0.0.2:80 default_server;"), "{text}");
    assert!(text.contains("server 127.0.0.2:6081;"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn nginx_with_subsites_and_raw_config() {
    let doc = json!({
        "plone_instances": {
            "site_id": "Site",
            "subsites": {"de.example.org": "/Site/de"},
            "subsite_config": {"de.example.org": "        add_header X-Lang de;"}
        },
        "nginx_plone": {
            "client_max_body_size": "512m",
            "additional_config": "        add_header X-Frame-Options SAMEORIGIN;",
            "additional_servers": "    server { listen 127.0.0.2:8088; return 204; }",
            "enable_ssi": true,
            "proxy_port": 6090
        }
    });
    let text = plan(&doc).nginx_conf("/run", "/log").unwrap();
    assert!(text.contains("/VirtualHostBase/http/$host:80/Site/de/VirtualHostRoot$1"), "{text}");
    assert!(text.contains("server 127.0.0.2:6090;"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn wrong_settings_are_named_by_path() {
    let errors = settings(&json!({"haproxy": {"rise": "x", "enable_stats": 1}}), "p").unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["haproxy.rise", "haproxy.enable_stats"]);
}
