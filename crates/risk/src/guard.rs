//! The order gate: every order intent is approved or refused with a reason (spec §2.8, §2.9,
//! §3.3).
//!
//! Approval is a type: only [`RiskGuard::check`] builds a [`RiskApproved`], so code that sends
//! orders can demand one. One guard watches one pool of capital (a cohort).
//!
//! Rules, in order; the first that fails wins:
//! 1. daily drawdown halt: the portfolio lost `max_daily_drawdown_pct` since the start of the
//!    UTC day (any side);
//! 2. portfolio drawdown halt: it lost `max_portfolio_drawdown_pct` from its peak (any side);
//! 3. circuit breaker tripped on the symbol (any side);
//! 4. BUY larger than `max_order_fraction_of_free` of the free quote balance (the original's
//!    CVaR `max_position`);
//! 5. BUY beyond the symbol's allocation;
//! 6. BUY beyond the available capital (cash reserve and total exposure).
//!
//! Protective exits (a stop-loss or CASH-mode SELL) pass rules 1–3: a halt must never keep the
//! bot from cutting a loss (the original's `skip_portfolio_drawdown`, made explicit). Other
//! SELLs are halted too, as the original's tests pin (scenario 27).
//!
//! The daily baseline resets on the first portfolio value seen after UTC midnight, whether
//! that comes from [`RiskGuard::observe_portfolio`] or from a [`RiskGuard::check`] inside a
//! tick: no midnight task is needed (the original's midnight task only logged).

use std::{collections::BTreeMap, fmt};

use hybrid_core::{CohortId, Notional, Price, Quantity, Side, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    breaker::CircuitBreaker,
    config::GuardConfig,
    drawdown::{DailyDrawdown, PeakDrawdown},
    error::RiskError,
};

/// Why an order goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderPurpose {
    /// A strategy order (grid level, HOLD entry, rebalance).
    Strategy,
    /// A SELL that cuts risk: stop-loss or CASH exit. Passes drawdown and circuit-breaker halts.
    ProtectiveExit,
}

/// An order the engine wants to send, before risk approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderIntent {
    /// The cohort whose capital it uses.
    pub cohort: CohortId,
    /// The symbol.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Base quantity.
    pub quantity: Quantity,
    /// The limit price, or the current price for a market order (to value it).
    pub price: Price,
    /// Why it goes out.
    pub purpose: OrderPurpose,
}

/// What the guard needs to know about the capital at the time of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioView {
    /// Free quote balance (USDT).
    pub free_quote: Notional,
    /// Value committed per symbol, in quote: holdings at market plus open BUY orders.
    pub invested: BTreeMap<Symbol, Notional>,
    /// The allocator's budget per symbol, in quote. A BUY on a symbol without one is refused.
    pub allocations: BTreeMap<Symbol, Notional>,
}

/// An intent the guard approved. Only the guard can build one, and it is not `Clone`: one
/// approval, one order.
#[derive(Debug, PartialEq, Eq)]
pub struct RiskApproved<T>(T);

/// An intent the guard refused, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRefused<T> {
    item: T,
    /// Boxed to keep `Result<RiskApproved<T>, RiskRefused<T>>` small on the happy path.
    reason: Box<RefusalReason>,
}

/// Why an intent was refused. The texts carry the words operators (and the original's tests)
/// look for: "drawdown", "circuit breaker", "CVaR", "allocation", "available capital".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalReason {
    /// Trading is halted for the day: the loss since the UTC day's start reached the limit.
    DailyDrawdown {
        /// Loss since the day's start, in percent (positive).
        loss_pct: Decimal,
        /// The limit, in percent.
        limit_pct: Decimal,
    },
    /// Trading is halted: the loss from the portfolio's peak reached the limit.
    PortfolioDrawdown {
        /// Loss from the peak, in percent (positive).
        loss_pct: Decimal,
        /// The limit, in percent.
        limit_pct: Decimal,
    },
    /// The symbol's circuit breaker tripped on a sudden drop.
    CircuitBreaker {
        /// The symbol.
        symbol: Symbol,
        /// The drop that tripped it, in percent.
        drop_pct: Decimal,
    },
    /// The BUY is larger than the CVaR position cap (a share of the free quote balance).
    PositionTooLarge {
        /// The order's value.
        value: Notional,
        /// The cap.
        max: Notional,
    },
    /// The allocator gave this symbol no budget.
    NoAllocation {
        /// The symbol.
        symbol: Symbol,
    },
    /// The BUY would take the symbol beyond its allocation.
    SymbolAllocationExceeded {
        /// The symbol.
        symbol: Symbol,
        /// Already committed to it.
        invested: Notional,
        /// The order's value.
        value: Notional,
        /// Its budget.
        allocation: Notional,
    },
    /// The BUY is larger than the capital available under the cash reserve and the exposure
    /// limit.
    InsufficientAvailableCapital {
        /// The order's value.
        value: Notional,
        /// What is available.
        available: Notional,
    },
}

