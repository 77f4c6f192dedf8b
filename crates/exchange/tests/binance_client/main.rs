//! `BinanceClient` against the fake Binance server of `hybrid-testkit`, one module per area.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod errors;
mod fake_server;
mod klines;
mod market_and_account;
mod orders;
mod polling_feed;
mod rate_limits;
mod resolution;
mod soak;
mod support;
