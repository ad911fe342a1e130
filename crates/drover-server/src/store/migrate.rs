//! Moving an installation from SQLite to PostgreSQL with its history: every table copied in one
//! PostgreSQL transaction (ids kept, identity sequences moved past them), then verified by row
//! counts and checksums on both sides before the transaction commits. A failure leaves the target
//! as it was.

use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use super::{Backend, Store};
use crate::error::ServerError;

/// Every table, parents before children (foreign keys hold at each insert).
const TABLES: &[&str] = &[
    "stacks",
    "layers",
    "instances",
    "instance_layers",
    "apps",
    "app_layers",
    "app_secrets",
    "deployments",
    "commands",
    "command_log",
    "releases",
    "app_locks",
    "config_versions",
    "stack_secrets",
    "restart_slots",
    "join_tokens",
    "users",
    "user_grants",
    "user_tokens",
    "audit",
    "app_webhooks",
    "webhook_deliveries",
    "events",
    "zodb_schedules",
    "control_plane_keys",
];

/// What one table moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    /// The table.
    pub table: &'static str,
    /// Its rows, on each side.
    pub rows: u64,
    /// An order-independent checksum of its rows (hex), equal on both sides.
    pub checksum: String,
}

/// A column's type in the PostgreSQL schema, which decides how its values are read and bound.
#[derive(Debug, Clone, Copy)]
enum ColumnKind {
    Integer,
    Real,
    Text,
}

/// One value, as read from either side.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Integer(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
}

impl Value {
    fn read(row: &AnyRow, index: usize, kind: ColumnKind) -> Result<Self, sqlx::Error> {
        Ok(match kind {
            ColumnKind::Integer => Self::Integer(row.try_get(index)?),
            ColumnKind::Real => Self::Real(row.try_get(index)?),
            ColumnKind::Text => Self::Text(row.try_get(index)?),
        })
    }

    fn feed(&self, hash: &mut Sha256) {
        match self {
            Self::Integer(Some(v)) => hash.update(format!("i{v};")),
            Self::Real(Some(v)) => hash.update(format!("r{};", v.to_bits())),
            Self::Text(Some(v)) => hash.update(format!("t{}:{v};", v.len())),
            Self::Integer(None) | Self::Real(None) | Self::Text(None) => hash.update("n;"),
        }
    }
}

impl Store {
    /// Copies every row of `self` (SQLite) into `target` (an empty PostgreSQL store) and checks
    /// both sides hold the same rows. Nothing is written to the target unless all of it is.
    pub async fn migrate_into(&self, target: &Store) -> Result<Vec<TableCopy>, ServerError> {
        if self.backend != Backend::Sqlite || target.backend != Backend::Postgres {
            return Err(ServerError::Other("a store moves from SQLite to PostgreSQL only".into()));
        }
        for table in TABLES {
            let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&target.pool)
                .await?;
            if rows > 0 {
                return Err(ServerError::Other(format!(
                    "the target database is not empty (table {table} has {rows} rows); migrate into a new, empty database"
                )));
            }
        }
        let mut tx = target.pool.begin().await?;
        let mut copied = Vec::new();
        for &table in TABLES {
            let columns = postgres_columns(&mut tx, table).await?;
            let list = columns.iter().map(|(name, _)| format!("\"{name}\"")).collect::<Vec<_>>().join(", ");
            let select = format!("SELECT {list} FROM {table}");
            let source: Vec<AnyRow> = sqlx::query(sqlx::AssertSqlSafe(select.clone())).fetch_all(&self.pool).await?;
            let placeholders = (1..=columns.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
            let insert = format!("INSERT INTO {table} ({list}) VALUES ({placeholders})");
            let mut source_sum = RowSum::default();
            for row in &source {
                let values = columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, kind))| Value::read(row, i, *kind))
                    .collect::<Result<Vec<_>, _>>()?;
                source_sum.add(&values);
                let mut query = sqlx::query::<Any>(sqlx::AssertSqlSafe(insert.clone()));
                for value in values {
                    query = match value {
                        Value::Integer(v) => query.bind(v),
                        Value::Real(v) => query.bind(v),
                        Value::Text(v) => query.bind(v),
                    };
                }
                query.execute(&mut *tx).await?;
            }
            if columns.iter().any(|(name, _)| name == "id") && is_identity(&mut tx, table).await? {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
                )))
                .execute(&mut *tx)
                .await?;
            }
            let written: Vec<AnyRow> = sqlx::query(sqlx::AssertSqlSafe(select)).fetch_all(&mut *tx).await?;
            let mut target_sum = RowSum::default();
            for row in &written {
                let values = columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, kind))| Value::read(row, i, *kind))
                    .collect::<Result<Vec<_>, _>>()?;
                target_sum.add(&values);
            }
            if source_sum != target_sum {
                return Err(ServerError::Other(format!(
                    "table {table}: {} rows with checksum {} in SQLite but {} rows with checksum {} in PostgreSQL; \
                     nothing was written",
                    source_sum.rows,
                    source_sum.hex(),
                    target_sum.rows,
                    target_sum.hex()
                )));
            }
            copied.push(TableCopy { table, rows: source_sum.rows, checksum: source_sum.hex() });
        }
        tx.commit().await?;
        Ok(copied)
    }
}