/// Something the operator should hear about, reported by the guard's observers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RiskEvent {
    /// A new UTC day started; drawdown is now measured from `baseline`.
    DailyReset {
        /// The portfolio value at the day's first observation.
        baseline: Notional,
        /// The start of the new day.
        day: Timestamp,
    },
    /// The daily drawdown limit was reached; trading halts until the next UTC day.
    DailyDrawdownHalt {
        /// Loss since the day's start, in percent.
        loss_pct: Decimal,
    },
    /// The portfolio drawdown limit was reached; trading halts until an operator resumes.
    PortfolioDrawdownHalt {
        /// Loss from the peak, in percent.
        loss_pct: Decimal,
    },
    /// A symbol dropped by at least the circuit-breaker threshold between two prices; orders
    /// on it halt until it is re-armed.
    CircuitBreakerTripped {
        /// The symbol.
        symbol: Symbol,
        /// The last accepted price.
        last: Price,
        /// The price that tripped it.
        price: Price,
        /// The drop in percent.
        drop_pct: Decimal,
    },
}

/// The order gate with its drawdown and circuit-breaker state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskGuard {
    config: GuardConfig,
    daily: DailyDrawdown,
    peak: PeakDrawdown,
    breakers: BTreeMap<Symbol, CircuitBreaker>,
}

impl<T> RiskApproved<T> {
    /// The approved item.
    #[must_use]
    pub const fn inner(&self) -> &T {
        &self.0
    }

    /// The approved item, to be sent.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> RiskRefused<T> {
    /// The refused item.
    #[must_use]
    pub const fn inner(&self) -> &T {
        &self.item
    }

    /// Why it was refused.
    #[must_use]
    pub const fn reason(&self) -> &RefusalReason {
        &self.reason
    }

    /// The refused item and the reason.
    #[must_use]
    pub fn into_parts(self) -> (T, RefusalReason) {
        (self.item, *self.reason)
    }
}

impl OrderIntent {
    /// `price × quantity` in the quote asset.
    #[must_use]
    pub fn notional(&self) -> Notional {
        self.price * self.quantity
    }

    /// Whether this is a SELL that must get through halts.
    fn is_protective_sell(&self) -> bool {
        self.purpose == OrderPurpose::ProtectiveExit && self.side == Side::Sell
    }
}

impl PortfolioView {
    /// Everything committed to coins.
    #[must_use]
    pub fn total_invested(&self) -> Notional {
        self.invested.values().copied().sum()
    }

    /// Free quote plus everything committed: the portfolio value drawdowns are measured on.
    #[must_use]
    pub fn total_value(&self) -> Notional {
        self.free_quote + self.total_invested()
    }

    /// What is committed to `symbol`.
    #[must_use]
    pub fn invested_in(&self, symbol: &Symbol) -> Notional {
        self.invested.get(symbol).copied().unwrap_or_default()
    }
}

impl RiskGuard {
    /// A guard with no history: the first price of each symbol and the first portfolio value
    /// initialise the breaker and the baselines.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] if `config` does not validate.
    pub fn new(config: GuardConfig) -> Result<Self, RiskError> {
        config.validate()?;
        Ok(Self {
            config,
            daily: DailyDrawdown::default(),
            peak: PeakDrawdown::default(),
            breakers: BTreeMap::new(),
        })
    }

