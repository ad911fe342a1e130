//! The stack a command uses when it gets no `--stack`: `DROVER_STACK`, else the one
//! `drover login --stack` saved. The saved one becomes the default of every `--stack` that
//! `DROVER_STACK` feeds, so `--help` shows it and an explicit flag or the variable still wins.

use std::ffi::OsStr;

/// `command` with `stack` as the default of each argument read from `DROVER_STACK`.
pub fn with_default_stack(command: clap::Command, stack: &str) -> clap::Command {
    command
        .mut_args(|arg| {
            if arg.get_env() == Some(OsStr::new("DROVER_STACK")) {
                arg.default_value(stack.to_owned()).required(false)
            } else {
                arg
            }
        })
        .mut_subcommands(|sub| with_default_stack(sub, stack))
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;
    use crate::cli::{Cli, Command, InstanceCommand};

    fn parse(argv: &[&str], default: Option<&str>) -> Result<Cli, clap::Error> {
        let mut command = Cli::command();
        if let Some(stack) = default {
            command = with_default_stack(command, stack);
        }
        Cli::from_arg_matches(&command.try_get_matches_from(argv)?)
    }

    fn listed_stack(cli: Cli) -> String {
        match cli.command {
            Command::Instance(InstanceCommand::List { stack, .. }) => stack,
            other => panic!("not an instance list: {other:?}"),
        }
    }

    #[test]
    fn a_saved_stack_is_the_default_and_a_flag_wins() {
        // (argv, saved default, the stack used; None: refused for want of a stack)
        let cases: &[(&[&str], Option<&str>, Option<&str>)] = &[
            (&["drover", "instance", "list"], Some("prod"), Some("prod")),
            (&["drover", "instance", "list", "--stack", "staging"], Some("prod"), Some("staging")),
            (&["drover", "instance", "list", "--stack", "staging"], None, Some("staging")),
            (&["drover", "instance", "list"], None, None),
        ];
        for (argv, default, used) in cases {
            let parsed = parse(argv, *default);
            match used {
                Some(stack) => assert_eq!(listed_stack(parsed.unwrap()), *stack, "{argv:?}"),
                None => assert!(parsed.is_err(), "{argv:?}"),
            }
        }
        // The login command's own --stack is not given a default.
        let login = with_default_stack(Cli::command(), "prod");
        let stack = login.find_subcommand("login").unwrap().get_arguments().find(|a| a.get_id() == "stack");
        assert_eq!(stack.unwrap().get_default_values().len(), 0);
    }
}
