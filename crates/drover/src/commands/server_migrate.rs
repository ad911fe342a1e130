//! `drover server migrate`: an installation's SQLite store into PostgreSQL, with its history.

use crate::cli::ServerMigrateArgs;
use crate::exit::{CliResult, FAILED, Failure, OK};
use crate::output::table;

pub async fn migrate(args: ServerMigrateArgs) -> CliResult {
    let Some(from) = args.from.strip_prefix("sqlite://").or_else(|| args.from.strip_prefix("sqlite:")) else {
        return Err(Failure::usage(format!(
            "--from must be sqlite:PATH, the drover.db of the installation to move (sqlite:/var/lib/drover/drover.db), \
             not {:?}",
            args.from
        )));
    };
    let drover_core::database_url::Database::Postgres(to) =
        drover_core::database_url::parse(&args.to).map_err(|e| Failure::usage(e.replace("--database", "--to")))?;
    let copied = drover_server::migrate_sqlite_to_postgres(std::path::Path::new(from), &to)
        .await
        .map_err(|e| Failure::new(FAILED, format!("{:#}; nothing was written", anyhow::Error::from(e))))?;
    let rows: Vec<Vec<String>> =
        copied.iter().map(|t| vec![t.table.to_owned(), t.rows.to_string(), t.checksum.clone()]).collect();
    print!("{}", table(&["TABLE", "ROWS", "CHECKSUM (SQLITE = POSTGRESQL)"], &rows));
    let total: u64 = copied.iter().map(|t| t.rows).sum();
    println!(
        "Moved {total} rows in {} tables; both sides verified. Start the server with --database {to} \
         (its data dir keeps the CA and tokens).",
        copied.len()
    );
    Ok(OK)
}
