//! The on-disk layout of an app (reference.md section 3), under the agent's root:
//! `srv/www/<app>/{releases/<name>, current -> releases/<name>, shared/{eggs, downloads, extends,
//! var/{filestorage, blobstorage, log}, env, run, cached-copy.git}}`.

use std::path::{Path, PathBuf};

/// Paths of one app.
#[derive(Debug, Clone)]
pub struct AppPaths {
    /// `srv/www/<app>`.
    pub base: PathBuf,
}

impl AppPaths {
    /// The app's paths under `root`.
    pub fn new(root: &Path, app: &str) -> Self {
        Self { base: root.join("srv/www").join(app) }
    }

    pub fn releases(&self) -> PathBuf {
        self.base.join("releases")
    }

    pub fn release(&self, name: &str) -> PathBuf {
        self.releases().join(name)
    }

    pub fn current(&self) -> PathBuf {
        self.base.join("current")
    }

    pub fn shared(&self) -> PathBuf {
        self.base.join("shared")
    }

    /// The bare mirror of the app's repository.
    pub fn mirror(&self) -> PathBuf {
        self.shared().join("cached-copy.git")
    }

    /// The Python environment buildout is bootstrapped from.
    pub fn env(&self) -> PathBuf {
        self.shared().join("env")
    }

    pub fn var(&self) -> PathBuf {
        self.shared().join("var")
    }

    pub fn logs(&self) -> PathBuf {
        self.var().join("log")
    }

    /// Service state files (pid, spec), for re-adoption.
    pub fn run(&self) -> PathBuf {
        self.shared().join("run")
    }

    /// Creates the shared caches and data directories.
    pub fn ensure_shared(&self) -> std::io::Result<()> {
        for dir in ["eggs", "downloads", "extends", "var/filestorage", "var/blobstorage", "var/log", "run"] {
            std::fs::create_dir_all(self.shared().join(dir))?;
        }
        std::fs::create_dir_all(self.releases())
    }

    /// The name of the release `current` points at.
    pub fn current_name(&self) -> Option<String> {
        let target = std::fs::read_link(self.current()).ok()?;
        target.file_name().map(|n| n.to_string_lossy().into_owned())
    }

    /// Points `current` at a release atomically: a new symlink, renamed over the old one.
    pub fn switch_current(&self, name: &str) -> std::io::Result<()> {
        let tmp = self.base.join(format!(".current-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(Path::new("releases").join(name), &tmp)?;
        std::fs::rename(&tmp, self.current())
    }
}
