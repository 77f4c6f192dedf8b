//! The domain core of Hybrid: exact money, symbols, orders, fills, candles, exchange filters
//! and the clock.
//!
//! Everything above this crate (grid, risk, modes, engine, store, exchange) speaks in these
//! types. The crate does no network, database or async work; the only I/O is the candle CSV
//! codec, which reads and writes any `BufRead`/`Write` (and opens a file for convenience).
//!
//! Money is `rust_decimal::Decimal` throughout ([`Price`], [`Quantity`], [`Notional`]);
//! every price and quantity that goes to an exchange passes through [`SymbolFilters`], the one
//! place where rounding rules live.

mod candle;
mod client_order_id;
mod clock;
mod csv;
mod error;
mod filters;
mod interval;
mod money;
mod order;
mod regime;
mod symbol;
pub mod telemetry;
mod text_enum;
mod time;

pub use crate::{
    candle::Candle,
    client_order_id::{ClientOrderId, CohortId, CLIENT_ORDER_ID_PREFIX},
    clock::{Clock, SimClock, SystemClock, TimerEvent, TimerId},
    csv::{
        CandleCsvReader, CandleCsvWriter, CsvError, CANDLE_CSV_HEADER, GAPS_BEFORE_INTERVAL_SEEN,
    },
    error::CoreError,
    filters::{FilterViolation, RoundedOrder, SymbolFilters},
    interval::{kline_interval_ms, KLINE_INTERVALS},
    money::{Notional, Price, Quantity},
    order::{Fill, Order, OrderKind, OrderStatus, Side, TimeInForce},
    regime::{Regime, TradingMode},
    symbol::{Asset, Symbol, QUOTE_ASSETS},
    time::Timestamp,
};
