//! Opening the database, choosing the backend from the URL, and running migrations.
//!
//! The migrations live in this crate (`crates/store/migrations/{sqlite,postgres}`) rather than
//! at the repository root as DESIGN.md sketches: `embed_migrations!` resolves paths relative to
//! the crate being compiled, and keeping the SQL next to the `table!` definitions that must
//! match it makes a mismatch visible in one review. Both folders hold the same version names.

use std::{
    fmt,
    path::Path,
    sync::{Mutex, MutexGuard},
};

use diesel::{
    connection::SimpleConnection, pg::PgConnection, sqlite::SqliteConnection, Connection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::StoreError;

/// The SQLite migrations, compiled into the binary.
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// The PostgreSQL migrations, compiled into the binary; same version names as SQLite's.
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a SQLite writer waits for another connection's lock before failing, in milliseconds.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// A local SQLite file (bundled SQLite), or an in-memory database for tests.
    Sqlite,
    /// A PostgreSQL server, for several processes sharing one database.
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// The open connection; the variant decides which SQL dialect and migration set are used.
pub(crate) enum AnyConnection {
    /// A SQLite connection with foreign keys, WAL and a busy timeout enabled.
    Sqlite(SqliteConnection),
    /// A PostgreSQL connection.
    Pg(PgConnection),
}

/// The database: one connection behind a mutex, so a `Store` can be shared between threads.
///
/// Every method is synchronous (diesel blocks); async callers use `spawn_blocking` or a
/// single writer thread. Repository methods live next to their records (cohorts, orders and
/// fills, trade pairs, events).
pub struct Store {
    /// The connection; each method holds the lock for one operation (one transaction).
    connection: Mutex<AnyConnection>,
    /// Which backend `connection` is.
    backend: Backend,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Where a URL points, after checking its scheme.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// A SQLite database file (relative to the working directory, or absolute).
    SqliteFile(&'a str),
    /// A private in-memory SQLite database, gone when the store drops.
    SqliteMemory,
    /// A PostgreSQL server; the full URL goes to libpq.
    Postgres(&'a str),
}

impl Store {
    /// Connects to the database named by `url`, without migrating (see [`Self::run_migrations`]).
    ///
    /// Accepted URLs: `sqlite://PATH` (e.g. the default `sqlite://data/hybrid.db`, relative to
    /// the working directory; `sqlite:///abs/path.db` for an absolute path; the parent directory
    /// is created if missing), `sqlite::memory:` or `sqlite://:memory:` (a private in-memory
    /// database, for tests), and `postgres://…` or `postgresql://…` (passed to libpq as is).
    /// SQLite connections get `foreign_keys = ON`, WAL journalling and a 5 s busy timeout.
    ///
    /// # Errors
    /// [`StoreError::InvalidUrl`] for another scheme or an empty path;
    /// [`StoreError::Connection`] when the directory cannot be created or the database cannot
    /// be opened or configured; [`StoreError::Failpoint`] for a malformed `HYBRID_FAILPOINT`
    /// (see [`crate::failpoint`]).
    pub fn open(url: &str) -> Result<Self, StoreError> {
        crate::failpoint::check()?;
        let (mut connection, backend) = match parse_url(url)? {
            Target::SqliteMemory => (open_sqlite(":memory:")?, Backend::Sqlite),
            Target::SqliteFile(path) => {
                create_parent_dir(path)?;
                (open_sqlite(path)?, Backend::Sqlite)
            }
            Target::Postgres(url) => (open_postgres(url)?, Backend::Postgres),
        };
        if let Some(target) = crate::failpoint::write_target() {
            let counter = crate::failpoint::WriteCounter::new(target);
            match &mut connection {
                AnyConnection::Sqlite(conn) => conn.set_instrumentation(counter),
                AnyConnection::Pg(conn) => conn.set_instrumentation(counter),
            }
        }
        Ok(Self {
            connection: Mutex::new(connection),
            backend,
        })
    }

    /// Which backend this store uses.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The names (e.g. `2026-11-24-000001_initial`) of the embedded migrations not yet applied,
    /// oldest first.
    ///
    /// # Errors
    /// [`StoreError::Migration`] when the migration table cannot be read or created.
    pub fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let backend = self.backend;
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration {
            backend,
            reason: source.to_string(),
        };
        let names = match &mut *self.lock()? {
            AnyConnection::Sqlite(conn) => conn
                .pending_migrations(SQLITE_MIGRATIONS)
                .map_err(failed)?
                .iter()
                .map(|m| m.name().to_string())
                .collect(),
            AnyConnection::Pg(conn) => conn
                .pending_migrations(POSTGRES_MIGRATIONS)
                .map_err(failed)?
                .iter()
                .map(|m| m.name().to_string())
                .collect(),
        };
        Ok(names)
    }

    /// Applies every pending migration (each in its own transaction) and returns the names of
    /// those applied now; an empty list means the schema was already up to date.
    ///
    /// # Errors
    /// [`StoreError::Migration`] when a migration fails; the ones before it stay applied.
    pub fn run_migrations(&self) -> Result<Vec<String>, StoreError> {
        // Several processes may start together on one PostgreSQL database: one migrates, the
        // others wait for it (a session advisory lock on a fixed key) and then find nothing
        // pending. Without it two would create the same tables at once and one would fail.
        self.migration_lock(true)?;
        let result = self.migrate_now();
        let unlocked = self.migration_lock(false);
        let applied = result?;
        unlocked?;
        Ok(applied)
    }

    fn migrate_now(&self) -> Result<Vec<String>, StoreError> {
        let backend = self.backend;
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration {
            backend,
            reason: source.to_string(),
        };
        let pending = if backend == Backend::Postgres {
            self.pending_migrations()?
        } else {
            Vec::new()
        };
        match &mut *self.lock()? {
            // Two processes opening a fresh file at once: each listed every migration as
            // pending, so the second failed on "table … already exists" (issue 15, D7). One
            // immediate transaction around the list and the run makes the second wait (busy
            // timeout) for the first to commit, then find nothing pending.
            AnyConnection::Sqlite(conn) => conn.immediate_transaction(|conn| {
                let pending: Vec<String> = conn
                    .pending_migrations(SQLITE_MIGRATIONS)
                    .map_err(failed)?
                    .iter()
                    .map(|m| m.name().to_string())
                    .collect();
                conn.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map_err(failed)?;
                Ok(pending)
            }),
            AnyConnection::Pg(conn) => {
                conn.run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map_err(failed)?;
                Ok(pending)
            }
        }
    }

    /// Takes (`true`, waiting) or releases the migration lock; nothing on SQLite, whose file
    /// lock already serialises writers.
    fn migration_lock(&self, take: bool) -> Result<(), StoreError> {
        use diesel::RunQueryDsl as _;
        if let AnyConnection::Pg(conn) = &mut *self.lock()? {
            let function = if take {
                "pg_advisory_lock"
            } else {
                "pg_advisory_unlock"
            };
            diesel::sql_query(format!("SELECT {function}({MIGRATION_LOCK_KEY})")).execute(conn)?;
        }
        Ok(())
    }

    /// The connection, for one operation.
    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, AnyConnection>, StoreError> {
        self.connection.lock().map_err(|_| StoreError::Connection {
            backend: self.backend,
            reason: "the connection lock was poisoned by a panic during an earlier operation"
                .to_owned(),
        })
    }
}

/// Runs `sql::sqlite::$func` or `sql::pg::$func` on the store's connection: the query code is
/// written once (see `sql/mod.rs`) and compiled for each backend.
macro_rules! dispatch {
    ($store:expr, $func:ident($($arg:expr),* $(,)?)) => {{
        let mut guard = $store.lock()?;
        match &mut *guard {
            $crate::store::AnyConnection::Sqlite(conn) => $crate::sql::sqlite::$func(conn, $($arg),*),
            $crate::store::AnyConnection::Pg(conn) => $crate::sql::pg::$func(conn, $($arg),*),
        }
    }};
}
pub(crate) use dispatch;

/// The advisory-lock key migrations run under on PostgreSQL ("hybrid_migrations" as text).
const MIGRATION_LOCK_KEY: i64 = 0x6879_6272_6964_6d67;

/// The schemes [`Store::open`] accepts, for error messages.
const ALLOWED_SCHEMES: &str =
    "expected sqlite://PATH, sqlite::memory:, sqlite://:memory:, postgres://… or postgresql://…";

pub(crate) fn parse_url(url: &str) -> Result<Target<'_>, StoreError> {
    if url == "sqlite::memory:" || url == "sqlite://:memory:" {
        return Ok(Target::SqliteMemory);
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(StoreError::InvalidUrl {
                scheme: "sqlite".to_owned(),
                reason: format!("no database path given; {ALLOWED_SCHEMES}"),
            });
        }
        return Ok(Target::SqliteFile(path));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url));
    }
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    Err(StoreError::InvalidUrl {
        scheme: scheme.to_owned(),
        reason: format!("unsupported scheme; {ALLOWED_SCHEMES}"),
    })
}

