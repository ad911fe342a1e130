//! Building a release: export the commit, link the shared data, write `deploy.cfg`, bootstrap,
//! run buildout. Nothing here touches `current` or the running services.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use drover_proto::agent::AppSpec;

use super::paths::AppPaths;
use super::steps::{self, Step};
use crate::output::OutputStream;

/// The Python that makes the buildout environment (override with `DROVER_PYTHON`), resolved to
/// its real interpreter: version-manager shims (pyenv) run hooks after `pip install` that fail
/// when several builds install at once.
async fn python(env: &BTreeMap<String, String>, cwd: &Path) -> String {
    let py = std::env::var("DROVER_PYTHON").unwrap_or_else(|_| "python3".into());
    match steps::query(&py, &["-c", "import sys; print(sys.executable)"], cwd, env).await {
        Ok(real) if !real.is_empty() && Path::new(&real).is_absolute() => real,
        _ => py,
    }
}

/// A buildout cache the host's instances share (`DROVER_BUILDOUT_CACHE`, which the server sets
/// for the local instances it starts): eggs are converted once per machine, not once per
/// instance. Builds that use it take turns (a lock file in it).
pub fn shared_cache() -> Option<PathBuf> {
    std::env::var_os("DROVER_BUILDOUT_CACHE").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// Holds the shared cache's lock while `work` runs.
async fn with_cache_lock<T>(out: &OutputStream, work: impl Future<Output = T>) -> Result<T, String> {
    let Some(cache) = shared_cache() else { return Ok(work.await) };
    std::fs::create_dir_all(&cache).map_err(|e| format!("failed to create {}: {e}", cache.display()))?;
    let path = cache.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("failed to open {}: {e}", path.display()))?;
    let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => lock,
        Err((file, _)) => {
            out.push(&format!("waiting for the shared buildout cache {} (another build holds it)\n", cache.display()));
            tokio::task::spawn_blocking(move || Flock::lock(file, FlockArg::LockExclusive))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|(_, e)| format!("failed to lock {}: {e}", path.display()))?
        }
    };
    let result = work.await;
    drop(lock);
    Ok(result)
}

/// Makes `shared/env` with zc.buildout at the wanted version, unless it is there already.
async fn ensure_buildout_env(
    paths: &AppPaths,
    spec: &AppSpec,
    env: &BTreeMap<String, String>,
    out: &OutputStream,
) -> Result<(), String> {
    let venv = paths.env();
    let marker = venv.join(".drover-buildout-version");
    let wanted = if spec.buildout_version.is_empty() {
        "zc.buildout".to_owned()
    } else {
        format!("zc.buildout=={}", spec.buildout_version)
    };
    if std::fs::read_to_string(&marker).is_ok_and(|have| have == wanted) && venv.join("bin/buildout").exists() {
        return Ok(());
    }
    let shared = paths.shared();
    let py = python(env, &shared).await;
    let made = make_env(&venv, &py, &wanted, &shared, env, out).await;
    if made.is_err() {
        // A half-made environment would fail every later build: start afresh next time.
        let _ = std::fs::remove_dir_all(&venv);
    }
    made?;
    std::fs::write(&marker, &wanted).map_err(|e| format!("failed to write {}: {e}", marker.display()))
}

async fn make_env(
    venv: &Path,
    py: &str,
    wanted: &str,
    shared: &Path,
    env: &BTreeMap<String, String>,
    out: &OutputStream,
) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(venv);
    // Without pip: ensurepip is slow and, run by several builds at once, sometimes leaves a broken
    // environment. The host's pip installs into the venv instead (`pip --python`).
    let args = vec!["-m".into(), "venv".into(), "--without-pip".into(), venv.to_string_lossy().into_owned()];
    steps::run(
        Step { shown: format!("{py} -m venv --without-pip {}", venv.display()), program: py, args, cwd: shared, env },
        out,
    )
    .await?;
    let venv_python = venv.join("bin/python").to_string_lossy().into_owned();
    let args = ["-m", "pip", "--python", &venv_python, "install", "--quiet", "--disable-pip-version-check", wanted];
    steps::run(
        Step {
            shown: format!("{py} -m pip --python {venv_python} install {wanted}"),
            program: py,
            args: args.iter().map(|a| a.to_string()).collect(),
            cwd: shared,
            env,
        },
        out,
    )
    .await
    .map_err(|e| format!("failed to install {wanted} (the host needs python3-pip 22.3 or later): {e}"))
}

/// Links the shared data into a release: `var` is the app's, not the release's.
fn link_shared(paths: &AppPaths, release: &Path) -> Result<(), String> {
    let var = release.join("var");
    if var.symlink_metadata().is_ok() {
        let removed =
            if var.is_dir() && !var.is_symlink() { std::fs::remove_dir_all(&var) } else { std::fs::remove_file(&var) };
        removed.map_err(|e| format!("failed to replace {}: {e}", var.display()))?;
    }
    std::os::unix::fs::symlink(paths.var(), &var).map_err(|e| format!("failed to link {}: {e}", var.display()))
}

/// Builds `release` (already exported) with `deploy_cfg`.
pub async fn build(
    paths: &AppPaths,
    release: &Path,
    spec: &AppSpec,
    deploy_cfg: &str,
    env: &BTreeMap<String, String>,
    out: &OutputStream,
) -> Result<(), String> {
    link_shared(paths, release)?;
    // pip's cache lives with the app, as on a host of its own (local instances share a HOME),
    // or in the host's shared cache.
    let mut env = env.clone();
    let pip_cache = shared_cache().map_or_else(|| paths.shared().join("pip-cache"), |c| c.join("pip"));
    env.insert("PIP_CACHE_DIR".into(), pip_cache.to_string_lossy().into_owned());
    // Recipes write sets (plone.recipe.zeoserver's egg paths, say) in hash order: a fixed seed
    // makes the same inputs give the same files, so a server whose configuration did not change
    // is seen not to have changed (`supervisor::fingerprint`) and keeps running.
    env.entry("PYTHONHASHSEED".into()).or_insert_with(|| "0".into());
    let env = &env;
    let cfg_path = release.join("deploy.cfg");
    // 0600: it may hold the RelStorage password. Buildout runs as this same user.
    crate::private_file::write_private(&cfg_path, deploy_cfg.as_bytes())
        .map_err(|e| format!("failed to write {}: {e}", cfg_path.display()))?;
    ensure_buildout_env(paths, spec, env, out).await?;
    let buildout = if release.join("bootstrap.py").exists() {
        let py = paths.env().join("bin/python").to_string_lossy().into_owned();
        steps::run(
            Step {
                shown: "python bootstrap.py -c deploy.cfg".into(),
                program: &py,
                args: vec!["bootstrap.py".into(), "-c".into(), "deploy.cfg".into()],
                cwd: release,
                env,
            },
            out,
        )
        .await?;
        release.join("bin/buildout")
    } else {
        paths.env().join("bin/buildout")
    };
    let buildout = buildout.to_string_lossy().into_owned();
    let mut args = vec!["-c".to_owned(), "deploy.cfg".to_owned()];
    args.extend(spec.buildout_flags.split_whitespace().map(String::from));
    let run = steps::run(
        Step { shown: format!("bin/buildout {}", args.join(" ")), program: &buildout, args, cwd: release, env },
        out,
    );
    with_cache_lock(out, run).await?.map_err(|e| format!("buildout failed: {e}"))
}
