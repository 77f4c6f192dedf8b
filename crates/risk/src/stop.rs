//! One stop-loss: fixed or trailing, with a two-phase trigger (spec §3.1, §3.2).
//!
//! Life cycle, one rule per line in [`StopPhase::transition`]:
//!
//! ```text
//! Active    --price <= stop-->  Triggered   (a market sell goes out)
//! Triggered --sell succeeded--> Confirmed   (terminal; result P&L recorded)
//! Triggered --sell failed----->  Active     (reactivated: the next price at or below the stop sells again)
//! Active    --cancel---------->  Cancelled  (terminal; e.g. HOLD → GRID)
//! ```
//!
//! A stop only ever moves up: a trailing stop follows the highest price seen at its distance,
//! a fixed stop never moves. While a sale is pending (`Triggered`) the stop is frozen and later
//! prices do not ask for a second sale: the original reported the stop again on every update,
//! which could sell the same coins twice (deliberate change).

use hybrid_core::{CohortId, Price, Quantity, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::RiskError;

/// How a stop moves after it is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopKind {
    /// Stays at `entry × (1 − distance)` for ever.
    Fixed,
    /// Follows the highest price seen: `stop = max(stop, highest × (1 − distance))`.
    Trailing,
}

/// Where a stop is in its life; see the module docs for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopPhase {
    /// Watching prices; the stop may move up.
    Active,
    /// The price reached the stop; a market sell is out and its outcome is awaited.
    Triggered,
    /// The sell succeeded (terminal).
    Confirmed,
    /// The stop was withdrawn before it fired (terminal).
    Cancelled,
}

/// What can happen to a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StopEvent {
    /// A price at or below the stop price arrived.
    PriceAtOrBelowStop,
    /// The stop's market sell filled.
    SellSucceeded,
    /// The stop's market sell failed for good (the execution policy gave up).
    SellFailed,
    /// The owner withdrew the stop.
    Cancel,
    /// The owner tightened the stop (on the way to CASH).
    Tighten,
}

impl StopPhase {
    /// The phase after `event`, or an error for a change the life cycle does not allow.
    ///
    /// # Errors
    /// [`RiskError::InvalidStopTransition`] for any pair not listed.
    #[rustfmt::skip]
    pub fn transition(self, event: StopEvent) -> Result<Self, RiskError> {
        use StopEvent as E;
        use StopPhase as P;
        match (self, event) {
            (P::Active,    E::PriceAtOrBelowStop) => Ok(P::Triggered),
            (P::Active,    E::Cancel)             => Ok(P::Cancelled),
            (P::Active,    E::Tighten)            => Ok(P::Active),
            // Still under the stop while the sale is out: nothing new, one sale at a time.
            (P::Triggered, E::PriceAtOrBelowStop) => Ok(P::Triggered),
            (P::Triggered, E::SellSucceeded)      => Ok(P::Confirmed),
            // Reactivate: the coins are still held, so the stop must keep protecting them.
            (P::Triggered, E::SellFailed)         => Ok(P::Active),
            // Cancelling or moving the stop while a sale is out would lose track of it: refused.
            (from, event) => Err(RiskError::InvalidStopTransition { from, event }),
        }
    }

    /// Whether the stop can never change again.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Confirmed | Self::Cancelled)
    }
}

/// When and at what price a stop fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// The price that reached the stop.
    pub price: Price,
    /// When it arrived.
    pub at: Timestamp,
}

/// A stop-loss protecting one cohort's position in one symbol.
///
/// Built only by [`crate::StopLossBook`] (which enforces one stop per cohort and symbol);
/// serialisable so the engine can persist it, trailing progress included, after every tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopLoss {
    pub(crate) cohort: CohortId,
    pub(crate) symbol: Symbol,
    pub(crate) kind: StopKind,
    /// Distance below the reference price, in percent (7 = 7 %).
    pub(crate) distance_pct: Decimal,
    pub(crate) entry: Price,
    pub(crate) highest: Price,
    pub(crate) stop_price: Price,
    /// What the stop sells: already reduced by the buy fee and truncated to the lot step.
    pub(crate) quantity: Quantity,
    pub(crate) phase: StopPhase,
    pub(crate) trigger: Option<Trigger>,
    pub(crate) created_at: Timestamp,
}

impl StopLoss {
    /// A new active stop at `reference × (1 − distance)`; `highest` starts at `reference`.
    pub(crate) fn new(
        parts: StopParts,
        quantity: Quantity,
        now: Timestamp,
    ) -> Result<Self, RiskError> {
        check_distance(parts.distance_pct)?;
        Ok(Self {
            stop_price: below(parts.entry, parts.distance_pct),
            cohort: parts.cohort,
            symbol: parts.symbol,
            kind: parts.kind,
            distance_pct: parts.distance_pct,
            entry: parts.entry,
            highest: parts.entry,
            quantity,
            phase: StopPhase::Active,
            trigger: None,
            created_at: now,
        })
    }

