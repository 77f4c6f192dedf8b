//! Orders, their life cycle and their fills.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    client_order_id::{ClientOrderId, CohortId},
    error::CoreError,
    money::{Notional, Price, Quantity},
    symbol::{Asset, Symbol},
    text_enum::text_enum,
    time::Timestamp,
};

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Side {
    /// Spend quote, receive base.
    Buy,
    /// Spend base, receive quote.
    Sell,
}

/// How an order is priced. Stop orders are not used: stops are run by `hybrid-risk` so they
/// work identically in paper, replay and live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderKind {
    /// Rests on the book at its price until filled, cancelled or expired.
    Limit,
    /// Fills at once at the best available prices.
    Market,
    /// A limit order the exchange rejects if it would take liquidity (always a maker).
    LimitMaker,
}

/// How long a limit order stays on the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeInForce {
    /// Good till cancelled.
    #[serde(rename = "GTC")]
    GoodTillCancel,
    /// Immediate or cancel: fill what can be filled now, expire the rest.
    #[serde(rename = "IOC")]
    ImmediateOrCancel,
    /// Fill or kill: fill completely now or expire.
    #[serde(rename = "FOK")]
    FillOrKill,
}

/// Where an order is in its life (Binance's statuses, plus `PendingNew` for an order we have
/// recorded but the exchange has not acknowledged yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Recorded locally before sending; the outcome of the placement is not known yet.
    PendingNew,
    /// Accepted by the exchange, nothing filled.
    New,
    /// Part of the quantity filled.
    PartiallyFilled,
    /// Completely filled (terminal).
    Filled,
    /// Cancelled by us (terminal; may carry a partial fill).
    Canceled,
    /// Cancelled by the exchange's rules, e.g. an IOC remainder (terminal; may carry a fill).
    Expired,
    /// Refused by the exchange (terminal).
    Rejected,
    /// Expired by self-trade prevention (terminal; may carry a fill).
    ExpiredInMatch,
}

impl OrderStatus {
    /// Every status, for exhaustive tests and parsing.
    pub const ALL: [Self; 8] = [
        Self::PendingNew,
        Self::New,
        Self::PartiallyFilled,
        Self::Filled,
        Self::Canceled,
        Self::Expired,
        Self::Rejected,
        Self::ExpiredInMatch,
    ];

    /// The status after the exchange reports `next`, or an error if the exchange cannot produce
    /// that change. Reporting the same status again is accepted (reconciliation re-reads orders).
    ///
    /// # Errors
    /// [`CoreError::InvalidTransition`] for any pair not in the table.
    #[rustfmt::skip]
    pub fn transition(self, next: Self) -> Result<Self, CoreError> {
        use OrderStatus::*;
        match (self, next) {
            (s, n) if s == n && s != PartiallyFilled => Ok(n),  // A repeated report changes nothing.
            (PendingNew, New)                      => Ok(New),
            (PendingNew, PartiallyFilled)          => Ok(PartiallyFilled), // Acknowledged with a first fill.
            (PendingNew, Filled)                   => Ok(Filled),     // Market orders fill in the response.
            (PendingNew, Canceled)                 => Ok(Canceled),   // Never reached the exchange (provably absent).
            (PendingNew, Expired)                  => Ok(Expired),    // IOC/FOK/market with nothing to match.
            (PendingNew, Rejected)                 => Ok(Rejected),
            (PendingNew, ExpiredInMatch)           => Ok(ExpiredInMatch),
            (New, PartiallyFilled)                 => Ok(PartiallyFilled),
            (New, Filled)                          => Ok(Filled),
            (New, Canceled)                        => Ok(Canceled),
            (New, Expired)                         => Ok(Expired),
            (New, ExpiredInMatch)                  => Ok(ExpiredInMatch),
            (PartiallyFilled, PartiallyFilled)     => Ok(PartiallyFilled), // Another partial fill.
            (PartiallyFilled, Filled)              => Ok(Filled),
            (PartiallyFilled, Canceled)            => Ok(Canceled),   // Keeps the executed part.
            (PartiallyFilled, Expired)             => Ok(Expired),
            (PartiallyFilled, ExpiredInMatch)      => Ok(ExpiredInMatch),
            (from, to)                             => Err(CoreError::InvalidTransition { from, to }),
        }
    }

