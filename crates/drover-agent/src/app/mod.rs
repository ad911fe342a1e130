//! App actions on one instance: deploy (the cases of reference.md section 3, built before the
//! switch), rollback, start, stop, restart, undeploy.

mod build;
pub mod git;
pub mod paths;
pub mod releases;
mod steps;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use drover_core::deploy::buildout_cfg::render;
use drover_core::deploy::case::{Built, DeployCase, decide};
use drover_core::deploy::history::{Outcome, prune, rollback_target};
use drover_core::deploy::plan::BuildPlan;
use drover_core::deploy::release_name::{UtcTime, release_name};
use drover_proto::agent::{AppAction, AppReport, AppSecrets, AppSpec, ReleaseRecord};
use sha2::{Digest, Sha256};

use self::paths::AppPaths;
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
pub async fn run(
    root: &Path,
    supervisor: &Supervisor,
    action: &AppAction,
    spec: &AppSpec,
    plan: &BuildPlan,
    secrets: &AppSecrets,
    out: &OutputStream,
) -> ActionResult {
    let paths = AppPaths::new(root, &spec.name);
    let mut env = spec.environment.clone();
    env.extend(secrets.environment.clone());
    env.insert("DROVER_APP".into(), spec.name.clone());
    let outcome = match action {
        AppAction::Deploy => deploy(&paths, supervisor, spec, plan, secrets, &env, out).await,
        AppAction::Rollback { to } => rollback(&paths, supervisor, spec, plan, to.as_deref(), &env, out).await,
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
        AppAction::Restart => restart(&paths, supervisor, spec, plan, &env, out).await.map(|()| "restarted".to_owned()),
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

async fn restart(
    paths: &AppPaths,
    supervisor: &Supervisor,
    spec: &AppSpec,
    plan: &BuildPlan,
    env: &BTreeMap<String, String>,
    out: &OutputStream,
) -> Result<(), String> {
    let delay = Duration::from_secs_f64(spec.restart_delay_secs.max(0.0));
    supervisor.restart_app(paths, &spec.name, &plan.services(), env, delay, out).await
}

async fn deploy(
    paths: &AppPaths,
    supervisor: &Supervisor,
    spec: &AppSpec,
    plan: &BuildPlan,
    secrets: &AppSecrets,
    env: &BTreeMap<String, String>,
    out: &OutputStream,
) -> Result<String, String> {
    paths.ensure_shared().map_err(|e| format!("failed to create {}: {e}", paths.base.display()))?;
    let git_env = git::git_env(paths, secrets.deploy_key.as_deref())?;
    git::update_mirror(paths, &spec.repository, &git_env, out).await?;
    let sha = git::resolve(paths, spec.revision.as_deref(), &git_env).await?;
    out.push(&format!("revision {} is {sha}\n", spec.revision.as_deref().unwrap_or("(default branch)")));
    let has_base = git::has_file(paths, &sha, &plan.base_config, &git_env).await;
    let shared = paths.shared().to_string_lossy().into_owned();
    let deploy_cfg = render(&plan.deploy_cfg(&shared, has_base)).map_err(|e| e.to_string())?;
    let config_hash = hex::encode(Sha256::digest(deploy_cfg.as_bytes()));

    let records = releases::list(paths);
    let current_name = paths.current_name();
    let current = current_name.as_deref().and_then(|c| records.iter().find(|r| r.name == c));
    let case = decide(
        current.map(|c| Built { sha: &c.sha, config_hash: &c.config_hash }),
        &sha,
        &config_hash,
        spec.always_build,
    );
    out.push(&format!("deploy case: {}\n", case.as_str()));
    if case == DeployCase::Unchanged {
        supervisor.start_app(paths, &spec.name, &plan.services(), env, out)?;
        return Ok(case.as_str().to_owned());
    }

    let existing: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
    let name = release_name(utc_now(), &existing);
    let dir = paths.release(&name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("failed to create {}: {e}", dir.display()))?;
    let mut record = ReleaseRecord {
        name: name.clone(),
        sha: sha.clone(),
        outcome: Outcome::Building,
        case: case.as_str().to_owned(),
        config_hash,
        deploy_cfg: deploy_cfg.clone(),
        created_at_ms: now_ms(),
        finished_at_ms: None,
    };
    releases::save(paths, &record)?;
    out.push(&format!("building release {name}\n"));
    let built = match git::export(paths, &sha, &dir, out).await {
        Ok(()) => build::build(paths, &dir, spec, &deploy_cfg, env, out).await,
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
    restart(paths, supervisor, spec, plan, env, out).await?;
    let records = releases::list(paths);
    for old in prune(&releases::history(&records), Some(&name), None, spec.keep_releases as usize) {
        match std::fs::remove_dir_all(paths.release(old)) {
            Ok(()) => out.push(&format!("pruned release {old}\n")),
            Err(e) => out.push(&format!("failed to prune release {old}: {e}\n")),
        }
    }
    Ok(case.as_str().to_owned())
}

async fn rollback(
    paths: &AppPaths,
    supervisor: &Supervisor,
    spec: &AppSpec,
    plan: &BuildPlan,
    to: Option<&str>,
    env: &BTreeMap<String, String>,
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
    restart(paths, supervisor, spec, plan, env, out).await?;
    Ok("rollback".to_owned())
}
