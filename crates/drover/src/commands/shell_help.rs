//! `drover completions SHELL` and `drover man`: what a shell and `man` need, generated from the
//! same clap types that parse the command line, so they never fall behind it.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::exit::{CliResult, FAILED, Failure, OK};

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> CliResult {
    // Into memory first: the generator panics on a write error, such as a closed pipe.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "drover", &mut script);
    match std::io::stdout().write_all(&script) {
        Ok(()) => Ok(OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(OK),
        Err(e) => Err(Failure::new(FAILED, format!("cannot write the completion script: {e}"))),
    }
}

/// Writes `drover.1` and a page per subcommand (`drover-deploy.1`, …) into `dir`.
pub fn man_pages(dir: &Path) -> CliResult {
    let fail = |what: &str, e: std::io::Error| Failure::new(FAILED, format!("cannot {what} {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(|e| fail("create", e))?;
    clap_mangen::generate_to(Cli::command(), dir).map_err(|e| fail("write the man pages into", e))?;
    println!("man pages written to {} (read one with: man {}/drover-deploy.1)", dir.display(), dir.display());
    Ok(OK)
}
