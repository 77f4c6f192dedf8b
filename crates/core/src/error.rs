//! The crate's error type.

use crate::{csv::CsvError, order::OrderStatus};

/// Everything that can go wrong when building or changing a domain value.
///
/// Messages are lowercase and name the offending value so a user can fix the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// A symbol that is not upper-case ASCII or has no known quote asset, e.g. `"btc-usdt"`.
    #[error("invalid symbol {symbol:?}: {reason}")]
    InvalidSymbol {
        /// The text that was given.
        symbol: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An asset code that is empty or not upper-case alphanumeric ASCII, e.g. `"usdt"`.
    #[error("invalid asset {0:?}: expected 1-20 upper-case ASCII letters or digits")]
    InvalidAsset(String),
    /// A number outside its allowed range, e.g. a negative quantity.
    #[error("invalid {what} {value}: {reason}")]
    InvalidValue {
        /// Which value, e.g. `"price"`.
        what: &'static str,
        /// The value as text.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
    /// An order status change the exchange cannot produce, e.g. FILLED → NEW.
    #[error("illegal order status transition {from:?} -> {to:?}")]
    InvalidTransition {
        /// The current status.
        from: OrderStatus,
        /// The requested status.
        to: OrderStatus,
    },
    /// A fill that does not belong to the order or overfills it.
    #[error("fill rejected for order {client_order_id}: {reason}")]
    InvalidFill {
        /// The order the fill was applied to.
        client_order_id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A candle whose prices contradict each other, e.g. high below close.
    #[error("invalid candle at {open_time_ms}: {reason}")]
    InvalidCandle {
        /// The candle's open time in UTC milliseconds.
        open_time_ms: i64,
        /// Which rule it breaks.
        reason: String,
    },
    /// A client order id that Binance would refuse or that is not ours.
    #[error("invalid client order id {id:?}: {reason}")]
    InvalidClientOrderId {
        /// The text that was given.
        id: String,
        /// Why it was refused.
        reason: String,
    },
    /// A simulated clock asked to go back in time.
    #[error("clock cannot go backwards from {now_ms} ms to {requested_ms} ms")]
    ClockWentBackwards {
        /// The clock's current time in UTC milliseconds.
        now_ms: i64,
        /// The requested earlier time.
        requested_ms: i64,
    },
    /// A timer interval of zero or less, which would fire forever.
    #[error("timer {name:?} needs a positive interval, got {interval_ms} ms")]
    InvalidTimer {
        /// The timer's name.
        name: String,
        /// The interval given.
        interval_ms: i64,
    },
    /// A candle CSV file that cannot be read; names the file, line and column.
    #[error(transparent)]
    Csv(#[from] CsvError),
}
