//! [`CohortTradingTier`]: the cohorts (a [`CohortOrchestrator`]) as the portfolio's trading
//! tier (spec §1.6). When the tier's budget changes the cohorts' capital is rescaled by
//! [`scale_cohorts`].
//!
//! The tier's *budget* is the capital assigned to its cohorts (each cohort's current capital
//! in the `cohorts` table) plus its unassigned cash (rounding remainders, money of paused
//! cohorts, deposits not yet placed). Its *value* is the cohorts' equity (cash plus coins at
//! the last prices) plus the unassigned cash.
//!
//! Rescaling, on every deposit and withdrawal: `scale_cohorts(budget, per_cohort_min_capital,
//! max_cohorts, ranked)` gives each active cohort its target capital and every paused one a
//! target of zero. Cohorts above target are debited first — only their free cash, so what
//! their open orders reserve and the coins they hold stay theirs and a cohort never goes below
//! its open orders (it then stays above its target until those orders fill or close) — and the
//! money goes to the unassigned cash; then cohorts below target are credited from it, in rank
//! order, as far as it goes. Every change is a cohort capital change recorded in the `cohorts`
//! table ([`CohortOrchestrator::credit`], [`CohortOrchestrator::debit`]).

use std::collections::BTreeMap;

use hybrid_cohorts::{CohortError, CohortOrchestrator, CohortVenue};
use hybrid_core::{CohortId, Timestamp};
use rust_decimal::Decimal;

use crate::{
    trading::{scale_cohorts, CohortScaling, TradingTier},
    PortfolioError,
};

/// The cohorts as the portfolio's trading tier.
#[derive(Debug)]
pub struct CohortTradingTier<V> {
    cohorts: CohortOrchestrator<V>,
    ranked: Vec<CohortId>,
    per_cohort_min_capital: Decimal,
    max_cohorts: usize,
    unassigned: Decimal,
    scaling: Option<CohortScaling>,
}

impl<V: CohortVenue> CohortTradingTier<V> {
    /// The tier over `cohorts`, which keep their capital until the first budget change.
    /// `ranked` lists the cohorts best first (the comparison ranking); cohorts it leaves out
    /// follow in the order they were added. `per_cohort_min_capital` (USDT, the configuration's
    /// `portfolio.per_cohort_min_capital`) and `max_cohorts` (the deployment phase's limit) go
    /// to [`scale_cohorts`].
    ///
    /// # Errors
    /// [`PortfolioError::InvalidInput`] when `ranked` names a cohort the orchestrator does not
    /// drive or the minimum capital is not positive.
    pub fn new(
        cohorts: CohortOrchestrator<V>,
        ranked: &[CohortId],
        per_cohort_min_capital: Decimal,
        max_cohorts: usize,
    ) -> Result<Self, PortfolioError> {
        if per_cohort_min_capital <= Decimal::ZERO {
            return Err(PortfolioError::InvalidInput(format!(
                "per-cohort minimum capital must be positive, got {per_cohort_min_capital}"
            )));
        }
        let mut tier = Self {
            cohorts,
            ranked: Vec::new(),
            per_cohort_min_capital,
            max_cohorts,
            unassigned: Decimal::ZERO,
            scaling: None,
        };
        tier.set_ranking(ranked)?;
        Ok(tier)
    }

    /// Replaces the ranking (best first) used at the next budget change.
    ///
    /// # Errors
    /// [`PortfolioError::InvalidInput`] when `ranked` names a cohort the orchestrator does not
    /// drive.
    pub fn set_ranking(&mut self, ranked: &[CohortId]) -> Result<(), PortfolioError> {
        let known: Vec<CohortId> = self
            .cohorts
            .slots()
            .iter()
            .map(hybrid_cohorts::CohortSlot::id)
            .collect();
        if let Some(unknown) = ranked.iter().find(|id| !known.contains(id)) {
            return Err(PortfolioError::InvalidInput(format!(
                "the ranking names cohort {unknown}, which the trading tier does not drive"
            )));
        }
        let mut order: Vec<CohortId> = Vec::new();
        for id in ranked.iter().chain(&known) {
            if !order.contains(id) {
                order.push(*id);
            }
        }
        self.ranked = order;
        Ok(())
    }

    /// The cohorts.
    #[must_use]
    pub const fn cohorts(&self) -> &CohortOrchestrator<V> {
        &self.cohorts
    }

    /// The cohorts, to drive them (candles, hours).
    pub fn cohorts_mut(&mut self) -> &mut CohortOrchestrator<V> {
        &mut self.cohorts
    }

