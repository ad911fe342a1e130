//! Which Drover layer type an OpsWorks layer becomes. The Plone cookbook
//! (`plone_buildout`) runs its layers as custom layers whose recipes say what they are:
//! `plone_buildout::instances-*` the ZEO clients, `plone_buildout::zeoserver-*` the ZEO server,
//! `plone_buildout::haproxy` and `nginx` (or OpsWorks' own `lb` layer) the frontend.

use crate::LayerType;

/// What a Chef recipe is in Drover: the layer type that does its work, if any.
pub fn recipe_type(recipe: &str) -> Option<LayerType> {
    let (cookbook, name) = recipe.split_once("::").unwrap_or((recipe, "default"));
    match (cookbook, name) {
        ("plone_buildout", "instances-celerybeat") => None,
        ("plone_buildout", n) if n == "instances" || n.starts_with("instances-") => Some(LayerType::PloneInstances),
        ("plone_buildout", n) if n == "zeoserver" || n.starts_with("zeoserver-") => Some(LayerType::Zeoserver),
        ("plone_buildout", "haproxy" | "nginx") | ("haproxy" | "nginx", _) => Some(LayerType::Frontend),
        _ => None,
    }
}

/// A layer type from a shortname alone (a custom layer without telling recipes).
fn shortname_type(shortname: &str) -> Option<LayerType> {
    match shortname {
        "zeoserver" | "zeo" | "zeo-server" | "zeo_server" => Some(LayerType::Zeoserver),
        "plone_instances" | "plone-instances" | "instances" | "clients" | "plone" => Some(LayerType::PloneInstances),
        "lb" | "haproxy" | "nginx" | "frontend" => Some(LayerType::Frontend),
        _ => None,
    }
}

/// The layer's type and why, from its OpsWorks `Type`, `Shortname` and custom recipes (in
/// lifecycle order). `known` is false for a built-in OpsWorks type Drover has no equivalent of.
pub fn decide(opsworks_type: &str, shortname: &str, recipes: &[String]) -> (LayerType, String, bool) {
    if opsworks_type == "lb" {
        return (LayerType::Frontend, "an OpsWorks HAProxy (lb) layer".into(), true);
    }
    if opsworks_type != "custom" {
        let why = format!("the built-in OpsWorks layer type {opsworks_type} has no Drover equivalent");
        return (LayerType::Custom, why, false);
    }
    if let Some((recipe, t)) = recipes.iter().find_map(|r| recipe_type(r).map(|t| (r, t))) {
        return (t, format!("its recipe {recipe}"), true);
    }
    if let Some(t) = shortname_type(shortname) {
        return (t, format!("its shortname {shortname}"), true);
    }
    (LayerType::Custom, "no recipe or shortname of a Plone layer".into(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_typed_by_recipes_then_shortname() {
        let r = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // (OpsWorks type, shortname, recipes, expected type, known)
        let cases = [
            ("custom", "app", r(&["plone_buildout::instances-setup"]), LayerType::PloneInstances, true),
            ("custom", "db", r(&["plone_buildout::zeoserver-setup"]), LayerType::Zeoserver, true),
            ("custom", "zeo", r(&["plone_buildout::zeoserver"]), LayerType::Zeoserver, true),
            ("custom", "web", r(&["plone_buildout::haproxy"]), LayerType::Frontend, true),
            ("custom", "web", r(&["nginx::default", "plone_buildout::nginx"]), LayerType::Frontend, true),
            ("lb", "lb", r(&["varnish::default"]), LayerType::Frontend, true),
            ("custom", "zeoserver", r(&[]), LayerType::Zeoserver, true),
            ("custom", "plone_instances", r(&["newrelic::default"]), LayerType::PloneInstances, true),
            ("custom", "maintenance", r(&["plone_buildout::enable_backups"]), LayerType::Custom, true),
            ("custom", "beat", r(&["plone_buildout::instances-celerybeat"]), LayerType::Custom, true),
            ("memcached", "memcached", r(&[]), LayerType::Custom, false),
            ("php-app", "php", r(&[]), LayerType::Custom, false),
        ];
        for (ow, shortname, recipes, want, known) in cases {
            let (got, why, is_known) = decide(ow, shortname, &recipes);
            assert_eq!((got, is_known), (want, known), "{ow} {shortname} {recipes:?}: {why}");
        }
    }
}
