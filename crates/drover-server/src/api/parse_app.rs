//! Validation of app requests: every field checked, each error naming its JSON path.

use std::collections::BTreeMap;

use drover_core::Shortname;
use drover_core::app::{check_deploy_key, check_env_name, check_repository, check_revision};
use drover_proto::api::{CreateApp, UpdateApp};

use super::failure::Failure;

/// App types this version deploys.
const APP_TYPES: &[&str] = &["buildout"];
/// The largest value of one environment variable.
const MAX_ENV_VALUE: usize = 32 * 1024;

/// A checked app create or the merged result of an update.
pub struct AppSettings {
    pub app_type: String,
    pub layers: Vec<Shortname>,
    pub repository: String,
    pub revision: Option<String>,
    pub environment: BTreeMap<String, String>,
}

fn env(field: &str, vars: &BTreeMap<String, String>) -> Result<(), Failure> {
    for (name, value) in vars {
        check_env_name(name).map_err(|e| Failure::invalid(format!("{field}.{name}"), e.to_string()))?;
        if value.len() > MAX_ENV_VALUE || value.contains('\0') {
            return Err(Failure::invalid(format!("{field}.{name}"), "a value must be under 32 KiB, without NUL bytes"));
        }
    }
    Ok(())
}

fn layers(list: &[String]) -> Result<Vec<Shortname>, Failure> {
    if list.is_empty() {
        return Err(Failure::invalid("layers", "an app deploys to at least one layer; pass --layer NAME"));
    }
    list.iter()
        .enumerate()
        .map(|(i, l)| Shortname::parse(l).map_err(|e| Failure::invalid(format!("layers[{i}]"), format!("{l:?} {e}"))))
        .collect()
}

fn revision(rev: Option<&str>) -> Result<Option<String>, Failure> {
    match rev {
        None | Some("") => Ok(None),
        Some(r) => {
            check_revision(r).map(|()| Some(r.to_owned())).map_err(|e| Failure::invalid("revision", e.to_string()))
        }
    }
}

fn deploy_key(key: Option<&str>) -> Result<(), Failure> {
    match key {
        None | Some("") => Ok(()),
        Some(k) => check_deploy_key(k).map_err(|e| Failure::invalid("deploy_key", e.to_string())),
    }
}

fn overlap(plain: &BTreeMap<String, String>, secret: &BTreeMap<String, String>) -> Result<(), Failure> {
    match plain.keys().find(|k| secret.contains_key(*k)) {
        Some(k) => Err(Failure::invalid(
            format!("secret_environment.{k}"),
            format!("{k} is given both as a plain and as a secret variable; give it once"),
        )),
        None => Ok(()),
    }
}

/// Checks `POST /stacks/{stack}/apps`.
pub fn create(req: &CreateApp) -> Result<(Shortname, AppSettings), Failure> {
    let name = Shortname::parse(&req.name).map_err(|e| Failure::invalid("name", format!("{:?} {e}", req.name)))?;
    let app_type = req.app_type.clone().unwrap_or_else(|| "buildout".into());
    if !APP_TYPES.contains(&app_type.as_str()) {
        return Err(Failure::invalid(
            "type",
            format!("{app_type:?} is not an app type; use one of: {}", APP_TYPES.join(", ")),
        ));
    }
    let layers = layers(&req.layers)?;
    check_repository(&req.repository).map_err(|e| Failure::invalid("repository", e.to_string()))?;
    let revision = revision(req.revision.as_deref())?;
    deploy_key(req.deploy_key.as_deref())?;
    env("environment", &req.environment)?;
    env("secret_environment", &req.secret_environment)?;
    overlap(&req.environment, &req.secret_environment)?;
    let settings = AppSettings {
        app_type,
        layers,
        repository: req.repository.clone(),
        revision,
        environment: req.environment.clone(),
    };
    Ok((name, settings))
}

