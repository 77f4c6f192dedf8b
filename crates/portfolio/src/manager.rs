//! [`PortfolioManager`]: the three tiers together over one exchange account (cash and index
//! coins) and a [`TradingTier`] (the cohorts' own budget), with every snapshot written to the
//! store and money moved between tiers with real orders.
//!
//! How money moves between tiers (spec §1.7, which the old system only logged):
//! - into or out of the index: market orders on the index coins (buys by target weight,
//!   sells in proportion to each holding's value), recorded in `orders`/`fills` under the
//!   index's cohort and the redistribution's reason in `events`;
//! - between cash and trading: USDT changes hands inside the account, so no order is needed:
//!   the trading tier's budget changes ([`TradingTier::deposit`] / [`TradingTier::withdraw`]).

use std::collections::BTreeMap;

use hybrid_cohorts::CohortVenue;
use hybrid_core::{
    Asset, CohortId, Notional, OrderKind, OrderStatus, Price, Side, Symbol, SymbolFilters,
    Timestamp,
};
use hybrid_engine::EquityPoint;
use hybrid_exchange::OrderRequest;
use hybrid_store::{
    IndexHoldingRecord, NewCohort, NewEvent, PortfolioSnapshot, RedistributionRecord, Store,
    TierValueUpdate,
};
use rust_decimal::Decimal;

use crate::{
    cash::CashReserve,
    index::{
        index_composition, index_rebalance_due, index_rebalance_orders, IndexAction, IndexTier,
        MarketCap, INDEX_MAX_WEIGHT_PCT, INDEX_MIN_POSITION_USD, INDEX_TOP_N,
        INDEX_TRAILING_STOP_PCT,
    },
    redistribution::{needs_redistribution, transfer_plan, Transfer, REDISTRIBUTION_INTERVAL_MS},
    tiers::{TierBreakdown, TierKind, TierTargets, TierValues},
    trading::TradingTier,
    PortfolioError,
};

/// The store name of the index tier's cohort (the owner of its orders, fills and stops).
pub const INDEX_COHORT_NAME: &str = "index_holdings";

/// What the manager did, for reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortfolioJournal {
    /// Index orders filled.
    pub index_orders: u64,
    /// Index orders the exchange refused (too small, no balance, …).
    pub index_rejections: u64,
    /// Trailing-stop sales of index coins.
    pub stop_sales: u64,
    /// Index rebalances (the initial build included).
    pub rebalances: u64,
    /// Redistributions carried out.
    pub redistributions: Vec<RedistributionRecord>,
}

/// The three tiers: cash reserve and index holdings on `exchange` (the index cohort's ledger
/// view of the account: its quote is the cash reserve, its coins the index), the trading
/// tier `T`. Money moved to or from the trading tier leaves or enters the view's ledger.
#[derive(Debug)]
pub struct PortfolioManager<E, T> {
    exchange: E,
    trading: T,
    store: Store,
    targets: TierTargets,
    cash: CashReserve,
    index: IndexTier,
    filters: BTreeMap<Symbol, SymbolFilters>,
    last_redistribution: Option<Timestamp>,
    daily_equity: Vec<EquityPoint>,
    peak: Decimal,
    journal: PortfolioJournal,
}

impl<E: CohortVenue, T: TradingTier> PortfolioManager<E, T> {
    /// A manager over `exchange` (whose `quote` balance is the cash reserve), `trading`, and
    /// `store` (migrated here). Targets: the defaults, replaced by every active
    /// `portfolio_tiers` row; `filters` are the index coins' trading rules.
    ///
    /// # Errors
    /// A store failure, stored targets that are out of range or do not sum to 100, or an
    /// `exchange` view of another cohort than the index's ([`index_cohort`]).
    pub fn new(
        exchange: E,
        trading: T,
        store: Store,
        quote: Asset,
        filters: Vec<SymbolFilters>,
        now: Timestamp,
    ) -> Result<Self, PortfolioError> {
        store.run_migrations()?;
        let targets = load_targets(&store)?;
        let owner = index_cohort(&store, now)?;
        if exchange.cohort() != owner {
            return Err(PortfolioError::InvalidInput(format!(
                "the portfolio's account view trades as cohort {} but the index is cohort {owner}",
                exchange.cohort()
            )));
        }
        Ok(Self {
            exchange,
            trading,
            store,
            targets,
            cash: CashReserve::new(quote),
            index: IndexTier::new(owner)?,
            filters: filters.into_iter().map(|f| (f.symbol.clone(), f)).collect(),
            last_redistribution: None,
            daily_equity: Vec::new(),
            peak: Decimal::ZERO,
            journal: PortfolioJournal::default(),
        })
    }

