//! The attributes drover knows (reference.md section 4), what each must hold, and the check of a
//! Custom JSON document against them. Every wrong value is reported at once, by JSON path; keys
//! drover does not know are kept (templates and hooks read them) but a likely typo of a known key
//! is named in a warning.

use serde_json::Value;

use crate::config_values::ValueKind;

/// What a known attribute must hold. Every attribute may also be `null`: "use the default".
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Any string (raw config text, which templates print as it is).
    Text,
    /// A string of one line: it is printed into `deploy.cfg` (no line break or control character).
    Line,
    /// One word: a `deploy.cfg` list item or command word (no whitespace).
    Word,
    /// A bare token of HAProxy or nginx (no whitespace, `;` `{` `}` `#` `$`, quotes, backslash).
    Token,
    /// true or false.
    Bool,
    /// A number at least `min`.
    Number {
        /// The smallest allowed value.
        min: f64,
    },
    /// A whole number in `min..=max`.
    Whole {
        /// The smallest allowed value.
        min: u64,
        /// The largest allowed value.
        max: u64,
    },
    /// A list of strings.
    Strings,
    /// A list of words (see `Word`).
    Words,
    /// A list of section names (letters, digits, `_ . -`).
    Names,
    /// `host:port`.
    Address,
    /// A host name or IP address, optionally with `:port`.
    Host,
    /// One of a fixed set of strings.
    Choice(&'static [&'static str]),
    /// A path starting with `/`.
    UrlPath,
    /// A duration such as `60s`, `900s`, `10s`, `5m` or `500ms`.
    Duration,
    /// An nginx size such as `128m`.
    Size,
    /// An object of string values (e.g. environment variables).
    StringMap,
    /// An object whose keys and values are tokens (host name → site path).
    TokenMap,
    /// A 5-field cron schedule in UTC, such as `"0 1 * * 7"` (`zodb::cron`).
    Schedule,
    /// Anything (a free-form object of the user's own keys).
    Any,
}

/// A node of the attribute tree.
#[derive(Debug, Clone, Copy)]
pub enum Node {
    /// A value of one kind.
    Leaf(Kind),
    /// An object with these known keys (others are kept, typos warned about).
    Object(&'static [(&'static str, Node)]),
    /// An object whose every key (an app's name) holds this node.
    EachKey(&'static Node),
}

use Kind::*;
use Node::{EachKey, Leaf, Object};

const PORT: Kind = Whole { min: 1, max: 65535 };

const RELSTORAGE_DB: &[(&str, Node)] = &[
    ("type", Leaf(Choice(&["postgres", "postgresql", "mysql", "oracle"]))),
    ("dsn", Leaf(Line)),
    ("name", Leaf(Line)),
    ("host", Leaf(Host)),
    ("port", Leaf(PORT)),
    ("user", Leaf(Line)),
    ("password", Leaf(Line)),
];

const RELSTORAGE: &[(&str, Node)] = &[
    ("config", Leaf(Word)),
    ("db", Object(RELSTORAGE_DB)),
    ("enable_cache", Leaf(Bool)),
    ("cache_servers", Leaf(Line)),
    ("enable_pack", Leaf(Bool)),
    ("pack_days", Leaf(Whole { min: 0, max: 3650 })),
    ("pack_schedule", Leaf(Schedule)),
    ("two_stage_pack", Leaf(Bool)),
    ("pack_gc", Leaf(Bool)),
    ("truncate_refs", Leaf(Bool)),
];

const PLONE_INSTANCES: &[(&str, Node)] = &[
    ("app_name", Leaf(Text)),
    ("base_config", Leaf(Word)),
    ("site_id", Leaf(Token)),
    ("per_cpu", Leaf(Number { min: 0.0 })),
    ("instance_count", Leaf(Whole { min: 1, max: 64 })),
    ("zodb_cache_size", Leaf(Whole { min: 1, max: u64::MAX })),
    ("zserver_threads", Leaf(Whole { min: 1, max: 1024 })),
    ("persistent_cache", Leaf(Bool)),
    ("shared_blobs", Leaf(Bool)),
    ("restart_delay", Leaf(Number { min: 0.0 })),
    ("sticky_sessions", Leaf(Bool)),
    ("zeo_layer", Leaf(Line)),
    ("zeo", Object(&[("address", Leaf(Address))])),
    ("enable_relstorage", Leaf(Bool)),
    ("relstorage", Object(RELSTORAGE)),
    ("enable_celery", Leaf(Bool)),
    ("celerybeat", Leaf(Bool)),
    ("celery_args", Leaf(Text)),
    ("beat_args", Leaf(Text)),
    ("broker_layer", Leaf(Line)),
    ("broker", Object(&[("host", Leaf(Host)), ("port", Leaf(PORT))])),
    ("solr_enabled", Leaf(Bool)),
    ("solr_layer", Leaf(Line)),
    ("solr_host", Leaf(Host)),
    ("subsites", Leaf(TokenMap)),
    ("subsite_config", Leaf(StringMap)),
    ("drain_timeout", Leaf(Number { min: 0.0 })),
    ("healthy_deadline", Leaf(Number { min: 1.0 })),
    ("max_unavailable", Leaf(Whole { min: 1, max: 1000 })),
];