pub(crate) fn create_parent_dir(path: &str) -> Result<(), StoreError> {
    let Some(parent) = Path::new(path).parent() else {
        return Ok(());
    };
    if parent.as_os_str().is_empty() || parent.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(parent).map_err(|e| StoreError::Connection {
        backend: Backend::Sqlite,
        reason: format!("cannot create directory {}: {e}", parent.display()),
    })
}

fn open_sqlite(path: &str) -> Result<AnyConnection, StoreError> {
    let failed = |reason: String| StoreError::Connection {
        backend: Backend::Sqlite,
        reason,
    };
    let mut conn = SqliteConnection::establish(path).map_err(|e| failed(format!("{path}: {e}")))?;
    // The busy timeout comes first: it makes a second connection wait for a lock instead of
    // failing at once, and switching to WAL itself needs a lock when another connection is
    // opening the same file. Foreign keys are off by default in SQLite; WAL lets readers run
    // beside the writer.
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; \
         PRAGMA journal_mode = WAL;"
    ))
    .map_err(|e| failed(format!("{path}: cannot configure the connection: {e}")))?;
    Ok(AnyConnection::Sqlite(conn))
}

fn open_postgres(url: &str) -> Result<AnyConnection, StoreError> {
    PgConnection::establish(url)
        .map(AnyConnection::Pg)
        .map_err(|e| StoreError::Connection {
            backend: Backend::Postgres,
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(parse_url("sqlite::memory:").unwrap(), Target::SqliteMemory);
        assert_eq!(
            parse_url("sqlite://:memory:").unwrap(),
            Target::SqliteMemory
        );
        assert_eq!(
            parse_url("sqlite://data/hybrid.db").unwrap(),
            Target::SqliteFile("data/hybrid.db")
        );
        assert_eq!(
            parse_url("sqlite:///var/lib/hybrid.db").unwrap(),
            Target::SqliteFile("/var/lib/hybrid.db")
        );
        for pg in [
            "postgres://u@h/db",
            "postgresql://u:p@h:5432/db?sslmode=disable",
        ] {
            assert_eq!(parse_url(pg).unwrap(), Target::Postgres(pg));
        }
    }

    #[test]
    fn unknown_scheme_names_the_scheme_and_the_allowed_ones_but_not_the_secret() {
        let err = parse_url("mysql://root:hunter2@localhost/hybrid").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StoreError::InvalidUrl { .. }));
        assert!(text.contains("\"mysql\""), "{text}");
        assert!(
            text.contains("sqlite://PATH") && text.contains("postgres://"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
        assert!(parse_url("sqlite://").is_err());
        assert!(parse_url("data/hybrid.db").is_err());
    }

    #[test]
    fn backend_displays_lowercase() {
        assert_eq!(Backend::Sqlite.to_string(), "sqlite");
        assert_eq!(Backend::Postgres.to_string(), "postgres");
    }
}
