//! The stopped server's store, reached behind its back as an operator would with the database's
//! own tools, on either backend: SQL through `sqlite3` on `drover.db` or `psql` on the PostgreSQL
//! store; a copy of the whole store saved and put back (files on SQLite, a database made from
//! the store as a template on PostgreSQL), as a restore from a backup does.

use std::path::PathBuf;
use std::process::Command;

use super::TestStack;
use super::postgres::sql_identifier;

/// The store's files on SQLite: the database and its WAL.
const SQLITE_FILES: [&str; 3] = ["drover.db", "drover.db-wal", "drover.db-shm"];

impl TestStack {
    /// Runs `statements` on the store (writes while the server is stopped); what the tool printed (one
    /// value per line, columns separated by `|`), trimmed. Write SQL both backends take.
    pub fn store_sql(&self, statements: &str) -> String {
        if let Some(store) = &self.store_database {
            return store.cluster.sql("drover", statements).trim().to_owned();
        }
        let out = Command::new("sqlite3")
            .arg(self.data_dir().join("drover.db"))
            .arg(statements)
            .output()
            .expect("the sqlite3 tool (apt-get install sqlite3)");
        assert!(out.status.success(), "sqlite3 {statements}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Saves a copy of the stopped server's store as `name` (replacing an earlier one).
    pub fn save_store(&self, name: &str) {
        assert!(self.server_pid().is_none(), "stop the server before copying its store");
        match &self.store_database {
            Some(store) => {
                let copy = sql_identifier(&format!("saved_{name}"));
                store.cluster.sql("postgres", &format!("DROP DATABASE IF EXISTS {copy};"));
                store.cluster.sql("postgres", &disconnect("drover"));
                store.cluster.sql("postgres", &format!("CREATE DATABASE {copy} TEMPLATE drover;"));
            }
            None => copy_files(&self.data_dir(), &self.saved_store_dir(name)),
        }
    }

    /// Puts back the copy saved as `name`: the stopped server's store is as it was then.
    pub fn restore_store(&self, name: &str) {
        assert!(self.server_pid().is_none(), "stop the server before replacing its store");
        match &self.store_database {
            Some(store) => {
                let copy = sql_identifier(&format!("saved_{name}"));
                store.cluster.sql("postgres", "DROP DATABASE drover WITH (FORCE);");
                store.cluster.sql("postgres", &disconnect(&format!("saved_{name}")));
                store.cluster.sql("postgres", &format!("CREATE DATABASE drover TEMPLATE {copy} OWNER drover;"));
            }
            None => copy_files(&self.saved_store_dir(name), &self.data_dir()),
        }
    }

    fn saved_store_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join("saved-stores").join(name)
    }
}

/// SQL that ends every session on `database` (a template must have none).
fn disconnect(database: &str) -> String {
    format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = {};",
        super::postgres::sql_literal(database)
    )
}

/// Copies the SQLite store's files from one directory to another; a WAL file the source does not
/// have is removed from the target, so the copy is exactly the source.
fn copy_files(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in SQLITE_FILES {
        let _ = std::fs::remove_file(to.join(name));
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).unwrap();
        }
    }
}