    /// Feeds a price to the symbol's circuit breaker. The first price only initialises it; a
    /// drop of at least `circuit_breaker_pct` from the last accepted price trips it (that
    /// price is then *not* accepted); rises never trip.
    pub fn on_price(&mut self, symbol: &Symbol, price: Price) -> Option<RiskEvent> {
        let limit = self.config.circuit_breaker_pct;
        let breaker = self.breakers.entry(symbol.clone()).or_default();
        let (last, drop_pct) = breaker.on_price(price, limit)?;
        Some(RiskEvent::CircuitBreakerTripped {
            symbol: symbol.clone(),
            last,
            price,
            drop_pct,
        })
    }

    /// Re-arms a tripped circuit breaker (operator decision); the next price initialises it.
    pub fn rearm_circuit_breaker(&mut self, symbol: &Symbol) {
        self.breakers.remove(symbol);
    }

    /// Feeds the portfolio value: rolls the daily baseline at a new UTC day, updates the
    /// peak, and halts trading when a drawdown limit is reached.
    pub fn observe_portfolio(&mut self, value: Notional, now: Timestamp) -> Vec<RiskEvent> {
        let daily_limit = self.config.max_daily_drawdown_pct;
        let peak_limit = self.config.max_portfolio_drawdown_pct;
        let reset = self
            .daily
            .roll(value, now)
            .map(|day| RiskEvent::DailyReset {
                baseline: value,
                day,
            });
        let daily = self
            .daily
            .observe(value, daily_limit)
            .map(|loss_pct| RiskEvent::DailyDrawdownHalt { loss_pct });
        let peak = self
            .peak
            .observe(value, peak_limit)
            .map(|loss_pct| RiskEvent::PortfolioDrawdownHalt { loss_pct });
        [reset, daily, peak].into_iter().flatten().collect()
    }

    /// Resumes after a portfolio drawdown halt (operator decision): the peak restarts at
    /// `value`.
    pub fn resume_after_portfolio_drawdown(&mut self, value: Notional) {
        self.peak.resume(value);
    }

    /// Whether any halt (daily, portfolio) is in force as of the last observation.
    #[must_use]
    pub fn is_halted(&self) -> bool {
        self.daily.is_halted() || self.peak.is_halted()
    }

    /// Whether the circuit breaker of `symbol` is tripped.
    #[must_use]
    pub fn is_tripped(&self, symbol: &Symbol) -> bool {
        self.breakers
            .get(symbol)
            .is_some_and(|b| b.tripped().is_some())
    }

    /// The last price the breaker of `symbol` accepted.
    #[must_use]
    pub fn last_price(&self, symbol: &Symbol) -> Option<Price> {
        self.breakers.get(symbol).and_then(CircuitBreaker::last)
    }

    /// Approves or refuses `intent` against the rules in the module docs. The drawdowns are
    /// evaluated on `view.total_value()` at `now` as well as on the recorded state, so a loss
    /// (or a new UTC day) is seen even before the next [`Self::observe_portfolio`].
    ///
    /// # Errors
    /// [`RiskRefused`] with the first failing rule's [`RefusalReason`].
    pub fn check(
        &self,
        intent: OrderIntent,
        view: &PortfolioView,
        now: Timestamp,
    ) -> Result<RiskApproved<OrderIntent>, RiskRefused<OrderIntent>> {
        match self.first_refusal(&intent, view, now) {
            Some(reason) => Err(RiskRefused {
                item: intent,
                reason: Box::new(reason),
            }),
            None => Ok(RiskApproved(intent)),
        }
    }

    fn first_refusal(
        &self,
        intent: &OrderIntent,
        view: &PortfolioView,
        now: Timestamp,
    ) -> Option<RefusalReason> {
        let halt = if intent.is_protective_sell() {
            None
        } else {
            self.halt_reason(&intent.symbol, view.total_value(), now)
        };
        match intent.side {
            Side::Sell => halt,
            Side::Buy => halt.or_else(|| self.buy_refusal(intent, view)),
        }
    }