    /// Whether no further change can happen.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Filled | Self::Canceled | Self::Expired | Self::Rejected | Self::ExpiredInMatch
        )
    }

    /// Whether the order is (or may be) on the exchange's book.
    #[must_use]
    pub const fn is_open(self) -> bool {
        !self.is_terminal()
    }
}

text_enum!(Side, "side", code, Side::Buy => "BUY", Side::Sell => "SELL");
text_enum!(OrderKind, "order type", code, OrderKind::Limit => "LIMIT", OrderKind::Market => "MARKET", OrderKind::LimitMaker => "LIMIT_MAKER");
text_enum!(TimeInForce, "time in force", code, TimeInForce::GoodTillCancel => "GTC", TimeInForce::ImmediateOrCancel => "IOC", TimeInForce::FillOrKill => "FOK");
text_enum!(
    OrderStatus, "order status", code,
    OrderStatus::PendingNew => "PENDING_NEW",
    OrderStatus::New => "NEW",
    OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
    OrderStatus::Filled => "FILLED",
    OrderStatus::Canceled => "CANCELED",
    OrderStatus::Expired => "EXPIRED",
    OrderStatus::Rejected => "REJECTED",
    OrderStatus::ExpiredInMatch => "EXPIRED_IN_MATCH",
);

impl Side {
    /// The other side.
    #[must_use]
    pub const fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }
}

/// One order of ours, from the intent recorded before sending to its final status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Our id, sent to the exchange; unique for ever.
    pub client_order_id: ClientOrderId,
    /// The exchange's id, once it acknowledged the order.
    pub exchange_order_id: Option<i64>,
    /// The cohort that owns the order.
    pub cohort: CohortId,
    /// The traded pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Limit, market or limit-maker.
    pub kind: OrderKind,
    /// For limit orders; `None` for market orders.
    pub time_in_force: Option<TimeInForce>,
    /// Limit price; `None` for market orders.
    pub price: Option<Price>,
    /// Ordered quantity in base units.
    pub quantity: Quantity,
    /// Filled so far, in base units.
    pub filled_quantity: Quantity,
    /// Quote spent or received so far (Binance's `cummulativeQuoteQty`).
    pub filled_quote: Notional,
    /// Where the order is in its life.
    pub status: OrderStatus,
    /// When we created the intent.
    pub created_at: Timestamp,
    /// When anything last changed.
    pub updated_at: Timestamp,
}

/// An execution of (part of) an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The order that filled.
    pub client_order_id: ClientOrderId,
    /// The exchange's order id.
    pub exchange_order_id: i64,
    /// The exchange's trade id; unique per symbol, so a fill is never booked twice.
    pub trade_id: i64,
    /// The traded pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Execution price.
    pub price: Price,
    /// Executed quantity in base units (before any commission taken from it).
    pub quantity: Quantity,
    /// Commission charged, in `commission_asset` units.
    pub commission: Decimal,
    /// The asset the commission was taken in (base on a buy, quote on a sell, or BNB).
    pub commission_asset: Asset,
    /// Whether we provided liquidity (maker fee) rather than took it.
    pub is_maker: bool,
    /// When it executed.
    pub time: Timestamp,
}

impl Fill {
    /// `price × quantity` in the quote asset.
    #[must_use]
    pub fn notional(&self) -> Notional {
        self.price * self.quantity
    }
}

impl Order {
    /// Quantity not yet filled.
    #[must_use]
    pub fn remaining(&self) -> Quantity {
        self.quantity.saturating_sub(self.filled_quantity)
    }

    /// Average fill price (`filled_quote / filled_quantity`), if anything filled.
    #[must_use]
    pub fn average_price(&self) -> Option<Price> {
        if self.filled_quantity.is_zero() {
            return None;
        }
        Price::new(self.filled_quote.value() / self.filled_quantity.value()).ok()
    }

