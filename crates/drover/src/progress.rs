//! A progress indicator for long waits: a spinner line on stderr when stdout is a terminal,
//! plain lines (only when the message changes) otherwise.

use std::io::{IsTerminal, Write};

const FRAMES: [char; 4] = ['|', '/', '-', '\\'];

/// Shows what is being waited for.
pub struct Progress {
    terminal: bool,
    lines_to_stderr: bool,
    frame: usize,
    last: String,
}

impl Progress {
    /// A new indicator; `lines_to_stderr` sends [`Progress::println`] lines to stderr (when
    /// stdout carries JSON).
    pub fn new(lines_to_stderr: bool) -> Self {
        Self { terminal: std::io::stdout().is_terminal(), lines_to_stderr, frame: 0, last: String::new() }
    }

    /// Whether the indicator is a spinner line on a terminal (else plain lines on change).
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Updates the message.
    pub fn update(&mut self, message: &str) {
        if self.terminal {
            self.frame = (self.frame + 1) % FRAMES.len();
            eprint!("\r\x1b[2K{} {message}", FRAMES[self.frame]);
            let _ = std::io::stderr().flush();
        } else if message != self.last {
            eprintln!("{message}");
        }
        self.last = message.to_owned();
    }

    /// Prints a line of output without mixing it into the spinner line.
    pub fn println(&self, line: &str) {
        let spinning = self.terminal && !self.last.is_empty();
        if spinning {
            eprint!("\r\x1b[2K");
        }
        if self.lines_to_stderr {
            eprintln!("{line}")
        } else {
            println!("{line}")
        }
        if spinning {
            eprint!("{} {}", FRAMES[self.frame], self.last);
            let _ = std::io::stderr().flush();
        }
    }

    /// Clears the spinner line for good.
    pub fn finish(&mut self) {
        if self.terminal && !self.last.is_empty() {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
        self.last.clear();
    }
}

impl Drop for Progress {
    /// A wait given up on (an error, a deadline) leaves no spinner line behind.
    fn drop(&mut self) {
        self.finish();
    }
}
