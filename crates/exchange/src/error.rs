//! The error taxonomy of every exchange backend (Binance, paper, backtest), split by cause so a
//! caller can decide what to do without reading messages: retry, back off, resolve an unknown
//! outcome, or give up.
//!
//! Binance error codes and messages are in `../shared/spec/apis.md` §1.5; the resolution of
//! unknown outcomes is §1.12. The local matching engine returns the same variants with the same
//! codes and messages as Binance, so a fake server can render them back with
//! [`ExchangeError::binance_code`] and the message.

use hybrid_core::ClientOrderId;

/// `-1013` filter failures start with this text, followed by the filter name.
const FILTER_FAILURE_PREFIX: &str = "Filter failure: ";

/// Binance's message for `-2010` when the account lacks funds.
const MSG_INSUFFICIENT_BALANCE: &str = "Account has insufficient balance for requested action.";
/// Binance's message for `-2010` when an open order already uses the client order id.
const MSG_DUPLICATE_ORDER: &str = "Duplicate order sent.";
/// Binance's message for `-2010` when a LIMIT_MAKER order would trade immediately.
const MSG_WOULD_TAKE: &str = "Order would immediately match and take.";
/// Binance's message for `-2011` (cancel of an order that is not open).
const MSG_UNKNOWN_ORDER_SENT: &str = "Unknown order sent.";
/// Binance's message for `-2013` (query of an order that does not exist).
const MSG_ORDER_DOES_NOT_EXIST: &str = "Order does not exist.";

/// Everything that can go wrong when talking to an exchange.
///
/// Messages are lowercase and carry the exchange's own text where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// The request did not get through and certainly had no effect, e.g. "connection refused"
    /// or a DNS failure before anything was written. Safe to retry.
    ///
    /// A failure *after* an order request may have been written is [`Self::UnknownOutcome`].
    #[error("connectivity: {0}")]
    Connectivity(String),
    /// A definitive rejection with a Binance code not covered by a more specific variant,
    /// e.g. `{code: -1121, msg: "Invalid symbol."}`, `-1022` bad signature, or `-2010`
    /// `"Order would immediately match and take."` for a LIMIT_MAKER.
    #[error("exchange rejected the request: {code} {msg}")]
    Api {
        /// The Binance error code (negative).
        code: i64,
        /// The exchange's message.
        msg: String,
    },
    /// `-1013` filter failure, e.g. `{filter: "LOT_SIZE", msg: "Filter failure: LOT_SIZE"}`.
    /// Definitive: our rounding is wrong, which is a bug to alert on.
    #[error("order refused by filter {filter}: {msg}")]
    FilterRejected {
        /// The Binance filter name, e.g. `PRICE_FILTER`, `LOT_SIZE`, `NOTIONAL`.
        filter: String,
        /// The exchange's message.
        msg: String,
    },
    /// `-2010` with "Account has insufficient balance for requested action.". Definitive: the
    /// order was not placed.
    #[error("insufficient balance: {msg}")]
    InsufficientBalance {
        /// The exchange's message.
        msg: String,
    },
    /// `-2010` with "Duplicate order sent.": an order with this client order id is **open**
    /// right now. Not a plain rejection: it proves the earlier attempt was placed, so resolve
    /// by querying the order by its client id (`apis.md` §1.12).
    #[error("duplicate order: {msg}")]
    DuplicateOrder {
        /// The exchange's message.
        msg: String,
    },
    /// `-2011` "Unknown order sent." (cancel of an order that is not open) or `-2013` "Order
    /// does not exist." (query). On cancel, query the order to learn whether it filled.
    #[error("unknown order: {msg}")]
    UnknownOrder {
        /// The exchange's message.
        msg: String,
    },
    /// HTTP 429 (slow down) or 418 (IP banned), e.g. `{retry_after_ms: 60_000, banned: false}`.
    /// Definitive for an order: it was not placed.
    #[error("rate limited (banned: {banned}); retry after {retry_after_ms} ms")]
    RateLimited {
        /// How long to wait before the next request, from `Retry-After`; 0 when unknown.
        retry_after_ms: i64,
        /// `true` for 418: every request is refused until the ban ends.
        banned: bool,
    },
    /// The request may or may not have taken effect: a timeout after sending, an HTTP 5xx, or
    /// `-1000`/`-1001`/`-1006`/`-1007`/`-1008`, e.g. "timeout waiting for response from backend
    /// server". For an order, never re-send it blindly: query by the client order id first.
    #[error("outcome unknown for order {}: {detail}", display_id(.client_order_id))]
    UnknownOutcome {
        /// The order concerned, when the failed request was about one.
        client_order_id: Option<ClientOrderId>,
        /// What happened.
        detail: String,
    },
    /// The exchange answered with something we cannot understand, e.g. truncated JSON or a
    /// price of `"abc"`.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// A candle file replayed as the market is unreadable or holds something else than its
    /// name says (e.g. 5-minute candles in `-1m.csv`); the text names the file, line and
    /// column. Not an answer of any exchange, so not labelled as one.
    #[error("candle file {0}")]
    CandleFile(String),
    /// We refused to send the request because it is malformed, e.g. a LIMIT order without a
    /// price or an unknown kline interval. A bug in the caller.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A simulated exchange could not load or save its own state, e.g. "cannot write
    /// data/paper.json: disk full". Only the paper exchange produces it; the order itself was
    /// applied in memory.
    #[error("exchange state storage: {0}")]
    Storage(String),
}

