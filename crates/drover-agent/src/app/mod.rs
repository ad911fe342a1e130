//! App actions on one instance: deploy (the cases of reference.md section 3, built before the
//! switch), rollback, start, stop, restart, undeploy.

mod build;
pub mod git;
pub mod paths;
pub mod releases;
mod sections;
pub mod slots;
pub(crate) mod steps;
mod templates;

use std::collections::BTreeMap;
use std::path::Path;

use drover_core::deploy::case::{Built, DeployCase, decide};
use drover_core::deploy::history::{Outcome, prune, rollback_target};
use drover_core::deploy::plan::BuildPlan;
use drover_core::deploy::release_name::{UtcTime, release_name};
use drover_proto::agent::{AppAction, AppReport, AppSecrets, AppSpec, ReleaseRecord};
use serde_json::Value;

use self::paths::AppPaths;
use self::slots::RestartSlots;
use crate::frontend::drain::Gate;
use crate::output::OutputStream;
use crate::supervisor::{Restart, Supervisor};

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

/// Removes a directory tree off the async threads: a release holds thousands of files.
async fn remove_tree(path: std::path::PathBuf) -> std::io::Result<()> {
    tokio::task::spawn_blocking(move || std::fs::remove_dir_all(path)).await.map_err(std::io::Error::other)?
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

/// One app action's context on this instance.
struct App<'a> {
    paths: AppPaths,
    supervisor: &'a Supervisor,
    spec: &'a AppSpec,
    plan: &'a BuildPlan,
    secrets: &'a AppSecrets,
    /// The app's environment with its secrets and `DROVER_APP`.
    env: BTreeMap<String, String>,
    /// The stack configuration (templates, the restart gate).
    config: &'a Value,
    out: &'a OutputStream,
    /// The deployment's restart slots.
    slots: &'a RestartSlots,
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
    slots: &RestartSlots,
) -> ActionResult {
    let mut env = spec.environment.clone();
    env.extend(secrets.environment.clone());
    env.insert("DROVER_APP".into(), spec.name.clone());
    let app = App { paths: AppPaths::new(root, &spec.name), supervisor, spec, plan, secrets, env, config, out, slots };
    let outcome = match action {
        AppAction::Deploy => app.deploy().await,
        AppAction::Configure => app.configure().await,
        AppAction::Rollback { to } => app.rollback(to.as_deref()).await,
        AppAction::Start => app.start().await,
        AppAction::Stop => {
            app.stop().await;
            Ok("stopped".to_owned())
        }
        AppAction::Restart => app.restart_services(true).await.map(|()| "restarted".to_owned()),
        AppAction::Undeploy => app.undeploy().await,
    };
    let report = AppReport {
        app: spec.name.clone(),
        current: app.paths.current_name(),
        releases: releases::list(&app.paths),
        outcome: outcome.clone().unwrap_or_else(|_| "failed".into()),
    };
    ActionResult { outcome: outcome.map(|_| ()), report }
}