    /// Each cohort's capital now (its current capital in the `cohorts` table), USDT.
    #[must_use]
    pub fn capitals(&self) -> BTreeMap<CohortId, Decimal> {
        self.cohorts
            .slots()
            .iter()
            .map(|s| (s.id(), s.definition().current_capital))
            .collect()
    }

    /// Cash of the tier that belongs to no cohort, USDT.
    #[must_use]
    pub const fn unassigned(&self) -> Decimal {
        self.unassigned
    }

    /// The cohorts' capital plus the unassigned cash, USDT.
    #[must_use]
    pub fn budget(&self) -> Decimal {
        self.capitals().values().copied().sum::<Decimal>() + self.unassigned
    }

    /// The split of the last rescaling, if any.
    #[must_use]
    pub const fn scaling(&self) -> Option<&CohortScaling> {
        self.scaling.as_ref()
    }

    /// Rescales the cohorts to `budget` (see the module documentation).
    fn rescale(&mut self, budget: Decimal, now: Timestamp) -> Result<(), PortfolioError> {
        let plan = scale_cohorts(
            budget,
            self.per_cohort_min_capital,
            self.max_cohorts,
            &self.ranked,
        );
        let targets: BTreeMap<CohortId, Decimal> = plan.active.iter().copied().collect();
        let capitals = self.capitals();
        for slot_id in &self.ranked {
            let capital = capitals.get(slot_id).copied().unwrap_or_default();
            let target = targets.get(slot_id).copied().unwrap_or_default();
            let Some(slot) = self.cohorts.slots().iter().find(|s| s.id() == *slot_id) else {
                continue;
            };
            let ledger = slot.ledger();
            let take = (capital - target).min(ledger.free(ledger.quote()));
            if take > Decimal::ZERO {
                self.cohorts
                    .debit(*slot_id, take, now)
                    .map_err(tier_error)?;
                self.unassigned += take;
            }
        }
        let capitals = self.capitals();
        for (slot_id, target) in &plan.active {
            let capital = capitals.get(slot_id).copied().unwrap_or_default();
            let give = (*target - capital).min(self.unassigned);
            if give > Decimal::ZERO {
                self.cohorts
                    .credit(*slot_id, give, now)
                    .map_err(tier_error)?;
                self.unassigned -= give;
            }
        }
        self.scaling = Some(plan);
        Ok(())
    }
}

impl<V: CohortVenue> TradingTier for CohortTradingTier<V> {
    fn value(&self, now: Timestamp) -> Result<Decimal, PortfolioError> {
        // A cohort venue answers balances from its ledger at once: equity never waits.
        let equities = hybrid_engine::block_on(self.cohorts.equities(now)).map_err(|_| {
            PortfolioError::InvalidInput(
                "trading tier: a cohort's balances did not answer at once".to_owned(),
            )
        })?;
        let mut value = self.unassigned;
        for (cohort, equity) in equities {
            let snapshot = equity.map_err(|e| {
                PortfolioError::InvalidInput(format!("trading tier: cohort {cohort}: {e}"))
            })?;
            value += snapshot.equity.value();
        }
        Ok(value)
    }

    fn deposit(&mut self, amount: Decimal, now: Timestamp) -> Result<(), PortfolioError> {
        if amount <= Decimal::ZERO {
            return Ok(());
        }
        self.unassigned += amount;
        self.rescale(self.budget(), now)
    }

    fn withdraw(&mut self, amount: Decimal, now: Timestamp) -> Result<Decimal, PortfolioError> {
        if amount <= Decimal::ZERO {
            return Ok(Decimal::ZERO);
        }
        let budget = (self.budget() - amount).max(Decimal::ZERO);
        self.rescale(budget, now)?;
        let taken = amount.min(self.unassigned);
        self.unassigned -= taken;
        Ok(taken)
    }
}

