//! The examples in `--help` are commands a user will paste: a test parses every one of them
//! with the real parser, so an example that names a flag that does not exist fails the build.

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use crate::cli::Cli;

    /// Every command's `after_help`, with the command's path.
    fn help_texts(command: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        if let Some(help) = command.get_after_help() {
            out.push((path.to_owned(), help.to_string()));
        }
        for sub in command.get_subcommands() {
            help_texts(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    /// The example command lines of a help text: lines starting with `drover `, continued by a
    /// trailing backslash, without a trailing comment, shell redirection or `&`.
    fn examples(help: &str) -> Vec<Vec<String>> {
        let mut lines = Vec::new();
        let mut pending = String::new();
        for line in help.lines().map(str::trim) {
            if pending.is_empty() && !line.starts_with("drover ") && !line.contains(" drover ") {
                continue;
            }
            let start = if pending.is_empty() { line.find("drover ").unwrap_or(0) } else { 0 };
            let line = &line[start..];
            if let Some(continued) = line.strip_suffix('\\') {
                pending.push_str(continued);
                continue;
            }
            pending.push_str(line);
            let command = pending.split(" #").next().unwrap_or_default();
            let command = command.split(['>', '&']).next().unwrap_or_default();
            lines.push(shell_words(command));
            pending.clear();
        }
        lines
    }

    /// Splits on spaces, keeping single-quoted words whole (enough for the examples).
    fn shell_words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '\'' => quoted = !quoted,
                ' ' if !quoted => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                }
                _ => word.push(c),
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        words
    }

    #[test]
    fn every_help_example_parses() {
        let mut texts = Vec::new();
        help_texts(&Cli::command(), "drover", &mut texts);
        let mut checked = 0;
        for (path, help) in &texts {
            for argv in examples(help) {
                if let Err(e) = Cli::command().try_get_matches_from(&argv) {
                    panic!("an example in `{path} --help` does not parse: {argv:?}\n{e}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 25, "only {checked} examples found in {} help texts", texts.len());
    }
}