impl App<'_> {
    async fn start(&self) -> Result<String, String> {
        if self.paths.current_name().is_none() {
            return Err(format!("app {} is not deployed on this instance; deploy it first", self.spec.name));
        }
        let services = self.plan.services();
        self.supervisor.start_app(&self.paths, &self.spec.name, &services, &self.env, self.out).await?;
        // Behind a frontend, each client takes requests again once it is healthy (a stop drained it).
        if let Some(gate) = self.gate() {
            for client in &self.plan.clients {
                gate.ready(&client.name, self.out).await?;
            }
        }
        Ok("started".into())
    }

    /// Stops the app's services; behind a frontend, each client is drained first.
    async fn stop(&self) {
        if let Some(gate) = self.gate() {
            for client in &self.plan.clients {
                gate.drain_to_stop(&client.name, self.out).await;
            }
        }
        self.supervisor.stop_app(&self.spec.name, self.out).await;
    }

    /// The frontends' gate for this app's clients, when the stack has frontends.
    fn gate(&self) -> Option<Gate> {
        let clients: Vec<(String, String)> =
            self.plan.clients.iter().map(|c| (c.name.clone(), c.http_address.clone())).collect();
        self.slots.command().and_then(|command| Gate::new(self.config, clients, &self.spec.restart, command))
    }

    async fn undeploy(&self) -> Result<String, String> {
        self.supervisor.stop_app(&self.spec.name, self.out).await;
        match remove_tree(self.paths.base.clone()).await {
            Ok(()) => {
                self.out.push(&format!("removed {}\n", self.paths.base.display()));
                Ok("undeployed".to_owned())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok("undeployed".to_owned()),
            Err(e) => Err(format!("failed to remove {}: {e}", self.paths.base.display())),
        }
    }

    /// Restarts the app's services after `current` changed; behind a frontend, each running
    /// client is drained first and made ready again once healthy.
    async fn restart(&self) -> Result<(), String> {
        self.restart_services(false).await
    }

    /// Restarts the app's services; servers whose script and configuration did not change keep
    /// running unless `restart_servers` (an explicit restart).
    async fn restart_services(&self, restart_servers: bool) -> Result<(), String> {
        let clients: Vec<(String, String)> =
            self.plan.clients.iter().map(|c| (c.name.clone(), c.http_address.clone())).collect();
        let policy = &self.spec.restart;
        let gate = self.slots.command().and_then(|command| Gate::new(self.config, clients.clone(), policy, command));
        let restart = Restart { policy, gate: gate.as_ref(), slots: self.slots, clients: &clients, restart_servers };
        let services = self.plan.services();
        self.supervisor.restart_app(&self.paths, &self.spec.name, &services, &self.env, &restart, self.out).await
    }

    fn git_env(&self) -> Result<BTreeMap<String, String>, String> {
        git::git_env(&self.paths, self.secrets.deploy_key.as_deref())
    }

    /// Deploy: fetch, resolve the revision, and build what changed (reference.md section 3).
    async fn deploy(&self) -> Result<String, String> {
        let paths = &self.paths;
        paths.ensure_shared().map_err(|e| format!("failed to create {}: {e}", paths.base.display()))?;
        let git_env = self.git_env()?;
        let shown = self.spec.revision.as_deref().unwrap_or("(default branch)");
        let sha = match self.spec.commit.as_deref() {
            Some(sha) => {
                git::ensure_commit(paths, &self.spec.repository, sha, &git_env, self.out).await?;
                self.out.push(&format!("building commit {sha} (revision {shown}, resolved by the server)\n"));
                sha.to_owned()
            }
            None => {
                git::update_mirror(paths, &self.spec.repository, &git_env, self.out).await?;
                let sha = git::resolve(paths, self.spec.revision.as_deref(), &git_env).await?;
                self.out.push(&format!("revision {shown} is {sha}\n"));
                sha
            }
        };
        Build { app: self, git_env }.if_changed(&sha, self.spec.always_build).await
    }

    /// The Configure event: the current release's commit with the new configuration; rebuilt and
    /// restarted only when what it generates changed.
    async fn configure(&self) -> Result<String, String> {
        let Some(current) = self.paths.current_name() else {
            self.out.push(&format!("app {} is not deployed here yet; nothing to configure\n", self.spec.name));
            return Ok("not_deployed".to_owned());
        };
        let records = releases::list(&self.paths);
        let sha = records
            .iter()
            .find(|r| r.name == current)
            .map(|r| r.sha.clone())
            .ok_or_else(|| format!("release {current} has no record; deploy the app again"))?;
        self.out.push(&format!("configuring {} at {sha} (release {current})\n", self.spec.name));
        Build { app: self, git_env: self.git_env()? }.if_changed(&sha, false).await
    }

    /// Points `current` at an older release (the newest good one by default) and restarts.
    async fn rollback(&self, to: Option<&str>) -> Result<String, String> {
        let paths = &self.paths;
        let records = releases::list(paths);
        let current = paths.current_name();
        let target = rollback_target(&releases::history(&records), current.as_deref(), to)
            .map_err(|e| e.to_string())?
            .to_owned();
        if let Some(from) = &current {
            releases::set_outcome(paths, from, Outcome::Bad)?;
        }
        if releases::list(paths).iter().any(|r| r.name == target && r.outcome == Outcome::Bad) {
            releases::set_outcome(paths, &target, Outcome::Built)?;
        }
        paths.switch_current(&target).map_err(|e| format!("failed to switch current to {target}: {e}"))?;
        self.out.push(&format!("rolled back from {} to {target}\n", current.as_deref().unwrap_or("(none)")));
        self.restart().await?;
        Ok("rollback".to_owned())
    }
}

