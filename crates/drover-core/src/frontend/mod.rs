//! The frontend layer (reference.md section 6): nginx in front of HAProxy in front of every ZEO
//! client of every online `plone_instances` instance. The server plans it from the stack; the
//! agent renders `haproxy.cfg` and `nginx.conf` from these templates and reloads only what changed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attributes::{AttributeError, Reader};
use crate::config_values::{Checker, Unsafe, ValueKind::*, single_line_formatter};
use crate::deploy::deploy_cfg::RenderError;

pub mod refusal;
pub mod sockets;
pub mod tls;

const HAPROXY_TEMPLATE: &str = include_str!("templates/haproxy.cfg.j2");
const NGINX_TEMPLATE: &str = include_str!("templates/nginx.conf.j2");

/// nginx's port.
pub const HTTP_PORT: u16 = 80;
/// One ZEO client in HAProxy's backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendServer {
    /// `<hostname>-client<n>`.
    pub name: String,
    /// `address:port`.
    pub address: String,
    /// Connections at once (the client's `zserver_threads`).
    pub maxconn: u32,
}

/// The name of a client in HAProxy's backend.
pub fn server_name(hostname: &str, client: &str) -> String {
    format!("{hostname}-{client}")
}

/// The instance and client a backend server name stands for (`<hostname>-client<N>`, the
/// hostname a valid name, N from 1 without leading zeros); none for anything else. What
/// reaches HAProxy's runtime API passes this first, so no text can add a command to it.
pub fn parse_server_name(server: &str) -> Option<(&str, &str)> {
    let at = server.rfind("-client")?;
    let (hostname, client) = (&server[..at], &server[at + 1..]);
    let n = &client["client".len()..];
    let number = !n.is_empty() && !n.starts_with('0') && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit());
    (number && crate::names::Shortname::parse(hostname).is_ok()).then_some((hostname, client))
}

/// `haproxy.*` (reference.md section 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HaproxySettings {
    /// `balance` ("leastconn").
    pub balance: String,
    /// `retries` (3).
    pub retries: u64,
    /// `check_interval` ms (10000).
    pub check_interval: u64,
    /// `check_interval / 10`.
    pub fastinter: u64,
    /// `check_interval / 2`.
    pub downinter: u64,
    /// `rise` (1).
    pub rise: u64,
    /// `fall` (5).
    pub fall: u64,
    /// `server_timeout` ("900s").
    pub server_timeout: String,
    /// `client_timeout` ("60s").
    pub client_timeout: String,
    /// `connect_timeout` ("10s").
    pub connect_timeout: String,
    /// `health_check_url`.
    pub health_check_url: String,
    /// `health_check_method` ("HEAD").
    pub health_check_method: String,
    /// `enable_stats` (true).
    pub enable_stats: bool,
    /// `stats_url` ("/balancer/stats").
    pub stats_url: String,
    /// `stats_user` ("stats").
    pub stats_user: String,
    /// `stats_password`: given, or generated and kept secret by the server.
    pub stats_password: String,
    /// `sticky_sessions` (false; also read from `plone_instances.sticky_sessions`).
    pub sticky_sessions: bool,
}

/// `nginx_plone.*` and the site to proxy to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NginxSettings {
    /// `client_max_body_size` ("128m").
    pub client_max_body_size: String,
    /// Raw text in every server block: `additional_config` (reference.md's name) and
    /// `additional_configuration` (the cookbook's and the seed's), both when both are set.
    pub additional_config: Option<String>,
    /// Raw text at `http` level.
    pub additional_servers: Option<String>,
    /// Replaces the default server's locations.
    pub default_config: Option<String>,
    /// `enable_ssi` (false).
    pub enable_ssi: bool,
    /// `plone_instances.site_id` ("Plone"): the default server's site.
    pub site_id: String,
    /// `plone_instances.subsites`: host name → site path (e.g. "/Plone/de").
    pub subsites: BTreeMap<String, String>,
    /// `plone_instances.subsite_config`: host name → raw server-block text.
    pub subsite_config: BTreeMap<String, String>,
    /// `nginx_plone.ssl`: HTTPS on [`tls::HTTPS_PORT`], when it gives a certificate and its key.
    #[serde(default)]
    pub ssl: Option<tls::SslSettings>,
}

/// What a frontend instance runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontendPlan {
    /// The instance.
    pub hostname: String,
    /// Its private address (nginx and HAProxy bind it).
    pub address: String,
    /// nginx's port.
    pub http_port: u16,
    /// HAProxy's port (`nginx_plone.proxy_port`, 6081).
    pub proxy_port: u16,
    /// Every ZEO client of every online plone_instances instance.
    pub servers: Vec<BackendServer>,
    /// HAProxy settings.
    pub haproxy: HaproxySettings,
    /// nginx settings.
    pub nginx: NginxSettings,
}

