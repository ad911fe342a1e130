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
        servers,
        haproxy,
        nginx,
    }
}

#[test]
fn haproxy_with_the_defaults() {
    let text = plan(&json!({})).haproxy_cfg("/srv/frontend/run", "/run/drover/0123456789abcdef/haproxy.sock").unwrap();
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
    let text = plan(&doc).haproxy_cfg("/run", "/run/drover/0123456789abcdef/haproxy.sock").unwrap();
    assert!(text.contains("stats auth stats:given") && !text.contains("generated-secret"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn haproxy_without_stats() {
    let text = plan(&json!({"haproxy": {"enable_stats": false}}))
        .haproxy_cfg("/run", "/run/drover/0123456789abcdef/haproxy.sock")
        .unwrap();
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

#[test]
fn nginx_with_the_cookbooks_additional_configuration() {
    // The seed's example (`nginx_plone["additional_configuration"]`) was dropped without a word.
    let doc = json!({
        "plone_instances": {"subsites": {"de.example.org": "/Plone/de"}},
        "nginx_plone": {
            "additional_configuration": "        add_header X-Drover-Extra seed;",
            "additional_servers": "    server { listen 127.0.0.2:8088; return 204; }",
            "default_config": "        location / { return 404; }"
        }
    });
    let text = plan(&doc).nginx_conf("/run", "/log").unwrap();
    assert_eq!(text.matches("server {").count(), 3, "{text}");
    assert_eq!(
        text.matches("        add_header X-Drover-Extra seed;\n").count(),
        2,
        "in every HTTP server block: {text}"
    );
    let http_level = text.find("    server { listen 127.0.0.2:8088").unwrap();
    assert!(http_level < text.find("server_name de.example.org").unwrap(), "additional_servers at http level: {text}");
    insta::assert_snapshot!(text);
}

#[test]
fn both_names_of_additional_config_are_kept() {
    // (nginx_plone document, the server-block text)
    let cases = [
        (json!({}), None),
        (json!({"additional_config": "a;"}), Some("a;")),
        (json!({"additional_configuration": "b;"}), Some("b;")),
        (json!({"additional_config": "a;", "additional_configuration": "b;"}), Some("a;\nb;")),
    ];
    for (nginx_plone, want) in cases {
        let (_, nginx, _) = settings(&json!({ "nginx_plone": nginx_plone }), "p").unwrap();
        assert_eq!(nginx.additional_config.as_deref(), want, "{nginx_plone}");
    }
}

#[test]
fn haproxy_takes_its_stats_socket_where_it_is_told() {
    let socket = "/run/drover/0123456789abcdef/haproxy.sock";
    let text = plan(&json!({})).haproxy_cfg("/a/very/long/instance/root/srv/www/.frontend/shared/run", socket).unwrap();
    assert!(text.contains(&format!("    stats socket {socket} mode 600 level admin\n")), "{text}");
    assert_eq!(text.matches(".sock").count(), 1, "no other socket under the run dir: {text}");
}

/// Regression: the frontend's settings repeated the defaults as fallbacks. Reading `{}` gives
/// what reading the defaults document gives.
#[test]
fn settings_of_nothing_are_the_defaults() {
    let empty = settings(&json!({}), "pw").unwrap();
    let defaults = settings(&crate::attributes::defaults([]), "pw").unwrap();
    assert_eq!(format!("{empty:?}"), format!("{defaults:?}"));
    let (h, n, proxy_port) = empty;
    assert_eq!((h.balance.as_str(), h.retries, h.check_interval, h.rise, h.fall), ("leastconn", 3, 10_000, 1, 5));
    assert_eq!((h.health_check_method.as_str(), h.health_check_url.as_str()), ("HEAD", "/misc_/CMFPlone/plone_icon"));
    assert_eq!((n.client_max_body_size.as_str(), n.site_id.as_str(), proxy_port), ("128m", "Plone", 6081));
    assert_eq!(h.stats_password, "pw");
}

#[test]
fn a_value_that_would_break_a_directive_is_refused_naming_its_field() {
    let sockets = "/run/drover/0123456789abcdef/haproxy.sock";
    // An agent's address with a line break (HAProxy's master-worker runs `program` sections).
    let mut evil = plan(&json!({}));
    evil.servers[2].address = "127.0.0.4:8081\nprogram pwn\n    command /bin/sh -c id".into();
    let e = evil.haproxy_cfg("/run", sockets).unwrap_err().to_string();
    assert!(e.contains("servers.clients2-client1.address holds \"127.0.0.4:8081\\nprogram pwn"), "{e}");
    // The plan is checked whole for either file, so neither is swapped in.
    assert!(evil.nginx_conf("/run", "/log").unwrap_err().to_string().contains("servers.clients2-client1.address"));

    /// The field named in the refusal, and how the plan is spoiled.
    type Case = (&'static str, fn(&mut FrontendPlan));
    let cases: [Case; 7] = [
        ("address", |p| p.address = "127.0.0.2;".into()),
        ("haproxy.balance", |p| p.haproxy.balance = "leastconn\nprogram x".into()),
        ("haproxy.stats_password", |p| p.haproxy.stats_password = "a b".into()),
        ("haproxy.stats_user", |p| p.haproxy.stats_user = "a:b".into()),
        ("plone_instances.site_id", |p| p.nginx.site_id = "Plone;}".into()),
        ("plone_instances.subsites.x", |p| {
            p.nginx.subsites.insert("x".into(), "/x\n".into());
        }),
        ("servers.a-client1.address", |p| {
            p.servers.push(BackendServer { name: "a-client1".into(), address: "h:1\r".into(), maxconn: 1 });
        }),
    ];
    for (field, spoil) in cases {
        let mut p = plan(&json!({}));
        spoil(&mut p);
        let h = p.haproxy_cfg("/run", sockets).map(|_| ()).unwrap_err().to_string();
        let n = p.nginx_conf("/run", "/log").map(|_| ()).unwrap_err().to_string();
        assert!(h.contains(&format!("{field} holds")) && h.contains("haproxy.cfg"), "{field}: {h}");
        assert!(n.contains(&format!("{field} holds")) && n.contains("nginx.conf"), "{field}: {n}");
    }
    // An instance root with a space would split a directive.
    let e = plan(&json!({})).nginx_conf("/srv/my root/run", "/log").unwrap_err().to_string();
    assert!(e.contains("run_dir"), "{e}");
}

#[test]
fn backend_server_names() {
    // (server name, the instance and client it stands for)
    let cases: &[(&str, Option<(&str, &str)>)] = &[
        ("clients1-client1", Some(("clients1", "client1"))),
        ("a-client-2-client12", Some(("a-client-2", "client12"))),
        ("plone-instances-named-32-chars-xy-client3", None),
        ("plone-instances-named-32-chars-x-client3", Some(("plone-instances-named-32-chars-x", "client3"))),
        ("clients1-client0", None),
        ("clients1-client01", None),
        ("clients1-client", None),
        ("clients1-clientx", None),
        ("clients1-client1;shutdown sessions server plone/x", None),
        ("clients1-client1\nset server plone/x addr 127.0.0.9", None),
        ("Clients1-client1", None),
        ("-client1", None),
        ("client1", None),
        ("", None),
    ];
    for (server, want) in cases {
        assert_eq!(parse_server_name(server), *want, "{server:?}");
    }
}

fn tls_files() -> TlsFiles {
    TlsFiles { certificate: "/tls/0123abcd.crt".into(), certificate_key: "/tls/0123abcd.key".into() }
}

#[test]
fn nginx_with_https() {
    let doc = json!({
        "plone_instances": {"subsites": {"de.example.org": "/Plone/de"}},
        "nginx_plone": {"ssl": {"certificate": "CERT", "certificate_key": "KEY", "hsts": 31536000}}
    });
    let text = plan(&doc).nginx_conf_with_tls("/run", "/log", &tls_files()).unwrap();
    assert!(text.contains("listen 127.0.0.2:443 ssl default_server;"), "{text}");
    assert!(text.contains("listen 127.0.0.2:443 ssl;"), "{text}");
    assert!(text.contains("ssl_protocols TLSv1.2 TLSv1.3;") && text.contains("ssl_session_tickets off;"), "{text}");
    assert!(text.contains("return 301 https://$host$request_uri;"), "{text}");
    assert_eq!(text.matches("listen 127.0.0.2:80").count(), 1, "only the redirect on port 80: {text}");
    assert_eq!(text.matches("add_header Strict-Transport-Security \"max-age=31536000\" always;").count(), 2, "{text}");
    assert!(text.contains("/VirtualHostBase/https/$host:443/Plone/de/VirtualHostRoot$1"), "{text}");
    assert!(!text.contains("KEY") && !text.contains("CERT"), "the PEM texts are files, not config: {text}");
    insta::assert_snapshot!(text);
}

#[test]
fn nginx_with_https_keeps_http_when_asked() {
    let doc = json!({"nginx_plone": {"ssl": {"certificate": "C", "certificate_key": "K", "redirect_http": false}}});
    let text = plan(&doc).nginx_conf_with_tls("/run", "/log", &tls_files()).unwrap();
    assert!(
        text.contains("listen 127.0.0.2:80 default_server;")
            && text.contains("listen 127.0.0.2:443 ssl default_server;")
    );
    assert!(
        text.contains("/VirtualHostBase/http/$host:80/Plone/")
            && text.contains("/VirtualHostBase/https/$host:443/Plone/")
    );
    assert!(!text.contains("return 301") && !text.contains("Strict-Transport-Security"), "{text}");
    // Without the files' paths nginx.conf does not render: nginx must not start on a half config.
    let e = plan(&doc).nginx_conf("/run", "/log").unwrap_err().to_string();
    assert!(e.contains("nginx_plone.ssl"), "{e}");
    // haproxy.cfg does not name them.
    assert!(plan(&doc).haproxy_cfg("/run", "/run/drover/0123456789abcdef/haproxy.sock").is_ok());
}
