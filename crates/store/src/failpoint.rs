//! Crash injection for the crash-consistency campaign (`just crash`, `tests/e2e/crash.rs`).
//!
//! The environment variable `HYBRID_FAILPOINT` makes the process kill itself with
//! [`std::process::abort`] (no unwinding, no destructors, no final save: what SIGKILL does) at
//! an exact point, so a sweep can crash a run at every point in turn:
//!
//! - `write:N` — right after the N-th database write of the process has been committed
//!   (N ≥ 1). A write is one committed transaction that changed something, or one
//!   `INSERT`/`UPDATE`/`DELETE`/DDL statement run outside a transaction; migrations count.
//!   The count is process-wide (every [`Store`](crate::Store) the process opens shares it)
//!   and is taken from diesel's connection instrumentation, so no write path can escape it.
//! - `step:NAME` or `step:NAME@K` — when code calls [`failpoint`]`("NAME")` for the first
//!   (or the K-th) time. Engine code marks the steps between which a crash matters (e.g.
//!   between recording a fill and booking its trade pair).
//!
//! Unset, the cost is one load of an initialised `OnceLock` per [`failpoint`] call and nothing
//! at all per query: the instrumentation is installed only when a `write:N` point is set.
//! A malformed value is refused by [`crate::Store::open`] ([`StoreError::Failpoint`]), so a
//! campaign never runs believing it injects crashes when it does not.

use std::{
    fmt::{self, Write as _},
    sync::{
        atomic::{AtomicU64, Ordering},
        OnceLock,
    },
};

use diesel::connection::{Instrumentation, InstrumentationEvent};

use crate::error::StoreError;

/// The environment variable read once per process.
pub const FAILPOINT_ENV: &str = "HYBRID_FAILPOINT";

/// A parsed crash point.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Spec {
    /// Abort after the N-th committed write.
    Write(u64),
    /// Abort at the K-th call of `failpoint(name)`.
    Step {
        /// The step's name.
        name: String,
        /// Which call (1 = the first).
        nth: u64,
    },
}

/// The crash point of this process: `Ok(None)` when unset, `Err(text)` when malformed.
fn spec() -> &'static Result<Option<Spec>, String> {
    static SPEC: OnceLock<Result<Option<Spec>, String>> = OnceLock::new();
    SPEC.get_or_init(|| match std::env::var(FAILPOINT_ENV) {
        Ok(text) if !text.is_empty() => parse(&text).map(Some),
        _ => Ok(None),
    })
}

/// Parses `write:N`, `step:NAME` or `step:NAME@K`.
fn parse(text: &str) -> Result<Spec, String> {
    let positive = |n: &str| n.parse::<u64>().ok().filter(|n| *n >= 1);
    if let Some(n) = text.strip_prefix("write:") {
        return positive(n)
            .map(Spec::Write)
            .ok_or_else(|| format!("{text:?}: write:N needs a whole number N ≥ 1"));
    }
    if let Some(step) = text.strip_prefix("step:") {
        let (name, nth) = match step.rsplit_once('@') {
            Some((name, k)) => (
                name,
                positive(k)
                    .ok_or_else(|| format!("{text:?}: step:NAME@K needs a whole number K ≥ 1"))?,
            ),
            None => (step, 1),
        };
        if name.is_empty() {
            return Err(format!("{text:?}: step:NAME needs a name"));
        }
        return Ok(Spec::Step {
            name: name.to_owned(),
            nth,
        });
    }
    Err(format!(
        "{text:?}: expected write:N, step:NAME or step:NAME@K"
    ))
}

/// Refuses a malformed `HYBRID_FAILPOINT` (called by `Store::open`).
pub(crate) fn check() -> Result<(), StoreError> {
    spec()
        .as_ref()
        .map(|_| ())
        .map_err(|reason| StoreError::Failpoint {
            reason: reason.clone(),
        })
}

/// The write index to abort after, when a `write:N` point is set.
pub(crate) fn write_target() -> Option<u64> {
    match spec() {
        Ok(Some(Spec::Write(n))) => Some(*n),
        _ => None,
    }
}

/// Marks a named step: aborts the process when `HYBRID_FAILPOINT=step:NAME` (or
/// `step:NAME@K` and this is the K-th call) names it; does nothing otherwise.
pub fn failpoint(name: &str) {
    static HITS: AtomicU64 = AtomicU64::new(0);
    if let Ok(Some(Spec::Step { name: target, nth })) = spec() {
        if target == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *nth {
            crash(&format!("step {name}@{nth}"));
        }
    }
}

/// Committed writes of this process so far (shared by all connections).
static WRITES: AtomicU64 = AtomicU64::new(0);

fn count_write(target: u64) {
    if WRITES.fetch_add(1, Ordering::SeqCst) + 1 == target {
        crash(&format!("database write {target}"));
    }
}

