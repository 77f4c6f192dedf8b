//! Test support for Hybrid; used only as a dev-dependency.
//!
//! Each kind of fixture lives in its own public module so tests name what they use
//! (`hybrid_testkit::pg::pg_test_schema`):
//! - [`pg`]: a throw-away PostgreSQL schema per test on the server named by
//!   `HYBRID_TEST_DATABASE_URL`, so tests run in parallel without seeing each other's rows.

pub mod pg;
