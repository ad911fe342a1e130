//! The server names a refused request's field as the API spells it (`repository`,
//! `timeout_secs`); the user typed a flag (`--git`, `--kill-after`). This names the flag of the
//! command that ran instead, so the error points at what to change on the command line.

use clap::ArgMatches;

/// A command's flags: (argument id, long flag).
pub type Flags = Vec<(String, String)>;

/// API fields whose flag has another name than the field (the API's name, the clap argument's id).
const RENAMED: &[(&str, &str)] = &[
    ("timeout_secs", "kill_after"),
    ("lock_wait_secs", "lock_wait"),
    ("batch_size", "batch"),
    ("rollback_to", "to"),
    ("environment", "env"),
    ("secret_environment", "secret_env"),
    ("unset_environment", "unset_env"),
];

/// The flags of the subcommand that ran: (argument id, long flag).
pub fn of_invoked(mut command: clap::Command, matches: &ArgMatches) -> Flags {
    let mut matches = matches;
    while let Some((name, sub)) = matches.subcommand() {
        let Some(found) = command.find_subcommand(name).cloned() else { break };
        command = found;
        matches = sub;
    }
    command.get_arguments().filter_map(|a| Some((a.get_id().as_str().to_owned(), a.get_long()?.to_owned()))).collect()
}

/// The message with the refused field named as the command line's flag (`--git: …` for
/// `repository: …`); the message as it was when no flag matches.
pub fn name_flag(message: &str, field: &str, flags: &Flags) -> String {
    // `custom_json.deploy.site` belongs to `--custom-json`; `hooks.boot` to `--hook`.
    let head = field.split(['.', '[']).next().unwrap_or(field);
    let id = RENAMED.iter().find(|(api, _)| *api == head).map_or(head, |(_, id)| id);
    let Some((_, long)) = flags.iter().find(|(arg, _)| arg == id) else { return message.to_owned() };
    let Some(rest) = message.strip_prefix(&format!("{field}: ")) else { return message.to_owned() };
    if head == field { format!("--{long}: {rest}") } else { format!("--{long} ({field}): {rest}") }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;
    use crate::cli::Cli;

    fn flags_of(argv: &[&str]) -> Flags {
        let matches = Cli::command().try_get_matches_from(argv).unwrap();
        Cli::from_arg_matches(&matches).unwrap();
        of_invoked(Cli::command(), &matches)
    }

    #[test]
    fn refused_fields_are_named_as_the_flags_typed() {
        let app = flags_of(&["drover", "app", "create", "--stack", "s", "site", "--layer", "web", "--git", "/r"]);
        let deploy = flags_of(&["drover", "deploy", "--stack", "s", "site"]);
        // (flags, message, field, shown)
        let cases: Vec<(&Flags, &str, &str, &str)> = vec![
            (&app, "repository: not a git URL", "repository", "--git: not a git URL"),
            (&deploy, "timeout_secs: at least 1", "timeout_secs", "--kill-after: at least 1"),
            (&deploy, "batch_size: at least 1", "batch_size", "--batch: at least 1"),
            (&deploy, "lock_wait_secs: at most 3600", "lock_wait_secs", "--lock-wait: at most 3600"),
            (
                &deploy,
                "custom_json.deploy.site.scm: must be an object",
                "custom_json.deploy.site.scm",
                "--custom-json (custom_json.deploy.site.scm): must be an object",
            ),
            // A field without a flag of its own stays as the server said it.
            (&deploy, "app: no such app", "app", "app: no such app"),
            (&deploy, "revision: unknown", "revision", "revision: unknown"),
        ];
        for (flags, message, field, shown) in cases {
            assert_eq!(name_flag(message, field, flags), shown, "{field}");
        }
    }
}