/// Checks `PATCH /stacks/{stack}/apps/{app}` and merges it into the current settings.
pub fn update(current: AppSettings, secret_names: &[String], req: &UpdateApp) -> Result<AppSettings, Failure> {
    let layers = match &req.layers {
        Some(list) => layers(list)?,
        None => current.layers,
    };
    let repository = match &req.repository {
        Some(url) => {
            check_repository(url).map_err(|e| Failure::invalid("repository", e.to_string()))?;
            url.clone()
        }
        None => current.repository,
    };
    let revision = match &req.revision {
        Some(r) => revision(Some(r))?,
        None => current.revision,
    };
    deploy_key(req.deploy_key.as_deref())?;
    env("environment", &req.environment)?;
    env("secret_environment", &req.secret_environment)?;
    overlap(&req.environment, &req.secret_environment)?;
    let mut environment = current.environment;
    for (i, name) in req.unset_environment.iter().enumerate() {
        if environment.remove(name).is_none() && !secret_names.contains(name) {
            return Err(Failure::invalid(format!("unset_environment[{i}]"), format!("the app has no variable {name}")));
        }
    }
    for (name, value) in &req.environment {
        environment.insert(name.clone(), value.clone());
    }
    // A variable moved between plain and secret lives in one place only.
    for name in req.secret_environment.keys() {
        environment.remove(name);
    }
    Ok(AppSettings { app_type: current.app_type, layers, repository, revision, environment })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_req() -> CreateApp {
        CreateApp {
            name: "site".into(),
            layers: vec!["clients".into()],
            repository: "https://example.org/site.git".into(),
            ..Default::default()
        }
    }

    fn field<T>(r: Result<T, Failure>) -> String {
        r.err().and_then(|f| f.0.field).unwrap_or_default()
    }

    #[test]
    fn create_checks_every_field() {
        assert!(create(&ok_req()).is_ok());
        let env = |k: &str| BTreeMap::from([(k.to_owned(), "v".to_owned())]);
        let cases: Vec<(CreateApp, &str)> = vec![
            (CreateApp { name: "Site".into(), ..ok_req() }, "name"),
            (CreateApp { app_type: Some("rails".into()), ..ok_req() }, "type"),
            (CreateApp { layers: vec![], ..ok_req() }, "layers"),
            (CreateApp { layers: vec!["ok".into(), "No".into()], ..ok_req() }, "layers[1]"),
            (CreateApp { repository: "nope".into(), ..ok_req() }, "repository"),
            (CreateApp { revision: Some("a b".into()), ..ok_req() }, "revision"),
            (CreateApp { deploy_key: Some("ssh-rsa AAA".into()), ..ok_req() }, "deploy_key"),
            (CreateApp { environment: env("1BAD"), ..ok_req() }, "environment.1BAD"),
            (CreateApp { secret_environment: env("A-B"), ..ok_req() }, "secret_environment.A-B"),
            (CreateApp { environment: env("X"), secret_environment: env("X"), ..ok_req() }, "secret_environment.X"),
        ];
        for (req, want) in cases {
            assert_eq!(field(create(&req)), want);
        }
    }

    #[test]
    fn update_merges() {
        let current = AppSettings {
            app_type: "buildout".into(),
            layers: vec![Shortname::parse("clients").unwrap()],
            repository: "https://example.org/a.git".into(),
            revision: Some("main".into()),
            environment: BTreeMap::from([("A".into(), "1".into()), ("B".into(), "2".into())]),
        };
        let req = UpdateApp {
            revision: Some(String::new()),
            environment: BTreeMap::from([("C".into(), "3".into())]),
            secret_environment: BTreeMap::from([("B".into(), "s".into())]),
            unset_environment: vec!["A".into()],
            ..Default::default()
        };
        let merged = update(current, &[], &req).unwrap();
        assert_eq!(merged.revision, None);
        assert_eq!(merged.environment, BTreeMap::from([("C".into(), "3".into())]));
        let bad = UpdateApp { unset_environment: vec!["Z".into()], ..Default::default() };
        let current = AppSettings {
            app_type: "buildout".into(),
            layers: vec![],
            repository: String::new(),
            revision: None,
            environment: BTreeMap::new(),
        };
        assert_eq!(field(update(current, &["S".into()], &bad)), "unset_environment[0]");
    }
}