    /// The tier targets in force.
    #[must_use]
    pub const fn targets(&self) -> &TierTargets {
        &self.targets
    }

    /// The account exchange.
    #[must_use]
    pub const fn exchange(&self) -> &E {
        &self.exchange
    }

    /// The trading tier.
    #[must_use]
    pub const fn trading(&self) -> &T {
        &self.trading
    }

    /// The trading tier, mutably (the driver feeds it candles).
    pub fn trading_mut(&mut self) -> &mut T {
        &mut self.trading
    }

    /// The index tier.
    #[must_use]
    pub const fn index(&self) -> &IndexTier {
        &self.index
    }

    /// The store.
    #[must_use]
    pub const fn store(&self) -> &Store {
        &self.store
    }

    /// What happened so far.
    #[must_use]
    pub const fn journal(&self) -> &PortfolioJournal {
        &self.journal
    }

    /// The index's owner id in the store.
    #[must_use]
    pub const fn index_cohort(&self) -> CohortId {
        self.index.owner()
    }

    /// Each tier's value now (cash refreshed from the exchange).
    ///
    /// # Errors
    /// The exchange's balances or the trading tier's value cannot be read.
    pub async fn values(&mut self, now: Timestamp) -> Result<TierValues, PortfolioError> {
        self.cash.refresh(&self.exchange).await?;
        Ok(TierValues {
            cash: self.cash.balance(),
            index: self.index.value(),
            trading: self.trading.value(now)?,
        })
    }

    /// New prices of index coins: holdings are revalued and trailing stops trail; a stop the
    /// price reached sells at market at once. Returns the symbols sold.
    ///
    /// # Errors
    /// Store failures; exchange refusals of the stop sale are counted, not returned.
    pub async fn on_prices(
        &mut self,
        prices: &[(Symbol, Price)],
        now: Timestamp,
    ) -> Result<Vec<Symbol>, PortfolioError> {
        let mut sold = Vec::new();
        for (symbol, price) in prices {
            self.exchange.mark_price(symbol, *price);
            let Some(quantity) = self.index.on_price(symbol, *price, now) else {
                continue;
            };
            let reason = format!(
                "index trailing stop: {symbol} at {price} reached its {INDEX_TRAILING_STOP_PCT} % stop"
            );
            if self
                .market_order(symbol, Side::Sell, quantity.value(), *price, now, &reason)
                .await?
            {
                self.index.confirm_stop_sold(symbol);
                self.journal.stop_sales += 1;
                sold.push(symbol.clone());
            } else {
                self.index.stop_sale_failed(symbol);
            }
        }
        Ok(sold)
    }