    /// Rules 1–3.
    fn halt_reason(
        &self,
        symbol: &Symbol,
        value: Notional,
        now: Timestamp,
    ) -> Option<RefusalReason> {
        let daily_limit = self.config.max_daily_drawdown_pct;
        let peak_limit = self.config.max_portfolio_drawdown_pct;
        let daily = self.daily.loss_if_halted(value, now, daily_limit);
        let peak = self.peak.loss_if_halted(value, peak_limit);
        let breaker = self.breakers.get(symbol).and_then(CircuitBreaker::tripped);
        daily
            .map(|loss_pct| RefusalReason::DailyDrawdown {
                loss_pct,
                limit_pct: daily_limit,
            })
            .or_else(|| {
                peak.map(|loss_pct| RefusalReason::PortfolioDrawdown {
                    loss_pct,
                    limit_pct: peak_limit,
                })
            })
            .or_else(|| {
                breaker.map(|drop_pct| RefusalReason::CircuitBreaker {
                    symbol: symbol.clone(),
                    drop_pct,
                })
            })
    }

    /// Rules 4–6.
    fn buy_refusal(&self, intent: &OrderIntent, view: &PortfolioView) -> Option<RefusalReason> {
        let value = intent.notional();
        let max = Notional::new(view.free_quote.value() * self.config.max_order_fraction_of_free);
        if value > max {
            return Some(RefusalReason::PositionTooLarge { value, max });
        }
        let Some(&allocation) = view.allocations.get(&intent.symbol) else {
            return Some(RefusalReason::NoAllocation {
                symbol: intent.symbol.clone(),
            });
        };
        let invested = view.invested_in(&intent.symbol);
        if invested + value > allocation {
            return Some(RefusalReason::SymbolAllocationExceeded {
                symbol: intent.symbol.clone(),
                invested,
                value,
                allocation,
            });
        }
        let available = self.available_capital(view.total_value(), view.total_invested());
        (value > available)
            .then_some(RefusalReason::InsufficientAvailableCapital { value, available })
    }

