//! One trading process per database: [`InstanceLock`].
//!
//! Two `main_hybrid run` processes on one database would trade the same account twice, race
//! for the same order sequences and overwrite each other's state (issue 15, D7). The lock is
//! taken before anything is written and held for the life of the process; the operating system
//! or the database server releases it when the process dies, however it dies, so a crashed
//! holder never blocks a restart.
//!
//! - SQLite: an exclusive OS file lock ([`std::fs::File::try_lock`]) on `PATH.lock` beside the
//!   database file; the holder writes its pid, host and start time into that file, which is
//!   what a refused process quotes. The file may outlive its holder; only the lock counts.
//! - PostgreSQL: a session-level `pg_try_advisory_lock` held by a dedicated connection;
//!   advisory locks are scoped to the database, and the key includes the schema the tables
//!   live in, so this is one run per set of tables (and so per account traded from them). The holder's details are the lock connection's
//!   `application_name`, which a refused process reads from `pg_locks` ⋈ `pg_stat_activity`:
//!   nothing is written to any table.
//! - An in-memory SQLite database is private to its process: nothing to lock.

use std::{
    fs::{File, OpenOptions, TryLockError},
    io::{Read as _, Seek as _, SeekFrom, Write as _},
    path::PathBuf,
};

use diesel::{
    pg::PgConnection,
    sql_types::{BigInt, Bool, Text},
    Connection as _, QueryableByName, RunQueryDsl as _,
};
use hybrid_core::Clock as _;

use crate::{
    error::StoreError,
    store::{create_parent_dir, parse_url, Backend, Target},
    tasks::task_lock_key,
};

/// Holds the database for this process until dropped (or the process ends).
#[derive(Debug)]
pub struct InstanceLock {
    /// What is held; dropping it releases the lock.
    _held: Held,
}

/// The resource that carries the lock.
enum Held {
    /// In-memory SQLite: nothing shared.
    Nothing,
    /// The locked `PATH.lock` file.
    File {
        /// Closing it releases the lock.
        _file: File,
    },
    /// The PostgreSQL session holding the advisory lock.
    Session {
        /// Closing it releases the lock.
        _session: Box<PgConnection>,
    },
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Nothing => "Nothing",
            Self::File { .. } => "File",
            Self::Session { .. } => "Session",
        })
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

#[derive(QueryableByName)]
struct HolderRow {
    #[diesel(sql_type = Text)]
    holder: String,
}

impl InstanceLock {
    /// Takes the database named by `url` for this process, without waiting.
    ///
    /// `role` names the kind of process (e.g. `"run"`): processes of different roles (the
    /// scheduler, the Telegram bot) may share a database, two of one role may not.
    ///
    /// # Errors
    /// [`StoreError::InstanceLocked`] naming the holder (pid, host, since when) when another
    /// live process holds it; [`StoreError::InvalidUrl`] or [`StoreError::Connection`] when
    /// the database or its lock file cannot be reached.
    pub fn acquire(url: &str, role: &str) -> Result<Self, StoreError> {
        let held = match parse_url(url)? {
            Target::SqliteMemory => Held::Nothing,
            Target::SqliteFile(path) => Held::File {
                _file: lock_file(path, role)?,
            },
            Target::Postgres(url) => Held::Session {
                _session: Box::new(lock_session(url, role)?),
            },
        };
        Ok(Self { _held: held })
    }
}

/// `pid 123 on host, since 2026-01-01T00:00:00.000Z`: who holds the lock.
fn holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "an unknown host".to_owned());
    // A name fit for a file and for `application_name` (63 bytes, no quotes).
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .take(24)
        .collect();
    let since = hybrid_core::SystemClock.now();
    format!("pid {} on {host}, since {since}", std::process::id())
}