    /// Rebuilds the index from `caps` and rebalances it to the tier's target share of the
    /// total, when due (never rebalanced, or 90 days since). Returns whether it ran.
    ///
    /// # Errors
    /// Exchange balance or store failures.
    pub async fn rebalance_index_if_due(
        &mut self,
        caps: &[MarketCap],
        prices: &BTreeMap<Symbol, Price>,
        now: Timestamp,
    ) -> Result<bool, PortfolioError> {
        if !index_rebalance_due(self.index.last_rebalance_at(), now) {
            return Ok(false);
        }
        let tradable: Vec<MarketCap> = caps
            .iter()
            .filter(|c| {
                Symbol::new(&format!("{}{}", c.base, self.cash.asset()))
                    .is_ok_and(|s| self.filters.contains_key(&s) && prices.contains_key(&s))
            })
            .cloned()
            .collect();
        let composition = index_composition(&tradable, INDEX_TOP_N, INDEX_MAX_WEIGHT_PCT);
        self.index.set_targets(composition.clone());
        let total = self.values(now).await?.total();
        let capital = total * self.targets.index.target_pct / Decimal::ONE_HUNDRED;
        let orders = index_rebalance_orders(&composition, capital, &self.index.values());
        for order in orders {
            let Some(price) = prices.get(&order.symbol).copied() else {
                continue;
            };
            let (side, budget) = match order.action {
                IndexAction::Buy => (Side::Buy, order.amount_usd.min(self.cash.balance())),
                IndexAction::Sell => (Side::Sell, order.amount_usd),
            };
            let quantity = budget / price.value();
            let reason = format!(
                "quarterly index rebalance: {} {} USDT of {} toward its {} % weight",
                if side == Side::Buy { "buy" } else { "sell" },
                budget.round_dp(2),
                order.symbol,
                composition
                    .iter()
                    .find(|w| w.symbol == order.symbol)
                    .map_or(Decimal::ZERO, |w| w.weight_pct)
                    .round_dp(2)
            );
            self.market_order(&order.symbol, side, quantity, price, now, &reason)
                .await?;
            self.cash.refresh(&self.exchange).await?;
        }
        self.index.mark_rebalanced(now);
        self.journal.rebalances += 1;
        Ok(true)
    }

    /// The weekly redistribution: when a week has passed since the last check and a tier
    /// drifts more than 3 pp, moves money along [`transfer_plan`] and records it. Returns the
    /// record when something moved.
    ///
    /// # Errors
    /// Exchange balance, trading tier or store failures.
    pub async fn redistribute_if_due(
        &mut self,
        prices: &BTreeMap<Symbol, Price>,
        now: Timestamp,
    ) -> Result<Option<RedistributionRecord>, PortfolioError> {
        let due = self
            .last_redistribution
            .is_none_or(|last| now.as_millis() - last.as_millis() >= REDISTRIBUTION_INTERVAL_MS);
        if !due {
            return Ok(None);
        }
        self.last_redistribution = Some(now);
        self.redistribute(prices, now, "weekly_schedule").await
    }

    /// Checks the drift now and, if needed, executes the transfer plan.
    ///
    /// # Errors
    /// Exchange balance, trading tier or store failures.
    pub async fn redistribute(
        &mut self,
        prices: &BTreeMap<Symbol, Price>,
        now: Timestamp,
        trigger: &str,
    ) -> Result<Option<RedistributionRecord>, PortfolioError> {
        let before = self.values(now).await?;
        let pre = before.breakdown(&self.targets);
        if !needs_redistribution(&pre) {
            return Ok(None);
        }
        let plan = transfer_plan(&before, &self.targets);
        if plan.is_empty() {
            return Ok(None);
        }
        let mut done = Vec::new();
        for transfer in &plan {
            let moved = self.execute_transfer(transfer, prices, now).await?;
            if moved > Decimal::ZERO {
                done.push(serde_json::json!({
                    "from": transfer.from.code(),
                    "to": transfer.to.code(),
                    "planned": transfer.amount.to_string(),
                    "moved": moved.round_dp(2).to_string(),
                    "reason": transfer.reason,
                }));
            }
        }
        let after = self.values(now).await?.breakdown(&self.targets);
        let record = RedistributionRecord {
            at: now,
            total_portfolio_value: pre.total,
            total_moved: plan.iter().map(|t| t.amount).sum(),
            pre_allocation: allocation_json(&pre),
            post_allocation: allocation_json(&after),
            transfers: serde_json::Value::Array(done),
            trigger_reason: trigger.to_owned(),
        };
        self.store.insert_redistribution(&record)?;
        self.store.append_event(&NewEvent {
            at: now,
            cohort: None,
            symbol: None,
            kind: "profit_redistribution".to_owned(),
            message: plan
                .iter()
                .map(|t| format!("{} -> {} {} USDT ({})", t.from, t.to, t.amount, t.reason))
                .collect::<Vec<_>>()
                .join("; "),
            data: Some(record.transfers.clone()),
        })?;
        self.journal.redistributions.push(record.clone());
        Ok(Some(record))
    }

