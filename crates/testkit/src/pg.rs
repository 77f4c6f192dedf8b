//! A fresh PostgreSQL schema per test.
//!
//! [`pg_test_schema`] connects to the server named by [`TEST_DATABASE_URL_ENV`] (default
//! [`DEFAULT_TEST_DATABASE_URL`]), creates `hybrid_test_<pid>_<n>_<random>` and returns a URL
//! whose connections use that schema as their `search_path` (so every table, including diesel's
//! `__diesel_schema_migrations`, lands in it). Dropping the [`PgTestSchema`] drops the schema.
//!
//! When the server is unreachable the test is skipped with a notice, except under CI
//! (`CI=true`), where a silently skipped database test would hide a broken pipeline: there the
//! helper panics and the test fails.

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    io::Write,
    sync::atomic::{AtomicU32, Ordering},
};

use diesel::{pg::PgConnection, Connection, RunQueryDsl};

/// The environment variable naming the PostgreSQL server tests use.
pub const TEST_DATABASE_URL_ENV: &str = "HYBRID_TEST_DATABASE_URL";

/// The server used when [`TEST_DATABASE_URL_ENV`] is unset: local, trust auth, database `test`.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Counts schemas created by this process so names never repeat within a run.
static SCHEMA_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A schema that exists for one test; dropped (with everything in it) when this value drops.
#[derive(Debug)]
pub struct PgTestSchema {
    /// The server URL without the schema option, used to drop the schema.
    admin_url: String,
    /// The URL a test connects with: `admin_url` plus `options=-csearch_path=<schema>`.
    url: String,
    /// The schema's name.
    schema: String,
}

impl PgTestSchema {
    /// The URL to connect to; every connection made with it works inside [`Self::schema`].
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name, e.g. `hybrid_test_4242_3_9f2c01ab`.
    #[must_use]
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl Drop for PgTestSchema {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.admin_url)
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                diesel::sql_query(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
                    .execute(&mut conn)
                    .map_err(|e| e.to_string())
            });
        if let Err(reason) = dropped {
            notice(&format!(
                "could not drop test schema {}: {reason}",
                self.schema
            ));
        }
    }
}

/// A fresh schema for the test `test_name` (used only in the notice lines), or `None` when the
/// server is unreachable outside CI (a `skipping PostgreSQL test` notice is printed).
///
/// The notice and the line naming the schema go straight to the process's stderr, past the test
/// harness's output capture, so a CI log shows which PostgreSQL tests really ran.
///
/// # Panics
/// Under CI (`CI=true` or `CI=1`) when the server is unreachable or the schema cannot be
/// created, so a missing database fails the pipeline instead of skipping silently.
#[must_use]
pub fn pg_test_schema(test_name: &str) -> Option<PgTestSchema> {
    let admin_url = std::env::var(TEST_DATABASE_URL_ENV)
        .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
    match create_schema(&admin_url) {
        Ok(schema) => {
            notice(&format!(
                "PostgreSQL test {test_name}: using schema {}",
                schema.schema
            ));
            Some(schema)
        }
        Err(reason) if running_in_ci() => panic!(
            "PostgreSQL test {test_name} cannot run under CI ({TEST_DATABASE_URL_ENV}): {reason}"
        ),
        Err(reason) => {
            notice(&format!(
                "skipping PostgreSQL test {test_name}: {reason} (set {TEST_DATABASE_URL_ENV})"
            ));
            None
        }
    }
}

fn create_schema(admin_url: &str) -> Result<PgTestSchema, String> {
    let mut conn = PgConnection::establish(admin_url)
        .map_err(|e| format!("cannot connect to the test server: {e}"))?;
    let schema = unique_schema_name();
    diesel::sql_query(format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .map_err(|e| format!("cannot create schema {schema}: {e}"))?;
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    Ok(PgTestSchema {
        url: format!("{admin_url}{separator}options=-csearch_path%3D{schema}"),
        admin_url: admin_url.to_owned(),
        schema,
    })
}

/// `hybrid_test_<pid>_<counter>_<random>`: unique across parallel tests and processes, and a
/// plain lower-case identifier (no quoting needed, well under PostgreSQL's 63 bytes).
fn unique_schema_name() -> String {
    let counter = SCHEMA_COUNTER.fetch_add(1, Ordering::Relaxed);
    // `RandomState` is seeded randomly per process; hashing the counter gives a random suffix
    // without a dependency on a random number crate.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(counter);
    let random = hasher.finish() & 0xffff_ffff;
    format!("hybrid_test_{}_{counter}_{random:08x}", std::process::id())
}

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Writes one line to the real stderr; `eprintln!` would be captured by the test harness.
fn notice(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_unique_plain_identifiers() {
        let a = unique_schema_name();
        let b = unique_schema_name();
        assert_ne!(a, b);
        for name in [a, b] {
            assert!(name.len() < 63, "{name}");
            assert!(
                name.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'),
                "{name}"
            );
        }
    }
}
