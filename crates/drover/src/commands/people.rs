//! `drover user ...`, personal tokens (`drover token ...` without `--join`), `drover whoami`,
//! `drover audit list`.

use drover_proto::people::{CreateToken, CreateUser, SetGrant, SetPassword, TokenInfo, User};

use crate::cli::Format;
use crate::cli_people::{AuditCommand, TokenCreateArgs, UserCommand};
use crate::exit::{CliResult, Failure, OK};
use crate::login::client;
use crate::output::{print_json, table};

fn grants_of(user: &User) -> String {
    let grants: Vec<String> = user.grants.iter().map(|g| format!("{}={}", g.stack, g.level)).collect();
    if grants.is_empty() { "-".to_owned() } else { grants.join(" ") }
}

fn user_rows(users: &[User]) -> String {
    let rows: Vec<Vec<String>> =
        users.iter().map(|u| vec![u.name.clone(), if u.admin { "yes" } else { "no" }.into(), grants_of(u)]).collect();
    table(&["NAME", "ADMIN", "LEVELS"], &rows)
}

fn or_dash(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".to_owned())
}

fn token_rows(tokens: &[TokenInfo]) -> String {
    let rows: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| {
            let state = if t.revoked_at.is_some() { "revoked" } else { "live" };
            vec![
                t.id.to_string(),
                t.user.clone(),
                t.stack.clone().unwrap_or_else(|| "(all)".into()),
                t.level.clone().unwrap_or_else(|| "(own)".into()),
                or_dash(&t.expires_at),
                state.into(),
                or_dash(&t.comment),
            ]
        })
        .collect();
    table(&["ID", "USER", "STACK", "LEVEL", "EXPIRES", "STATE", "COMMENT"], &rows)
}

pub async fn users(cmd: UserCommand) -> CliResult {
    let client = client()?;
    match cmd {
        UserCommand::Create { name, admin } => {
            let user = client.create_user(&CreateUser { name, admin }).await?;
            let what = if user.admin { "admin user" } else { "user" };
            println!("created {what} {}; give them a token with `drover token create --user {}`", user.name, user.name);
        }
        UserCommand::List(format) => {
            let users = client.users().await?;
            if format.json { print_json(&users) } else { print!("{}", user_rows(&users)) }
        }
        UserCommand::Delete { name } => {
            client.delete_user(&name).await?;
            println!("deleted user {name} with their tokens");
        }
        UserCommand::Password { name, remove: true, .. } => {
            client.remove_password(&name).await?;
            println!("{name} has no password now: they sign in with tokens only");
        }
        UserCommand::Password { name, password_file, remove: false } => {
            let Some(file) = password_file else { return Err(Failure::usage("pass --password-file FILE or --remove")) };
            let password = read_secret_line(&file)?;
            client.set_password(&name, &SetPassword { password }).await?;
            println!("{name} may sign in to the web console with this password");
        }
        UserCommand::Grant { stack, level, name } => {
            client.grant(&name, &stack, &SetGrant { level: level.clone() }).await?;
            println!("{name} has level {level} on stack {stack}");
        }
    }
    Ok(OK)
}

/// `drover token create` without `--join`: a personal token.
pub async fn create_token(args: TokenCreateArgs, expires_in_secs: Option<u64>) -> CliResult {
    if !args.layers.is_empty() || args.instance.is_some() || args.uses.is_some() {
        return Err(Failure::usage(
            "--layer, --instance and --uses are for join tokens: add --join, or leave them out for a personal token",
        ));
    }
    let req =
        CreateToken { user: args.user, stack: args.stack, level: args.level, expires_in_secs, comment: args.comment };
    let created = client()?.create_token(&req).await?;
    if args.json {
        print_json(&created);
        return Ok(OK);
    }
    // The token alone on stdout (`> FILE` keeps just it); what it allows on stderr.
    eprint!("{}", token_rows(std::slice::from_ref(&created.info)));
    eprintln!(
        "It is shown only now: keep it in a 0600 file (`drover login --token-file F`) or your CI's secret store."
    );
    match &args.output {
        Some(path) => {
            super::token::write_private_new(path, &format!("{}\n", created.token))?;
            eprintln!("The token is in {} (mode 0600).", path.display());
        }
        None => println!("{}", created.token),
    }
    Ok(OK)
}

/// `drover token list` without `--join`.
pub async fn list_tokens(stack: Option<&str>, format: Format) -> CliResult {
    let mut tokens = client()?.tokens().await?;
    if let Some(stack) = stack {
        tokens.retain(|t| t.stack.as_deref() == Some(stack));
    }
    if format.json {
        print_json(&tokens)
    } else {
        print!("{}", token_rows(&tokens))
    }
    Ok(OK)
}

/// `drover token revoke` without `--join`.
pub async fn revoke_token(id: i64) -> CliResult {
    client()?.revoke_token(id).await?;
    println!("revoked token {id}");
    Ok(OK)
}

pub async fn whoami(format: Format) -> CliResult {
    let me = client()?.whoami().await?;
    if format.json {
        print_json(&me);
        return Ok(OK);
    }
    println!("{}{}", me.name, if me.admin { " (server-wide admin)" } else { "" });
    if let Some(token) = &me.token {
        let stack = token.stack.clone().unwrap_or_else(|| "every stack".into());
        let level = token.level.clone().unwrap_or_else(|| "its user's own levels".into());
        let expires = token.expires_at.clone().unwrap_or_else(|| "never".into());
        println!("token {}: {stack}, {level}, expires {expires}", token.id);
    }
    let rows: Vec<Vec<String>> = me.stacks.iter().map(|g| vec![g.stack.clone(), g.level.clone()]).collect();
    print!("{}", table(&["STACK", "LEVEL"], &rows));
    Ok(OK)
}

pub async fn audit(cmd: AuditCommand) -> CliResult {
    let AuditCommand::List(args) = cmd;
    let since_ms = match args.since.as_deref() {
        Some(raw) => {
            let secs =
                drover_core::duration::parse(raw).map_err(|e| Failure::usage(format!("--since: {e}")))?.as_secs();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            Some(now - (secs as i64) * 1000)
        }
        None => None,
    };
    if args.limit == 0 {
        return Err(Failure::usage("--limit must be at least 1"));
    }
    let entries = client()?.audit(args.stack.as_deref(), args.user.as_deref(), since_ms, args.limit).await?;
    if args.format.json {
        print_json(&entries);
        return Ok(OK);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.at.clone(),
                e.actor.clone(),
                or_dash(&e.peer),
                or_dash(&e.stack),
                e.action.clone(),
                e.status.to_string(),
                e.outcome.clone(),
            ]
        })
        .collect();
    print!("{}", table(&["AT", "WHO", "FROM", "STACK", "WHAT", "STATUS", "OUTCOME"], &rows));
    Ok(OK)
}

/// The first line of `file` (`-`: standard input), without its line ending.
fn read_secret_line(file: &std::path::Path) -> CliResult<String> {
    let text = if file == std::path::Path::new("-") {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Failure::usage(format!("failed to read the password from standard input: {e}")))?;
        line
    } else {
        std::fs::read_to_string(file).map_err(|e| Failure::usage(format!("failed to read {}: {e}", file.display())))?
    };
    let line = text.lines().next().unwrap_or_default().to_owned();
    if line.is_empty() {
        return Err(Failure::usage(format!("{} holds no password on its first line", file.display())));
    }
    Ok(line)
}
