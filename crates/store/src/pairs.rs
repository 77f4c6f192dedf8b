//! Trade pairs: buy lots matched FIFO against sells, with realised P&L net of fees.
//!
//! A buy opens a pair (a lot). A sell closes the oldest open lots of the same symbol and cohort
//! first, by quantity. When a sell takes only part of a lot, the lot is split: the closed part
//! becomes a new `closed` row (pointing at the lot through `parent_id`) carrying its share of
//! the entry fee and its P&L, and the lot keeps the rest, with its quantity and entry fee
//! reduced and status `partial`. So every closed row's P&L covers exactly its entry quantity,
//! and summing `net_pnl` over closed rows never double counts.
//!
//! For a closed row covering quantity `q` (fees in quote units):
//! - `gross = (exit_price − entry_price) × q`;
//! - `net = gross − entry_fee_share − exit_fee_share`, where the entry fee share is
//!   `lot_fee × q / lot_quantity` and the exit fee share `sell_fee × q / sell_quantity`
//!   (the last share takes the remainder, so the shares add up to the fee exactly);
//! - `pnl_pct = net / (entry_price × q) × 100`.
//!
//! A pair without a cohort (`None`) only ever matches other pairs without a cohort.
//! Fixes the original tracker's gaps (spec trading-core §8): partial closes, fee proration,
//! and a quantity-based close instead of "close every open pair".

use std::{fmt, str::FromStr};

use hybrid_core::{ClientOrderId, CohortId, Notional, Price, Quantity, Symbol, Timestamp};
use rust_decimal::Decimal;

use crate::{
    error::StoreError,
    store::{dispatch, Store},
};

/// Where a pair is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairStatus {
    /// Nothing of the lot has been sold.
    Open,
    /// Part of the lot has been sold (split off into closed rows); the rest is open.
    Partial,
    /// Sold; the row carries its exit and P&L.
    Closed,
}

/// Why a position was sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// A grid sell order filled.
    GridFill,
    /// A stop-loss (fixed or trailing) sold.
    StopLoss,
    /// A switch to CASH mode sold the position.
    CashExit,
    /// An operator sold by hand.
    Manual,
    /// The 6-hourly rebalance sold a coin held above its target.
    Rebalance,
}

/// The buy that opens a pair, for [`Store::open_trade_pair`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairEntry {
    /// The buy order, if known.
    pub client_order_id: Option<ClientOrderId>,
    /// The exchange trade id of the buy fill, if the pair is one fill.
    pub trade_id: Option<i64>,
    /// When the buy executed.
    pub time: Timestamp,
    /// The buy price.
    pub price: Price,
    /// The quantity bought, in base units, as held (after any commission taken in base).
    pub quantity: Quantity,
    /// The buy's fee converted to quote units.
    pub fee: Notional,
}

/// The sell that closes pairs, for [`Store::close_trade_pairs_fifo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairExit {
    /// The sell order, if known.
    pub client_order_id: Option<ClientOrderId>,
    /// When the sell executed.
    pub time: Timestamp,
    /// The sell price.
    pub price: Price,
    /// The quantity sold, in base units.
    pub quantity: Quantity,
    /// The sell's fee in quote units, shared among the closed pairs by quantity.
    pub fee: Notional,
    /// Why it sold.
    pub reason: ExitReason,
}

/// The exit side of a closed pair, and its realised P&L (quote units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairClose {
    /// The sell order, if known.
    pub client_order_id: Option<ClientOrderId>,
    /// When the sell executed.
    pub time: Timestamp,
    /// The sell price.
    pub price: Price,
    /// The quantity closed (equals the row's entry quantity).
    pub quantity: Quantity,
    /// This row's share of the sell fee, in quote units.
    pub fee: Notional,
    /// `(exit price − entry price) × quantity`.
    pub gross_pnl: Notional,
    /// Gross P&L minus this row's entry and exit fees.
    pub net_pnl: Notional,
    /// Net P&L as a percentage of the entry value (`net / (entry price × quantity) × 100`).
    pub pnl_pct: Decimal,
    /// Why it sold.
    pub reason: ExitReason,
}