    /// The owning cohort.
    #[must_use]
    pub const fn cohort(&self) -> CohortId {
        self.cohort
    }

    /// The protected symbol.
    #[must_use]
    pub const fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    /// Fixed or trailing.
    #[must_use]
    pub const fn kind(&self) -> StopKind {
        self.kind
    }

    /// Distance below the entry (fixed) or the highest price (trailing), in percent.
    #[must_use]
    pub const fn distance_pct(&self) -> Decimal {
        self.distance_pct
    }

    /// The entry price (for a tightened stop: the price when it was tightened).
    #[must_use]
    pub const fn entry(&self) -> Price {
        self.entry
    }

    /// The highest price seen while active (starts at the entry).
    #[must_use]
    pub const fn highest(&self) -> Price {
        self.highest
    }

    /// The price at or below which the stop sells.
    #[must_use]
    pub const fn stop_price(&self) -> Price {
        self.stop_price
    }

    /// The quantity the stop sells (net of the buy fee, on the lot step).
    #[must_use]
    pub const fn quantity(&self) -> Quantity {
        self.quantity
    }

    /// Where the stop is in its life.
    #[must_use]
    pub const fn phase(&self) -> StopPhase {
        self.phase
    }

    /// When and where it fired, while a sale is pending or after it was confirmed.
    #[must_use]
    pub const fn trigger(&self) -> Option<Trigger> {
        self.trigger
    }

    /// When the stop was created.
    #[must_use]
    pub const fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// `(entry − stop) / entry × 100`: how far below the entry the stop sits, in percent
    /// (negative once a trailing stop is above the entry).
    #[must_use]
    pub fn distance_from_entry_pct(&self) -> Decimal {
        (self.entry.value() - self.stop_price.value()) / self.entry.value() * Decimal::ONE_HUNDRED
    }

    /// The realised result of the trigger in percent, `(trigger − entry) / entry × 100`; `None`
    /// before the stop fired.
    #[must_use]
    pub fn result_pct(&self) -> Option<Decimal> {
        let trigger = self.trigger?;
        let entry = self.entry.value();
        Some((trigger.price.value() - entry) / entry * Decimal::ONE_HUNDRED)
    }

    /// Feeds a price: an active stop trails, then fires if `price ≤ stop` (inclusive).
    /// Returns `true` exactly when this price fired the stop.
    pub(crate) fn on_price(&mut self, price: Price, now: Timestamp) -> bool {
        if self.phase != StopPhase::Active {
            return false;
        }
        self.trail(price);
        if price > self.stop_price {
            return false;
        }
        if self.apply(StopEvent::PriceAtOrBelowStop).is_err() {
            return false;
        }
        self.trigger = Some(Trigger { price, at: now });
        true
    }

    /// Moves a trailing stop up behind a new high; never down.
    fn trail(&mut self, price: Price) {
        if self.kind != StopKind::Trailing || price <= self.highest {
            return;
        }
        self.highest = price;
        self.stop_price = self.stop_price.max(below(price, self.distance_pct));
    }

    /// Applies a life-cycle event through the transition table.
    pub(crate) fn apply(&mut self, event: StopEvent) -> Result<(), RiskError> {
        self.phase = self.phase.transition(event)?;
        if self.phase == StopPhase::Active {
            self.trigger = None;
        }
        Ok(())
    }

    /// Replaces the stop by a tighter trailing one at `distance_pct` below `price`, keeping
    /// the quantity. The stop price never goes down: `max(old stop, price × (1 − distance))`.
    pub(crate) fn tighten(&mut self, price: Price, distance_pct: Decimal) -> Result<(), RiskError> {
        check_distance(distance_pct)?;
        self.apply(StopEvent::Tighten)?;
        self.kind = StopKind::Trailing;
        self.distance_pct = distance_pct;
        self.entry = price;
        self.highest = price;
        self.stop_price = self.stop_price.max(below(price, distance_pct));
        Ok(())
    }

    /// Checks the invariants of a stop read back from storage.
    pub(crate) fn check_restored(&self) -> Result<(), RiskError> {
        check_distance(self.distance_pct)?;
        let consistent = self.highest >= self.entry
            && (self.phase == StopPhase::Triggered) == self.trigger.is_some()
            && !self.phase.is_terminal()
            && !self.quantity.is_zero();
        if consistent {
            Ok(())
        } else {
            Err(RiskError::InvalidInput {
                what: "restored stop",
                value: format!("{}/{} {:?}", self.cohort, self.symbol, self.phase),
                reason: "inconsistent stop state",
            })
        }
    }
}