const PLONE_ZEOSERVER: &[(&str, Node)] = &[
    ("app_name", Leaf(Text)),
    ("enable_backup", Leaf(Bool)),
    ("enable_pack", Leaf(Bool)),
    ("pack_schedule", Leaf(Schedule)),
    ("backup_schedule", Leaf(Schedule)),
    ("filestorage_dir", Leaf(Line)),
];

const NGINX_PLONE: &[(&str, Node)] = &[
    ("additional_config", Leaf(Text)),
    ("additional_configuration", Leaf(Text)),
    ("additional_servers", Leaf(Text)),
    ("default_config", Leaf(Text)),
    ("client_max_body_size", Leaf(Size)),
    ("enable_ssi", Leaf(Bool)),
    ("log_retention_days", Leaf(Whole { min: 0, max: 3650 })),
    ("proxy_port", Leaf(PORT)),
    ("ssl", Object(NGINX_SSL)),
];

/// `nginx_plone.ssl`: HTTPS at the frontend (the PEM texts are parsed by the server).
const NGINX_SSL: &[(&str, Node)] = &[
    ("certificate", Leaf(Text)),
    ("certificate_key", Leaf(Text)),
    ("certificate_ca", Leaf(Text)),
    ("hsts", Leaf(Whole { min: 0, max: crate::frontend::tls::MAX_HSTS_SECONDS })),
    ("redirect_http", Leaf(Bool)),
];

const HAPROXY: &[(&str, Node)] = &[
    ("balance", Leaf(Choice(&["leastconn", "roundrobin", "static-rr", "first", "source", "uri"]))),
    ("retries", Leaf(Whole { min: 0, max: 100 })),
    ("check_interval", Leaf(Whole { min: 100, max: 3_600_000 })),
    ("rise", Leaf(Whole { min: 1, max: 100 })),
    ("fall", Leaf(Whole { min: 1, max: 100 })),
    ("server_timeout", Leaf(Duration)),
    ("client_timeout", Leaf(Duration)),
    ("connect_timeout", Leaf(Duration)),
    ("health_check_url", Leaf(UrlPath)),
    ("health_check_method", Leaf(Choice(&["HEAD", "GET", "OPTIONS"]))),
    ("stats_url", Leaf(UrlPath)),
    ("stats_user", Leaf(Token)),
    ("stats_password", Leaf(Token)),
    ("enable_stats", Leaf(Bool)),
    ("sticky_sessions", Leaf(Bool)),
];

const DEPLOY_APP: Node = Object(&[
    (
        "scm",
        Object(&[
            ("repository", Leaf(Text)),
            ("revision", Leaf(Line)),
            ("ssh_key", Leaf(Text)),
            ("checkout", Leaf(Choice(&["export", "full"]))),
        ]),
    ),
    ("keep_releases", Leaf(Whole { min: 1, max: 1000 })),
    ("always_build_on_deploy", Leaf(Bool)),
    ("always_buildout_on_deploy", Leaf(Bool)),
    ("buildout_extends", Leaf(Words)),
    ("buildout_parts_to_include", Leaf(Names)),
    ("buildout_inherit_parts", Leaf(Bool)),
    ("buildout_additional_config", Leaf(Text)),
    ("buildout_config", Leaf(Text)),
    ("buildout_flags", Leaf(Line)),
    ("buildout_version", Leaf(Word)),
    ("environment", Leaf(StringMap)),
    ("auto_revert", Leaf(Bool)),
]);

/// The whole tree of known attributes.
pub const SCHEMA: Node = Object(&[
    ("plone_instances", Object(PLONE_INSTANCES)),
    ("plone_zeoserver", Object(PLONE_ZEOSERVER)),
    ("plone_blobs", Object(&[("blob_dir", Leaf(Line))])),
    ("nginx_plone", Object(NGINX_PLONE)),
    ("haproxy", Object(HAPROXY)),
    ("logs", Object(&[("max_size", Leaf(Size)), ("keep", Leaf(Whole { min: 0, max: 100 }))])),
    ("deploy", EachKey(&DEPLOY_APP)),
]);

