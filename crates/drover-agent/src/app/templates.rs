//! The files a release generates from templates: `deploy.cfg` (the built-in template, or the
//! app's own `drover/templates/deploy.cfg.j2`) and any other `drover/templates/<path>.j2` of the
//! app's repository, rendered to `<path>` in the release. A broken template fails the deploy
//! before anything is built, naming the template and the line.

use std::collections::BTreeMap;
use std::path::Path;

use drover_core::deploy::deploy_cfg::{DeployCfg, render, render_app_template};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::git;
use super::paths::AppPaths;
use crate::output::OutputStream;

/// Where an app keeps its templates.
pub const TEMPLATE_DIR: &str = "drover/templates";

/// What a release generates.
pub struct Generated {
    /// `deploy.cfg`.
    pub deploy_cfg: String,
    /// Other files, by release-relative path.
    pub files: BTreeMap<String, String>,
}

impl Generated {
    /// A hash over everything generated: a change in any file means a rebuild.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.deploy_cfg.as_bytes());
        for (path, text) in &self.files {
            h.update(b"\0");
            h.update(path.as_bytes());
            h.update(b"\0");
            h.update(text.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// Writes the other files into a release.
    pub fn write_files(&self, release: &Path, out: &OutputStream) -> Result<(), String> {
        for (rel, text) in &self.files {
            let path = release.join(rel);
            // 0600: a rendered template may hold the app's secrets.
            crate::private_file::write_private(&path, text.as_bytes())
                .map_err(|e| format!("failed to write {}: {e}", path.display()))?;
            out.push(&format!("rendered {rel} from {TEMPLATE_DIR}/{rel}.j2\n"));
        }
        Ok(())
    }
}

/// Renders what commit `sha` generates for `cfg`, with the instance's configuration.
pub async fn render_all(
    paths: &AppPaths,
    sha: &str,
    cfg: &DeployCfg,
    config: &Value,
    env: &BTreeMap<String, String>,
) -> Result<Generated, String> {
    let mut deploy_cfg = None;
    let mut files = BTreeMap::new();
    for path in git::list_files(paths, sha, TEMPLATE_DIR, env).await {
        let Some(rel) = path.strip_prefix(&format!("{TEMPLATE_DIR}/")).and_then(|r| r.strip_suffix(".j2")) else {
            continue;
        };
        if rel.split('/').any(|part| part == ".." || part.is_empty()) {
            return Err(format!("template {path} would write outside the release; rename it"));
        }
        let source = git::read_file(paths, sha, &path, env).await?;
        let text = render_app_template(&path, &source, cfg, config).map_err(|e| e.to_string())?;
        if rel == "deploy.cfg" {
            deploy_cfg = Some(text);
        } else {
            files.insert(rel.to_owned(), text);
        }
    }
    let deploy_cfg = match deploy_cfg {
        Some(text) => text,
        None => render(cfg).map_err(|e| e.to_string())?,
    };
    Ok(Generated { deploy_cfg, files })
}