/// A stored trade pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradePair {
    /// Row id; FIFO order is entry time, then id.
    pub id: i64,
    /// The owning cohort; `None` matches only other pairs without a cohort.
    pub cohort: Option<CohortId>,
    /// The traded pair.
    pub symbol: Symbol,
    /// For a closed part split off a lot, the lot's id.
    pub parent_id: Option<i64>,
    /// The buy order, if known.
    pub entry_client_order_id: Option<ClientOrderId>,
    /// The buy's exchange trade id, if known.
    pub entry_trade_id: Option<i64>,
    /// When the buy executed.
    pub entry_time: Timestamp,
    /// The buy price.
    pub entry_price: Price,
    /// The quantity this row covers, in base units (reduced on the lot when a part is split off).
    pub entry_quantity: Quantity,
    /// This row's share of the buy fee, in quote units.
    pub entry_fee: Notional,
    /// The quantity still open: the entry quantity while open or partial, zero once closed.
    pub remaining_quantity: Quantity,
    /// Open, partial or closed.
    pub status: PairStatus,
    /// The exit and P&L, present exactly when the status is closed.
    pub close: Option<PairClose>,
    /// When the row last changed.
    pub updated_at: Timestamp,
}

impl TradePair {
    /// How long the position was held, in milliseconds, once closed.
    #[must_use]
    pub fn hold_millis(&self) -> Option<i64> {
        self.close
            .as_ref()
            .map(|close| close.time.millis_since(self.entry_time))
    }
}

/// What one sell closed, from [`Store::close_trade_pairs_fifo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoClose {
    /// The closed rows, oldest lot first.
    pub closed: Vec<TradePair>,
    /// Sold quantity that found no open pair (e.g. coins bought before pairs were tracked);
    /// no P&L is booked for it and its share of the sell fee is not booked either.
    pub unmatched_quantity: Quantity,
}

impl FifoClose {
    /// The sum of the closed rows' net P&L, in quote units.
    #[must_use]
    pub fn net_pnl(&self) -> Notional {
        self.closed
            .iter()
            .filter_map(|pair| pair.close.as_ref().map(|c| c.net_pnl))
            .sum()
    }
}

impl Store {
    /// Opens a pair for a buy of `symbol` by `cohort` and returns it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown cohort; [`StoreError::Query`] on a database
    /// failure.
    pub fn open_trade_pair(
        &self,
        cohort: Option<CohortId>,
        symbol: &Symbol,
        entry: &PairEntry,
    ) -> Result<TradePair, StoreError> {
        dispatch!(self, open_trade_pair(cohort, symbol, entry))
    }

    /// Closes `exit.quantity` of `cohort`'s open pairs of `symbol`, oldest first, splitting the
    /// last lot when it is only partly sold (see the module docs for the arithmetic). All in
    /// one transaction.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    /// Nothing is written on error.
    pub fn close_trade_pairs_fifo(
        &self,
        cohort: Option<CohortId>,
        symbol: &Symbol,
        exit: &PairExit,
    ) -> Result<FifoClose, StoreError> {
        dispatch!(self, close_trade_pairs_fifo(cohort, symbol, exit))
    }

    /// `cohort`'s open and partial pairs of `symbol`, oldest first (FIFO order).
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn open_trade_pairs(
        &self,
        cohort: Option<CohortId>,
        symbol: &Symbol,
    ) -> Result<Vec<TradePair>, StoreError> {
        dispatch!(self, open_trade_pairs(cohort, symbol))
    }

    /// `cohort`'s closed pairs (all symbols), most recently closed first, at most `limit`: the
    /// returns that feed CVaR sizing and cohort ranking.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn closed_trade_pairs(
        &self,
        cohort: Option<CohortId>,
        limit: u32,
    ) -> Result<Vec<TradePair>, StoreError> {
        dispatch!(self, closed_trade_pairs(cohort, limit))
    }
}

macro_rules! text_codes {
    ($ty:ty, $what:literal, $($variant:path => $text:literal),+ $(,)?) => {
        impl $ty {
            /// The stored spelling.
            #[must_use]
            pub const fn code(self) -> &'static str {
                match self { $($variant => $text),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($variant),)+
                    _ => Err(format!(concat!("unknown ", $what, "; expected one of", $(" ", $text),+))),
                }
            }
        }
    };
}

text_codes!(PairStatus, "pair status", PairStatus::Open => "open", PairStatus::Partial => "partial", PairStatus::Closed => "closed");
text_codes!(
    ExitReason, "exit reason",
    ExitReason::GridFill => "grid_fill",
    ExitReason::StopLoss => "stop_loss",
    ExitReason::CashExit => "cash_exit",
    ExitReason::Manual => "manual",
    ExitReason::Rebalance => "rebalance",
);