/// A wrong value, by JSON path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{path}: expected {expected}, found {found}")]
pub struct Invalid {
    /// Where, e.g. `plone_instances.per_cpu`.
    pub path: String,
    /// What the attribute must hold.
    pub expected: String,
    /// What it holds (shortened).
    pub found: String,
}

/// An unknown key that looks like a typo of a known one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// Where, e.g. `plone_instances.per_cpus`.
    pub path: String,
    /// What it says.
    pub message: String,
}

/// What checking a document found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// Wrong values; the document must be refused when there is one.
    pub errors: Vec<Invalid>,
    /// Likely typos; the document is kept.
    pub warnings: Vec<Warning>,
}

/// Checks a Custom JSON document (one level's, or a merged one) against the known attributes.
pub fn check(doc: &Value) -> Check {
    let mut out = Check::default();
    if !doc.is_object() {
        out.errors.push(Invalid { path: "(top level)".into(), expected: "a JSON object".into(), found: shorten(doc) });
        return out;
    }
    walk(doc, &SCHEMA, &mut Vec::new(), &mut out);
    out
}

fn walk(value: &Value, node: &Node, path: &mut Vec<String>, out: &mut Check) {
    if value.is_null() {
        return;
    }
    match node {
        Leaf(kind) => {
            if let Err(expected) = check_leaf(*kind, value) {
                out.errors.push(Invalid { path: path.join("."), expected, found: shorten(value) });
            }
        }
        Object(known) => {
            let Some(map) = value.as_object() else {
                out.errors.push(Invalid { path: path.join("."), expected: "an object".into(), found: shorten(value) });
                return;
            };
            for (key, child) in map {
                path.push(key.clone());
                match known.iter().find(|(name, _)| name == key) {
                    Some((_, node)) => walk(child, node, path, out),
                    None => {
                        if let Some(near) = nearest(key, known.iter().map(|(name, _)| *name)) {
                            out.warnings.push(Warning {
                                path: path.join("."),
                                message: format!(
                                    "unknown key {key:?} is kept but not used by drover; did you mean {near:?}?"
                                ),
                            });
                        }
                    }
                }
                path.pop();
            }
        }
        EachKey(inner) => {
            let Some(map) = value.as_object() else {
                out.errors.push(Invalid {
                    path: path.join("."),
                    expected: "an object keyed by app name".into(),
                    found: shorten(value),
                });
                return;
            };
            for (key, child) in map {
                path.push(key.clone());
                walk(child, inner, path, out);
                path.pop();
            }
        }
    }
}

fn check_leaf(kind: Kind, v: &Value) -> Result<(), String> {
    let ok = match kind {
        Text => v.is_string(),
        Line => v.as_str().is_some_and(|s| ValueKind::Line.accepts(s)),
        Word => v.as_str().is_some_and(|s| ValueKind::Word.accepts(s)),
        Token => v.as_str().is_some_and(|s| ValueKind::Token.accepts(s)),
        Bool => v.is_boolean(),
        Number { min } => v.as_f64().is_some_and(|n| n.is_finite() && n >= min),
        Whole { min, max } => v.as_u64().is_some_and(|n| (min..=max).contains(&n)),
        Strings => v.as_array().is_some_and(|items| items.iter().all(Value::is_string)),
        Words => v
            .as_array()
            .is_some_and(|items| items.iter().all(|i| i.as_str().is_some_and(|s| ValueKind::Word.accepts(s)))),
        Names => v
            .as_array()
            .is_some_and(|items| items.iter().all(|i| i.as_str().is_some_and(|s| ValueKind::Name.accepts(s)))),
        Address => v.as_str().is_some_and(is_address),
        Host => v.as_str().is_some_and(is_host),
        Choice(options) => v.as_str().is_some_and(|s| options.contains(&s)),
        UrlPath => v.as_str().is_some_and(|s| s.starts_with('/') && ValueKind::Token.accepts(s)),
        Duration => v.as_str().is_some_and(is_duration),
        Size => v.as_str().is_some_and(is_size),
        StringMap => v.as_object().is_some_and(|m| m.values().all(Value::is_string)),
        TokenMap => v.as_object().is_some_and(|m| {
            m.iter()
                .all(|(k, v)| ValueKind::Token.accepts(k) && v.as_str().is_some_and(|s| ValueKind::Token.accepts(s)))
        }),
        Schedule => v.as_str().is_some_and(|s| crate::zodb::cron::Cron::parse(s).is_ok()),
        Any => true,
    };
    if ok { Ok(()) } else { Err(describe(kind)) }
}