    /// Moves one transfer; returns the USDT actually moved.
    async fn execute_transfer(
        &mut self,
        transfer: &Transfer,
        prices: &BTreeMap<Symbol, Price>,
        now: Timestamp,
    ) -> Result<Decimal, PortfolioError> {
        let amount = transfer.amount;
        let freed = match transfer.from {
            TierKind::CashReserve => amount.min(self.cash.balance()),
            TierKind::IndexHoldings => {
                self.sell_index(amount, prices, now, &transfer.reason)
                    .await?
            }
            TierKind::Trading => {
                let taken = self.trading.withdraw(amount, now)?;
                if taken > Decimal::ZERO {
                    self.exchange.credit(taken).map_err(capital_error)?;
                }
                taken
            }
        };
        self.cash.refresh(&self.exchange).await?;
        match transfer.to {
            TierKind::CashReserve => Ok(freed),
            TierKind::IndexHoldings => {
                let budget = freed.min(self.cash.balance());
                self.buy_index(budget, prices, now, &transfer.reason).await
            }
            TierKind::Trading => {
                let budget = freed.min(self.cash.balance());
                if budget > Decimal::ZERO {
                    self.exchange.debit(budget).map_err(capital_error)?;
                    self.trading.deposit(budget, now)?;
                }
                self.cash.refresh(&self.exchange).await?;
                Ok(budget)
            }
        }
    }

    /// Sells `amount` USDT of index coins, each in proportion to its value; returns the
    /// quote received (net of fees, as the balance shows it).
    async fn sell_index(
        &mut self,
        amount: Decimal,
        prices: &BTreeMap<Symbol, Price>,
        now: Timestamp,
        reason: &str,
    ) -> Result<Decimal, PortfolioError> {
        let values = self.index.values();
        let total: Decimal = values.values().sum();
        if total <= Decimal::ZERO {
            return Ok(Decimal::ZERO);
        }
        let cash_before = self.cash.refresh(&self.exchange).await?;
        let share = (amount / total).min(Decimal::ONE);
        for (symbol, value) in values {
            let Some(price) = prices.get(&symbol).copied() else {
                continue;
            };
            let held = self
                .index
                .holdings()
                .get(&symbol)
                .map_or(Decimal::ZERO, |h| h.quantity);
            let quantity = if share == Decimal::ONE {
                held
            } else {
                (value * share / price.value()).min(held)
            };
            let reason = format!("profit redistribution: {reason}");
            self.market_order(&symbol, Side::Sell, quantity, price, now, &reason)
                .await?;
        }
        let cash_after = self.cash.refresh(&self.exchange).await?;
        Ok((cash_after - cash_before).max(Decimal::ZERO))
    }

    /// Buys `budget` USDT of index coins by target weight; returns what was spent.
    async fn buy_index(
        &mut self,
        budget: Decimal,
        prices: &BTreeMap<Symbol, Price>,
        now: Timestamp,
        reason: &str,
    ) -> Result<Decimal, PortfolioError> {
        let cash_before = self.cash.refresh(&self.exchange).await?;
        let targets = self.index.targets().to_vec();
        for target in targets {
            let Some(price) = prices.get(&target.symbol).copied() else {
                continue;
            };
            let amount = budget * target.weight_pct / Decimal::ONE_HUNDRED;
            if amount < INDEX_MIN_POSITION_USD {
                continue;
            }
            let reason = format!("profit redistribution: {reason}");
            self.market_order(
                &target.symbol,
                Side::Buy,
                amount / price.value(),
                price,
                now,
                &reason,
            )
            .await?;
        }
        let cash_after = self.cash.refresh(&self.exchange).await?;
        Ok((cash_before - cash_after).max(Decimal::ZERO))
    }