fn crash(point: &str) -> ! {
    eprintln!("{FAILPOINT_ENV}: aborting the process at {point}");
    std::process::abort()
}

/// Counts a connection's committed writes (installed only when `write:N` is set).
#[derive(Debug)]
pub(crate) struct WriteCounter {
    /// The write to abort after.
    target: u64,
    /// Inside a top-level transaction.
    in_transaction: bool,
    /// The open transaction has changed something.
    dirty: bool,
}

impl WriteCounter {
    pub(crate) fn new(target: u64) -> Self {
        Self {
            target,
            in_transaction: false,
            dirty: false,
        }
    }
}

/// The first word of a statement, upper-cased, read without formatting the whole query (its
/// binds may be a large document).
fn first_word(query: &dyn fmt::Display) -> String {
    /// Keeps the first 24 characters, then stops the formatter.
    struct Head(String);
    impl fmt::Write for Head {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0.push_str(s);
            if self.0.len() >= 24 {
                Err(fmt::Error)
            } else {
                Ok(())
            }
        }
    }
    let mut head = Head(String::new());
    let _ = write!(head, "{query}");
    head.0
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase()
}

/// Whether a statement starting with `word` changes the database.
fn is_write(word: &str) -> bool {
    matches!(
        word,
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "CREATE" | "DROP" | "ALTER"
    )
}

impl Instrumentation for WriteCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::BeginTransaction { depth, .. } if depth.get() == 1 => {
                self.in_transaction = true;
                self.dirty = false;
            }
            InstrumentationEvent::FinishQuery {
                query, error: None, ..
            } => {
                let word = first_word(&query);
                if word == "COMMIT" && self.in_transaction {
                    self.in_transaction = false;
                    if std::mem::take(&mut self.dirty) {
                        count_write(self.target);
                    }
                } else if word == "ROLLBACK" && self.in_transaction {
                    self.in_transaction = false;
                    self.dirty = false;
                } else if is_write(&word) {
                    if self.in_transaction {
                        self.dirty = true;
                    } else {
                        count_write(self.target);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::{connection::SimpleConnection as _, Connection as _};

    use super::*;

    #[test]
    fn committed_changes_count_and_reads_and_rollbacks_do_not() {
        let mut conn = diesel::sqlite::SqliteConnection::establish(":memory:").unwrap();
        conn.set_instrumentation(WriteCounter::new(u64::MAX));
        let before = WRITES.load(Ordering::SeqCst);
        let delta = || WRITES.load(Ordering::SeqCst) - before;
        conn.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        assert_eq!(delta(), 1);
        conn.batch_execute("SELECT * FROM t").unwrap();
        assert_eq!(delta(), 1);
        conn.immediate_transaction(|conn| {
            conn.batch_execute("INSERT INTO t VALUES (1)")?;
            conn.batch_execute("UPDATE t SET x = 2")
        })
        .unwrap();
        assert_eq!(delta(), 2, "a transaction is one write");
        conn.transaction(|conn| conn.batch_execute("SELECT x FROM t"))
            .unwrap();
        assert_eq!(delta(), 2, "a read-only transaction writes nothing");
        let _ = conn.transaction(|conn| {
            conn.batch_execute("INSERT INTO t VALUES (3)")?;
            Err::<(), _>(diesel::result::Error::RollbackTransaction)
        });
        assert_eq!(delta(), 2, "a rolled back transaction writes nothing");
    }

    #[test]
    fn specs_are_parsed_or_refused_with_the_reason() {
        assert_eq!(parse("write:7"), Ok(Spec::Write(7)));
        assert_eq!(
            parse("step:fill_booked"),
            Ok(Spec::Step {
                name: "fill_booked".to_owned(),
                nth: 1
            })
        );
        assert_eq!(
            parse("step:a@b@3"),
            Ok(Spec::Step {
                name: "a@b".to_owned(),
                nth: 3
            })
        );
        for bad in [
            "write:0", "write:x", "write:", "step:", "step:x@0", "kill:3",
        ] {
            let reason = parse(bad).unwrap_err();
            assert!(reason.contains(bad), "{reason}");
        }
    }

    #[test]
    fn statements_are_classified_by_their_first_word() {
        assert_eq!(first_word(&"  insert into x values (1)"), "INSERT");
        assert_eq!(first_word(&"COMMIT"), "COMMIT");
        assert_eq!(first_word(&"SELECT pg_try_advisory_lock($1)"), "SELECT");
        assert_eq!(first_word(&"UPDATE `orders` SET"), "UPDATE");
        assert!(is_write("INSERT") && is_write("DELETE") && is_write("CREATE"));
        assert!(!is_write("SELECT") && !is_write("PRAGMA") && !is_write("BEGIN"));
        // A long statement is cut after its head, not formatted whole.
        let long = format!("INSERT INTO t VALUES ('{}')", "x".repeat(1_000_000));
        assert_eq!(first_word(&long), "INSERT");
    }
}