fn strings_map(doc: &Value, path: &[&str]) -> BTreeMap<String, String> {
    let mut v = doc;
    for key in path {
        match v.get(key) {
            Some(next) => v = next,
            None => return BTreeMap::new(),
        }
    }
    v.as_object()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

/// The texts that are set, one after the other; none when none is.
fn join_present<const N: usize>(texts: [Option<String>; N]) -> Option<String> {
    let present: Vec<String> = texts.into_iter().flatten().collect();
    (!present.is_empty()).then(|| present.join("\n"))
}

/// Reads the frontend's settings from an instance's effective attributes; `stats_password` is
/// used when the attributes set none.
pub fn settings(
    doc: &Value,
    generated_password: &str,
) -> Result<(HaproxySettings, NginxSettings, u16), Vec<AttributeError>> {
    let mut r = Reader::new(doc);
    let h = |k: &'static str| -> [&'static str; 2] { ["haproxy", k] };
    let n = |k: &'static str| -> [&'static str; 2] { ["nginx_plone", k] };
    let check_interval = r.whole(&h("check_interval"), 100).unwrap_or(100);
    let sticky = r.bool(&h("sticky_sessions")) || r.bool(&["plone_instances", "sticky_sessions"]);
    let haproxy = HaproxySettings {
        balance: r.string(&h("balance")).unwrap_or_default(),
        retries: r.whole(&h("retries"), 0).unwrap_or_default(),
        check_interval,
        fastinter: (check_interval / 10).max(100),
        downinter: (check_interval / 2).max(100),
        rise: r.whole(&h("rise"), 1).unwrap_or(1),
        fall: r.whole(&h("fall"), 1).unwrap_or(1),
        server_timeout: r.string(&h("server_timeout")).unwrap_or_default(),
        client_timeout: r.string(&h("client_timeout")).unwrap_or_default(),
        connect_timeout: r.string(&h("connect_timeout")).unwrap_or_default(),
        health_check_url: r.string(&h("health_check_url")).unwrap_or_default(),
        health_check_method: r.string(&h("health_check_method")).unwrap_or_default(),
        enable_stats: r.bool(&h("enable_stats")),
        stats_url: r.string(&h("stats_url")).unwrap_or_default(),
        stats_user: r.string(&h("stats_user")).unwrap_or_default(),
        stats_password: r.string(&h("stats_password")).unwrap_or_else(|| generated_password.to_owned()),
        sticky_sessions: sticky,
    };
    let nginx = NginxSettings {
        client_max_body_size: r.string(&n("client_max_body_size")).unwrap_or_default(),
        additional_config: join_present([r.string(&n("additional_config")), r.string(&n("additional_configuration"))]),
        additional_servers: r.string(&n("additional_servers")),
        default_config: r.string(&n("default_config")),
        enable_ssi: r.bool(&n("enable_ssi")),
        site_id: r.string(&["plone_instances", "site_id"]).unwrap_or_default(),
        subsites: strings_map(doc, &["plone_instances", "subsites"]),
        subsite_config: strings_map(doc, &["plone_instances", "subsite_config"]),
        ssl: tls::ssl_settings(&mut r),
    };
    let proxy_port = r.whole(&n("proxy_port"), 1).map_or(1, |p| p.min(65535) as u16);
    if r.errors.is_empty() { Ok((haproxy, nginx, proxy_port)) } else { Err(r.errors) }
}

/// Where the agent keeps the frontend's files.
#[derive(Debug, Clone, Serialize)]
struct Context<'a> {
    #[serde(flatten)]
    plan: &'a FrontendPlan,
    run_dir: &'a str,
    log_dir: &'a str,
    stats_socket: &'a str,
    tls: &'a TlsFiles,
    /// Whether this renders `nginx.conf` (only it names the TLS files).
    #[serde(skip)]
    renders_nginx: bool,
}

/// Where the agent wrote the certificate (with its chain) and the key that nginx serves.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TlsFiles {
    /// The certificate file's path.
    pub certificate: String,
    /// The key file's path.
    pub certificate_key: String,
}

