//! Test support for Hybrid; used only as a dev-dependency.
//!
//! Each kind of fixture lives in its own public module so tests name what they use
//! (`hybrid_testkit::pg::pg_test_schema`):
//! - [`binance`]: a fake Binance spot REST server on 127.0.0.1, backed by the shared matching
//!   engine, with signature checks, weight limits and scriptable faults.
//! - [`coingecko`]: a fake CoinGecko `/coins/markets` server on 127.0.0.1 (market caps,
//!   request counting, error statuses, malformed answers).
//! - [`datasources`]: fake funding-rate and economic-calendar endpoints on 127.0.0.1.
//! - [`fuzz`]: time-bounded fuzzing of parsers with proptest strategies (`just fuzz`).
//! - [`llm`]: a fake OpenAI-compatible chat-completions server on 127.0.0.1 (valid, invalid,
//!   empty and slow answers, error statuses).
//! - [`pg`]: a throw-away PostgreSQL schema per test on the server named by
//!   `HYBRID_TEST_DATABASE_URL`, so tests run in parallel without seeing each other's rows.
//! - [`telegram`]: a fake Telegram Bot API on 127.0.0.1 (long polling, sends recorded,
//!   updates injected from any chat, outages and 429 with `retry_after`).

pub mod binance;
pub mod coingecko;
pub mod datasources;
pub mod fuzz;
pub mod llm;
pub mod pg;
pub mod telegram;
