//! Release records: `releases/<name>/.drover/release.json` holds what a release was built from
//! and how its build ended; `releases/<name>/.drover/build.log` its build output.

use drover_core::deploy::history::{Outcome, Release};
use drover_core::deploy::release_name::is_release_name;
use drover_proto::agent::ReleaseRecord;

use super::paths::AppPaths;

fn record_path(paths: &AppPaths, name: &str) -> std::path::PathBuf {
    paths.release(name).join(".drover/release.json")
}

/// Saves a release's record.
pub fn save(paths: &AppPaths, record: &ReleaseRecord) -> Result<(), String> {
    let path = record_path(paths, &record.name);
    let text =
        serde_json::to_vec_pretty(record).map_err(|e| format!("failed to serialise release {}: {e}", record.name))?;
    crate::private_file::write_private(&path, &text).map_err(|e| format!("failed to save {}: {e}", path.display()))
}

/// Every release with a record, oldest first.
pub fn list(paths: &AppPaths) -> Vec<ReleaseRecord> {
    let Ok(entries) = std::fs::read_dir(paths.releases()) else { return Vec::new() };
    let mut out: Vec<ReleaseRecord> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !is_release_name(&name) {
                return None;
            }
            let raw = std::fs::read(record_path(paths, &name)).ok()?;
            serde_json::from_slice(&raw).ok()
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The history view of records.
pub fn history(records: &[ReleaseRecord]) -> Vec<Release<'_>> {
    records.iter().map(|r| Release { name: &r.name, outcome: r.outcome }).collect()
}

/// Changes a release's outcome.
pub fn set_outcome(paths: &AppPaths, name: &str, outcome: Outcome) -> Result<(), String> {
    let mut record =
        list(paths).into_iter().find(|r| r.name == name).ok_or_else(|| format!("release {name} has no record"))?;
    record.outcome = outcome;
    save(paths, &record)
}