    /// Moves the order to `next` through the transition table.
    ///
    /// # Errors
    /// [`CoreError::InvalidTransition`] when the change is impossible; the order is unchanged.
    pub fn set_status(&mut self, next: OrderStatus, at: Timestamp) -> Result<(), CoreError> {
        self.status = self.status.transition(next)?;
        self.updated_at = at;
        Ok(())
    }

    /// Books a fill: adds its quantity and value and moves the status to partially filled or
    /// filled. A cancelled or expired order keeps its status when the fill executed before the
    /// cancel (reported late).
    ///
    /// # Errors
    /// [`CoreError::InvalidFill`] if the fill belongs to another order or would overfill it;
    /// [`CoreError::InvalidTransition`] if the order can no longer fill. The order is unchanged
    /// on error.
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<(), CoreError> {
        let invalid = |reason: String| CoreError::InvalidFill {
            client_order_id: self.client_order_id.to_string(),
            reason,
        };
        if fill.client_order_id != self.client_order_id {
            return Err(invalid(format!(
                "fill is for order {}",
                fill.client_order_id
            )));
        }
        let filled = self.filled_quantity + fill.quantity;
        if filled > self.quantity {
            return Err(invalid(format!(
                "fills total {filled}, more than the ordered {}",
                self.quantity
            )));
        }
        let next = if filled == self.quantity {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        // A fill executed before a cancel can be reported after it: Binance keeps such an
        // order CANCELED (or EXPIRED) with its executed quantity, and so do we. A fill dated
        // after the cancel is impossible and refused by the transition table.
        let late_report = matches!(self.status, OrderStatus::Canceled | OrderStatus::Expired)
            && fill.time <= self.updated_at;
        if !late_report {
            self.status = self.status.transition(next)?;
        }
        self.filled_quantity = filled;
        self.filled_quote = self.filled_quote + fill.notional();
        self.exchange_order_id = Some(fill.exchange_order_id);
        self.updated_at = fill.time;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn a_fill_reported_after_the_cancel_is_booked_and_the_order_stays_cancelled() {
        let symbol = Symbol::new("BTCUSDT").unwrap();
        let id = ClientOrderId::new(CohortId::new(1), &symbol, 1).unwrap();
        let mut order = Order {
            client_order_id: id.clone(),
            exchange_order_id: Some(5),
            cohort: CohortId::new(1),
            symbol: symbol.clone(),
            side: Side::Buy,
            kind: OrderKind::Limit,
            time_in_force: Some(TimeInForce::GoodTillCancel),
            price: Some(Price::new(dec!(100)).unwrap()),
            quantity: Quantity::new(dec!(2)).unwrap(),
            filled_quantity: Quantity::ZERO,
            filled_quote: Notional::ZERO,
            status: OrderStatus::Canceled,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(10),
        };
        let fill = Fill {
            client_order_id: id,
            exchange_order_id: 5,
            trade_id: 1,
            symbol,
            side: Side::Buy,
            price: Price::new(dec!(100)).unwrap(),
            quantity: Quantity::new(dec!(0.5)).unwrap(),
            commission: Decimal::ZERO,
            commission_asset: Asset::new("BNB").unwrap(),
            is_maker: true,
            time: Timestamp::from_millis(5),
        };
        order.apply_fill(&fill).unwrap();
        assert_eq!(order.status, OrderStatus::Canceled);
        assert_eq!(order.filled_quantity.value(), dec!(0.5));
    }

    #[test]
    fn transition_table_is_exactly_the_allowed_set() {
        use OrderStatus::*;
        let allowed = [
            (PendingNew, New),
            (PendingNew, PartiallyFilled),
            (PendingNew, Filled),
            (PendingNew, Canceled),
            (PendingNew, Expired),
            (PendingNew, Rejected),
            (PendingNew, ExpiredInMatch),
            (New, PartiallyFilled),
            (New, Filled),
            (New, Canceled),
            (New, Expired),
            (New, ExpiredInMatch),
            (PartiallyFilled, PartiallyFilled),
            (PartiallyFilled, Filled),
            (PartiallyFilled, Canceled),
            (PartiallyFilled, Expired),
            (PartiallyFilled, ExpiredInMatch),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let expected = allowed.contains(&(from, to)) || from == to;
                assert_eq!(from.transition(to).is_ok(), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn terminal_states_do_not_reopen() {
        for terminal in OrderStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            assert!(terminal.transition(OrderStatus::New).is_err());
            assert!(terminal.transition(OrderStatus::PartiallyFilled).is_err());
        }
    }

    #[test]
    fn statuses_parse_their_binance_spelling() {
        for status in OrderStatus::ALL {
            assert_eq!(status.code().parse::<OrderStatus>().unwrap(), status);
        }
        let err = "DONE".parse::<OrderStatus>().unwrap_err();
        assert!(
            err.to_string().contains("expected one of PENDING_NEW"),
            "{err}"
        );
        assert_eq!(
            "LIMIT_MAKER".parse::<OrderKind>().unwrap(),
            OrderKind::LimitMaker
        );
        assert_eq!(
            "IOC".parse::<TimeInForce>().unwrap(),
            TimeInForce::ImmediateOrCancel
        );
        assert_eq!(
            serde_json::to_string(&OrderStatus::ExpiredInMatch).unwrap(),
            "\"EXPIRED_IN_MATCH\""
        );
        assert_eq!(
            serde_json::to_string(&TimeInForce::GoodTillCancel).unwrap(),
            "\"GTC\""
        );
    }

    fn order() -> Order {
        let symbol = Symbol::new("BTCUSDT").unwrap();
        Order {
            client_order_id: ClientOrderId::new(CohortId::new(1), &symbol, 7).unwrap(),
            exchange_order_id: None,
            cohort: CohortId::new(1),
            symbol,
            side: Side::Buy,
            kind: OrderKind::Limit,
            time_in_force: Some(TimeInForce::GoodTillCancel),
            price: Some(Price::new(dec!(100)).unwrap()),
            quantity: Quantity::new(dec!(2)).unwrap(),
            filled_quantity: Quantity::ZERO,
            filled_quote: Notional::ZERO,
            status: OrderStatus::New,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        }
    }

    fn fill(order: &Order, trade_id: i64, price: Decimal, qty: Decimal) -> Fill {
        Fill {
            client_order_id: order.client_order_id.clone(),
            exchange_order_id: 42,
            trade_id,
            symbol: order.symbol.clone(),
            side: order.side,
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            commission: dec!(0.001),
            commission_asset: Asset::new("BTC").unwrap(),
            is_maker: true,
            time: Timestamp::from_millis(1_000),
        }
    }

    #[test]
    fn partial_fills_accumulate_then_fill() {
        let mut o = order();
        o.apply_fill(&fill(&o, 1, dec!(100), dec!(0.5))).unwrap();
        assert_eq!(o.status, OrderStatus::PartiallyFilled);
        o.apply_fill(&fill(&o, 2, dec!(99), dec!(1.5))).unwrap();
        assert_eq!(o.status, OrderStatus::Filled);
        assert_eq!(o.filled_quote.value(), dec!(198.5));
        assert_eq!(o.average_price().unwrap().value(), dec!(99.25));
        assert_eq!(o.remaining(), Quantity::ZERO);
    }

    #[test]
    fn overfill_and_fill_after_cancel_are_refused() {
        let mut o = order();
        assert!(o.apply_fill(&fill(&o, 1, dec!(100), dec!(2.5))).is_err());
        assert_eq!(o.filled_quantity, Quantity::ZERO);
        o.set_status(OrderStatus::Canceled, Timestamp::from_millis(5))
            .unwrap();
        // The fill executed at 1 000 ms, after the cancel at 5 ms.
        let err = o.apply_fill(&fill(&o, 2, dec!(100), dec!(1))).unwrap_err();
        assert!(matches!(err, CoreError::InvalidTransition { .. }));
    }
}