/// An order-independent checksum of rows: the count, and the sum (mod 2^128) of each row's
/// SHA-256 prefix, so SQLite's and PostgreSQL's different row orders give the same value.
#[derive(Debug, Default, PartialEq, Eq)]
struct RowSum {
    rows: u64,
    sum: u128,
}

impl RowSum {
    fn add(&mut self, values: &[Value]) {
        let mut hash = Sha256::new();
        for value in values {
            value.feed(&mut hash);
        }
        let digest = hash.finalize();
        let mut prefix = [0u8; 16];
        prefix.copy_from_slice(&digest[..16]);
        self.rows += 1;
        self.sum = self.sum.wrapping_add(u128::from_be_bytes(prefix));
    }

    fn hex(&self) -> String {
        format!("{:032x}", self.sum)
    }
}

/// A table's columns in the PostgreSQL schema, in order, with their kinds.
async fn postgres_columns(
    conn: &mut sqlx::AnyConnection,
    table: &str,
) -> Result<Vec<(String, ColumnKind)>, ServerError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(name, data_type)| {
            let kind = match data_type.as_str() {
                "bigint" | "integer" | "smallint" => ColumnKind::Integer,
                "double precision" | "real" => ColumnKind::Real,
                "text" | "character varying" => ColumnKind::Text,
                other => {
                    return Err(ServerError::Other(format!(
                        "column {table}.{name} has a type ({other}) the move does not know"
                    )));
                }
            };
            Ok((name, kind))
        })
        .collect()
}

/// Whether a table's `id` is an identity column (it has a sequence to move on).
async fn is_identity(conn: &mut sqlx::AnyConnection, table: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT pg_get_serial_sequence($1, 'id')::text").bind(table).fetch_one(&mut *conn).await?;
    Ok(found.is_some())
}

/// `drover server migrate`: the SQLite store at `from` (an existing file, which is opened and
/// brought to the current schema) into the empty PostgreSQL database at `to`.
pub async fn sqlite_to_postgres(from: &std::path::Path, to: &str) -> Result<Vec<TableCopy>, ServerError> {
    if !from.is_file() {
        return Err(ServerError::Other(format!(
            "{} is not a file: give the drover.db of the installation to move (in its data dir)",
            from.display()
        )));
    }
    let source = Store::open(from).await?;
    let target = Store::connect_postgres(to).await?;
    source.migrate_into(&target).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables that are not moved: each server's row of `servers` is its own, made at its start.
    const NOT_MOVED: &[&str] = &["servers"];

    /// A table added by a migration but not to `TABLES` would be left behind by every move.
    #[tokio::test]
    async fn every_table_of_the_schema_is_moved() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("drover.db")).await.unwrap();
        let mut tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        tables.sort();
        let mut moved: Vec<String> = TABLES.iter().chain(NOT_MOVED).map(|t| (*t).to_owned()).collect();
        moved.sort();
        assert_eq!(tables, moved);
    }

    /// Rows hash the same whatever their order, and differently when a value differs.
    #[test]
    fn the_checksum_ignores_row_order_only() {
        let a = [Value::Integer(Some(1)), Value::Text(Some("x".into())), Value::Real(None)];
        let b = [Value::Integer(Some(2)), Value::Text(None), Value::Real(Some(0.5))];
        let (mut one, mut other) = (RowSum::default(), RowSum::default());
        one.add(&a);
        one.add(&b);
        other.add(&b);
        other.add(&a);
        assert_eq!(one, other);
        let mut changed = RowSum::default();
        changed.add(&a);
        changed.add(&[Value::Integer(Some(2)), Value::Text(Some(String::new())), Value::Real(Some(0.5))]);
        assert_ne!(one, changed);
    }
}
