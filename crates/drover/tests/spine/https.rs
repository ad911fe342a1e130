//! HTTPS at the frontend: a certificate the test makes (its own CA) in `nginx_plone.ssl`, served
//! by nginx on 443 to a client that verifies it, port 80 redirecting; bad PEM and a key of
//! another certificate refused at their JSON path with nothing saved; an expired certificate
//! shown as expired in `stack frontends` and `status`.

use std::net::SocketAddr;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::{Value, json};

use crate::support::{TestStack, eventually};

const WAIT: Duration = Duration::from_secs(180);
const NAME: &str = "www.drover.test";

/// A CA of the test's own: its PEM and the issuer that signs with it.
fn test_ca() -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "drover test CA");
    let pem = params.self_signed(&key).unwrap().pem();
    let issuer = Issuer::from_ca_cert_pem(&pem, key).unwrap();
    (pem, issuer)
}

/// A certificate for [`NAME`] signed by the CA, ending at `not_after` (year, month, day): its PEM
/// and its key's.
fn leaf(ca: &Issuer<'_, KeyPair>, not_after: (i32, u8, u8)) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![NAME.to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, NAME);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    (params.signed_by(&key, ca).unwrap().pem(), key.serialize_pem())
}

fn doc(ssl: Value) -> Value {
    json!({"plone_instances": {"per_cpu": 1, "healthy_deadline": 60}, "nginx_plone": {"ssl": ssl}})
}

