//! Scheduled tasks in the database: cross-process task locks and the record of every run.
//!
//! On PostgreSQL a task lock is a session advisory lock keyed by a stable 64-bit hash of the
//! task's name (`pg_try_advisory_lock`), so two `main_hybrid` processes sharing one database
//! never run the same task at once; the lock dies with the connection if a process does. On
//! SQLite (one process by design) [`Store::try_lock_task`] always succeeds: the scheduler's
//! in-process lock is the only one needed. Each run is recorded in `task_runs` with its start,
//! end and outcome, which is also how a test proves that runs never overlapped.
//!
//! Retention (spec D2): [`Store::apply_retention`] deletes rows older than a cutoff from an
//! allow-listed set of tables, one statement (one transaction) per table, and never touches
//! the trading record (orders, fills, trade pairs, events, state).

use diesel::{
    sql_types::{BigInt, Nullable, Text},
    QueryableByName, RunQueryDsl,
};
use hybrid_core::Timestamp;

use crate::{
    error::StoreError,
    raw::run_sql,
    store::{AnyConnection, Store},
};

/// One recorded run of a scheduled task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRun {
    /// Row id.
    pub id: i64,
    /// The task's name, e.g. `"reconcile"`.
    pub task: String,
    /// Who ran it: host and process id.
    pub owner: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended; `None` while running (or if the process died).
    pub finished_at: Option<Timestamp>,
    /// `ok` or the error text.
    pub outcome: Option<String>,
}

/// A table the retention task may prune, with its time column and default age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionTable {
    /// Table name.
    pub table: &'static str,
    /// Its time column (UTC milliseconds).
    pub time_column: &'static str,
    /// Rows older than this many days are deleted (spec §7.5, or ours where noted).
    pub keep_days: u32,
    /// Only rows matching this SQL condition may go (e.g. only sent notifications).
    pub only_where: &'static str,
}

/// What retention may delete. Spec §7.5 lists market snapshots, whale alerts, social
/// sentiment, opportunities, technical indicators, calculation snapshots, AI conversations
/// and regime history; the ones Hybrid has are here, plus our own logs (task runs, delivered
/// notifications). Orders, fills, trade pairs, events and state are never pruned.
pub const RETENTION_TABLES: &[RetentionTable] = &[
    RetentionTable {
        table: "ai_conversations",
        time_column: "at",
        keep_days: 30,
        only_where: "1 = 1",
    },
    RetentionTable {
        table: "technical_indicators",
        time_column: "timestamp",
        keep_days: 60,
        only_where: "1 = 1",
    },
    RetentionTable {
        table: "regime_history",
        time_column: "at",
        keep_days: 180,
        only_where: "1 = 1",
    },
    RetentionTable {
        table: "task_runs",
        time_column: "started_at",
        keep_days: 30,
        only_where: "finished_at IS NOT NULL",
    },
];

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

#[derive(QueryableByName)]
struct TaskRunRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    task: String,
    #[diesel(sql_type = Text)]
    owner: String,
    #[diesel(sql_type = BigInt)]
    started_at: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    finished_at: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    outcome: Option<String>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A stable 64-bit key for a task name (FNV-1a), the same in every process and release.