/// Building a commit into a new release when the deploy case asks for it.
struct Build<'a> {
    app: &'a App<'a>,
    git_env: BTreeMap<String, String>,
}

impl Build<'_> {
    /// Renders what `sha` generates, decides the case, and builds, switches and restarts only
    /// when the case asks for it (reference.md section 3).
    async fn if_changed(&self, sha: &str, always_build: bool) -> Result<String, String> {
        let app = self.app;
        let (paths, spec, out) = (&app.paths, app.spec, app.out);
        let has_base = git::has_file(paths, sha, &app.plan.base_config, &self.git_env).await;
        let shared = paths.shared().to_string_lossy().into_owned();
        let cache = build::shared_cache().map(|c| c.to_string_lossy().into_owned());
        let plan = sections::fit(app.plan, paths, sha, &self.git_env, out).await;
        let cfg = plan.deploy_cfg(&shared, cache.as_deref(), has_base);
        if let Some(dir) = cfg.zeoserver.as_ref().and_then(|z| z.filestorage_dir.as_deref()) {
            // `bin/zeoserver fg` fails when its filestorage directory does not exist.
            std::fs::create_dir_all(dir).map_err(|e| format!("failed to create filestorage_dir {dir}: {e}"))?;
        }
        let generated = templates::render_all(paths, sha, &cfg, app.config, &self.git_env).await?;
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
            // The build is the same, but the services may not be: celerybeat moves between
            // instances by Configure alone.
            let services = app.plan.services();
            app.supervisor.stop_unlisted(&spec.name, &services, out).await;
            app.supervisor.start_app(paths, &spec.name, &services, &app.env, out).await?;
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
        let files = if spec.full_checkout {
            git::checkout(paths, &spec.repository, sha, &dir, &self.git_env, out).await
        } else {
            git::export(paths, sha, &dir, out).await
        };
        let built = match files {
            Ok(()) => match generated.write_files(&dir, out) {
                Ok(()) => build::build(paths, &dir, spec, &generated.deploy_cfg, &app.env, out).await,
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
        if let Err(e) = app.restart().await {
            return Err(self.after_failed_restart(&name, current_name.as_deref(), e).await);
        }
        let records = releases::list(paths);
        let in_use = app.supervisor.releases_in_use(paths, &spec.name);
        let in_use: Vec<&str> = in_use.iter().map(String::as_str).collect();
        for old in prune(&releases::history(&records), Some(&name), &in_use, spec.keep_releases as usize) {
            match remove_tree(paths.release(old)).await {
                Ok(()) => out.push(&format!("pruned release {old}\n")),
                Err(e) => out.push(&format!("failed to prune release {old}: {e}\n")),
            }
        }
        Ok(case.as_str().to_owned())
    }

    /// A new release whose services did not come up: with `auto_revert`, this instance goes
    /// back to the release it ran before (marking the new one bad); the deploy fails either way.
    async fn after_failed_restart(&self, name: &str, previous: Option<&str>, error: String) -> String {
        let app = self.app;
        let (paths, out) = (&app.paths, app.out);
        let Some(previous) = previous.filter(|_| app.spec.auto_revert) else { return error };
        out.push(&format!("auto_revert: going back to release {previous}\n"));
        if let Err(e) = releases::set_outcome(paths, name, Outcome::Bad) {
            out.push(&format!("warning: {e}\n"));
        }
        if let Err(e) = paths.switch_current(previous) {
            return format!("{error}; auto_revert failed to switch current back to {previous}: {e}");
        }
        match app.restart().await {
            Ok(()) => format!("{error}; auto_revert rolled this instance back to {previous}"),
            Err(e) => format!("{error}; auto_revert went back to {previous}, whose services failed too: {e}"),
        }
    }
}