/// `stack set-json` with `doc`; the CLI's exit code and what it printed.
fn set_json(stack: &TestStack, doc: &Value, configure: bool) -> (Option<i32>, String) {
    let path = stack.data_dir().join("https-stack.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let mut args = vec!["stack", "set-json", "--stack", "tls", path.to_str().unwrap()];
    if configure {
        args.extend(["--configure", "--wait"]);
    }
    let out = stack.cli(&args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frontend_serves_https_with_the_stacks_certificate_and_shows_its_end() {
    let stack = TestStack::start().await;
    stack.create_stack("tls", &[("zeoserver", "zeoserver"), ("clients", "plone_instances"), ("web", "frontend")]);
    let (ca_pem, ca) = test_ca();
    let (cert, key) = leaf(&ca, (2099, 1, 1));
    let ssl = json!({"certificate": cert, "certificate_key": key, "certificate_ca": ca_pem, "hsts": 600});
    let (code, out) = set_json(&stack, &doc(ssl.clone()), false);
    assert_eq!(code, Some(0), "{out}");
    stack.cli_ok(&["instance", "create", "--stack", "tls", "--layer", "zeoserver", "--wait"]);
    stack.cli_ok(&["instance", "create", "--stack", "tls", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    let out = stack.cli(&["instance", "create", "--stack", "tls", "--layer", "web", "--wait"]);
    if !out.status.success() {
        let list = stack.cli_ok(&["deployment", "list", "--stack", "tls", "--json"]);
        let newest = serde_json::from_str::<Value>(&list).unwrap()[0]["id"].to_string();
        panic!("web1's Setup failed:\n{}", stack.cli_ok(&["deployment", "show", &newest]));
    }
    stack.create_demo_app("tls", &["zeoserver", "clients"]);
    let out = stack.cli(&["deploy", "--stack", "tls", "site", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    // The secrets never show: not in the stack's configuration.
    let shown = stack.cli_ok(&["stack", "config", "--stack", "tls", "--json"]);
    assert!(!shown.contains("PRIVATE KEY") && !shown.contains("BEGIN CERTIFICATE"), "{shown}");

    let client = stack.client();
    let frontend = eventually(WAIT, "the frontend on https", || async {
        client.frontends("tls").await.ok()?.into_iter().find(|f| f.servers.len() == 1 && f.url.starts_with("https://"))
    })
    .await;
    let certificate = frontend.certificate.clone().expect("the certificate is shown");
    assert_eq!((certificate.state.as_str(), certificate.expired), ("ok", false), "{certificate:?}");
    assert!(certificate.not_after.starts_with("2099-01-01") && certificate.days_left > 14, "{certificate:?}");
    assert_eq!(certificate.names, [NAME]);
    let address: std::net::IpAddr =
        frontend.url.trim_start_matches("https://").trim_end_matches('/').parse().expect("an address");

    // 200 over TLS to a client that trusts only the test's CA and reaches the name at the
    // frontend's address.
    let verified = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .resolve(NAME, SocketAddr::new(address, 443))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let response = eventually(WAIT, "the site over verified TLS", || async {
        verified.get(format!("https://{NAME}/")).send().await.ok().filter(|r| r.status() == 200)
    })
    .await;
    assert_eq!(response.headers().get("strict-transport-security").and_then(|v| v.to_str().ok()), Some("max-age=600"));
    let site: Value = response.json().await.unwrap();
    assert!(site.get("pid").is_some(), "the app answered: {site}");
    // A client that trusts nothing else refuses it (the check above is a real verification).
    let untrusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(leaf(&test_ca().1, (2099, 1, 1)).0.as_bytes()).unwrap()])
        .resolve(NAME, SocketAddr::new(address, 443))
        .no_proxy()
        .build()
        .unwrap();
    assert!(untrusting.get(format!("https://{NAME}/")).send().await.is_err());

    // Port 80 redirects to https, keeping the path.
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap();
    let redirect = plain.get(format!("http://{address}/some/page?x=1")).send().await.unwrap();
    assert_eq!(redirect.status(), 301);
    assert_eq!(
        redirect.headers().get("location").and_then(|v| v.to_str().ok()),
        Some(format!("https://{address}/some/page?x=1").as_str())
    );

    // Refused at the JSON path, nothing saved: PEM that is none, a key of another certificate,
    // a certificate without its key.
    let before = stack.cli_ok(&["stack", "config", "--stack", "tls", "--json"]);
    let (_, other_key) = leaf(&ca, (2099, 1, 1));
    let refused = [
        (json!({"certificate": "not a certificate", "certificate_key": key}), "nginx_plone.ssl.certificate"),
        (json!({"certificate": cert, "certificate_key": other_key}), "nginx_plone.ssl.certificate_key"),
        (
            json!({"certificate": cert, "certificate_key": "-----BEGIN PRIVATE KEY-----\nAA\n"}),
            "nginx_plone.ssl.certificate_key",
        ),
        (json!({"certificate": cert}), "nginx_plone.ssl.certificate_key"),
    ];
    for (bad, path) in refused {
        let (code, out) = set_json(&stack, &doc(bad), true);
        assert_ne!(code, Some(0), "{out}");
        assert!(out.contains(path), "{path}: {out}");
        assert!(!out.contains("PRIVATE KEY-----"), "the key is not echoed: {out}");
    }
    assert_eq!(stack.cli_ok(&["stack", "config", "--stack", "tls", "--json"]), before, "nothing was saved");

    // An expired certificate: accepted (it is the operator's to renew), shown as expired.
    let (old_cert, old_key) = leaf(&ca, (2021, 1, 1));
    let (code, out) = set_json(&stack, &doc(json!({"certificate": old_cert, "certificate_key": old_key})), true);
    assert_eq!(code, Some(0), "{out}");
    let frontends: Value =
        serde_json::from_str(&stack.cli_ok(&["stack", "frontends", "--stack", "tls", "--json"])).unwrap();
    let shown = &frontends[0]["certificate"];
    assert_eq!((shown["state"].as_str(), shown["expired"].as_bool()), (Some("expired"), Some(true)), "{frontends:#}");
    assert!(shown["days_left"].as_i64().unwrap() < 0, "{frontends:#}");
    let text = stack.cli_ok(&["stack", "frontends", "--stack", "tls"]);
    assert!(text.contains("expired") && text.contains("2021-01-01"), "{text}");
    let status = stack.cli_ok(&["status", "tls"]);
    let warning = status.lines().find(|l| l.starts_with("warning: frontend web1:")).unwrap_or_default();
    assert!(warning.contains("expired") && warning.contains(NAME), "{status}");
    let json_status: Value = serde_json::from_str(&stack.cli_ok(&["status", "tls", "--json"])).unwrap();
    assert_eq!(json_status["certificates"][0]["expired"], true, "{json_status:#}");
    // nginx serves the new (expired) certificate: the verifying client now refuses it.
    eventually(WAIT, "the expired certificate served", || async {
        verified.get(format!("https://{NAME}/")).send().await.is_err().then_some(())
    })
    .await;
}