impl From<hybrid_core::CsvError> for ExchangeError {
    fn from(error: hybrid_core::CsvError) -> Self {
        Self::CandleFile(error.to_string())
    }
}

impl ExchangeError {
    /// Classifies a Binance error body `{"code": code, "msg": msg}` (`apis.md` §1.5).
    ///
    /// The HTTP status still matters to the caller: a 429/418 becomes [`Self::RateLimited`]
    /// with the `Retry-After` header, and a 5xx is [`Self::UnknownOutcome`] whatever the body.
    #[must_use]
    pub fn from_binance_code(code: i64, msg: &str) -> Self {
        let msg_owned = msg.to_owned();
        match code {
            -1013 => match msg.strip_prefix(FILTER_FAILURE_PREFIX) {
                Some(filter) => Self::FilterRejected {
                    filter: filter.trim().to_owned(),
                    msg: msg_owned,
                },
                None => Self::Api {
                    code,
                    msg: msg_owned,
                },
            },
            -2010 => classify_new_order_rejected(msg),
            -2011 | -2013 => Self::UnknownOrder { msg: msg_owned },
            -1003 | -1015 => Self::RateLimited {
                retry_after_ms: 0,
                banned: msg.contains("banned"),
            },
            -1000 | -1001 | -1006 | -1007 | -1008 => Self::UnknownOutcome {
                client_order_id: None,
                detail: format!("{code} {msg}"),
            },
            _ => Self::Api {
                code,
                msg: msg_owned,
            },
        }
    }

