//! App actions on one instance: deploy (the cases of reference.md section 3, built before the
//! switch), rollback, start, stop, restart, undeploy.

mod build;
pub mod git;
pub mod paths;
pub mod releases;
pub(crate) mod steps;
mod templates;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use drover_core::deploy::case::{Built, DeployCase, decide};
use drover_core::deploy::history::{Outcome, prune, rollback_target};
use drover_core::deploy::plan::BuildPlan;
use drover_core::deploy::release_name::{UtcTime, release_name};
use drover_proto::agent::{AppAction, AppReport, AppSecrets, AppSpec, ReleaseRecord};
use serde_json::Value;

use self::paths::AppPaths;
use crate::frontend::gate::Gate;
use crate::output::OutputStream;
use crate::supervisor::Supervisor;

/// What an app action ended with.
pub struct ActionResult {
    /// Success, or why not.
    pub outcome: Result<(), String>,
    /// The instance's releases afterwards.
    pub report: AppReport,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn utc_now() -> UtcTime {
    let t = time::OffsetDateTime::now_utc();
    UtcTime {
        year: t.year(),
        month: t.month() as u8,
        day: t.day(),
        hour: t.hour(),
        minute: t.minute(),
        second: t.second(),
    }
}

/// Marks builds that an earlier run of the agent left unfinished (it was killed mid-build) as
/// failed: they never became current, and nothing will finish them.
pub fn fail_interrupted_builds(root: &Path) {
    let Ok(apps) = std::fs::read_dir(root.join("srv/www")) else { return };
    for app in apps.flatten() {
        let paths = AppPaths::new(root, &app.file_name().to_string_lossy());
        for record in releases::list(&paths).into_iter().filter(|r| r.outcome == Outcome::Building) {
            tracing::warn!(release = %record.name, "build was interrupted by an agent restart; marking it failed");
            if let Err(e) = releases::set_outcome(&paths, &record.name, Outcome::Failed) {
                tracing::warn!("{e}");
            }
        }
    }
}

/// Runs an app action.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    root: &Path,
    supervisor: &Supervisor,
    action: &AppAction,
    spec: &AppSpec,
    plan: &BuildPlan,
    secrets: &AppSecrets,
    config: &Value,
    out: &OutputStream,
) -> ActionResult {
    let paths = AppPaths::new(root, &spec.name);
    let mut env = spec.environment.clone();
    env.extend(secrets.environment.clone());
    env.insert("DROVER_APP".into(), spec.name.clone());
    let outcome = match action {
        AppAction::Deploy => deploy(&paths, supervisor, spec, plan, secrets, &env, config, out).await,
        AppAction::Configure => configure(&paths, supervisor, spec, plan, secrets, &env, config, out).await,
        AppAction::Rollback { to } => rollback(&paths, supervisor, spec, plan, to.as_deref(), &env, config, out).await,
        AppAction::Start => {
            if paths.current_name().is_none() {
                Err(format!("app {} is not deployed on this instance; deploy it first", spec.name))
            } else {
                supervisor.start_app(&paths, &spec.name, &plan.services(), &env, out).map(|()| "started".to_owned())
            }
        }
        AppAction::Stop => {
            supervisor.stop_app(&spec.name, out).await;
            Ok("stopped".to_owned())
        }
        AppAction::Restart => {
            restart(&paths, supervisor, spec, plan, &env, config, out).await.map(|()| "restarted".to_owned())
        }
        AppAction::Undeploy => {
            supervisor.stop_app(&spec.name, out).await;
            match std::fs::remove_dir_all(&paths.base) {
                Ok(()) => {
                    out.push(&format!("removed {}\n", paths.base.display()));
                    Ok("undeployed".to_owned())
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok("undeployed".to_owned()),
                Err(e) => Err(format!("failed to remove {}: {e}", paths.base.display())),
            }
        }
    };
    let report = AppReport {
        app: spec.name.clone(),
        current: paths.current_name(),
        releases: releases::list(&paths),
        outcome: outcome.clone().unwrap_or_else(|_| "failed".into()),
    };
    ActionResult { outcome: outcome.map(|_| ()), report }
}

/// Restarts the app's services; behind a frontend, each running client is drained first and
/// made ready again once healthy.
async fn restart(
    paths: &AppPaths,
    supervisor: &Supervisor,
    spec: &AppSpec,
    plan: &BuildPlan,
    env: &BTreeMap<String, String>,
    config: &Value,
    out: &OutputStream,
) -> Result<(), String> {
    let delay = Duration::from_secs_f64(spec.restart_delay_secs.max(0.0));
    let clients = plan.clients.iter().map(|c| (c.name.clone(), c.http_address.clone())).collect();
    let gate = Gate::new(config, clients);
    supervisor.restart_app(paths, &spec.name, &plan.services(), env, delay, gate.as_ref(), out).await
}

#[allow(clippy::too_many_arguments)]
async fn deploy(
    paths: &AppPaths,
    supervisor: &Supervisor,
    spec: &AppSpec,
    plan: &BuildPlan,
    secrets: &AppSecrets,
    env: &BTreeMap<String, String>,
    config: &Value,
    out: &OutputStream,
) -> Result<String, String> {
    paths.ensure_shared().map_err(|e| format!("failed to create {}: {e}", paths.base.display()))?;
    let git_env = git::git_env(paths, secrets.deploy_key.as_deref())?;
    git::update_mirror(paths, &spec.repository, &git_env, out).await?;
    let sha = git::resolve(paths, spec.revision.as_deref(), &git_env).await?;
    out.push(&format!("revision {} is {sha}\n", spec.revision.as_deref().unwrap_or("(default branch)")));
    let build = Build { paths, supervisor, spec, plan, env, config, git_env: &git_env, out };
    build.if_changed(&sha, spec.always_build).await
}

/// The Configure event: the current release's commit with the new configuration; rebuilt and
/// restarted only when what it generates changed.
#[allow(clippy::too_many_arguments)]
async fn configure(
    paths: &AppPaths,
    supervisor: &Supervisor,
    spec: &AppSpec,
    plan: &BuildPlan,
    secrets: &AppSecrets,
    env: &BTreeMap<String, String>,
    config: &Value,
    out: &OutputStream,
) -> Result<String, String> {
    let Some(current) = paths.current_name() else {
        out.push(&format!("app {} is not deployed here yet; nothing to configure\n", spec.name));
        return Ok("not_deployed".to_owned());
    };
    let records = releases::list(paths);
    let sha = records
        .iter()
        .find(|r| r.name == current)
        .map(|r| r.sha.clone())
        .ok_or_else(|| format!("release {current} has no record; deploy the app again"))?;
    let git_env = git::git_env(paths, secrets.deploy_key.as_deref())?;
    out.push(&format!("configuring {} at {sha} (release {current})\n", spec.name));
    let build = Build { paths, supervisor, spec, plan, env, config, git_env: &git_env, out };
    build.if_changed(&sha, false).await
}

/// Building a commit into a new release when the deploy case asks for it.
struct Build<'a> {
    paths: &'a AppPaths,
    supervisor: &'a Supervisor,
    spec: &'a AppSpec,
    plan: &'a BuildPlan,
    env: &'a BTreeMap<String, String>,
    config: &'a Value,
    git_env: &'a BTreeMap<String, String>,
    out: &'a OutputStream,
}