/// The parts of a stop that do not depend on the book's configuration.
#[derive(Debug, Clone)]
pub(crate) struct StopParts {
    pub(crate) cohort: CohortId,
    pub(crate) symbol: Symbol,
    pub(crate) kind: StopKind,
    pub(crate) distance_pct: Decimal,
    pub(crate) entry: Price,
}

/// `price × (1 − pct / 100)`; positive because `pct` is below 100 (checked by
/// [`check_distance`]), so falling back to `price` never happens in practice.
fn below(price: Price, pct: Decimal) -> Price {
    let value = price.value() * (Decimal::ONE - pct / Decimal::ONE_HUNDRED);
    Price::new(value).unwrap_or(price)
}

/// A stop distance must be a percentage strictly between 0 and 100.
fn check_distance(pct: Decimal) -> Result<(), RiskError> {
    if pct <= Decimal::ZERO || pct >= Decimal::ONE_HUNDRED {
        return Err(RiskError::InvalidInput {
            what: "stop distance",
            value: pct.to_string(),
            reason: "must be a percentage between 0 and 100 (exclusive)",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn price(v: Decimal) -> Price {
        Price::new(v).unwrap()
    }

    fn stop(kind: StopKind, entry: Decimal, pct: Decimal) -> StopLoss {
        let parts = StopParts {
            cohort: CohortId::new(1),
            symbol: Symbol::new("BTCUSDT").unwrap(),
            kind,
            distance_pct: pct,
            entry: price(entry),
        };
        StopLoss::new(
            parts,
            Quantity::new(dec!(1)).unwrap(),
            Timestamp::from_millis(0),
        )
        .unwrap()
    }

    #[test]
    fn transition_table() {
        use StopEvent as E;
        use StopPhase as P;
        let cases = [
            (P::Active, E::PriceAtOrBelowStop, Some(P::Triggered)),
            (P::Active, E::Cancel, Some(P::Cancelled)),
            (P::Active, E::SellSucceeded, None),
            (P::Active, E::SellFailed, None),
            (P::Triggered, E::PriceAtOrBelowStop, Some(P::Triggered)),
            (P::Triggered, E::SellSucceeded, Some(P::Confirmed)),
            (P::Triggered, E::SellFailed, Some(P::Active)),
            (P::Triggered, E::Cancel, None),
            (P::Active, E::Tighten, Some(P::Active)),
            (P::Triggered, E::Tighten, None),
            (P::Confirmed, E::Tighten, None),
            (P::Confirmed, E::PriceAtOrBelowStop, None),
            (P::Confirmed, E::SellFailed, None),
            (P::Cancelled, E::Cancel, None),
            (P::Cancelled, E::SellSucceeded, None),
        ];
        for (from, event, expected) in cases {
            assert_eq!(
                from.transition(event).ok(),
                expected,
                "{from:?} + {event:?}"
            );
        }
    }

    #[test]
    fn fixed_stop_never_moves() {
        let mut s = stop(StopKind::Fixed, dec!(50000), dec!(5));
        assert_eq!(s.stop_price().value(), dec!(47500));
        assert!(!s.on_price(price(dec!(60000)), Timestamp::from_millis(1)));
        assert_eq!(s.stop_price().value(), dec!(47500));
    }

    #[test]
    fn trailing_stop_follows_the_high_only() {
        let mut s = stop(StopKind::Trailing, dec!(100), dec!(10));
        assert!(!s.on_price(price(dec!(120)), Timestamp::from_millis(1)));
        assert_eq!(s.stop_price().value(), dec!(108));
        assert!(!s.on_price(price(dec!(110)), Timestamp::from_millis(2)));
        assert_eq!(s.stop_price().value(), dec!(108));
        assert_eq!(s.highest().value(), dec!(120));
    }

    #[test]
    fn fires_inclusively_and_only_once_while_pending() {
        let mut s = stop(StopKind::Fixed, dec!(100), dec!(5));
        assert!(s.on_price(price(dec!(95)), Timestamp::from_millis(1)));
        assert_eq!(s.phase(), StopPhase::Triggered);
        assert!(!s.on_price(price(dec!(90)), Timestamp::from_millis(2)));
        assert_eq!(s.trigger().unwrap().price.value(), dec!(95));
    }

    #[test]
    fn tightening_never_lowers_the_stop() {
        let mut s = stop(StopKind::Trailing, dec!(100), dec!(7));
        assert_eq!(s.stop_price().value(), dec!(93));
        s.tighten(price(dec!(95)), dec!(3)).unwrap();
        // 95 × 0.97 = 92.15 would loosen the stop: the old 93 stays.
        assert_eq!(s.stop_price().value(), dec!(93));
        s.tighten(price(dec!(110)), dec!(3)).unwrap();
        assert_eq!(s.stop_price().value(), dec!(106.7));
        assert_eq!(s.distance_pct(), dec!(3));
    }

    #[test]
    fn distance_must_be_a_real_percentage() {
        let parts = |pct| StopParts {
            cohort: CohortId::new(1),
            symbol: Symbol::new("BTCUSDT").unwrap(),
            kind: StopKind::Fixed,
            distance_pct: pct,
            entry: price(dec!(1)),
        };
        let q = Quantity::new(dec!(1)).unwrap();
        let now = Timestamp::from_millis(0);
        assert!(StopLoss::new(parts(dec!(0)), q, now).is_err());
        assert!(StopLoss::new(parts(dec!(100)), q, now).is_err());
        assert!(StopLoss::new(parts(dec!(-1)), q, now).is_err());
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    fn prices() -> impl Strategy<Value = Vec<Decimal>> {
        prop::collection::vec(1i64..10_000_000, 1..60)
            .prop_map(|v| v.into_iter().map(|cents| Decimal::new(cents, 2)).collect())
    }

    fn new_stop(kind: StopKind, entry_cents: i64, pct_tenths: i64) -> StopLoss {
        let parts = StopParts {
            cohort: CohortId::new(1),
            symbol: Symbol::new("ETHUSDT").unwrap(),
            kind,
            distance_pct: Decimal::new(pct_tenths, 1),
            entry: Price::new(Decimal::new(entry_cents, 2)).unwrap(),
        };
        StopLoss::new(
            parts,
            Quantity::new(dec!(1)).unwrap(),
            Timestamp::from_millis(0),
        )
        .unwrap()
    }

    proptest! {
        /// For any price sequence the stop price is non-decreasing while the stop is active,
        /// and never above the highest price seen.
        #[test]
        fn prop_trailing_stop_never_loosens(
            entry in 1i64..10_000_000, pct in 1i64..999, seq in prices(),
        ) {
            let mut s = new_stop(StopKind::Trailing, entry, pct);
            let mut last = s.stop_price();
            for (i, p) in seq.into_iter().enumerate() {
                let fired = s.on_price(Price::new(p).unwrap(), Timestamp::from_millis(i as i64));
                prop_assert!(s.stop_price() >= last);
                prop_assert!(s.stop_price() <= s.highest());
                last = s.stop_price();
                if fired {
                    // A failed sale reactivates; the stop price must survive that too.
                    s.apply(StopEvent::SellFailed).unwrap();
                    prop_assert_eq!(s.stop_price(), last);
                }
            }
        }

        /// A stop fires exactly when the price is at or below the stop, and a fired stop
        /// carries the price that fired it.
        #[test]
        fn prop_fires_iff_at_or_below_stop(
            entry in 1i64..10_000_000, pct in 1i64..999, seq in prices(),
        ) {
            let mut s = new_stop(StopKind::Trailing, entry, pct);
            for (i, p) in seq.into_iter().enumerate() {
                let price = Price::new(p).unwrap();
                let fired = s.on_price(price, Timestamp::from_millis(i as i64));
                prop_assert_eq!(fired, price <= s.stop_price());
                if fired {
                    prop_assert_eq!(s.phase(), StopPhase::Triggered);
                    prop_assert_eq!(s.trigger().map(|t| t.price), Some(price));
                    s.apply(StopEvent::SellFailed).unwrap();
                    prop_assert_eq!(s.trigger(), None);
                }
            }
        }

        /// Tightening, interleaved with prices, never lowers an active stop.
        #[test]
        fn prop_tightening_never_loosens(
            entry in 1i64..10_000_000, seq in prices(), tighten_every in 1usize..5,
        ) {
            let mut s = new_stop(StopKind::Trailing, entry, 70);
            let mut last = s.stop_price();
            for (i, p) in seq.into_iter().enumerate() {
                let price = Price::new(p).unwrap();
                if i % tighten_every == 0 && s.phase() == StopPhase::Active {
                    s.tighten(price, dec!(3)).unwrap();
                } else if s.on_price(price, Timestamp::from_millis(i as i64)) {
                    prop_assert!(s.tighten(price, dec!(3)).is_err());
                    s.apply(StopEvent::SellFailed).unwrap();
                }
                prop_assert!(s.stop_price() >= last);
                last = s.stop_price();
            }
        }

        /// A fixed stop's price never changes.
        #[test]
        fn prop_fixed_stop_is_fixed(entry in 1i64..10_000_000, pct in 1i64..999, seq in prices()) {
            let mut s = new_stop(StopKind::Fixed, entry, pct);
            let initial = s.stop_price();
            for (i, p) in seq.into_iter().enumerate() {
                if s.on_price(Price::new(p).unwrap(), Timestamp::from_millis(i as i64)) {
                    s.apply(StopEvent::SellFailed).unwrap();
                }
                prop_assert_eq!(s.stop_price(), initial);
            }
        }
    }
}