fn describe(kind: Kind) -> String {
    match kind {
        Text => "a string".into(),
        Line => format!("a string of {}", ValueKind::Line.describe()),
        Word => format!("a string of {}", ValueKind::Word.describe()),
        Token => format!("a string of {}", ValueKind::Token.describe()),
        Bool => "true or false".into(),
        Number { min } => format!("a number of at least {min}"),
        Whole { min, max } if max == u64::MAX => format!("a whole number of at least {min}"),
        Whole { min, max } => format!("a whole number from {min} to {max}"),
        Strings => "a list of strings".into(),
        Words => format!("a list of strings, each {}", ValueKind::Word.describe()),
        Names => format!("a list of part names, each {}", ValueKind::Name.describe()),
        Address => "an address host:port (e.g. \"127.0.0.5:8001\")".into(),
        Host => "a host name or IP address, optionally with :port".into(),
        Choice(options) => format!("one of {}", options.join(", ")),
        UrlPath => format!("a URL path starting with / (e.g. \"/balancer/stats\"), {}", ValueKind::Token.describe()),
        Duration => "a duration such as \"60s\", \"5m\" or \"500ms\"".into(),
        Size => "a size such as \"128m\", \"1g\" or \"512k\"".into(),
        StringMap => "an object whose values are strings".into(),
        Schedule => {
            "a cron schedule of 5 fields in UTC, minute hour day-of-month month day-of-week (e.g. \"0 1 * * 7\")".into()
        }
        TokenMap => format!("an object whose keys and values are strings of {}", ValueKind::Token.describe()),
        Any => "anything".into(),
    }
}

/// `host:port` with a port from 1 to 65535.
pub fn is_address(s: &str) -> bool {
    let Some((host, port)) = s.rsplit_once(':') else { return false };
    is_host_name(host) && port.parse::<u16>().is_ok_and(|p| p > 0)
}

/// A host, optionally with `:port`.
pub fn is_host(s: &str) -> bool {
    is_host_name(s) || is_address(s)
}

fn is_host_name(s: &str) -> bool {
    let s = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        && !s.starts_with(['-', '.'])
}

fn is_duration(s: &str) -> bool {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && ["", "ms", "s", "m", "h", "d"].contains(&unit)
}

fn is_size(s: &str) -> bool {
    let digits = s.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
    !digits.is_empty() && digits.len() + 1 >= s.len() && digits.chars().all(|c| c.is_ascii_digit())
}

fn shorten(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 { format!("{}…", text.chars().take(60).collect::<String>()) } else { text }
}