fn lock_file(database: &str, role: &str) -> Result<File, StoreError> {
    create_parent_dir(database)?;
    let path = PathBuf::from(format!("{database}.lock"));
    let failed = |e: std::io::Error| StoreError::Connection {
        backend: Backend::Sqlite,
        reason: format!("cannot use the lock file {}: {e}", path.display()),
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(failed)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(failed)?;
            file.seek(SeekFrom::Start(0)).map_err(failed)?;
            writeln!(file, "{role}: {}", holder()).map_err(failed)?;
            file.flush().map_err(failed)?;
            Ok(file)
        }
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            // The holder wrote its line before anyone could see the lock taken; an empty file
            // means it is between taking the lock and writing, or it could not write.
            let _ = file.read_to_string(&mut text);
            let text = text.trim();
            Err(StoreError::InstanceLocked {
                what: format!("the database {database}"),
                holder: if text.is_empty() {
                    format!("holder unknown; see {}", path.display())
                } else {
                    text.to_owned()
                },
            })
        }
        Err(TryLockError::Error(e)) => Err(failed(e)),
    }
}

fn lock_session(url: &str, role: &str) -> Result<PgConnection, StoreError> {
    let mut conn = PgConnection::establish(url).map_err(|e| StoreError::Connection {
        backend: Backend::Postgres,
        reason: e.to_string(),
    })?;
    // The tables live in the connection's schema (tests and shared servers give each
    // deployment its own), so the lock is per schema of the database.
    let schema: HolderRow =
        diesel::sql_query("SELECT current_schema()::text AS holder").get_result(&mut conn)?;
    let key = task_lock_key(&format!("hybrid instance {role} {}", schema.holder));
    let row: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<BigInt, _>(key)
        .get_result(&mut conn)?;
    if row.locked {
        // Quotes are filtered out of the holder text, so it can be spliced in as a literal.
        let name = format!("{role}: {}", holder()).replace('\'', "");
        diesel::sql_query(format!("SET application_name TO '{name}'")).execute(&mut conn)?;
        return Ok(conn);
    }
    // Advisory locks on a bigint key appear in pg_locks as (classid, objid) = (high, low)
    // 32 bits, objsubid 1.
    let bits = u64::from_ne_bytes(key.to_ne_bytes());
    let (high, low) = (i64::try_from(bits >> 32), i64::try_from(bits & 0xffff_ffff));
    let holders: Vec<HolderRow> = match (high, low) {
        (Ok(high), Ok(low)) => diesel::sql_query(
            "SELECT COALESCE(NULLIF(a.application_name, ''), 'backend pid ' || a.pid) AS holder \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
               AND l.classid::bigint = $1 AND l.objid::bigint = $2 \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .bind::<BigInt, _>(high)
        .bind::<BigInt, _>(low)
        .load(&mut conn)?,
        _ => Vec::new(),
    };
    Err(StoreError::InstanceLocked {
        what: "this PostgreSQL database".to_owned(),
        holder: holders
            .into_iter()
            .next()
            .map_or_else(|| "holder unknown".to_owned(), |h| h.holder),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_named_and_a_released_lock_is_free_again() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("sub/x.db").display());
        let first = InstanceLock::acquire(&url, "run").unwrap();
        let err = InstanceLock::acquire(&url, "run").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StoreError::InstanceLocked { .. }), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())) && text.contains("since 20"),
            "{text}"
        );
        assert!(text.contains("x.db"), "{text}");
        drop(first);
        // The holder is gone (as a crashed one is): the lock file stays, the lock does not.
        assert!(dir.path().join("sub/x.db.lock").exists());
        let again = InstanceLock::acquire(&url, "run").unwrap();
        drop(again);
        InstanceLock::acquire("sqlite::memory:", "run").unwrap();
        InstanceLock::acquire("sqlite::memory:", "run").unwrap();
    }

    #[test]
    fn postgres_allows_one_holder_per_database_and_names_it() {
        let Some(schema) = hybrid_testkit::pg::pg_test_schema("instance lock") else {
            return;
        };
        let role = "run";
        let first = InstanceLock::acquire(schema.url(), role).unwrap();
        let text = InstanceLock::acquire(schema.url(), role)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())) && text.contains("since"),
            "{text}"
        );
        drop(first);
        InstanceLock::acquire(schema.url(), role).unwrap();
    }
}