#[must_use]
pub fn task_lock_key(task: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in task.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

impl Store {
    /// Takes the cross-process lock of `task` without waiting; `false` when another process
    /// holds it. Always `true` on SQLite (see the module docs).
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn try_lock_task(&self, task: &str) -> Result<bool, StoreError> {
        let mut guard = self.lock()?;
        match &mut *guard {
            AnyConnection::Sqlite(_) => Ok(true),
            AnyConnection::Pg(conn) => {
                let row: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
                    .bind::<BigInt, _>(task_lock_key(task))
                    .get_result(conn)?;
                Ok(row.locked)
            }
        }
    }

    /// Releases the lock taken by [`Self::try_lock_task`].
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn unlock_task(&self, task: &str) -> Result<(), StoreError> {
        let mut guard = self.lock()?;
        match &mut *guard {
            AnyConnection::Sqlite(_) => Ok(()),
            AnyConnection::Pg(conn) => {
                let _: Locked = diesel::sql_query("SELECT pg_advisory_unlock($1) AS locked")
                    .bind::<BigInt, _>(task_lock_key(task))
                    .get_result(conn)?;
                Ok(())
            }
        }
    }

    /// Records the start of a run; returns its id for [`Self::finish_task_run`].
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn start_task_run(
        &self,
        task: &str,
        owner: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut guard = self.lock()?;
        let row: Count = run_sql!(
            guard,
            "INSERT INTO task_runs (task, owner, started_at) VALUES (?, ?, ?) RETURNING id AS n",
            |q| q
                .bind::<Text, _>(task)
                .bind::<Text, _>(owner)
                .bind::<BigInt, _>(at.as_millis()),
            get_result
        )?;
        Ok(row.n)
    }

    /// Records the end of run `id` with its outcome (`ok` or the error).
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn finish_task_run(&self, id: i64, at: Timestamp, outcome: &str) -> Result<(), StoreError> {
        let mut guard = self.lock()?;
        run_sql!(
            guard,
            "UPDATE task_runs SET finished_at = ?, outcome = ? WHERE id = ?",
            |q| q
                .bind::<BigInt, _>(at.as_millis())
                .bind::<Text, _>(outcome)
                .bind::<BigInt, _>(id),
            execute
        )?;
        Ok(())
    }

    /// Every recorded run of `task`, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn task_runs(&self, task: &str) -> Result<Vec<TaskRun>, StoreError> {
        let mut guard = self.lock()?;
        let rows: Vec<TaskRunRow> = run_sql!(
            guard,
            "SELECT id, task, owner, started_at, finished_at, outcome FROM task_runs \
             WHERE task = ? ORDER BY started_at, id",
            |q| q.bind::<Text, _>(task),
            load
        )?;
        Ok(rows
            .into_iter()
            .map(|r| TaskRun {
                id: r.id,
                task: r.task,
                owner: r.owner,
                started_at: Timestamp::from_millis(r.started_at),
                finished_at: r.finished_at.map(Timestamp::from_millis),
                outcome: r.outcome,
            })
            .collect())
    }

    /// Deletes rows older than their table's age at `now` (tables this database does not have
    /// are skipped); returns the rows deleted per table. One statement per table: a failing
    /// table does not undo the others.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure of the first failing table; tables before
    /// it stay pruned.
    pub fn apply_retention(
        &self,
        tables: &[RetentionTable],
        now: Timestamp,
    ) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut deleted = Vec::new();
        for table in tables {
            if !RETENTION_TABLES.iter().any(|t| t.table == table.table) {
                continue; // Only allow-listed names ever reach the SQL below.
            }
            if !self.table_exists(table.table)? {
                continue;
            }
            let cutoff = now.as_millis() - i64::from(table.keep_days) * Timestamp::DAY_MS;
            let mut guard = self.lock()?;
            let sql = format!(
                "DELETE FROM {} WHERE {} < ? AND ({})",
                table.table, table.time_column, table.only_where
            );
            let n = run_sql!(guard, &sql, |q| q.bind::<BigInt, _>(cutoff), execute)?;
            deleted.push((table.table, u64::try_from(n).unwrap_or(0)));
        }
        Ok(deleted)
    }

    fn table_exists(&self, table: &str) -> Result<bool, StoreError> {
        let mut guard = self.lock()?;
        let sql = match &*guard {
            AnyConnection::Sqlite(_) => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?"
            }
            AnyConnection::Pg(_) => {
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = ?"
            }
        };
        let row: Count = run_sql!(guard, sql, |q| q.bind::<Text, _>(table), get_result)?;
        Ok(row.n > 0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn on_both_backends(test: &str, check: impl Fn(&Store)) {
        let sqlite = Store::open("sqlite::memory:").unwrap();
        sqlite.run_migrations().unwrap();
        check(&sqlite);
        if let Some(schema) = hybrid_testkit::pg::pg_test_schema(test) {
            let pg = Store::open(schema.url()).unwrap();
            pg.run_migrations().unwrap();
            check(&pg);
        }
    }

    #[test]
    fn task_lock_keys_are_stable_and_distinct() {
        // FNV-1a of "reconcile": fixed for ever, or two releases would not exclude each other.
        assert_eq!(task_lock_key("reconcile"), task_lock_key("reconcile"));
        assert_ne!(task_lock_key("reconcile"), task_lock_key("retention"));
        assert_eq!(
            task_lock_key(""),
            i64::from_ne_bytes(0xcbf2_9ce4_8422_2325_u64.to_ne_bytes())
        );
    }

    #[test]
    fn runs_are_recorded_and_retention_prunes_only_old_finished_rows() {
        on_both_backends("tasks_runs_and_retention", |store| {
            let day = Timestamp::DAY_MS;
            let old = store
                .start_task_run("retention", "a", Timestamp::from_millis(day))
                .unwrap();
            store
                .finish_task_run(old, Timestamp::from_millis(day + 5), "ok")
                .unwrap();
            // Old but never finished (a process died mid-run): kept, it is evidence.
            store
                .start_task_run("retention", "b", Timestamp::from_millis(day + 10))
                .unwrap();
            let recent = store
                .start_task_run("retention", "a", Timestamp::from_millis(40 * day))
                .unwrap();
            store
                .finish_task_run(recent, Timestamp::from_millis(40 * day + 1), "ok")
                .unwrap();
            let runs = store.task_runs("retention").unwrap();
            assert_eq!(runs.len(), 3);
            assert_eq!(runs[0].finished_at, Some(Timestamp::from_millis(day + 5)));
            assert_eq!(runs[0].outcome.as_deref(), Some("ok"));

            let deleted = store
                .apply_retention(RETENTION_TABLES, Timestamp::from_millis(41 * day))
                .unwrap();
            assert!(deleted.contains(&("task_runs", 1)), "{deleted:?}");
            let left: Vec<_> = store
                .task_runs("retention")
                .unwrap()
                .into_iter()
                .map(|r| r.owner)
                .collect();
            assert_eq!(left, ["b", "a"]);
        });
    }

    #[test]
    fn a_postgres_task_lock_excludes_a_second_connection_until_released() {
        let Some(schema) = hybrid_testkit::pg::pg_test_schema("tasks_advisory_lock") else {
            return;
        };
        let first = Store::open(schema.url()).unwrap();
        let second = Store::open(schema.url()).unwrap();
        assert!(first.try_lock_task("reconcile").unwrap());
        assert!(
            !second.try_lock_task("reconcile").unwrap(),
            "held by the first"
        );
        assert!(
            second.try_lock_task("retention").unwrap(),
            "other tasks are free"
        );
        first.unlock_task("reconcile").unwrap();
        assert!(second.try_lock_task("reconcile").unwrap());
        let sqlite = Store::open("sqlite::memory:").unwrap();
        assert!(sqlite.try_lock_task("reconcile").unwrap());
    }
}