    /// One market order of the index: recorded before it is sent, its outcome and fills
    /// recorded after; the holding is updated from the fills. Returns whether it filled.
    async fn market_order(
        &mut self,
        symbol: &Symbol,
        side: Side,
        quantity: Decimal,
        price: Price,
        now: Timestamp,
        reason: &str,
    ) -> Result<bool, PortfolioError> {
        let Some(filters) = self.filters.get(symbol).cloned() else {
            return Ok(false);
        };
        self.exchange.mark_price(symbol, price);
        let quantity = match side {
            // Buys leave room for the fee so the quote balance covers the order.
            Side::Buy => quantity * (Decimal::ONE - Decimal::new(2, 3)),
            Side::Sell => quantity,
        };
        let Ok(rounded) = filters.round_quantity(quantity) else {
            return Ok(false);
        };
        if rounded.is_zero() || filters.check_market(side, price, rounded).is_err() {
            return Ok(false);
        }
        let owner = self.index.owner();
        let client_order_id = self.store.next_client_order_id(owner, symbol)?;
        let request = OrderRequest {
            client_order_id: client_order_id.clone(),
            cohort: owner,
            symbol: symbol.clone(),
            side,
            kind: OrderKind::Market,
            time_in_force: None,
            price: None,
            quantity: rounded,
        };
        let mut pending = request.to_new_order(0, now);
        pending.exchange_order_id = None;
        pending.status = OrderStatus::PendingNew;
        self.store.insert_order(&pending)?;
        let ack = match self.exchange.place_order(&request).await {
            Ok(ack) => ack,
            Err(error) => {
                self.store.update_order_status(
                    &client_order_id,
                    OrderStatus::Rejected,
                    None,
                    now,
                    Some(&format!("{reason}; rejected: {error}")),
                )?;
                self.journal.index_rejections += 1;
                return Ok(false);
            }
        };
        self.store.update_order_status(
            &client_order_id,
            ack.order.status,
            ack.order.exchange_order_id,
            now,
            Some(reason),
        )?;
        let base = symbol.base();
        for fill in &ack.fills {
            self.store.record_fill(owner, fill)?;
            let fee_in_base = if fill.commission_asset == base {
                fill.commission
            } else {
                Decimal::ZERO
            };
            let held = fill.quantity.value() - fee_in_base;
            match fill.side {
                Side::Buy => self.index.book_buy(&filters, held, fill.price, now)?,
                Side::Sell => {
                    self.index
                        .book_sell(&filters, fill.quantity.value(), fill.price, now)?;
                }
            }
        }
        self.store.append_event(&NewEvent {
            at: now,
            cohort: Some(owner),
            symbol: Some(symbol.clone()),
            kind: "index_order".to_owned(),
            message: format!("{side:?} {rounded} {symbol} at market: {reason}"),
            data: None,
        })?;
        let filled = !ack.fills.is_empty();
        if filled {
            self.journal.index_orders += 1;
        }
        Ok(filled)
    }

    /// The snapshot: every tier's value and share written to `portfolio_tiers`, a
    /// `portfolio_snapshots` row (with the drawdown from the running peak and the Sharpe ratio
    /// of daily returns so far) and the index holdings. Returns the breakdown.
    ///
    /// # Errors
    /// Exchange balance, trading tier or store failures.
    pub async fn snapshot(&mut self, now: Timestamp) -> Result<TierBreakdown, PortfolioError> {
        let values = self.values(now).await?;
        let breakdown = values.breakdown(&self.targets);
        let total = breakdown.total;
        self.peak = self.peak.max(total);
        let drawdown = if self.peak > Decimal::ZERO {
            ((total - self.peak) / self.peak * Decimal::ONE_HUNDRED).round_dp(4)
        } else {
            Decimal::ZERO
        };
        let day = now.as_millis().div_euclid(Timestamp::DAY_MS);
        let point = EquityPoint {
            time: now,
            equity: Notional::new(total),
        };
        let previous_day = match self.daily_equity.last() {
            Some(last) if last.time.as_millis().div_euclid(Timestamp::DAY_MS) == day => {
                let len = self.daily_equity.len();
                self.daily_equity[len - 1] = point;
                self.daily_equity.get(len.wrapping_sub(2)).copied()
            }
            last => {
                let previous = last.copied();
                self.daily_equity.push(point);
                previous
            }
        };
        let daily_pnl = previous_day.map(|p| total - p.equity.value());
        let daily_pnl_pct = previous_day
            .filter(|p| p.equity.value() > Decimal::ZERO)
            .map(|p| {
                ((total - p.equity.value()) / p.equity.value() * Decimal::ONE_HUNDRED).round_dp(4)
            });
        let sharpe = hybrid_engine::sharpe_ratio(&self.daily_equity);
        self.store.write_tier_values(
            &breakdown
                .tiers
                .iter()
                .map(|s| TierValueUpdate {
                    tier_name: s.kind.code().to_owned(),
                    current_pct: s.current_pct,
                    current_value_usd: s.value.round_dp(8),
                })
                .collect::<Vec<_>>(),
            now,
        )?;
        self.store.insert_portfolio_snapshot(&PortfolioSnapshot {
            at: now,
            total_value_usd: total,
            cash_usd: values.cash,
            index_usd: values.index,
            trading_usd: values.trading,
            daily_pnl,
            daily_pnl_pct,
            max_drawdown: Some(drawdown),
            sharpe_ratio: sharpe,
        })?;
        Ok(breakdown)
    }

