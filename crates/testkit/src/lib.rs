//! Test support for Hybrid; used only as a dev-dependency.
//!
//! Each kind of fixture lives in its own public module so tests name what they use
//! (`hybrid_testkit::pg::pg_test_schema`):
//! - [`binance`]: a fake Binance spot REST server on 127.0.0.1, backed by the shared matching
//!   engine, with signature checks, weight limits and scriptable faults.
//! - [`pg`]: a throw-away PostgreSQL schema per test on the server named by
//!   `HYBRID_TEST_DATABASE_URL`, so tests run in parallel without seeing each other's rows.

pub mod binance;
pub mod pg;
