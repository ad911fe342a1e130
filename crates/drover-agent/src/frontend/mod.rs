//! The frontend layer on this instance: nginx and HAProxy (host prerequisites), supervised like
//! an app's services under `srv/www/.frontend`. Setup and every Configure render both configs;
//! a changed one is checked by its own program first, then HAProxy reloads (master-worker,
//! SIGUSR2, its server states saved first so drains survive) and nginx reloads (SIGHUP). An
//! unchanged config reloads nothing.

pub mod gate;
pub mod runtime;

use std::path::{Path, PathBuf};

use drover_core::deploy::plan::ServiceSpec;
use drover_core::frontend::FrontendPlan;
use nix::sys::signal::Signal;

use crate::app::paths::AppPaths;
use crate::app::steps;
use crate::output::OutputStream;
use crate::supervisor::Supervisor;

/// The frontend's directory under `srv/www` (not a valid app name, so never an app's).
pub const FRONTEND: &str = ".frontend";

fn find(program: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{program} is not installed on this instance; install it (apt-get install {program})"))
}

/// Writes `text` to `path` when it differs, after `check` accepted it at a temporary path.
async fn replace_if_changed(
    path: &Path,
    text: &str,
    check: impl AsyncFnOnce(&Path) -> Result<(), String>,
) -> Result<bool, String> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    let candidate = path.with_extension("new");
    std::fs::write(&candidate, text).map_err(|e| format!("failed to write {}: {e}", candidate.display()))?;
    check(&candidate).await?;
    std::fs::rename(&candidate, path).map_err(|e| format!("failed to write {}: {e}", path.display()))?;
    Ok(true)
}

async fn validate(program: &Path, args: &[&str], what: &str) -> Result<(), String> {
    let env = Default::default();
    steps::query(&program.to_string_lossy(), args, Path::new("/"), &env)
        .await
        .map(|_| ())
        .map_err(|e| format!("the rendered {what} was refused, the running one is kept: {e}"))
}

/// Renders, checks and applies the frontend's configs; starts nginx and HAProxy when they do not
/// run, reloads only what changed.
pub async fn configure(
    root: &Path,
    supervisor: &Supervisor,
    plan: &FrontendPlan,
    out: &OutputStream,
) -> Result<(), String> {
    let paths = AppPaths::new(root, FRONTEND);
    paths.ensure_shared().map_err(|e| format!("failed to create {}: {e}", paths.base.display()))?;
    let (shared, run, logs) = (paths.shared(), paths.run(), paths.logs());
    let (haproxy, nginx) = (find("haproxy")?, find("nginx")?);
    let haproxy_cfg = plan.haproxy_cfg(&run.to_string_lossy()).map_err(|e| e.to_string())?;
    let nginx_conf = plan.nginx_conf(&run.to_string_lossy(), &logs.to_string_lossy()).map_err(|e| e.to_string())?;
    let state_file = run.join("haproxy.state");
    if !state_file.exists() {
        std::fs::write(&state_file, "").map_err(|e| format!("failed to write {}: {e}", state_file.display()))?;
    }
    let (cfg_path, conf_path) = (shared.join("haproxy.cfg"), shared.join("nginx.conf"));
    let prefix = format!("{}/", shared.display());
    let haproxy_changed = replace_if_changed(&cfg_path, &haproxy_cfg, async |p: &Path| {
        validate(&haproxy, &["-c", "-q", "-f", &p.to_string_lossy()], "haproxy.cfg").await
    })
    .await?;
    let nginx_changed = replace_if_changed(&conf_path, &nginx_conf, async |p: &Path| {
        validate(&nginx, &["-t", "-q", "-c", &p.to_string_lossy(), "-p", &prefix], "nginx.conf").await
    })
    .await?;
    out.push(&format!(
        "frontend: {} server(s) in HAProxy's backend; haproxy.cfg {}, nginx.conf {}\n",
        plan.servers.len(),
        if haproxy_changed { "changed" } else { "unchanged" },
        if nginx_changed { "changed" } else { "unchanged" },
    ));
    let master_socket = run.join("haproxy-master.sock");
    let specs = [
        ServiceSpec {
            name: "haproxy".into(),
            script: haproxy.to_string_lossy().into_owned(),
            args: vec![
                "-W".into(),
                "-db".into(),
                "-f".into(),
                cfg_path.to_string_lossy().into_owned(),
                "-S".into(),
                master_socket.to_string_lossy().into_owned(),
            ],
            client: false,
        },
        ServiceSpec {
            name: "nginx".into(),
            script: nginx.to_string_lossy().into_owned(),
            args: vec!["-c".into(), conf_path.to_string_lossy().into_owned(), "-p".into(), prefix.clone()],
            client: false,
        },
    ];
    if haproxy_changed && supervisor.is_running(FRONTEND, "haproxy") {
        save_server_state(&run, &state_file, out).await;
        supervisor.signal(FRONTEND, "haproxy", Signal::SIGUSR2);
        out.push("reloaded haproxy\n");
    }
    if nginx_changed && supervisor.is_running(FRONTEND, "nginx") {
        supervisor.signal(FRONTEND, "nginx", Signal::SIGHUP);
        out.push("reloaded nginx\n");
    }
    let env = Default::default();
    supervisor.start_app(&paths, FRONTEND, &specs, &env, out)
}

/// Keeps the servers' states (drain, maint) across a reload.
async fn save_server_state(run: &Path, state_file: &Path, out: &OutputStream) {
    match runtime::unix(&run.join("haproxy.sock"), "show servers state").await {
        Ok(state) => {
            if let Err(e) = std::fs::write(state_file, state) {
                out.push(&format!("warning: failed to save HAProxy's server state: {e}\n"));
            }
        }
        Err(e) => out.push(&format!("warning: failed to save HAProxy's server state: {e}\n")),
    }
}
