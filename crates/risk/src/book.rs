//! The stop-loss book: every stop, keyed by the cohort that owns it and the symbol (spec §3.3).
//!
//! One key, one stop: the original loaded every active stop into every manager, so several
//! managers could sell the same coins. Here a second stop on the same (cohort, symbol) is
//! refused, and a price for a symbol reaches each cohort's stop on it exactly once.

use std::collections::BTreeMap;

use hybrid_core::{CohortId, Price, Quantity, Symbol, SymbolFilters, Timestamp, TradingMode};
use rust_decimal::Decimal;

use crate::{
    config::StopConfig,
    error::RiskError,
    intent::{Alert, AlertSeverity, MarketSell, StopIntent},
    stop::{StopEvent, StopKind, StopLoss, StopParts},
};

/// How far below its reference a new stop sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopDistance {
    /// The configured distance for the mode that opened the position: HOLD 7 %, GRID 5 %,
    /// CASH 3 % (spec §3.4).
    ForMode(TradingMode),
    /// An explicit distance in percent (e.g. 7 for 7 %).
    Percent(Decimal),
}

/// A request for a new stop on a position that was just bought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopRequest {
    /// The cohort that owns the coins.
    pub cohort: CohortId,
    /// The symbol bought.
    pub symbol: Symbol,
    /// Fixed or trailing.
    pub kind: StopKind,
    /// Distance below the entry (and, trailing, below the highest price).
    pub distance: StopDistance,
    /// The entry price: the fill price (grid) or the average fill price (HOLD).
    pub entry: Price,
    /// The gross quantity the buy filled; the book takes the fee off.
    pub bought: Quantity,
}

/// Every stop-loss, at most one per (cohort, symbol).
#[derive(Debug, Clone)]
pub struct StopLossBook {
    config: StopConfig,
    stops: BTreeMap<(CohortId, Symbol), StopLoss>,
}

impl StopLossBook {
    /// An empty book.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] if `config` does not validate.
    pub fn new(config: StopConfig) -> Result<Self, RiskError> {
        config.validate()?;
        Ok(Self {
            config,
            stops: BTreeMap::new(),
        })
    }

    /// Places a new stop. The quantity to sell is `bought × (1 − fee)` truncated to the lot
    /// step by `filters`, so the sale cannot hit "insufficient balance" because of the fee.
    ///
    /// # Errors
    /// [`RiskError::DuplicateStop`] if the cohort already has a stop on the symbol,
    /// [`RiskError::UnsellableQuantity`] if the net quantity truncates to nothing,
    /// [`RiskError::InvalidInput`] for a distance outside (0, 100) %.
    pub fn create(
        &mut self,
        request: StopRequest,
        filters: &SymbolFilters,
        now: Timestamp,
    ) -> Result<&StopLoss, RiskError> {
        let key = (request.cohort, request.symbol.clone());
        if self.stops.contains_key(&key) {
            return Err(duplicate(key));
        }
        let quantity = self.net_sell_quantity(&request.symbol, request.bought, filters)?;
        let parts = StopParts {
            distance_pct: self.distance_pct(request.distance),
            cohort: request.cohort,
            symbol: request.symbol,
            kind: request.kind,
            entry: request.entry,
        };
        let stop = StopLoss::new(parts, quantity, now)?;
        Ok(self.stops.entry(key).or_insert(stop))
    }

    /// Puts back a stop read from storage (trailing progress included).
    ///
    /// # Errors
    /// [`RiskError::DuplicateStop`] if the key is taken, [`RiskError::InvalidInput`] if the
    /// stored stop is terminal or inconsistent.
    pub fn restore(&mut self, stop: StopLoss) -> Result<(), RiskError> {
        stop.check_restored()?;
        let key = (stop.cohort, stop.symbol.clone());
        if self.stops.contains_key(&key) {
            return Err(duplicate(key));
        }
        self.stops.insert(key, stop);
        Ok(())
    }

    /// Feeds a price for `symbol` to every active stop on it: trailing stops move up, and
    /// each stop the price reaches fires once, asking for a market sell of its own coins.
    pub fn on_price(&mut self, symbol: &Symbol, price: Price, now: Timestamp) -> Vec<StopIntent> {
        self.stops
            .values_mut()
            .filter(|stop| &stop.symbol == symbol)
            .filter_map(|stop| stop.on_price(price, now).then(|| fired(stop, price)))
            .flatten()
            .collect()
    }

    /// The stop's sale filled: confirms the stop and takes it out of the book. The returned
    /// stop carries the trigger and [`StopLoss::result_pct`] for the record.
    ///
    /// # Errors
    /// [`RiskError::NoStop`], or [`RiskError::InvalidStopTransition`] unless it was triggered.
    pub fn confirm_sold(
        &mut self,
        cohort: CohortId,
        symbol: &Symbol,
    ) -> Result<StopLoss, RiskError> {
        self.get_mut(cohort, symbol)?
            .apply(StopEvent::SellSucceeded)?;
        self.take(cohort, symbol)
    }