/// The known key nearest to `key`, if it is close enough to be a typo of it.
fn nearest<'a>(key: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = if key.len() <= 4 { 1 } else { 2 };
    known.map(|k| (distance(&key.to_lowercase(), k), k)).filter(|(d, _)| *d <= limit).min().map(|(_, k)| k)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error_paths(doc: Value) -> Vec<String> {
        check(&doc).errors.into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn every_wrong_value_is_reported_by_path() {
        let doc = json!({
            "plone_instances": {
                "per_cpu": -1,
                "persistent_cache": "yes",
                "zeo": {"address": "db.internal"},
                "broker": {"port": 70000},
                "relstorage": {"db": {"type": "sqlite"}}
            },
            "haproxy": {"health_check_url": "misc_", "server_timeout": "soon", "balance": "random"},
            "nginx_plone": {"client_max_body_size": "lots", "ssl": {"hsts": -1, "redirect_http": "yes", "certificate": 1}},
            "deploy": {"site": {"keep_releases": 0, "buildout_extends": "a.cfg", "environment": {"N": 1}}}
        });
        let mut paths = error_paths(doc);
        paths.sort();
        assert_eq!(
            paths,
            [
                "deploy.site.buildout_extends",
                "deploy.site.environment",
                "deploy.site.keep_releases",
                "haproxy.balance",
                "haproxy.health_check_url",
                "haproxy.server_timeout",
                "nginx_plone.client_max_body_size",
                "nginx_plone.ssl.certificate",
                "nginx_plone.ssl.hsts",
                "nginx_plone.ssl.redirect_http",
                "plone_instances.broker.port",
                "plone_instances.per_cpu",
                "plone_instances.persistent_cache",
                "plone_instances.relstorage.db.type",
                "plone_instances.zeo.address",
            ]
        );
    }

    #[test]
    fn valid_documents_pass() {
        let cases = [
            json!({}),
            json!({"plone_instances": {"per_cpu": 0.5, "zeo": {"address": "127.0.0.5:8001"}, "solr_host": "solr1:8983"}}),
            json!({"plone_instances": {"zodb_cache_size": null, "broker": {"host": "10.0.0.7", "port": 6379}}}),
            json!({"haproxy": {"server_timeout": "900s", "check_interval": 10000, "health_check_method": "HEAD"}}),
            json!({"nginx_plone": {"client_max_body_size": "128m"}, "plone_blobs": {"blob_dir": "/srv/blobs"}}),
            json!({"deploy": {"site": {"environment": {"A": "1"}, "scm": {"revision": "main"}}}}),
            json!({"my_own": {"anything": [1, 2]}}),
        ];
        for doc in cases {
            assert_eq!(check(&doc), Check::default(), "{doc}");
        }
    }

    #[test]
    fn a_line_break_or_directive_breaker_in_a_rendered_scalar_is_refused_by_path() {
        let doc = json!({
            "haproxy": {"stats_user": "admin\n", "stats_password": "a;b", "stats_url": "/s{x}"},
            "plone_instances": {
                "site_id": "Plone\nprogram x",
                "subsites": {"de.example.org": "/Plone/de", "evil\n": "/x"},
                "relstorage": {"db": {"password": "pw\r\n[evil]"}},
                "zeo": {"address": "10.0.0.1\n:8001"}
            },
            "plone_blobs": {"blob_dir": "/srv/blobs\n"},
            "deploy": {"site": {"buildout_extends": ["a.cfg\n[x]"], "buildout_parts_to_include": ["p]\n[q"]}}
        });
        let mut paths = error_paths(doc);
        paths.sort();
        assert_eq!(
            paths,
            [
                "deploy.site.buildout_extends",
                "deploy.site.buildout_parts_to_include",
                "haproxy.stats_password",
                "haproxy.stats_url",
                "haproxy.stats_user",
                "plone_blobs.blob_dir",
                "plone_instances.relstorage.db.password",
                "plone_instances.site_id",
                "plone_instances.subsites",
                "plone_instances.zeo.address",
            ]
        );
        // The raw config texts stay raw.
        let raw = json!({
            "nginx_plone": {"additional_configuration": "a;\nb {}\n", "additional_servers": "server {}\n"},
            "plone_instances": {"subsite_config": {"de.example.org": "location / {}\n"}},
            "deploy": {"site": {"buildout_additional_config": "[x]\ny = 1\n"}}
        });
        assert_eq!(check(&raw), Check::default());
    }

    #[test]
    fn wrong_shapes() {
        assert_eq!(error_paths(json!([1])), ["(top level)"]);
        assert_eq!(error_paths(json!({"plone_instances": 3})), ["plone_instances"]);
        assert_eq!(error_paths(json!({"deploy": "site"})), ["deploy"]);
        assert_eq!(error_paths(json!({"deploy": {"site": []}})), ["deploy.site"]);
    }

    #[test]
    fn typos_of_known_keys_are_warned_about_and_other_keys_are_not() {
        let doc = json!({
            "plone_instance": {},
            "plone_instances": {"per_cpus": 2, "zeo_layr": "db", "newrelic_tracing": true},
            "deploy": {"site": {"keep_release": 3}},
            "nginx_plone": {"ssl": {"certificate_chain": "x", "hst": 60}},
            "customer": {"per_cpus": 1}
        });
        let found = check(&doc);
        assert!(found.errors.is_empty());
        let warned: Vec<&str> = found.warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(
            warned,
            [
                "deploy.site.keep_release",
                "nginx_plone.ssl.hst",
                "plone_instance",
                "plone_instances.per_cpus",
                "plone_instances.zeo_layr"
            ]
        );
        assert!(found.warnings[3].message.contains("did you mean \"per_cpu\""), "{:?}", found.warnings[3]);
    }

    #[test]
    fn leaf_formats() {
        let cases = [
            (Address, "127.0.0.5:8001", true),
            (Address, "db.internal:8001", true),
            (Address, "db.internal", false),
            (Address, "db:0", false),
            (Address, "a b:80", false),
            (Host, "solr1", true),
            (Host, "solr1:8983", true),
            (Host, "", false),
            (Duration, "900s", true),
            (Duration, "500ms", true),
            (Duration, "60", true),
            (Duration, "s", false),
            (Duration, "5 minutes", false),
            (Size, "128m", true),
            (Size, "1024", true),
            (Size, "128mb", false),
            (UrlPath, "/balancer/stats", true),
            (UrlPath, "balancer", false),
        ];
        for (kind, text, want) in cases {
            assert_eq!(check_leaf(kind, &json!(text)).is_ok(), want, "{kind:?} {text:?}");
        }
    }
}
