//! Agent upgrades (`drover agent upgrade`): the version an agent reports, the checksum check of
//! a downloaded binary, where an agent installs the new binary, and the batches of a rolling
//! upgrade. No I/O: the agent and the server carry these out.

use std::path::{Path, PathBuf};

/// How many hex digits of the executable's SHA-256 a version carries.
pub const BUILD_ID_HEX: usize = 12;

/// The version an agent reports: the package version with the build identity, the first
/// [`BUILD_ID_HEX`] hex digits of its executable's SHA-256 (`0.1.0+1a2b3c4d5e6f`), so two builds
/// of one package version tell apart. Without a checksum (the executable could not be read) it
/// is the package version alone.
pub fn build_version(package_version: &str, exe_sha256: Option<&str>) -> String {
    match exe_sha256.map(|s| s.get(..BUILD_ID_HEX).unwrap_or(s)) {
        Some(id) if !id.is_empty() => {
            // A package version may carry build metadata already; ours joins it with '.'.
            let sep = if package_version.contains('+') { '.' } else { '+' };
            format!("{package_version}{sep}{}", id.to_ascii_lowercase())
        }
        _ => package_version.to_owned(),
    }
}

/// Whether an agent reporting `version` knows how to upgrade: its version ends in the build
/// identity [`build_version`] adds. An older agent could not even read the command (and would
/// retry its long-poll forever), so it is skipped, to be restarted on the new binary by hand.
pub fn knows_upgrades(version: Option<&str>) -> bool {
    let Some(version) = version else { return false };
    let Some(cut) = version.len().checked_sub(BUILD_ID_HEX + 1) else { return false };
    let (Some(sep), Some(id)) = (version.get(cut..=cut), version.get(cut + 1..)) else { return false };
    version.contains('+') && matches!(sep, "+" | ".") && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Why an agent that does not know upgrades is skipped.
pub fn predates_upgrades(version: Option<&str>) -> String {
    format!(
        "this agent (version {}) predates agent upgrades; restart it on the new binary by hand, once",
        version.unwrap_or("unknown")
    )
}

/// Whether `text` is a SHA-256 in hex (64 digits, either case).
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A downloaded binary whose checksum is not the one the server announced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "checksum mismatch: the downloaded binary has SHA-256 {actual}, the server announced {expected}; the agent keeps \
     running its current binary (was the server's binary changed on disk after it started? restart the server and \
     upgrade again)"
)]
pub struct ChecksumMismatch {
    /// What the server announced.
    pub expected: String,
    /// What the download hashed to.
    pub actual: String,
}

/// Compares the announced and the computed SHA-256 (hex, case ignored).
pub fn check_checksum(expected: &str, actual: &str) -> Result<(), ChecksumMismatch> {
    if is_sha256_hex(expected) && expected.eq_ignore_ascii_case(actual) {
        Ok(())
    } else {
        Err(ChecksumMismatch { expected: expected.to_owned(), actual: actual.to_owned() })
    }
}

/// Where an agent puts a new binary and which file it executes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallTarget {
    /// The file the new binary is renamed to (its predecessor, if any, becomes `<file>.previous`).
    pub path: PathBuf,
    /// Whether it replaces the running executable itself (false: the agent moves to its own copy
    /// and the executable it started from is left alone).
    pub in_place: bool,
}

/// The agent's own copy of its binary, under its root: `<root>/var/lib/drover/bin/drover`.
pub fn own_copy(root: &Path) -> PathBuf {
    root.join("var/lib/drover/bin/drover")
}

/// Decides where an upgrade installs. An agent whose root is `/` owns its host, so the binary it
/// was started from (the systemd unit's) is replaced in place. An agent with another root is a
/// host in a directory (a local instance): the executable it started from belongs to the machine
/// (it is the server's own binary), so the new one goes to its own copy under its root, which is
/// replaced in place once the agent runs from it.
pub fn install_target(root: &Path, current_exe: &Path) -> InstallTarget {
    let own = own_copy(root);
    if root == Path::new("/") || current_exe == own {
        InstallTarget { path: current_exe.to_owned(), in_place: true }
    } else {
        InstallTarget { path: own, in_place: false }
    }
}

/// The file a replaced binary is kept as, to come back to.
pub fn previous_path(installed: &Path) -> PathBuf {
    let mut name = installed.as_os_str().to_owned();
    name.push(".previous");
    PathBuf::from(name)
}