    /// The stop's sale failed for good: the stop is active again and the next price at or
    /// below it sells again.
    ///
    /// # Errors
    /// [`RiskError::NoStop`], or [`RiskError::InvalidStopTransition`] unless it was triggered.
    pub fn sell_failed(
        &mut self,
        cohort: CohortId,
        symbol: &Symbol,
    ) -> Result<&StopLoss, RiskError> {
        let stop = self.get_mut(cohort, symbol)?;
        stop.apply(StopEvent::SellFailed)?;
        Ok(stop)
    }

    /// Withdraws an active stop (e.g. HOLD → GRID) and returns it.
    ///
    /// # Errors
    /// [`RiskError::NoStop`], or [`RiskError::InvalidStopTransition`] while a sale is pending.
    pub fn cancel(&mut self, cohort: CohortId, symbol: &Symbol) -> Result<StopLoss, RiskError> {
        self.get_mut(cohort, symbol)?.apply(StopEvent::Cancel)?;
        self.take(cohort, symbol)
    }

    /// Tightens an active stop for the way to CASH: trailing at the configured CASH distance
    /// (3 %) below `current`, same quantity. Never lowers the stop price (the original replaced
    /// the stop even when the new one was lower: deliberate change).
    ///
    /// # Errors
    /// [`RiskError::NoStop`], or [`RiskError::InvalidStopTransition`] unless it is active.
    pub fn tighten_for_cash(
        &mut self,
        cohort: CohortId,
        symbol: &Symbol,
        current: Price,
    ) -> Result<&StopLoss, RiskError> {
        let distance = self.config.cash_trailing_pct;
        let stop = self.get_mut(cohort, symbol)?;
        stop.tighten(current, distance)?;
        Ok(stop)
    }

    /// The stop of `cohort` on `symbol`, if any.
    #[must_use]
    pub fn get(&self, cohort: CohortId, symbol: &Symbol) -> Option<&StopLoss> {
        self.stops.get(&(cohort, symbol.clone()))
    }

    /// Every stop, ordered by cohort then symbol (for persistence and status).
    pub fn stops(&self) -> impl Iterator<Item = &StopLoss> {
        self.stops.values()
    }

    /// The stops of one cohort, ordered by symbol.
    pub fn stops_of(&self, cohort: CohortId) -> impl Iterator<Item = &StopLoss> {
        self.stops
            .iter()
            .filter(move |((owner, _), _)| *owner == cohort)
            .map(|(_, stop)| stop)
    }

    /// How many stops the book holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.stops.len()
    }

    /// Whether the book holds no stop.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.stops.is_empty()
    }

    /// The distance in percent for a request.
    fn distance_pct(&self, distance: StopDistance) -> Decimal {
        match distance {
            StopDistance::Percent(pct) => pct,
            StopDistance::ForMode(TradingMode::Hold) => self.config.hold_trailing_pct,
            StopDistance::ForMode(TradingMode::Grid) => self.config.grid_trailing_pct,
            StopDistance::ForMode(TradingMode::Cash) => self.config.cash_trailing_pct,
        }
    }

    /// `bought × (1 − fee)` truncated to the lot step; refused if nothing is left.
    fn net_sell_quantity(
        &self,
        symbol: &Symbol,
        bought: Quantity,
        filters: &SymbolFilters,
    ) -> Result<Quantity, RiskError> {
        let net = bought.value() * (Decimal::ONE - self.config.fee_fraction);
        let unsellable = |violation| RiskError::UnsellableQuantity {
            symbol: symbol.clone(),
            violation,
        };
        let quantity = filters.round_quantity(net).map_err(unsellable)?;
        if quantity.is_zero() {
            return Err(unsellable(hybrid_core::FilterViolation::NotPositive {
                what: "quantity",
                value: quantity.value(),
            }));
        }
        Ok(quantity)
    }

    fn get_mut(&mut self, cohort: CohortId, symbol: &Symbol) -> Result<&mut StopLoss, RiskError> {
        self.stops
            .get_mut(&(cohort, symbol.clone()))
            .ok_or_else(|| no_stop(cohort, symbol))
    }

    fn take(&mut self, cohort: CohortId, symbol: &Symbol) -> Result<StopLoss, RiskError> {
        self.stops
            .remove(&(cohort, symbol.clone()))
            .ok_or_else(|| no_stop(cohort, symbol))
    }
}