    /// Reads the active index holdings and the last rebalance time back from the store (after
    /// a restart). Returns how many holdings were restored; rows of coins without filters are
    /// skipped.
    ///
    /// # Errors
    /// Store failures; a stop that cannot be placed.
    pub fn restore_holdings(&mut self, now: Timestamp) -> Result<usize, PortfolioError> {
        let mut restored = 0;
        for row in self.store.index_holdings()? {
            if !row.is_active || row.quantity <= Decimal::ZERO {
                continue;
            }
            let Some(filters) = self.filters.get(&row.symbol).cloned() else {
                continue;
            };
            if let Some(at) = row.last_rebalance_at {
                self.index.mark_rebalanced(at);
            }
            self.index.restore(
                crate::IndexHolding {
                    symbol: row.symbol,
                    quantity: row.quantity,
                    avg_entry_price: row.avg_entry_price,
                    current_price: row.current_price,
                    highest_price: row.highest_price,
                    stop_price: row.trailing_stop_price,
                    target_weight_pct: row.target_weight_pct,
                },
                &filters,
                now,
            )?;
            restored += 1;
        }
        Ok(restored)
    }

    /// Writes every index holding (hourly and on shutdown).
    ///
    /// # Errors
    /// Store failures.
    pub fn persist_holdings(&self, now: Timestamp) -> Result<(), PortfolioError> {
        for holding in self.index.holdings().values() {
            self.store.upsert_index_holding(&IndexHoldingRecord {
                symbol: holding.symbol.clone(),
                target_weight_pct: holding.target_weight_pct,
                quantity: holding.quantity,
                avg_entry_price: holding.avg_entry_price,
                current_price: holding.current_price,
                trailing_stop_pct: INDEX_TRAILING_STOP_PCT,
                trailing_stop_price: holding.stop_price,
                highest_price: holding.highest_price,
                is_active: true,
                last_rebalance_at: self.index.last_rebalance_at(),
                updated_at: now,
            })?;
        }
        for row in self.store.index_holdings()? {
            if row.is_active && !self.index.holdings().contains_key(&row.symbol) {
                self.store.upsert_index_holding(&IndexHoldingRecord {
                    quantity: Decimal::ZERO,
                    is_active: false,
                    updated_at: now,
                    ..row
                })?;
            }
        }
        Ok(())
    }
}

/// The store id of the index tier's cohort (the owner of its orders, fills and stops), its
/// row created if missing.
///
/// # Errors
/// A store failure.
pub fn index_cohort(store: &Store, now: Timestamp) -> Result<CohortId, PortfolioError> {
    store.run_migrations()?;
    Ok(store
        .upsert_cohort(
            &NewCohort {
                name: INDEX_COHORT_NAME.to_owned(),
                description: "index holdings tier (buy and hold, 15 % trailing stops)".to_owned(),
                config: serde_json::Value::Null,
                starting_capital: Decimal::ZERO,
                is_active: true,
            },
            now,
        )?
        .id)
}