fn render(name: &str, source: &str, ctx: Context<'_>) -> Result<String, RenderError> {
    ctx.check().map_err(|errors| RenderError::unsafe_values(name, &errors))?;
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_formatter(single_line_formatter);
    env.add_template(name, source).map_err(|e| RenderError::from_jinja(&e))?;
    let tmpl = env.get_template(name).map_err(|e| RenderError::from_jinja(&e))?;
    let mut text =
        tmpl.render(minijinja::Value::from(minijinja::value::Serde(ctx))).map_err(|e| RenderError::from_jinja(&e))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

impl Context<'_> {
    /// Every templated scalar checked for its kind, each refusal named by its field: what
    /// comes from agents (addresses), from Custom JSON (`haproxy.*`, `nginx_plone.*`,
    /// `plone_instances.*`) and from the agent's own paths. The raw config texts are not checked.
    fn check(&self) -> Result<(), Vec<Unsafe>> {
        let (p, h, n) = (self.plan, &self.plan.haproxy, &self.plan.nginx);
        let mut c = Checker::default();
        c.check(Line, "hostname", &p.hostname).check(Host, "address", &p.address);
        for s in &p.servers {
            c.check(Name, format!("servers.{}.name", s.name), &s.name);
            c.check(Host, format!("servers.{}.address", s.name), &s.address);
        }
        let tokens = [
            ("haproxy.balance", &h.balance),
            ("haproxy.server_timeout", &h.server_timeout),
            ("haproxy.client_timeout", &h.client_timeout),
            ("haproxy.connect_timeout", &h.connect_timeout),
            ("haproxy.health_check_url", &h.health_check_url),
            ("haproxy.health_check_method", &h.health_check_method),
            ("haproxy.stats_url", &h.stats_url),
            ("haproxy.stats_password", &h.stats_password),
            ("nginx_plone.client_max_body_size", &n.client_max_body_size),
            ("plone_instances.site_id", &n.site_id),
        ];
        for (path, value) in tokens {
            c.check(Token, path, value);
        }
        c.check(Token, "haproxy.stats_user", &h.stats_user);
        if h.stats_user.contains(':') {
            // `stats auth user:password`: the user ends at the first colon.
            let found = crate::facts::shown(&h.stats_user);
            c.errors.push(Unsafe { path: "haproxy.stats_user".into(), expected: "a user name without ':'", found });
        }
        for (host, path) in &n.subsites {
            c.check(Token, format!("plone_instances.subsites.{host}"), host);
            c.check(Token, format!("plone_instances.subsites.{host}"), path);
        }
        for host in n.subsite_config.keys() {
            c.check(Token, format!("plone_instances.subsite_config.{host}"), host);
        }
        c.check_opt(Token, "run_dir (the instance root)", Some(self.run_dir).filter(|d| !d.is_empty()));
        c.check_opt(Token, "log_dir (the instance root)", Some(self.log_dir).filter(|d| !d.is_empty()));
        c.check_opt(Token, "stats_socket", Some(self.stats_socket).filter(|d| !d.is_empty()));
        if self.renders_nginx && n.ssl.is_some() {
            // No paths (no files written) is refused too: nginx must not start without them.
            if !self.tls.certificate.is_empty() && !self.tls.certificate_key.is_empty() {
                c.check(Token, "ssl certificate file", &self.tls.certificate);
                c.check(Token, "ssl key file", &self.tls.certificate_key);
            } else {
                c.errors.push(Unsafe {
                    path: "nginx_plone.ssl".into(),
                    expected: "the paths of the certificate and key files the agent wrote",
                    found: "none".into(),
                });
            }
        }
        c.finish()
    }
}

impl FrontendPlan {
    /// `haproxy.cfg`, with its pid and state files under `run_dir` and its local runtime API
    /// at `stats_socket` (from [`sockets::Sockets`]: short whatever the instance root is).
    pub fn haproxy_cfg(&self, run_dir: &str, stats_socket: &str) -> Result<String, RenderError> {
        let tls = &TlsFiles::default();
        render(
            "haproxy.cfg",
            HAPROXY_TEMPLATE,
            Context { plan: self, run_dir, log_dir: "", stats_socket, tls, renders_nginx: false },
        )
    }

    /// `nginx.conf`, with its pid and temp files under `run_dir` and logs under `log_dir`
    /// (HTTPS needs [`Self::nginx_conf_with_tls`]).
    pub fn nginx_conf(&self, run_dir: &str, log_dir: &str) -> Result<String, RenderError> {
        self.nginx_conf_with_tls(run_dir, log_dir, &TlsFiles::default())
    }

    /// `nginx.conf`, serving HTTPS with the certificate and key files at `tls` when
    /// `nginx_plone.ssl` is set.
    pub fn nginx_conf_with_tls(&self, run_dir: &str, log_dir: &str, tls: &TlsFiles) -> Result<String, RenderError> {
        render(
            "nginx.conf",
            NGINX_TEMPLATE,
            Context { plan: self, run_dir, log_dir, stats_socket: "", tls, renders_nginx: true },
        )
    }
}

#[cfg(test)]
mod tests;
