//! What a command's log says of its progress: the steps it ran (each `$ step` line the agent
//! writes before a step, and the `(program took N s)` line after it), the one still running, and
//! the deploy case it took (`deploy case: …`). The console's deployment page and the CLI's
//! progress line read logs through this, so both name the same steps.

/// One step of a command, as its log shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogStep {
    /// The step as the agent showed it (`bin/buildout -c deploy.cfg`).
    pub shown: String,
    /// How long it took, once its `took` line is in the log.
    pub took_secs: Option<f64>,
}

/// The progress a log shows.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LogProgress {
    /// The steps, in order.
    pub steps: Vec<LogStep>,
    /// The deploy case (`new_revision`, `config_changed`, `forced_rebuild`, `unchanged`), once
    /// the log names it.
    pub case: Option<String>,
    /// The end of the text fed so far, when it is not a whole line yet.
    #[serde(skip)]
    partial: String,
}

/// The longest step name kept: a step line is a whole command line, which can be long.
const MAX_SHOWN: usize = 120;

impl LogProgress {
    /// Reads a whole log (or the part of it there is so far).
    pub fn read(log: &str) -> Self {
        let mut progress = Self::default();
        progress.feed(log);
        let tail = std::mem::take(&mut progress.partial);
        progress.line(&tail);
        progress
    }

    /// Takes the next piece of the log, which may end or begin mid-line: whole lines are read,
    /// and the rest waits for the piece that ends it (a line is kept up to a bound).
    pub fn feed(&mut self, text: &str) {
        let mut rest = text;
        while let Some(end) = rest.find('\n') {
            self.partial.push_str(&rest[..end]);
            let line = std::mem::take(&mut self.partial);
            self.line(&line);
            rest = &rest[end + 1..];
        }
        if self.partial.len() < 64 * 1024 {
            self.partial.push_str(rest);
        }
    }

    fn line(&mut self, line: &str) {
        if let Some(step) = line.strip_prefix("$ ") {
            self.steps.push(LogStep { shown: shorten(step.trim()), took_secs: None });
        } else if let Some(case) = line.strip_prefix("deploy case: ") {
            self.case = Some(case.trim().to_owned());
        } else if let Some(secs) = took_secs(line)
            && let Some(last) = self.steps.last_mut()
            && last.took_secs.is_none()
        {
            last.took_secs = Some(secs);
        }
    }

    /// The step still running: the last one, when its `took` line has not come yet.
    pub fn running(&self) -> Option<&LogStep> {
        self.steps.last().filter(|s| s.took_secs.is_none())
    }
}

/// `(buildout took 42.10 s)` → 42.1.
fn took_secs(line: &str) -> Option<f64> {
    let inner = line.trim().strip_prefix('(')?.strip_suffix(" s)")?;
    let (_, secs) = inner.rsplit_once(" took ")?;
    secs.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0)
}

fn shorten(step: &str) -> String {
    if step.chars().count() <= MAX_SHOWN {
        return step.to_owned();
    }
    let mut short: String = step.chars().take(MAX_SHOWN - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(shown: &str, took_secs: Option<f64>) -> LogStep {
        LogStep { shown: shown.to_owned(), took_secs }
    }

    /// A log, and the steps, case and running step read from it.
    type Case<'a> = (&'a str, Vec<LogStep>, Option<&'a str>, Option<&'a str>);

    #[test]
    fn steps_cases_and_the_running_one() {
        let cases: [Case; 6] = [
            ("", vec![], None, None),
            ("building release 20261201\n$ git fetch\n", vec![step("git fetch", None)], None, Some("git fetch")),
            (
                "deploy case: new_revision\n$ git fetch\n(git took 1.50 s)\n$ bin/buildout -c deploy.cfg\nInstalling.\n",
                vec![step("git fetch", Some(1.5)), step("bin/buildout -c deploy.cfg", None)],
                Some("new_revision"),
                Some("bin/buildout -c deploy.cfg"),
            ),
            (
                "$ bin/buildout\n(buildout took 42.10 s)\ndeploy case: unchanged\n",
                vec![step("bin/buildout", Some(42.1))],
                Some("unchanged"),
                None,
            ),
            // A step's own output that looks like a took line is not taken twice.
            ("$ a\n(a took 1 s)\n(b took 2 s)\n", vec![step("a", Some(1.0))], None, None),
            // Lines that only resemble the markers change nothing.
            ("  $ not a step\n(took what s)\n(x took -3 s)\n", vec![], None, None),
        ];
        for (log, steps, case, running) in cases {
            let progress = LogProgress::read(log);
            assert_eq!(progress.steps, steps, "{log:?}");
            assert_eq!(progress.case.as_deref(), case, "{log:?}");
            assert_eq!(progress.running().map(|s| s.shown.as_str()), running, "{log:?}");
        }
    }

    #[test]
    fn pieces_that_split_lines_read_as_the_whole() {
        let log = "deploy case: config_changed\n$ bin/buildout -c deploy.cfg\n(buildout took 3.25 s)\n$ restart\n";
        let whole = LogProgress::read(log);
        for cut in 0..log.len() {
            let mut fed = LogProgress::default();
            fed.feed(&log[..cut]);
            fed.feed(&log[cut..]);
            assert_eq!(
                (fed.steps.clone(), fed.case.clone()),
                (whole.steps.clone(), whole.case.clone()),
                "cut at {cut}"
            );
        }
        assert_eq!(whole.steps.len(), 2);
    }

    #[test]
    fn long_steps_are_shortened() {
        let progress = LogProgress::read(&format!("$ {}\n", "x".repeat(500)));
        assert_eq!(progress.steps[0].shown.chars().count(), MAX_SHOWN);
        assert!(progress.steps[0].shown.ends_with('…'));
    }
}