    /// The Binance code this error corresponds to, for rendering it back as
    /// `{"code": .., "msg": ..}` (the fake Binance server does this); `None` for errors that have
    /// no code (connectivity, rate limits and unknown outcomes are HTTP-level).
    #[must_use]
    pub fn binance_code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            Self::FilterRejected { .. } => Some(-1013),
            Self::InsufficientBalance { .. } | Self::DuplicateOrder { .. } => Some(-2010),
            Self::UnknownOrder { msg } if msg == MSG_ORDER_DOES_NOT_EXIST => Some(-2013),
            Self::UnknownOrder { .. } => Some(-2011),
            Self::InvalidRequest(_) => Some(-1102),
            Self::Connectivity(_)
            | Self::RateLimited { .. }
            | Self::UnknownOutcome { .. }
            | Self::InvalidResponse(_)
            | Self::Storage(_)
            | Self::CandleFile(_) => None,
        }
    }

    /// The exchange's message for errors that carry one (what Binance would put in `msg`).
    #[must_use]
    pub fn binance_msg(&self) -> Option<&str> {
        match self {
            Self::Api { msg, .. }
            | Self::FilterRejected { msg, .. }
            | Self::InsufficientBalance { msg }
            | Self::DuplicateOrder { msg }
            | Self::UnknownOrder { msg } => Some(msg),
            Self::InvalidRequest(text) => Some(text),
            _ => None,
        }
    }

    /// Whether the request may have taken effect although it failed (resolve before retrying).
    #[must_use]
    pub const fn is_unknown_outcome(&self) -> bool {
        matches!(self, Self::UnknownOutcome { .. })
    }

    /// Attaches the order concerned to an [`Self::UnknownOutcome`]; other variants are returned
    /// unchanged.
    #[must_use]
    pub fn for_order(self, id: &ClientOrderId) -> Self {
        match self {
            Self::UnknownOutcome { detail, .. } => Self::UnknownOutcome {
                client_order_id: Some(id.clone()),
                detail,
            },
            other => other,
        }
    }

    /// `-1013 "Filter failure: <filter>"`, as Binance reports a filter violation.
    #[must_use]
    pub fn filter_failure(filter: &str) -> Self {
        Self::FilterRejected {
            filter: filter.to_owned(),
            msg: format!("{FILTER_FAILURE_PREFIX}{filter}"),
        }
    }

    /// `-2010 "Account has insufficient balance for requested action."`.
    #[must_use]
    pub fn insufficient_balance() -> Self {
        Self::InsufficientBalance {
            msg: MSG_INSUFFICIENT_BALANCE.to_owned(),
        }
    }

    /// `-2010 "Duplicate order sent."`: an open order already has this client order id.
    #[must_use]
    pub fn duplicate_order() -> Self {
        Self::DuplicateOrder {
            msg: MSG_DUPLICATE_ORDER.to_owned(),
        }
    }

    /// `-2010 "Order would immediately match and take."`: a LIMIT_MAKER that would trade.
    #[must_use]
    pub fn would_take() -> Self {
        Self::Api {
            code: -2010,
            msg: MSG_WOULD_TAKE.to_owned(),
        }
    }

    /// `-2011 "Unknown order sent."`: cancel of an order that is not open.
    #[must_use]
    pub fn unknown_order_sent() -> Self {
        Self::UnknownOrder {
            msg: MSG_UNKNOWN_ORDER_SENT.to_owned(),
        }
    }

    /// `-2013 "Order does not exist."`: query of an order the exchange does not know.
    #[must_use]
    pub fn order_does_not_exist() -> Self {
        Self::UnknownOrder {
            msg: MSG_ORDER_DOES_NOT_EXIST.to_owned(),
        }
    }

    /// `-1121 "Invalid symbol."`: a symbol the exchange does not list.
    #[must_use]
    pub fn invalid_symbol() -> Self {
        Self::Api {
            code: -1121,
            msg: "Invalid symbol.".to_owned(),
        }
    }
}

fn classify_new_order_rejected(msg: &str) -> ExchangeError {
    let msg_owned = msg.to_owned();
    if msg.contains("insufficient balance") {
        ExchangeError::InsufficientBalance { msg: msg_owned }
    } else if msg.contains("Duplicate order") {
        ExchangeError::DuplicateOrder { msg: msg_owned }
    } else {
        ExchangeError::Api {
            code: -2010,
            msg: msg_owned,
        }
    }
}