/// The batch of each target of an upgrade, in order: all at once (batch 0), or rolling, one
/// agent per batch in the order given (a later batch is released once the one before
/// succeeded). Targets that are skipped (`false`) take no turn.
pub fn batches(runs: &[bool], rolling: bool) -> Vec<u32> {
    let mut next = 0;
    runs.iter()
        .map(|&runs| {
            if !rolling || !runs {
                return 0;
            }
            let batch = next;
            next += 1;
            batch
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";

    #[test]
    fn versions_carry_the_build() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("0.1.0", Some(SHA), "0.1.0+1a2b3c4d5e6f"),
            ("0.1.0", Some(&"AB".repeat(32)), "0.1.0+abababababab"),
            ("0.1.0-dev+g1a2b", Some(SHA), "0.1.0-dev+g1a2b.1a2b3c4d5e6f"),
            ("0.1.0", None, "0.1.0"),
            ("0.1.0", Some(""), "0.1.0"),
            ("0.1.0", Some("abc"), "0.1.0+abc"),
        ];
        for (package, sha, want) in cases {
            assert_eq!(build_version(package, *sha), *want, "{package} {sha:?}");
        }
    }

    #[test]
    fn versions_pass_the_facts_check() {
        let version = build_version("0.1.0", Some(SHA));
        let facts = crate::facts::Facts {
            address: "127.0.0.2",
            cpu_count: 2,
            memory_bytes: 1 << 30,
            agent_version: &version,
            pid: 42,
        };
        assert_eq!(crate::facts::check_facts(&facts), Ok(()));
    }

    #[test]
    fn which_agents_know_upgrades() {
        let cases: &[(Option<&str>, bool)] = &[
            (Some("0.1.0+1a2b3c4d5e6f"), true),
            (Some("0.1.0-dev+g1a2b.1a2b3c4d5e6f"), true),
            (Some("0.1.0"), false),
            (Some("0.1.0-dev+g1a2b"), false),
            (Some("0.1.0-1a2b3c4d5e6f"), false),
            (Some("0.1.0+1a2b3c4d5e6g"), false),
            (Some("+1a2b3c4d5e6f"), true),
            (Some("1a2b3c4d5e6f"), false),
            (Some(""), false),
            (None, false),
        ];
        for (version, want) in cases {
            assert_eq!(knows_upgrades(*version), *want, "{version:?}");
        }
        assert!(knows_upgrades(Some(&build_version("0.1.0", Some(SHA)))));
        assert!(knows_upgrades(Some(&build_version("0.1.0-dev+g1a2b", Some(SHA)))));
    }

    #[test]
    fn checksums() {
        let upper = SHA.to_ascii_uppercase();
        let cases: &[(&str, &str, bool)] = &[
            (SHA, SHA, true),
            (SHA, &upper, true),
            (SHA, &SHA.replace('1', "0"), false),
            ("", "", false),
            ("abc", "abc", false),
            (&"g".repeat(64), &"g".repeat(64), false),
        ];
        for (expected, actual, ok) in cases {
            assert_eq!(check_checksum(expected, actual).is_ok(), *ok, "{expected} {actual}");
        }
        let e = check_checksum(SHA, "00").unwrap_err().to_string();
        assert!(e.contains("checksum mismatch") && e.contains(SHA) && e.contains("00"), "{e}");
    }

    #[test]
    fn where_a_new_binary_goes() {
        let own = "/srv/drover/local/web1/var/lib/drover/bin/drover";
        let cases: &[(&str, &str, &str, bool)] = &[
            ("/", "/usr/local/bin/drover", "/usr/local/bin/drover", true),
            ("/srv/drover/local/web1", "/usr/local/bin/drover", own, false),
            ("/srv/drover/local/web1", own, own, true),
        ];
        for (root, exe, path, in_place) in cases {
            let want = InstallTarget { path: PathBuf::from(path), in_place: *in_place };
            assert_eq!(install_target(Path::new(root), Path::new(exe)), want, "{root} {exe}");
        }
        assert_eq!(previous_path(Path::new("/usr/bin/drover")), PathBuf::from("/usr/bin/drover.previous"));
    }

    #[test]
    fn rolling_batches() {
        let cases: &[(&[bool], bool, &[u32])] = &[
            (&[true, true, true], false, &[0, 0, 0]),
            (&[true, true, true], true, &[0, 1, 2]),
            (&[true, false, true], true, &[0, 0, 1]),
            (&[false, true], true, &[0, 0]),
            (&[], true, &[]),
        ];
        for (runs, rolling, want) in cases {
            assert_eq!(batches(runs, *rolling), *want, "{runs:?} {rolling}");
        }
    }
}
