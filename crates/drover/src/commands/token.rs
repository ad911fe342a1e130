//! `drover token ...`: join tokens, made per stack, listed, revoked; personal tokens without
//! `--join` (`people.rs`).

use drover_proto::api::{CreateJoinToken, JoinToken};

use crate::cli_people::{TokenCommand, TokenCreateArgs};
use crate::exit::{CliResult, Failure, OK};
use crate::login::client;
use crate::output::{or_dash, print_json, table};

/// `--expires`: a duration, or `never`; in seconds for the API.
fn expires_in_secs(raw: &str) -> CliResult<Option<u64>> {
    if raw.trim() == "never" {
        return Ok(None);
    }
    drover_core::duration::parse(raw)
        .map(|d| Some(d.as_secs()))
        .map_err(|e| Failure::usage(format!("--expires: {e}; or `never`")))
}

fn rows(tokens: &[JoinToken]) -> String {
    let rows: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| {
            vec![
                t.id.to_string(),
                t.stack.clone(),
                if t.layers.is_empty() { "any".into() } else { t.layers.join(",") },
                or_dash(t.instance.clone()),
                t.state.clone(),
                t.expires_at.clone().unwrap_or_else(|| "never".into()),
                t.uses_left.map(|n| n.to_string()).unwrap_or_else(|| "unlimited".into()),
                or_dash(t.last_used_at.clone()),
                or_dash(t.comment.clone()),
            ]
        })
        .collect();
    table(&["ID", "STACK", "LAYERS", "INSTANCE", "STATE", "EXPIRES", "USES LEFT", "LAST USED", "COMMENT"], &rows)
}

async fn create(args: TokenCreateArgs) -> CliResult {
    if !args.join {
        let expires = args.expires.as_deref().map(expires_in_secs).transpose()?.flatten();
        return super::people::create_token(args, expires).await;
    }
    if args.user.is_some() || args.level.is_some() {
        return Err(Failure::usage("--user and --level are for personal tokens; a join token has a stack and layers"));
    }
    let Some(stack) = args.stack.clone() else {
        return Err(Failure::usage("a join token enrolls into one stack: pass --stack STACK"));
    };
    let req = CreateJoinToken {
        layers: args.layers,
        instance: args.instance,
        expires_in_secs: expires_in_secs(args.expires.as_deref().unwrap_or("24h"))?,
        uses: args.uses,
        comment: args.comment,
    };
    let created = client()?.create_join_token(&stack, &req).await?;
    if args.json {
        print_json(&created);
        return Ok(OK);
    }
    // The token alone on stdout (`> FILE` keeps just it); what it allows on stderr.
    let info = &created.info;
    let layers =
        if info.layers.is_empty() { "any layer".to_owned() } else { format!("layers {}", info.layers.join(", ")) };
    eprintln!(
        "join token {} for stack {} ({layers}{}; expires {}; uses: {}). It is shown only now.",
        info.id,
        info.stack,
        info.instance.as_ref().map(|h| format!("; made for instance {h}")).unwrap_or_default(),
        info.expires_at.as_deref().unwrap_or("never"),
        info.uses_left.map(|n| n.to_string()).unwrap_or_else(|| "unlimited".into()),
    );
    eprintln!(
        "On the host: keep it in a file only you can read (chmod 600), then run\n  drover agent --join-file FILE --stack {}{}",
        info.stack,
        match &info.instance {
            Some(h) => format!(" --instance {h}"),
            None => " --layer LAYER".to_owned(),
        }
    );
    match &args.output {
        Some(path) => {
            write_private_new(path, &format!("{}\n", created.token))?;
            eprintln!("The token is in {} (mode 0600).", path.display());
        }
        None => println!("{}", created.token),
    }
    Ok(OK)
}

/// Writes a new file only its owner can read; an existing file is left alone.
pub fn write_private_new(path: &std::path::Path, contents: &str) -> CliResult<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let failed = |e: std::io::Error| Failure::usage(format!("--output {}: failed to write it: {e}", path.display()));
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::usage(format!("--output {}: the file exists; remove it or name another", path.display()))
        } else {
            failed(e)
        }
    })?;
    file.write_all(contents.as_bytes()).and_then(|()| file.sync_all()).map_err(failed)
}

/// What to run to let a pre-created registered instance's host join.
pub fn join_hint(stack: &str, host: &str) -> String {
    format!(
        "to join its host: drover token create --join --stack {stack} --instance {host} --output {host}.join\n  \
         copy {host}.join to the host (mode 0600) and run there: drover agent --join-file {host}.join --stack {stack} \
         --instance {host}"
    )
}

pub async fn run(cmd: TokenCommand) -> CliResult {
    match cmd {
        TokenCommand::Create(args) => create(args).await,
        TokenCommand::List { join: false, stack, format } => super::people::list_tokens(stack.as_deref(), format).await,
        TokenCommand::List { stack, format, .. } => {
            let client = client()?;
            let tokens = match &stack {
                Some(stack) => client.join_tokens(stack).await?,
                None => client.all_join_tokens().await?,
            };
            if format.json {
                print_json(&tokens)
            } else {
                print!("{}", rows(&tokens))
            }
            Ok(OK)
        }
        TokenCommand::Revoke { join: false, id } => super::people::revoke_token(id).await,
        TokenCommand::Revoke { id, .. } => {
            let token = client()?.revoke_join_token(id).await?;
            println!("revoked join token {} of stack {}", token.id, token.stack);
            Ok(OK)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_parsed_with_the_flag_named() {
        assert_eq!(expires_in_secs("24h").unwrap(), Some(86_400));
        assert_eq!(expires_in_secs("never").unwrap(), None);
        let err = expires_in_secs("tomorrow").unwrap_err();
        assert!(err.message().starts_with("--expires: "), "{}", err.message());
    }
}