fn display_id(id: &Option<ClientOrderId>) -> &str {
    id.as_ref().map_or("(none)", ClientOrderId::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TestCase {
        name: &'static str,
        code: i64,
        msg: &'static str,
        expected: ExchangeError,
    }

    #[test]
    fn binance_codes_map_to_their_cause() {
        let cases = [
            TestCase {
                name: "lot size",
                code: -1013,
                msg: "Filter failure: LOT_SIZE",
                expected: ExchangeError::FilterRejected {
                    filter: "LOT_SIZE".into(),
                    msg: "Filter failure: LOT_SIZE".into(),
                },
            },
            TestCase {
                name: "insufficient balance",
                code: -2010,
                msg: MSG_INSUFFICIENT_BALANCE,
                expected: ExchangeError::InsufficientBalance {
                    msg: MSG_INSUFFICIENT_BALANCE.into(),
                },
            },
            TestCase {
                name: "duplicate",
                code: -2010,
                msg: MSG_DUPLICATE_ORDER,
                expected: ExchangeError::DuplicateOrder {
                    msg: MSG_DUPLICATE_ORDER.into(),
                },
            },
            TestCase {
                name: "would take",
                code: -2010,
                msg: MSG_WOULD_TAKE,
                expected: ExchangeError::Api {
                    code: -2010,
                    msg: MSG_WOULD_TAKE.into(),
                },
            },
            TestCase {
                name: "cancel unknown",
                code: -2011,
                msg: MSG_UNKNOWN_ORDER_SENT,
                expected: ExchangeError::UnknownOrder {
                    msg: MSG_UNKNOWN_ORDER_SENT.into(),
                },
            },
            TestCase {
                name: "query unknown",
                code: -2013,
                msg: MSG_ORDER_DOES_NOT_EXIST,
                expected: ExchangeError::UnknownOrder {
                    msg: MSG_ORDER_DOES_NOT_EXIST.into(),
                },
            },
            TestCase {
                name: "ban",
                code: -1003,
                msg: "Way too much request weight used; IP banned until 1767225600000.",
                expected: ExchangeError::RateLimited {
                    retry_after_ms: 0,
                    banned: true,
                },
            },
            TestCase {
                name: "backend timeout",
                code: -1007,
                msg: "Timeout waiting for response from backend server.",
                expected: ExchangeError::UnknownOutcome {
                    client_order_id: None,
                    detail: "-1007 Timeout waiting for response from backend server.".into(),
                },
            },
            TestCase {
                name: "bad symbol",
                code: -1121,
                msg: "Invalid symbol.",
                expected: ExchangeError::Api {
                    code: -1121,
                    msg: "Invalid symbol.".into(),
                },
            },
        ];
        for case in cases {
            let actual = ExchangeError::from_binance_code(case.code, case.msg);
            assert_eq!(actual, case.expected, "{}", case.name);
        }
    }

    #[test]
    fn codes_round_trip_through_binance_code() {
        for (code, msg) in [
            (-1013, "Filter failure: PRICE_FILTER"),
            (-2010, MSG_INSUFFICIENT_BALANCE),
            (-2010, MSG_DUPLICATE_ORDER),
            (-2010, MSG_WOULD_TAKE),
            (-2011, MSG_UNKNOWN_ORDER_SENT),
            (-2013, MSG_ORDER_DOES_NOT_EXIST),
            (-1121, "Invalid symbol."),
        ] {
            let error = ExchangeError::from_binance_code(code, msg);
            assert_eq!(error.binance_code(), Some(code), "{msg}");
            assert_eq!(error.binance_msg(), Some(msg));
        }
    }

    #[test]
    fn unknown_outcome_names_its_order() {
        let id = ClientOrderId::parse("hy1-BTCUSDT-2s").unwrap();
        let error =
            ExchangeError::from_binance_code(-1006, "Execution status unknown.").for_order(&id);
        assert!(error.is_unknown_outcome());
        assert_eq!(
            error.to_string(),
            "outcome unknown for order hy1-BTCUSDT-2s: -1006 Execution status unknown."
        );
    }
}
