//! Shell completions and man pages come from the same parser as the command line: a real bash
//! completes `drover dep<TAB>` from the generated script, and `drover man` writes a page per
//! subcommand.

use std::process::Command;

use crate::support::drover_bin;

/// What bash offers for the words typed so far (the last one being completed).
fn complete(words: &[&str]) -> Vec<String> {
    let script = r#"
source <("$DROVER" completions bash)
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_drover drover "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = Command::new("bash")
        .args(["-c", script, "bash"])
        .args(words)
        .env("DROVER", drover_bin())
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn bash_completes_commands_and_flags() {
    assert_eq!(complete(&["drover", "dep"]), ["deploy", "deployment"]);
    assert_eq!(complete(&["drover", "deploy", "--sta"]), ["--stack"]);
    assert!(complete(&["drover", "layer", "scal"]).contains(&"scaling".to_owned()));
}

#[test]
fn completions_for_every_shell_and_man_pages() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(drover_bin()).args(["completions", shell]).output().unwrap();
        assert!(out.status.success() && out.stdout.len() > 1000, "{shell}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = Command::new(drover_bin()).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"), "the error lists the shells");

    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(drover_bin()).args(["man", "--dir"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for page in ["drover.1", "drover-deploy.1", "drover-layer-scaling.1", "drover-completions.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page} is a man page: {text:.200}");
    }
    let deploy = std::fs::read_to_string(dir.path().join("drover-deploy.1")).unwrap();
    assert!(deploy.contains("stack"), "the deploy page documents --stack");
}