fn capital_error(refusal: hybrid_cohorts::CapitalRefusal) -> PortfolioError {
    PortfolioError::InvalidInput(format!("moving money between tiers: {refusal}"))
}

/// The tier targets: the defaults, each replaced by the stored target of an active row.
///
/// # Errors
/// A store failure, an unknown tier name, or targets that do not validate.
pub fn load_targets(store: &Store) -> Result<TierTargets, PortfolioError> {
    let mut targets = TierTargets::default();
    for row in store.portfolio_tiers()? {
        if row.is_active {
            targets.set_target(row.tier_name.parse()?, row.target_pct);
        }
    }
    targets.validate()?;
    Ok(targets)
}

fn allocation_json(breakdown: &TierBreakdown) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for share in &breakdown.tiers {
        map.insert(
            share.kind.code().to_owned(),
            serde_json::json!({
                "value": share.value.round_dp(2).to_string(),
                "pct": share.current_pct.round_dp(2).to_string(),
                "target_pct": share.target_pct.to_string(),
            }),
        );
    }
    map.insert(
        "total".to_owned(),
        serde_json::json!(breakdown.total.round_dp(2).to_string()),
    );
    serde_json::Value::Object(map)
}

/// The largest fall from a running peak in `values`, percent (positive; 0 for fewer than two
/// values or a curve that never falls). The AI optimizer's 30-day context uses it.
#[must_use]
pub fn max_drawdown_pct(values: &[Decimal]) -> Decimal {
    let mut peak = Decimal::ZERO;
    let mut worst = Decimal::ZERO;
    for value in values {
        peak = peak.max(*value);
        if peak > Decimal::ZERO {
            worst = worst.max((peak - *value) / peak * Decimal::ONE_HUNDRED);
        }
    }
    if values.len() < 2 {
        Decimal::ZERO
    } else {
        worst
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use hybrid_cohorts::{CohortExchange, CohortLedger};
    use hybrid_core::SimClock;
    use hybrid_exchange::{Balance, MatchingConfig, MatchingEngine, SimConfig, SimExchange};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::test_support::settle;

    /// A trading tier holding only cash (its own ledger's worth, outside the index's).
    #[derive(Debug)]
    struct CashTrading {
        value: Decimal,
    }

    impl TradingTier for CashTrading {
        fn value(&self, _: Timestamp) -> Result<Decimal, PortfolioError> {
            Ok(self.value)
        }
        fn deposit(&mut self, amount: Decimal, _: Timestamp) -> Result<(), PortfolioError> {
            self.value += amount;
            Ok(())
        }
        fn withdraw(&mut self, amount: Decimal, _: Timestamp) -> Result<Decimal, PortfolioError> {
            let amount = amount.min(self.value);
            self.value -= amount;
            Ok(amount)
        }
    }

    /// The index cohort's view of `account`, holding `cash` of its USDT.
    fn index_view(
        account: &Arc<SimExchange>,
        store: &Store,
        cash: Decimal,
    ) -> Arc<CohortExchange<SimExchange>> {
        let owner = index_cohort(store, Timestamp::from_millis(0)).unwrap();
        let ledger = CohortLedger::new(owner, Asset::new("USDT").unwrap(), cash);
        Arc::new(CohortExchange::new(Arc::clone(account), ledger))
    }

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }

    #[test]
    fn scenario_11_25_max_drawdown_of_a_value_series() {
        assert_eq!(
            max_drawdown_pct(&[dec!(100), dec!(120), dec!(90), dec!(110)]),
            dec!(25)
        );
        assert_eq!(
            max_drawdown_pct(&[dec!(100), dec!(110), dec!(120)]),
            dec!(0)
        );
        assert_eq!(max_drawdown_pct(&[dec!(100)]), dec!(0));
    }

    #[test]
    fn scenario_11_17_index_surplus_is_sold_into_cash_with_real_orders_and_recorded() {
        let btc = SymbolFilters::with_steps(sym("BTCUSDT"), dec!(0.01), dec!(0.000001));
        let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
        let engine = MatchingEngine::new(
            MatchingConfig {
                taker_fee: Decimal::ZERO,
                maker_fee: Decimal::ZERO,
                market_slippage: Decimal::ZERO,
                ..MatchingConfig::default()
            },
            vec![btc.clone()],
            &[Balance {
                asset: Asset::new("USDT").unwrap(),
                free: dec!(10000),
                locked: Decimal::ZERO,
            }],
        );
        let exchange = Arc::new(SimExchange::new(engine, clock, SimConfig::default()));
        let price = Price::new(dec!(50000)).unwrap();
        exchange.on_price(&sym("BTCUSDT"), price);
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("p.db").display());
        let store = Store::open(&url).unwrap();
        let trading = CashTrading { value: dec!(2500) };
        let now = Timestamp::from_millis(0);
        let view = index_view(&exchange, &store, dec!(7500));
        let mut manager = PortfolioManager::new(
            Arc::clone(&view),
            trading,
            store,
            Asset::new("USDT").unwrap(),
            vec![btc],
            now,
        )
        .unwrap();
        let caps = [MarketCap::new("BTC", dec!(1))];
        let prices = BTreeMap::from([(sym("BTCUSDT"), price)]);
        // Build the index at 65 %: 6 500 of BTC, 1 000 left in cash.
        assert!(settle(manager.rebalance_index_if_due(&caps, &prices, now)).unwrap());
        let values = settle(manager.values(now)).unwrap();
        assert!(
            values.index > dec!(6480) && values.index <= dec!(6500),
            "{values:?}"
        );
        // BTC doubles: index ~13 000 of ~16 500, cash ~1 000 → the reserve is 4 pp under
        // target and the trading tier 10 pp under.
        let risen = Price::new(dec!(100000)).unwrap();
        exchange.on_price(&sym("BTCUSDT"), risen);
        let later = Timestamp::from_millis(Timestamp::DAY_MS);
        settle(manager.on_prices(&[(sym("BTCUSDT"), risen)], later)).unwrap();
        let prices = BTreeMap::from([(sym("BTCUSDT"), risen)]);
        let record = settle(manager.redistribute(&prices, later, "manual"))
            .unwrap()
            .unwrap();
        let transfers = record.transfers.as_array().unwrap();
        assert_eq!(transfers[0]["from"], "index_holdings");
        assert_eq!(transfers[0]["to"], "cash_reserve");
        assert_eq!(transfers[1]["to"], "trading");
        assert!(
            manager.trading().value > dec!(4000),
            "{:?}",
            manager.trading()
        );
        let after = settle(manager.values(later))
            .unwrap()
            .breakdown(manager.targets());
        assert!(!needs_redistribution(&after), "{after}");
        assert!(
            after.share(TierKind::CashReserve).drift_pp.abs() < dec!(0.1),
            "{after}"
        );
        // Recorded: the row, the event, and the sell order with its reason.
        assert_eq!(manager.store().redistributions().unwrap().len(), 1);
        let events = manager.store().recent_events(10).unwrap();
        assert!(events.iter().any(|e| e.kind == "profit_redistribution"));
        assert!(events
            .iter()
            .any(|e| e.kind == "index_order" && e.message.contains("profit redistribution")));
        // The holdings survive a restart through the store.
        manager.persist_holdings(later).unwrap();
        let held = manager.index().holdings()[&sym("BTCUSDT")].quantity;
        let mut restarted = PortfolioManager::new(
            Arc::clone(&view),
            CashTrading {
                value: manager.trading().value,
            },
            Store::open(&url).unwrap(),
            Asset::new("USDT").unwrap(),
            vec![SymbolFilters::with_steps(
                sym("BTCUSDT"),
                dec!(0.01),
                dec!(0.000001),
            )],
            later,
        )
        .unwrap();
        assert_eq!(restarted.restore_holdings(later).unwrap(), 1);
        let back = &restarted.index().holdings()[&sym("BTCUSDT")];
        assert_eq!(back.quantity, held);
        assert_eq!(restarted.index().last_rebalance_at(), Some(now));
        // On target now: nothing more to move.
        assert!(settle(manager.redistribute(&prices, later, "manual"))
            .unwrap()
            .is_none());
    }
}