    /// `max(0, min(total − invested − total·reserve, total·exposure − invested))` (spec §7.1).
    #[must_use]
    pub fn available_capital(&self, total: Notional, invested: Notional) -> Notional {
        let hundred = Decimal::ONE_HUNDRED;
        let (total, invested) = (total.value(), invested.value());
        let after_reserve = total - invested - total * self.config.min_cash_reserve_pct / hundred;
        let under_exposure = total * self.config.max_total_exposure_pct / hundred - invested;
        Notional::new(after_reserve.min(under_exposure).max(Decimal::ZERO))
    }
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DailyDrawdown { loss_pct, limit_pct } => write!(
                f,
                "daily drawdown {loss_pct:.2} % reached the {limit_pct} % limit: trading halted until UTC midnight"
            ),
            Self::PortfolioDrawdown { loss_pct, limit_pct } => write!(
                f,
                "portfolio drawdown {loss_pct:.2} % from peak reached the {limit_pct} % limit: trading halted"
            ),
            Self::CircuitBreaker { symbol, drop_pct } => write!(
                f,
                "circuit breaker tripped on {symbol} after a {drop_pct:.2} % drop"
            ),
            Self::PositionTooLarge { value, max } => {
                write!(f, "order value {value} exceeds the CVaR max position {max}")
            }
            Self::NoAllocation { symbol } => write!(f, "no allocation for {symbol}"),
            Self::SymbolAllocationExceeded { symbol, invested, value, allocation } => write!(
                f,
                "order value {value} on top of {invested} exceeds the allocation {allocation} for {symbol}"
            ),
            Self::InsufficientAvailableCapital { value, available } => {
                write!(f, "order value {value} exceeds the available capital {available}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    const DAY: i64 = Timestamp::DAY_MS;

    fn btc() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    fn n(v: Decimal) -> Notional {
        Notional::new(v)
    }

    fn intent(side: Side, quantity: Decimal, price: Decimal, purpose: OrderPurpose) -> OrderIntent {
        OrderIntent {
            cohort: CohortId::new(1),
            symbol: btc(),
            side,
            quantity: Quantity::new(quantity).unwrap(),
            price: Price::new(price).unwrap(),
            purpose,
        }
    }

    fn buy(value: Decimal) -> OrderIntent {
        intent(
            Side::Buy,
            value / dec!(100),
            dec!(100),
            OrderPurpose::Strategy,
        )
    }

    fn view(free: Decimal, invested: Decimal, allocation: Decimal) -> PortfolioView {
        PortfolioView {
            free_quote: n(free),
            invested: [(btc(), n(invested))].into(),
            allocations: [(btc(), n(allocation))].into(),
        }
    }

    fn guard() -> RiskGuard {
        RiskGuard::new(GuardConfig::default()).unwrap()
    }

    fn reason(
        result: Result<RiskApproved<OrderIntent>, RiskRefused<OrderIntent>>,
    ) -> RefusalReason {
        result.unwrap_err().into_parts().1
    }

    #[test]
    fn approves_a_reasonable_buy() {
        let approved = guard().check(
            buy(dec!(50)),
            &view(dec!(1000), dec!(0), dec!(500)),
            Timestamp::from_millis(0),
        );
        assert_eq!(approved.unwrap().into_inner(), buy(dec!(50)));
    }

    #[test]
    fn buy_rules_in_order() {
        let g = guard();
        let t = Timestamp::from_millis(0);
        // 25 % of free 1000 = 250.
        assert!(matches!(
            reason(g.check(buy(dec!(300)), &view(dec!(1000), dec!(0), dec!(500)), t)),
            RefusalReason::PositionTooLarge { .. }
        ));
        assert!(matches!(
            reason(g.check(buy(dec!(200)), &view(dec!(1000), dec!(400), dec!(500)), t)),
            RefusalReason::SymbolAllocationExceeded { .. }
        ));
        let mut no_alloc = view(dec!(1000), dec!(0), dec!(500));
        no_alloc.allocations.clear();
        assert!(matches!(
            reason(g.check(buy(dec!(10)), &no_alloc, t)),
            RefusalReason::NoAllocation { .. }
        ));
        // total 1000 + 3000 = 4000: reserve leaves 4000 - 3000 - 800 = 200.
        assert!(matches!(
            reason(g.check(buy(dec!(240)), &view(dec!(1000), dec!(3000), dec!(9000)), t)),
            RefusalReason::InsufficientAvailableCapital { .. }
        ));
    }

    #[test]
    fn available_capital_matches_the_spec() {
        let g = guard();
        assert_eq!(
            g.available_capital(n(dec!(1000)), n(dec!(400))),
            n(dec!(400))
        );
        assert_eq!(
            g.available_capital(n(dec!(1000)), n(dec!(750))),
            n(dec!(50))
        );
        assert_eq!(g.available_capital(n(dec!(1000)), n(dec!(900))), n(dec!(0)));
    }

    #[test]
    fn daily_drawdown_halts_and_resets_at_utc_midnight() {
        let mut g = guard();
        let v = view(dec!(1000), dec!(0), dec!(500));
        assert!(g
            .observe_portfolio(n(dec!(1000)), Timestamp::from_millis(DAY))
            .is_empty());
        let events = g.observe_portfolio(n(dec!(900)), Timestamp::from_millis(DAY + 10));
        assert!(matches!(events[..], [RiskEvent::DailyDrawdownHalt { .. }]));
        assert!(g.is_halted());
        let sell = intent(Side::Sell, dec!(1), dec!(100), OrderPurpose::Strategy);
        let same_day = Timestamp::from_millis(2 * DAY - 1);
        assert!(matches!(
            reason(g.check(sell.clone(), &v, same_day)),
            RefusalReason::DailyDrawdown { .. }
        ));
        // Inside the first tick after midnight the halt no longer applies, before any observe.
        let next_day = Timestamp::from_millis(2 * DAY);
        assert!(g.check(sell, &v, next_day).is_ok());
        let events = g.observe_portfolio(n(dec!(900)), next_day);
        assert!(matches!(events[..], [RiskEvent::DailyReset { .. }]));
        assert!(!g.is_halted());
    }

    #[test]
    fn daily_drawdown_is_seen_inside_a_tick() {
        let mut g = guard();
        g.observe_portfolio(n(dec!(1000)), Timestamp::from_millis(0));
        // No observe since; the view itself shows a 10 % loss.
        let r = reason(g.check(
            buy(dec!(10)),
            &view(dec!(900), dec!(0), dec!(500)),
            Timestamp::from_millis(5),
        ));
        assert_eq!(
            r,
            RefusalReason::DailyDrawdown {
                loss_pct: dec!(10),
                limit_pct: dec!(10)
            }
        );
        assert!(r.to_string().contains("drawdown"));
    }

    #[test]
    fn portfolio_drawdown_from_peak_persists_across_days() {
        let mut g = guard();
        for (day, value) in [
            (0, dec!(1000)),
            (1, dec!(1200)),
            (2, dec!(1100)),
            (3, dec!(1020)),
        ] {
            g.observe_portfolio(n(value), Timestamp::from_millis(day * DAY));
        }
        assert!(g.is_halted());
        let t = Timestamp::from_millis(9 * DAY);
        let r = reason(g.check(buy(dec!(1)), &view(dec!(1020), dec!(0), dec!(500)), t));
        assert!(matches!(r, RefusalReason::PortfolioDrawdown { .. }));
        g.resume_after_portfolio_drawdown(n(dec!(1020)));
        assert!(g
            .check(buy(dec!(1)), &view(dec!(1020), dec!(0), dec!(500)), t)
            .is_ok());
    }

    #[test]
    fn protective_sells_pass_halts_but_buys_do_not() {
        let mut g = guard();
        g.observe_portfolio(n(dec!(1000)), Timestamp::from_millis(0));
        g.observe_portfolio(n(dec!(800)), Timestamp::from_millis(1));
        g.on_price(&btc(), Price::new(dec!(100)).unwrap());
        g.on_price(&btc(), Price::new(dec!(50)).unwrap());
        let v = view(dec!(800), dec!(0), dec!(500));
        let t = Timestamp::from_millis(2);
        let exit = intent(Side::Sell, dec!(1), dec!(50), OrderPurpose::ProtectiveExit);
        assert!(g.check(exit, &v, t).is_ok());
        let odd = intent(Side::Buy, dec!(1), dec!(50), OrderPurpose::ProtectiveExit);
        assert!(g.check(odd, &v, t).is_err());
    }

    #[test]
    fn circuit_breaker_blocks_its_symbol_until_rearmed() {
        let mut g = guard();
        let p = |v| Price::new(v).unwrap();
        assert_eq!(g.on_price(&btc(), p(dec!(100))), None);
        assert!(g.on_price(&btc(), p(dec!(89))).is_some());
        assert!(g.is_tripped(&btc()));
        let r = reason(g.check(
            buy(dec!(10)),
            &view(dec!(1000), dec!(0), dec!(500)),
            Timestamp::from_millis(0),
        ));
        assert!(r.to_string().contains("circuit breaker"));
        // Another symbol is unaffected.
        let eth = Symbol::new("ETHUSDT").unwrap();
        assert!(!g.is_tripped(&eth));
        g.rearm_circuit_breaker(&btc());
        assert!(!g.is_tripped(&btc()));
        assert_eq!(g.on_price(&btc(), p(dec!(50))), None);
        assert_eq!(g.last_price(&btc()), Some(p(dec!(50))));
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

    proptest! {
        /// Every approved BUY fits all three limits: CVaR cap, symbol allocation, available
        /// capital; every refused one breaks at least one of them (with no halt in force).
        #[test]
        fn prop_buy_approved_iff_within_limits(
            free in 0i64..100_000, invested in 0i64..100_000, allocation in 0i64..100_000,
            value in 1i64..50_000,
        ) {
            let g = RiskGuard::new(GuardConfig::default()).unwrap();
            let v = PortfolioView {
                free_quote: Notional::new(Decimal::from(free)),
                invested: [(btc(), Notional::new(Decimal::from(invested)))].into(),
                allocations: [(btc(), Notional::new(Decimal::from(allocation)))].into(),
            };
            let intent = OrderIntent {
                cohort: CohortId::new(1),
                symbol: btc(),
                side: Side::Buy,
                quantity: Quantity::new(Decimal::from(value)).unwrap(),
                price: Price::new(Decimal::ONE).unwrap(),
                purpose: OrderPurpose::Strategy,
            };
            let value = Decimal::from(value);
            let within = value <= Decimal::from(free) * dec!(0.25)
                && Decimal::from(invested) + value <= Decimal::from(allocation)
                && value <= g.available_capital(v.total_value(), v.total_invested()).value();
            prop_assert_eq!(g.check(intent, &v, Timestamp::from_millis(0)).is_ok(), within);
        }

        /// The breaker fires exactly on a drop of at least 10 % from the last accepted price,
        /// and never accepts the price that tripped it.
        #[test]
        fn prop_circuit_breaker_matches_definition(prices in prop::collection::vec(1i64..1_000, 1..40)) {
            let mut g = RiskGuard::new(GuardConfig::default()).unwrap();
            let mut last: Option<Decimal> = None;
            for p in prices {
                let price = Price::new(Decimal::from(p)).unwrap();
                let fired = g.on_price(&btc(), price).is_some();
                let expected = last.is_some_and(|l| (l - price.value()) / l * dec!(100) >= dec!(10));
                prop_assert_eq!(fired, expected);
                if fired {
                    prop_assert_eq!(g.last_price(&btc()).map(Price::value), last);
                    g.rearm_circuit_breaker(&btc());
                    last = None;
                } else {
                    last = Some(price.value());
                }
            }
        }

        /// While any halt is in force, every order is refused except a protective SELL.
        #[test]
        fn prop_halts_refuse_all_but_protective_sells(
            loss in 10i64..90, sell in any::<bool>(), protective in any::<bool>(), tripped in any::<bool>(),
        ) {
            let mut g = RiskGuard::new(GuardConfig::default()).unwrap();
            let t = Timestamp::from_millis(0);
            let value = Notional::new(Decimal::from(1000 - loss * 10));
            if tripped {
                g.on_price(&btc(), Price::new(dec!(100)).unwrap());
                g.on_price(&btc(), Price::new(dec!(50)).unwrap());
            } else {
                g.observe_portfolio(Notional::new(dec!(1000)), t);
                g.observe_portfolio(value, t);
            }
            let v = PortfolioView {
                free_quote: value,
                invested: BTreeMap::new(),
                allocations: [(btc(), Notional::new(dec!(1000000)))].into(),
            };
            let intent = OrderIntent {
                cohort: CohortId::new(1),
                symbol: btc(),
                side: if sell { Side::Sell } else { Side::Buy },
                quantity: Quantity::new(dec!(0.01)).unwrap(),
                price: Price::new(Decimal::ONE).unwrap(),
                purpose: if protective { OrderPurpose::ProtectiveExit } else { OrderPurpose::Strategy },
            };
            prop_assert_eq!(g.check(intent, &v, t).is_ok(), sell && protective);
        }

        /// A daily halt never outlives its UTC day.
        #[test]
        fn prop_daily_halt_ends_at_midnight(
            start in 0i64..1_000_000_000_000, loss in 10i64..99, later in 1i64..Timestamp::DAY_MS * 3,
        ) {
            let mut g = RiskGuard::new(GuardConfig::default()).unwrap();
            let t0 = Timestamp::from_millis(start);
            g.observe_portfolio(Notional::new(dec!(1000)), t0);
            let value = Notional::new(Decimal::from(1000 - loss * 10));
            g.observe_portfolio(value, t0);
            let t1 = t0.plus_millis(later);
            let v = PortfolioView { free_quote: value, ..PortfolioView::default() };
            let sell = OrderIntent {
                cohort: CohortId::new(1),
                symbol: btc(),
                side: Side::Sell,
                quantity: Quantity::new(Decimal::ONE).unwrap(),
                price: Price::new(Decimal::ONE).unwrap(),
                purpose: OrderPurpose::Strategy,
            };
            let refused = matches!(
                g.check(sell, &v, t1).map_err(RiskRefused::into_parts),
                Err((_, RefusalReason::DailyDrawdown { .. }))
            );
            prop_assert_eq!(refused, t1.start_of_utc_day() == t0.start_of_utc_day());
        }
    }
}
