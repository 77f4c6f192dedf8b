//! The Binance spot REST client ([`BinanceClient`]) and the `fetch-klines` download.
//!
//! What it guarantees (apis.md §1):
//! - every signed request carries `timestamp` + `recvWindow`, signed with HMAC-SHA256 or
//!   Ed25519 over the exact percent-encoded bytes sent; the time offset is measured from
//!   `/api/v3/time` and re-measured on `-1021`, after which the request is sent once more;
//! - request weight is budgeted per minute and corrected by `X-MBX-USED-WEIGHT-1M`; after a
//!   429/418 nothing is sent until `Retry-After` has passed;
//! - reads are retried with back-off; an order is never re-sent blindly (see `orders.rs`);
//! - keys and secrets never appear in `Debug` output, logs or errors.

mod api;
mod client;
mod config;
pub mod fuzzing;
mod klines;
mod orders;
pub mod restrictions;
mod sign;
mod time_sync;
mod weight;
mod wire;

pub use self::{
    api::KLINE_INTERVALS,
    client::{BinanceClient, OrderCounts},
    config::{BinanceConfig, BinanceEnvironment, Credentials},
    klines::{fetch_klines, FetchKlinesError, FetchSummary, KlineProgress},
    sign::{KeyError, RequestSigner},
    weight::DEFAULT_WEIGHT_LIMIT,
};