/// The intents for a stop that just fired: the sale, and a notice for the operator.
fn fired(stop: &StopLoss, price: Price) -> [StopIntent; 2] {
    let sell = MarketSell {
        cohort: stop.cohort,
        symbol: stop.symbol.clone(),
        quantity: stop.quantity,
        stop_price: stop.stop_price,
        trigger_price: price,
    };
    let alert = Alert {
        severity: AlertSeverity::Info,
        cohort: stop.cohort,
        symbol: stop.symbol.clone(),
        message: format!(
            "stop-loss triggered at {price} (stop {}), selling {}",
            stop.stop_price, stop.quantity
        ),
    };
    [StopIntent::MarketSell(sell), StopIntent::Alert(alert)]
}

fn duplicate((cohort, symbol): (CohortId, Symbol)) -> RiskError {
    RiskError::DuplicateStop { cohort, symbol }
}

fn no_stop(cohort: CohortId, symbol: &Symbol) -> RiskError {
    RiskError::NoStop {
        cohort,
        symbol: symbol.clone(),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::stop::StopPhase;

    fn btc() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    fn filters() -> SymbolFilters {
        SymbolFilters::with_steps(btc(), dec!(0.01), dec!(0.00001))
    }

    fn p(v: Decimal) -> Price {
        Price::new(v).unwrap()
    }

    fn request(cohort: u32, bought: Decimal) -> StopRequest {
        StopRequest {
            cohort: CohortId::new(cohort),
            symbol: btc(),
            kind: StopKind::Trailing,
            distance: StopDistance::ForMode(TradingMode::Grid),
            entry: p(dec!(40000)),
            bought: Quantity::new(bought).unwrap(),
        }
    }

    fn book() -> StopLossBook {
        StopLossBook::new(StopConfig::default()).unwrap()
    }

    fn sells(intents: &[StopIntent]) -> Vec<&MarketSell> {
        intents
            .iter()
            .filter_map(|i| match i {
                StopIntent::MarketSell(s) => Some(s),
                StopIntent::Alert(_) => None,
            })
            .collect()
    }

    #[test]
    fn one_stop_per_cohort_and_symbol() {
        let mut book = book();
        let now = Timestamp::from_millis(0);
        book.create(request(1, dec!(0.001)), &filters(), now)
            .unwrap();
        let err = book
            .create(request(1, dec!(0.002)), &filters(), now)
            .unwrap_err();
        assert!(matches!(err, RiskError::DuplicateStop { .. }));
        book.create(request(2, dec!(0.002)), &filters(), now)
            .unwrap();
        assert_eq!(book.len(), 2);
    }

    #[test]
    fn quantity_is_net_of_fee_and_on_the_step() {
        let mut book = book();
        let stop = book
            .create(
                request(1, dec!(0.0005)),
                &filters(),
                Timestamp::from_millis(0),
            )
            .unwrap();
        // 0.0005 × 0.999 = 0.0004995 → 0.00049 at step 0.00001.
        assert_eq!(stop.quantity().value(), dec!(0.00049));
        assert_eq!(stop.distance_pct(), dec!(5));
    }

    #[test]
    fn dust_is_refused() {
        let mut book = book();
        let err = book
            .create(
                request(1, dec!(0.00001)),
                &filters(),
                Timestamp::from_millis(0),
            )
            .unwrap_err();
        assert!(matches!(err, RiskError::UnsellableQuantity { .. }));
    }

    #[test]
    fn each_cohort_sells_only_its_own_coins() {
        let mut book = book();
        let now = Timestamp::from_millis(0);
        book.create(request(1, dec!(0.001)), &filters(), now)
            .unwrap();
        book.create(request(2, dec!(0.003)), &filters(), now)
            .unwrap();
        let intents = book.on_price(&btc(), p(dec!(30000)), now);
        let sold = sells(&intents);
        assert_eq!(sold.len(), 2);
        assert_eq!(sold[0].cohort, CohortId::new(1));
        assert_eq!(sold[0].quantity.value(), dec!(0.00099));
        assert_eq!(sold[1].cohort, CohortId::new(2));
        assert_eq!(sold[1].quantity.value(), dec!(0.00299));
        // Pending: no second sale.
        assert!(book.on_price(&btc(), p(dec!(29000)), now).is_empty());
    }

    #[test]
    fn other_symbols_are_untouched() {
        let mut book = book();
        let now = Timestamp::from_millis(0);
        book.create(request(1, dec!(0.001)), &filters(), now)
            .unwrap();
        let eth = Symbol::new("ETHUSDT").unwrap();
        assert!(book.on_price(&eth, p(dec!(1)), now).is_empty());
    }

    #[test]
    fn confirm_removes_and_failure_reactivates() {
        let mut book = book();
        let now = Timestamp::from_millis(0);
        let cohort = CohortId::new(1);
        book.create(request(1, dec!(0.001)), &filters(), now)
            .unwrap();
        assert!(book.confirm_sold(cohort, &btc()).is_err());
        book.on_price(&btc(), p(dec!(30000)), now);
        let stop = book.sell_failed(cohort, &btc()).unwrap();
        assert_eq!(stop.phase(), StopPhase::Active);
        assert_eq!(sells(&book.on_price(&btc(), p(dec!(30000)), now)).len(), 1);
        let done = book.confirm_sold(cohort, &btc()).unwrap();
        assert_eq!(done.phase(), StopPhase::Confirmed);
        assert_eq!(done.result_pct(), Some(dec!(-25)));
        assert!(book.is_empty());
        assert!(matches!(
            book.sell_failed(cohort, &btc()),
            Err(RiskError::NoStop { .. })
        ));
    }

    #[test]
    fn cancel_only_while_active() {
        let mut book = book();
        let now = Timestamp::from_millis(0);
        let cohort = CohortId::new(1);
        book.create(request(1, dec!(0.001)), &filters(), now)
            .unwrap();
        book.on_price(&btc(), p(dec!(30000)), now);
        assert!(book.cancel(cohort, &btc()).is_err());
        book.sell_failed(cohort, &btc()).unwrap();
        let cancelled = book.cancel(cohort, &btc()).unwrap();
        assert_eq!(cancelled.phase(), StopPhase::Cancelled);
        assert!(book.is_empty());
    }

    #[test]
    fn restore_round_trips_trailing_progress() {
        let mut book = book();
        let now = Timestamp::from_millis(0);
        book.create(request(1, dec!(0.001)), &filters(), now)
            .unwrap();
        book.on_price(&btc(), p(dec!(50000)), now);
        let saved = book.get(CohortId::new(1), &btc()).unwrap().clone();
        assert_eq!(saved.stop_price().value(), dec!(47500));
        let mut fresh = StopLossBook::new(StopConfig::default()).unwrap();
        fresh.restore(saved.clone()).unwrap();
        assert_eq!(fresh.get(CohortId::new(1), &btc()), Some(&saved));
        assert!(fresh.restore(saved).is_err());
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    fn btc() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    #[derive(Debug, Clone)]
    enum Step {
        Price(i64),
        Confirm(u32),
        Fail(u32),
        Cancel(u32),
        Create(u32),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (1i64..200_000).prop_map(Step::Price),
            1 => (1u32..4).prop_map(Step::Confirm),
            1 => (1u32..4).prop_map(Step::Fail),
            1 => (1u32..4).prop_map(Step::Cancel),
            1 => (1u32..4).prop_map(Step::Create),
        ]
    }

    proptest! {
        /// Whatever happens, each cohort has at most one stop, every sale asks for exactly
        /// that stop's quantity, and a stop with a pending sale is never asked to sell again.
        #[test]
        fn prop_one_pending_sale_per_stop(steps in prop::collection::vec(step(), 1..80)) {
            let filters = SymbolFilters::with_steps(btc(), dec!(0.01), dec!(0.00001));
            let mut book = StopLossBook::new(StopConfig::default()).unwrap();
            let mut pending = std::collections::BTreeSet::new();
            let now = Timestamp::from_millis(0);
            for step in steps {
                match step {
                    Step::Price(cents) => {
                        let price = Price::new(Decimal::new(cents, 0)).unwrap();
                        for intent in book.on_price(&btc(), price, now) {
                            if let StopIntent::MarketSell(sell) = intent {
                                prop_assert!(pending.insert(sell.cohort));
                                let stop = book.get(sell.cohort, &btc()).unwrap();
                                prop_assert_eq!(stop.quantity(), sell.quantity);
                            }
                        }
                    }
                    Step::Confirm(c) => {
                        let ok = book.confirm_sold(CohortId::new(c), &btc()).is_ok();
                        prop_assert_eq!(ok, pending.remove(&CohortId::new(c)));
                    }
                    Step::Fail(c) => {
                        let ok = book.sell_failed(CohortId::new(c), &btc()).is_ok();
                        prop_assert_eq!(ok, pending.remove(&CohortId::new(c)));
                    }
                    Step::Cancel(c) => {
                        let ok = book.cancel(CohortId::new(c), &btc()).is_ok();
                        prop_assert!(!(ok && pending.contains(&CohortId::new(c))));
                    }
                    Step::Create(c) => {
                        let request = StopRequest {
                            cohort: CohortId::new(c),
                            symbol: btc(),
                            kind: StopKind::Trailing,
                            distance: StopDistance::ForMode(TradingMode::Hold),
                            entry: Price::new(dec!(100000)).unwrap(),
                            bought: Quantity::new(dec!(0.01)).unwrap(),
                        };
                        let existed = book.get(CohortId::new(c), &btc()).is_some();
                        prop_assert_eq!(book.create(request, &filters, now).is_ok(), !existed);
                    }
                }
                prop_assert!(book.len() <= 3);
            }
        }
    }
}
