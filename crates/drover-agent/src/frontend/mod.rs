//! The frontend layer on this instance: nginx and HAProxy (host prerequisites), supervised like
//! an app's services under `srv/www/.frontend`. Setup and every Configure render both configs;
//! a changed one is checked by its own program first, then HAProxy reloads (master-worker,
//! SIGUSR2, its server states saved first so drains survive) and nginx reloads (SIGHUP). An
//! unchanged config reloads nothing.

pub mod drain;
pub mod relay;
pub mod runtime;
pub mod tls_files;

use std::path::{Path, PathBuf};

use drover_core::deploy::plan::ServiceSpec;
use drover_core::frontend::sockets::Sockets;
use drover_core::frontend::{FrontendPlan, refusal};
use nix::sys::signal::Signal;

use crate::app::paths::AppPaths;
use crate::output::OutputStream;
use crate::supervisor::Supervisor;

/// The frontend's directory under `srv/www` (not a valid app name, so never an app's).
pub const FRONTEND: &str = ".frontend";

pub(crate) fn find(program: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{program} is not installed on this instance; install it (apt-get install {program})"))
}

/// When `text` differs from `path`'s contents: writes it beside `path` and has `check` accept it
/// there; the candidate's path. Nothing is swapped in yet, so a refusal of either config keeps both.
async fn candidate_if_changed(
    path: &Path,
    text: &str,
    check: impl AsyncFnOnce(&Path) -> Result<(), String>,
) -> Result<Option<PathBuf>, String> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(None);
    }
    let candidate = path.with_extension("new");
    // 0600 (haproxy.cfg holds the stats password): nginx's and HAProxy's masters run as this
    // user and read it before dropping privileges, so no group needs it.
    crate::private_file::write_private(&candidate, text.as_bytes())
        .map_err(|e| format!("failed to write {}: {e}", candidate.display()))?;
    check(&candidate).await?;
    Ok(Some(candidate))
}

/// Has `program` check a rendered config; `Err` carries the program's own message (the last lines
/// of what it printed), so a refusal says why.
async fn validate(program: &Path, args: &[&str], what: &str, candidate: &Path) -> Result<(), String> {
    let refused = |why: String| {
        format!(
            "the rendered {what} was refused, the running one is kept (the refused one is {}): {why}",
            candidate.display()
        )
    };
    let output = crate::child_env::command(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| refused(format!("failed to start {}: {e}", program.display())))?;
    if output.status.success() {
        return Ok(());
    }
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    Err(refused(format!(
        "`{} {}` said:\n{}",
        program.display(),
        args.join(" "),
        refusal::explain(&stdout, &stderr, &output.status.to_string())
    )))
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
    let sockets = runtime::sockets(root)?;
    let haproxy_cfg =
        plan.haproxy_cfg(&run.to_string_lossy(), &sockets.stats.to_string_lossy()).map_err(|e| e.to_string())?;
    let tls = tls_files::write(&shared, plan.nginx.ssl.as_ref())?;
    let nginx_conf =
        plan.nginx_conf_with_tls(&run.to_string_lossy(), &logs.to_string_lossy(), &tls).map_err(|e| e.to_string())?;
    let state_file = run.join("haproxy.state");
    if !state_file.exists() {
        std::fs::write(&state_file, "").map_err(|e| format!("failed to write {}: {e}", state_file.display()))?;
    }
    let (cfg_path, conf_path) = (shared.join("haproxy.cfg"), shared.join("nginx.conf"));
    let prefix = format!("{}/", shared.display());
    let haproxy_new = candidate_if_changed(&cfg_path, &haproxy_cfg, async |p: &Path| {
        // Not `-q`: HAProxy then says nothing of why it refused.
        validate(&haproxy, &["-c", "-f", &p.to_string_lossy()], "haproxy.cfg", p).await
    })
    .await?;
    let nginx_new = candidate_if_changed(&conf_path, &nginx_conf, async |p: &Path| {
        validate(&nginx, &["-t", "-q", "-c", &p.to_string_lossy(), "-p", &prefix], "nginx.conf", p).await
    })
    .await?;
    // Both accepted: swap them in.
    for (candidate, path) in [(&haproxy_new, &cfg_path), (&nginx_new, &conf_path)] {
        if let Some(candidate) = candidate {
            std::fs::rename(candidate, path).map_err(|e| format!("failed to write {}: {e}", path.display()))?;
        }
    }
    let (haproxy_changed, nginx_changed) = (haproxy_new.is_some(), nginx_new.is_some());
    out.push(&format!(
        "frontend: {} server(s) in HAProxy's backend; haproxy.cfg {}, nginx.conf {}\n",
        plan.servers.len(),
        if haproxy_changed { "changed" } else { "unchanged" },
        if nginx_changed { "changed" } else { "unchanged" },
    ));
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
                sockets.master.to_string_lossy().into_owned(),
            ],
            client: false,
            ready: None,
        },
        ServiceSpec {
            name: "nginx".into(),
            script: nginx.to_string_lossy().into_owned(),
            args: vec!["-c".into(), conf_path.to_string_lossy().into_owned(), "-p".into(), prefix.clone()],
            client: false,
            ready: None,
        },
    ];
    let were_running = supervisor.is_running(FRONTEND, "haproxy") && supervisor.is_running(FRONTEND, "nginx");
    if haproxy_changed && supervisor.is_running(FRONTEND, "haproxy") {
        save_server_state(&sockets, &state_file, out).await;
        supervisor.signal(FRONTEND, "haproxy", Signal::SIGUSR2);
        out.push("reloaded haproxy\n");
    }
    if nginx_changed && supervisor.is_running(FRONTEND, "nginx") {
        supervisor.signal(FRONTEND, "nginx", Signal::SIGHUP);
        out.push("reloaded nginx\n");
    }
    let env = Default::default();
    supervisor.start_app(&paths, FRONTEND, &specs, &env, out).await?;
    if were_running && !haproxy_changed && !nginx_changed {
        return Ok(());
    }
    // A started or reloaded server must stay up: one that exits (a socket path it cannot bind,
    // a port in use) fails Setup or Configure by name instead of crash-looping unseen.
    supervisor.check_up(&paths, FRONTEND, &["haproxy", "nginx"], out).await?;
    if nginx_changed {
        tls_files::remove_unused(&shared, &tls);
    }
    Ok(())
}

/// Keeps the servers' states (drain, maint) across a reload, read over the local socket.
async fn save_server_state(sockets: &Sockets, state_file: &Path, out: &OutputStream) {
    match runtime::unix(&sockets.stats, "show servers state").await {
        Ok(state) => {
            if let Err(e) = std::fs::write(state_file, state) {
                out.push(&format!("warning: failed to save HAProxy's server state: {e}\n"));
            }
        }
        Err(e) => out.push(&format!("warning: failed to save HAProxy's server state: {e}\n")),
    }
}