fn tier_error(error: CohortError) -> PortfolioError {
    match error {
        CohortError::Store(e) => PortfolioError::Store(e),
        other => PortfolioError::InvalidInput(format!("trading tier: {other}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use hybrid_cohorts::{seed, CohortDefinition, CohortExchange, CohortLedger};
    use hybrid_core::{Asset, Candle, Price, Quantity, SimClock, Symbol, SymbolFilters};
    use hybrid_engine::{replay_filters, OrchestratorConfig};
    use hybrid_exchange::{Balance, MatchingConfig, MatchingEngine, SimConfig, SimExchange};
    use hybrid_store::Store;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::test_support::settle;

    const HOUR: i64 = Timestamp::HOUR_MS;

    /// A price swinging ±4 % around `base` once a day, so grids place and fill orders.
    fn candle(base: Decimal, hour: i64) -> Candle {
        let phase = |h: i64| -> Decimal {
            #[expect(clippy::cast_precision_loss, reason = "a test price curve")]
            let x = ((h % 24) as f64 / 24.0 * std::f64::consts::TAU).sin();
            base * (Decimal::ONE + Decimal::try_from(x * 0.04).unwrap().round_dp(6))
        };
        let (open, close) = (phase(hour), phase(hour + 1));
        let p = |d: Decimal| Price::new(d.round_dp(4)).unwrap();
        Candle::new(
            Timestamp::from_millis(hour * HOUR),
            p(open),
            p(open.max(close) * dec!(1.002)),
            p(open.min(close) * dec!(0.998)),
            p(close),
            Quantity::new(dec!(1000)).unwrap(),
        )
        .unwrap()
    }

    /// Three default cohorts of 1000 USDT, one coin each, after `hours` of trading.
    fn traded_cohorts(hours: i64) -> CohortOrchestrator<CohortExchange<SimExchange>> {
        let coins = [
            (Symbol::new("BTCUSDT").unwrap(), dec!(30000)),
            (Symbol::new("ETHUSDT").unwrap(), dec!(2000)),
            (Symbol::new("SOLUSDT").unwrap(), dec!(100)),
        ];
        let filters: Vec<SymbolFilters> = coins
            .iter()
            .map(|(s, p)| replay_filters(s.clone(), Price::new(*p).unwrap()))
            .collect();
        let usdt = Asset::new("USDT").unwrap();
        let engine = MatchingEngine::new(
            MatchingConfig::default(),
            filters.clone(),
            &[Balance {
                asset: usdt.clone(),
                free: dec!(3000),
                locked: dec!(0),
            }],
        );
        let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
        let shared = Arc::new(SimExchange::new(
            engine,
            Arc::clone(&clock),
            SimConfig::default(),
        ));
        for (symbol, base) in &coins {
            shared.on_candle(symbol, &candle(*base, -1));
        }
        let definitions: Vec<CohortDefinition> = hybrid_cohorts::default_cohorts()
            .into_iter()
            .take(3)
            .collect();
        let now = Timestamp::from_millis(0);
        let mut base = OrchestratorConfig::backtest_defaults();
        base.hybrid.enable_mode_switching = false;
        let mut cohorts = CohortOrchestrator::new();
        for (definition, filters) in definitions.iter().zip(filters) {
            let store = Store::open("sqlite::memory:").unwrap();
            let rows = seed(&store, &definitions, now).unwrap();
            let id = rows.iter().find(|r| r.name == definition.name).unwrap().id;
            let venue = CohortExchange::new(
                Arc::clone(&shared),
                CohortLedger::new(id, usdt.clone(), definition.current_capital),
            );
            cohorts
                .add(definition.clone(), venue, store, vec![filters], &base, now)
                .unwrap();
        }
        for hour in 0..hours {
            let close = Timestamp::from_millis((hour + 1) * HOUR);
            clock.advance_to(close).unwrap();
            for (symbol, base) in &coins {
                let c = candle(*base, hour);
                let fills = shared.on_candle(symbol, &c);
                settle(cohorts.on_candle(symbol, &c, fills, close));
            }
            settle(cohorts.start(close));
            if hour > 0 {
                settle(cohorts.on_hour(close));
            }
        }
        cohorts
    }

    /// Per cohort: (capital, free cash, reserved cash, stored capital).
    fn state(
        tier: &CohortTradingTier<CohortExchange<SimExchange>>,
    ) -> BTreeMap<CohortId, (Decimal, Decimal, Decimal, Decimal)> {
        tier.cohorts()
            .slots()
            .iter()
            .map(|slot| {
                let ledger = slot.ledger();
                let stored = slot
                    .orchestrator()
                    .store()
                    .get_cohort(slot.id())
                    .unwrap()
                    .unwrap()
                    .current_capital;
                (
                    slot.id(),
                    (
                        slot.definition().current_capital,
                        ledger.free(ledger.quote()),
                        ledger.reserved(ledger.quote()),
                        stored,
                    ),
                )
            })
            .collect()
    }

    /// Checks one rescaling against the rule: a cohort above its target is debited down to it
    /// or by all its free cash, whichever is less; what open orders reserve never moves; the
    /// `cohorts` table holds the new capital.
    fn assert_scaled(
        before: &BTreeMap<CohortId, (Decimal, Decimal, Decimal, Decimal)>,
        after: &BTreeMap<CohortId, (Decimal, Decimal, Decimal, Decimal)>,
        targets: &BTreeMap<CohortId, Decimal>,
    ) {
        for (id, (capital, free, reserved, _)) in before {
            let (new_capital, new_free, new_reserved, stored) = after[id];
            let target = targets.get(id).copied().unwrap_or_default();
            if *capital > target {
                assert_eq!(
                    new_capital,
                    target.max(*capital - *free),
                    "cohort {id}: down to its target or by its free cash"
                );
            }
            assert!(
                new_free >= Decimal::ZERO,
                "cohort {id}: its cash covers its open orders"
            );
            assert_eq!(
                new_reserved, *reserved,
                "cohort {id}: open orders keep their cash"
            );
            assert_eq!(
                stored, new_capital,
                "cohort {id}: recorded in the cohorts table"
            );
        }
    }

    #[test]
    fn a_budget_change_scales_the_cohorts_by_the_rule_and_spares_their_open_orders() {
        let cohorts = traded_cohorts(30);
        let ids: Vec<CohortId> = cohorts
            .slots()
            .iter()
            .map(hybrid_cohorts::CohortSlot::id)
            .collect();
        // Best first: aggressive, conservative, balanced.
        let ranked = [ids[2], ids[0], ids[1]];
        let mut tier = CohortTradingTier::new(cohorts, &ranked, dec!(500), 6).unwrap();
        let now = Timestamp::from_millis(31 * HOUR);
        let before = state(&tier);
        assert!(
            before
                .values()
                .any(|(_, _, reserved, _)| *reserved > Decimal::ZERO),
            "some cohort has open buys: {before:?}"
        );
        assert_eq!(tier.budget(), dec!(3000));
        let value = tier.value(now).unwrap();

        // 3000 → 2000: three cohorts of 666.66 (floor(2000 / 500) = 4 ≥ 3).
        let taken = tier.withdraw(dec!(1000), now).unwrap();
        let scaling = tier.scaling().unwrap().clone();
        assert_eq!(scaling, scale_cohorts(dec!(2000), dec!(500), 6, &ranked));
        assert!(scaling.active.iter().all(|(_, c)| *c == dec!(666.66)));
        let targets: BTreeMap<CohortId, Decimal> = scaling.active.iter().copied().collect();
        let after = state(&tier);
        assert_scaled(&before, &after, &targets);
        let released: Decimal = before
            .iter()
            .map(|(id, (capital, ..))| *capital - after[id].0)
            .sum();
        assert_eq!(taken, released.min(dec!(1000)));
        assert_eq!(tier.unassigned(), released - taken);
        assert_eq!(
            value - tier.value(now).unwrap(),
            taken,
            "cash left the tier"
        );

        // A deposit tops the cohorts up to the new equal share from the unassigned cash.
        let budget = tier.budget() + dec!(500);
        tier.deposit(dec!(500), now).unwrap();
        let share = scale_cohorts(budget, dec!(500), 6, &ranked).active[0].1;
        for (id, (capital, ..)) in state(&tier) {
            assert!(capital <= share, "cohort {id}: {capital} > {share}");
        }
        assert_eq!(tier.budget(), budget);

        // Down to 900: only the best cohort trades; the others give up all their free cash
        // but keep what their open orders reserve.
        let before = state(&tier);
        let taken = tier.withdraw(tier.budget() - dec!(900), now).unwrap();
        let scaling = tier.scaling().unwrap().clone();
        assert_eq!(scaling.active, [(ranked[0], dec!(900))]);
        assert_eq!(scaling.paused, ranked[1..]);
        let after = state(&tier);
        let targets: BTreeMap<CohortId, Decimal> = scaling.active.iter().copied().collect();
        assert_scaled(&before, &after, &targets);
        for id in &ranked[1..] {
            let (capital, free, reserved, _) = after[id];
            assert_eq!(free, Decimal::ZERO, "paused cohort {id} keeps no free cash");
            assert!(capital >= Decimal::ZERO && reserved == before[id].2);
        }
        assert!(taken > Decimal::ZERO);
    }

    #[test]
    fn a_ranking_naming_a_foreign_cohort_is_refused() {
        let cohorts = traded_cohorts(0);
        let error = CohortTradingTier::new(cohorts, &[CohortId::new(99)], dec!(100), 6)
            .unwrap_err()
            .to_string();
        assert!(error.contains("99"), "{error}");
    }
}
