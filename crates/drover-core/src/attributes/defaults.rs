//! The built-in defaults (reference.md section 4): the bottom layer of every merge, so the
//! effective configuration shows every attribute with the value in force.

use serde_json::{Value, json};

/// The defaults of one app's `deploy.<app>` attributes.
pub fn deploy_defaults() -> Value {
    json!({
        "keep_releases": 5,
        "always_build_on_deploy": false,
        "buildout_extends": [],
        "buildout_parts_to_include": [],
        "buildout_inherit_parts": true,
        "buildout_additional_config": "",
        "buildout_config": "deploy.cfg",
        "buildout_flags": "",
        "buildout_version": "",
        "environment": {},
        "auto_revert": false
    })
}

/// The defaults document, with `deploy.<app>` for each of `apps`.
pub fn defaults<'a>(apps: impl IntoIterator<Item = &'a str>) -> Value {
    let deploy: serde_json::Map<String, Value> = apps.into_iter().map(|a| (a.to_owned(), deploy_defaults())).collect();
    json!({
        "plone_instances": {
            "app_name": "plone_instances",
            "base_config": "cfg/base.cfg",
            "site_id": "Plone",
            "per_cpu": 2,
            "instance_count": null,
            "zodb_cache_size": null,
            "zserver_threads": null,
            "persistent_cache": true,
            "shared_blobs": true,
            "restart_delay": 0,
            "sticky_sessions": false,
            "zeo_layer": "zeoserver",
            "zeo": {"address": null},
            "enable_relstorage": false,
            "relstorage": {
                "config": "cfg/relstorage.cfg",
                "db": {"type": "postgres", "dsn": null, "name": null, "host": null, "user": null, "password": null},
                "enable_cache": true,
                "cache_servers": null,
                "enable_pack": false,
                "pack_days": 7,
                "pack_schedule": "0 21 * * *",
                "two_stage_pack": false
            },
            "enable_celery": false,
            "celerybeat": false,
            "broker_layer": "celery_broker",
            "broker": {"host": null, "port": 6379},
            "solr_enabled": false,
            "solr_layer": "solr",
            "solr_host": null,
            "subsites": {},
            "subsite_config": {},
            "drain_timeout": 30,
            "healthy_deadline": 120,
            "max_unavailable": 1
        },
        "plone_zeoserver": {
            "app_name": "zeoserver",
            "enable_backup": false,
            "enable_pack": true,
            "pack_schedule": "0 1 * * 7",
            "backup_schedule": "0 21 * * *",
            "filestorage_dir": null
        },
        "plone_blobs": {"blob_dir": null},
        "nginx_plone": {
            "additional_config": null,
            "additional_servers": null,
            "default_config": null,
            "client_max_body_size": "128m",
            "enable_ssi": false,
            "log_retention_days": 14,
            "proxy_port": 6081,
            "ssl": {
                "certificate": null,
                "certificate_key": null,
                "certificate_ca": null,
                "hsts": null,
                "redirect_http": true
            }
        },
        "haproxy": {
            "balance": "leastconn",
            "retries": 3,
            "check_interval": 10000,
            "rise": 1,
            "fall": 5,
            "server_timeout": "900s",
            "client_timeout": "60s",
            "connect_timeout": "10s",
            "health_check_url": "/misc_/CMFPlone/plone_icon",
            "health_check_method": "HEAD",
            "stats_url": "/balancer/stats",
            "stats_user": "stats",
            "stats_password": null,
            "enable_stats": true
        },
        "logs": {"max_size": crate::service_logs::DEFAULT_MAX_SIZE, "keep": crate::service_logs::DEFAULT_KEEP},
        "deploy": deploy
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::schema::check;

    #[test]
    fn the_defaults_pass_their_own_check_and_carry_the_reference_values() {
        let d = defaults(["site"]);
        assert_eq!(check(&d), Default::default());
        let cases = [
            ("/plone_instances/per_cpu", json!(2)),
            ("/plone_instances/zeo_layer", json!("zeoserver")),
            ("/plone_instances/broker/port", json!(6379)),
            ("/plone_zeoserver/enable_pack", json!(true)),
            ("/haproxy/check_interval", json!(10000)),
            ("/haproxy/health_check_url", json!("/misc_/CMFPlone/plone_icon")),
            ("/nginx_plone/client_max_body_size", json!("128m")),
            ("/deploy/site/keep_releases", json!(5)),
            ("/deploy/site/buildout_inherit_parts", json!(true)),
            ("/logs/max_size", json!("50m")),
            ("/logs/keep", json!(5)),
        ];
        for (pointer, want) in cases {
            assert_eq!(d.pointer(pointer), Some(&want), "{pointer}");
        }
    }
}