impl Build<'_> {
    /// Renders what `sha` generates, decides the case, and builds, switches and restarts only
    /// when the case asks for it (reference.md section 3).
    async fn if_changed(&self, sha: &str, always_build: bool) -> Result<String, String> {
        let (paths, spec, out) = (self.paths, self.spec, self.out);
        let has_base = git::has_file(paths, sha, &self.plan.base_config, self.git_env).await;
        let shared = paths.shared().to_string_lossy().into_owned();
        let cache = build::shared_cache().map(|c| c.to_string_lossy().into_owned());
        let cfg = self.plan.deploy_cfg(&shared, cache.as_deref(), has_base);
        if let Some(dir) = cfg.zeoserver.as_ref().and_then(|z| z.filestorage_dir.as_deref()) {
            // `bin/zeoserver fg` fails when its filestorage directory does not exist.
            std::fs::create_dir_all(dir).map_err(|e| format!("failed to create filestorage_dir {dir}: {e}"))?;
        }
        let generated = templates::render_all(paths, sha, &cfg, self.config, self.git_env).await?;
        let config_hash = generated.hash();

        let records = releases::list(paths);
        let current_name = paths.current_name();
        let current = current_name.as_deref().and_then(|c| records.iter().find(|r| r.name == c));
        let case = decide(
            current.map(|c| Built { sha: &c.sha, config_hash: &c.config_hash }),
            sha,
            &config_hash,
            always_build,
        );
        out.push(&format!("deploy case: {}\n", case.as_str()));
        if case == DeployCase::Unchanged {
            self.supervisor.start_app(paths, &spec.name, &self.plan.services(), self.env, out)?;
            return Ok(case.as_str().to_owned());
        }

        let existing: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
        let name = release_name(utc_now(), &existing);
        let dir = paths.release(&name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("failed to create {}: {e}", dir.display()))?;
        let mut record = ReleaseRecord {
            name: name.clone(),
            sha: sha.to_owned(),
            outcome: Outcome::Building,
            case: case.as_str().to_owned(),
            config_hash,
            deploy_cfg: generated.deploy_cfg.clone(),
            created_at_ms: now_ms(),
            finished_at_ms: None,
        };
        releases::save(paths, &record)?;
        out.push(&format!("building release {name}\n"));
        let built = match git::export(paths, sha, &dir, out).await {
            Ok(()) => match generated.write_files(&dir, out) {
                Ok(()) => build::build(paths, &dir, spec, &generated.deploy_cfg, self.env, out).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        record.finished_at_ms = Some(now_ms());
        if let Err(e) = built {
            record.outcome = Outcome::Failed;
            releases::save(paths, &record)?;
            out.push(&format!(
                "release {name} failed to build; current stays at {}\n",
                current_name.as_deref().unwrap_or("(none)")
            ));
            return Err(e);
        }
        record.outcome = Outcome::Built;
        releases::save(paths, &record)?;
        paths.switch_current(&name).map_err(|e| format!("failed to switch current to {name}: {e}"))?;
        out.push(&format!("current is now {name}\n"));
        if let Err(e) = restart(paths, self.supervisor, spec, self.plan, self.env, self.config, out).await {
            return Err(self.after_failed_restart(&name, current_name.as_deref(), e).await);
        }
        let records = releases::list(paths);
        for old in prune(&releases::history(&records), Some(&name), None, spec.keep_releases as usize) {
            match std::fs::remove_dir_all(paths.release(old)) {
                Ok(()) => out.push(&format!("pruned release {old}\n")),
                Err(e) => out.push(&format!("failed to prune release {old}: {e}\n")),
            }
        }
        Ok(case.as_str().to_owned())
    }

    /// A new release whose services did not come up: with `auto_revert`, this instance goes
    /// back to the release it ran before (marking the new one bad); the deploy fails either way.
    async fn after_failed_restart(&self, name: &str, previous: Option<&str>, error: String) -> String {
        let (paths, out) = (self.paths, self.out);
        let Some(previous) = previous.filter(|_| self.spec.auto_revert) else { return error };
        out.push(&format!("auto_revert: going back to release {previous}\n"));
        if let Err(e) = releases::set_outcome(paths, name, Outcome::Bad) {
            out.push(&format!("warning: {e}\n"));
        }
        if let Err(e) = paths.switch_current(previous) {
            return format!("{error}; auto_revert failed to switch current back to {previous}: {e}");
        }
        match restart(paths, self.supervisor, self.spec, self.plan, self.env, self.config, out).await {
            Ok(()) => format!("{error}; auto_revert rolled this instance back to {previous}"),
            Err(e) => format!("{error}; auto_revert went back to {previous}, whose services failed too: {e}"),
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn rollback(
    paths: &AppPaths,
    supervisor: &Supervisor,
    spec: &AppSpec,
    plan: &BuildPlan,
    to: Option<&str>,
    env: &BTreeMap<String, String>,
    config: &Value,
    out: &OutputStream,
) -> Result<String, String> {
    let records = releases::list(paths);
    let current = paths.current_name();
    let target =
        rollback_target(&releases::history(&records), current.as_deref(), to).map_err(|e| e.to_string())?.to_owned();
    if let Some(from) = &current {
        releases::set_outcome(paths, from, Outcome::Bad)?;
    }
    if releases::list(paths).iter().any(|r| r.name == target && r.outcome == Outcome::Bad) {
        releases::set_outcome(paths, &target, Outcome::Built)?;
    }
    paths.switch_current(&target).map_err(|e| format!("failed to switch current to {target}: {e}"))?;
    out.push(&format!("rolled back from {} to {target}\n", current.as_deref().unwrap_or("(none)")));
    restart(paths, supervisor, spec, plan, env, config, out).await?;
    Ok("rollback".to_owned())
}
