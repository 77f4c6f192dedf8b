//! [`CohortLedger`]: one cohort's share of the shared exchange account — its cash, its
//! coins, and what its open orders reserve — and [`reconcile`], which checks that the
//! cohorts' shares add up to the account.
//!
//! All cohorts trade one account, so the exchange's balance cannot tell whose money is whose.
//! Each cohort's ledger starts with its capital and books exactly what the exchange books for
//! that cohort's orders (the fill's notional, quantity and commission), so the sum of the
//! ledgers equals the account at every instant. A cohort sees only its own ledger as its
//! balance and an order it cannot pay from its own free cash is refused before it reaches
//! the exchange: a cohort never spends another cohort's money.
//!
//! Differs from the old system: there a shared allocator singleton kept one portfolio and one
//! set of constraints for all cohorts, so one cohort's state leaked into the next one's
//! allocation; here each cohort has its own ledger and nothing is shared but the exchange.

use std::collections::{BTreeMap, BTreeSet};

use hybrid_core::{Asset, ClientOrderId, CohortId, Fill, Order, OrderKind, Price, Side, Symbol};
use hybrid_exchange::{Balance, OrderRequest};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What an open order of the cohort reserves: quote (a buy, at its limit price) or coins (a
/// sell), for its unfilled part.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reservation {
    symbol: Symbol,
    side: Side,
    price: Price,
    remaining: Decimal,
}

/// Why the ledger refuses an order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cohort {cohort} cannot pay: needs {needed} {asset}, has {free} free")]
pub struct LedgerRefusal {
    /// The cohort.
    pub cohort: CohortId,
    /// The asset it lacks.
    pub asset: Asset,
    /// What the order needs, in units of `asset`.
    pub needed: Decimal,
    /// What the cohort has free, in units of `asset`.
    pub free: Decimal,
}

/// Why a capital change of a cohort is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapitalRefusal {
    /// Credits and debits are positive amounts of the quote asset.
    #[error("cohort {cohort}: a capital change must be a positive amount, got {amount}")]
    NotPositive {
        /// The cohort.
        cohort: CohortId,
        /// The amount asked for.
        amount: Decimal,
    },
    /// The cohort's free cash is less than the debit (the rest is reserved by open orders or
    /// spent on coins).
    #[error(transparent)]
    Insufficient(#[from] LedgerRefusal),
}

/// One cohort's cash, coins and reservations, in exact units of each asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortLedger {
    cohort: CohortId,
    quote: Asset,
    totals: BTreeMap<Asset, Decimal>,
    open: BTreeMap<ClientOrderId, Reservation>,
    /// Trade ids already booked, per symbol (Binance numbers trades per symbol).
    booked: BTreeMap<Symbol, BTreeSet<i64>>,
}

/// A cohort's balance of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerLine {
    /// The asset.
    pub asset: Asset,
    /// Free + reserved.
    pub total: Decimal,
    /// Reserved by open orders.
    pub reserved: Decimal,
}

impl CohortLedger {
    /// A ledger holding `capital` of `quote` and nothing else.
    #[must_use]
    pub fn new(cohort: CohortId, quote: Asset, capital: Decimal) -> Self {
        let mut totals = BTreeMap::new();
        totals.insert(quote.clone(), capital);
        Self {
            cohort,
            quote,
            totals,
            open: BTreeMap::new(),
            booked: BTreeMap::new(),
        }
    }

    /// The ledger rebuilt after a restart: `capital` of `quote` (the cohort's current capital
    /// in the `cohorts` table: its starting capital plus every [`Self::credit`] and
    /// [`Self::debit`]), every `fill` of the cohort's orders booked in order (a trade seen
    /// twice counts once), and the unfilled part of each of its `open_orders` (limit orders
    /// still on the book) reserved again. Fills and orders of other cohorts are ignored.
    ///
    /// Booking the same fills and orders as the running ledger did gives the same ledger.
    #[must_use]
    pub fn restore(
        cohort: CohortId,
        quote: Asset,
        capital: Decimal,
        fills: &[Fill],
        open_orders: &[Order],
    ) -> Self {
        let mut ledger = Self::new(cohort, quote, capital);
        let ours = |id: &ClientOrderId| id.decode().is_some_and(|(c, _, _)| c == cohort);
        for order in open_orders {
            let (Some(price), false, OrderKind::Limit | OrderKind::LimitMaker) =
                (order.price, order.status.is_terminal(), order.kind)
            else {
                continue;
            };
            if order.cohort != cohort || !ours(&order.client_order_id) {
                continue;
            }
            let remaining = order.quantity.value() - order.filled_quantity.value();
            if remaining > Decimal::ZERO {
                ledger.open.insert(
                    order.client_order_id.clone(),
                    Reservation {
                        symbol: order.symbol.clone(),
                        side: order.side,
                        price,
                        remaining,
                    },
                );
            }
        }
        let mut reserved = std::mem::take(&mut ledger.open);
        for fill in fills.iter().filter(|f| ours(&f.client_order_id)) {
            // The open orders are already net of their fills: book the fill without
            // shrinking their reservation a second time.
            ledger.apply_fill(fill);
        }
        ledger.open.append(&mut reserved);
        ledger
    }

    /// The cohort this ledger belongs to.
    #[must_use]
    pub const fn cohort(&self) -> CohortId {
        self.cohort
    }

    /// The quote asset (USDT).
    #[must_use]
    pub const fn quote(&self) -> &Asset {
        &self.quote
    }

    /// Free + reserved of `asset`.
    #[must_use]
    pub fn total(&self, asset: &Asset) -> Decimal {
        self.totals.get(asset).copied().unwrap_or_default()
    }

    /// Reserved by open orders, in units of `asset`.
    #[must_use]
    pub fn reserved(&self, asset: &Asset) -> Decimal {
        self.open
            .values()
            .map(|r| match r.side {
                Side::Buy if *asset == r.symbol.quote() => r.price.value() * r.remaining,
                Side::Sell if *asset == r.symbol.base() => r.remaining,
                _ => Decimal::ZERO,
            })
            .sum()
    }

    /// What the cohort can spend now, in units of `asset`.
    #[must_use]
    pub fn free(&self, asset: &Asset) -> Decimal {
        self.total(asset) - self.reserved(asset)
    }

    /// Every asset line, as the exchange's `balances` would show it for this cohort alone.
    #[must_use]
    pub fn balances(&self) -> Vec<Balance> {
        self.lines()
            .into_iter()
            .map(|line| Balance {
                free: line.total - line.reserved,
                locked: line.reserved,
                asset: line.asset,
            })
            .collect()
    }

    /// Every asset line.
    #[must_use]
    pub fn lines(&self) -> Vec<LedgerLine> {
        self.totals
            .iter()
            .map(|(asset, total)| LedgerLine {
                asset: asset.clone(),
                total: *total,
                reserved: self.reserved(asset),
            })
            .collect()
    }

    /// Whether the cohort can pay for `request` from its own free balance. A market buy is
    /// priced at `reference` (the last price) plus 2 % for the move until it fills.
    ///
    /// # Errors
    /// [`LedgerRefusal`] naming what is missing.
    pub fn check(&self, request: &OrderRequest, reference: Price) -> Result<(), LedgerRefusal> {
        let quantity = request.quantity.value();
        let (asset, needed) = match request.side {
            Side::Buy => {
                let price = match (request.kind, request.price) {
                    (OrderKind::Market, _) | (_, None) => reference.value() * Decimal::new(102, 2),
                    (_, Some(limit)) => limit.value(),
                };
                (request.symbol.quote(), price * quantity)
            }
            Side::Sell => (request.symbol.base(), quantity),
        };
        let free = self.free(&asset);
        if needed > free {
            return Err(LedgerRefusal {
                cohort: self.cohort,
                asset,
                needed,
                free,
            });
        }
        Ok(())
    }

    /// The exchange accepted `request` and answered with `order`: its unfilled part is
    /// reserved until it fills or closes (fills reported with the answer are booked with
    /// [`Self::apply_fill`] after this call).
    pub fn on_accepted(&mut self, request: &OrderRequest, order: &Order) {
        if order.status.is_terminal() || request.kind == OrderKind::Market {
            return;
        }
        let Some(price) = request.price else {
            return;
        };
        self.open.insert(
            request.client_order_id.clone(),
            Reservation {
                symbol: request.symbol.clone(),
                side: request.side,
                price,
                remaining: request.quantity.value(),
            },
        );
    }

    /// The order closed (cancelled, expired): its reservation is released.
    pub fn on_closed(&mut self, id: &ClientOrderId) {
        self.open.remove(id);
    }

    /// Books one fill exactly as the exchange does (notional, quantity, commission in the
    /// asset it was charged in). A fill already booked (same symbol and trade id) is ignored,
    /// so the same fill may arrive from the placement answer and from a later report. Returns
    /// whether it was booked now.
    pub fn apply_fill(&mut self, fill: &Fill) -> bool {
        let booked = match self.booked.get_mut(&fill.symbol) {
            Some(booked) => booked,
            None => self.booked.entry(fill.symbol.clone()).or_default(),
        };
        if !booked.insert(fill.trade_id) {
            return false;
        }
        let (base, quote) = (fill.symbol.base(), fill.symbol.quote());
        let quantity = fill.quantity.value();
        let notional = fill.notional().value();
        let (base_delta, quote_delta) = match fill.side {
            Side::Buy => (quantity, -notional),
            Side::Sell => (-quantity, notional),
        };
        *self.totals.entry(base).or_default() += base_delta;
        *self.totals.entry(quote).or_default() += quote_delta;
        *self
            .totals
            .entry(fill.commission_asset.clone())
            .or_default() -= fill.commission;
        if let Some(reservation) = self.open.get_mut(&fill.client_order_id) {
            reservation.remaining -= quantity;
            if reservation.remaining <= Decimal::ZERO {
                self.open.remove(&fill.client_order_id);
            }
        }
        true
    }

    /// Adds `amount` of quote (USDT) to the cohort: money assigned to it from outside (the
    /// portfolio's trading tier scaling it up). Returns the cohort's quote total afterwards.
    ///
    /// The account must receive the same amount for [`reconcile`] to keep matching (a
    /// transfer into the account, or money no cohort owned until now).
    ///
    /// # Errors
    /// [`CapitalRefusal::NotPositive`] for a zero or negative amount.
    pub fn credit(&mut self, amount: Decimal) -> Result<Decimal, CapitalRefusal> {
        self.positive(amount)?;
        let total = self.totals.entry(self.quote.clone()).or_default();
        *total += amount;
        Ok(*total)
    }

    /// Removes `amount` of quote (USDT) from the cohort's free cash: money taken back (the
    /// trading tier scaling it down). Cash reserved by open orders and coins are never taken,
    /// so a debit cannot leave an open buy unfunded. Returns the quote total afterwards.
    ///
    /// # Errors
    /// [`CapitalRefusal::NotPositive`] for a zero or negative amount;
    /// [`CapitalRefusal::Insufficient`] when `amount` is more than the free cash (nothing is
    /// removed then).
    pub fn debit(&mut self, amount: Decimal) -> Result<Decimal, CapitalRefusal> {
        self.positive(amount)?;
        let free = self.free(&self.quote);
        if amount > free {
            return Err(LedgerRefusal {
                cohort: self.cohort,
                asset: self.quote.clone(),
                needed: amount,
                free,
            }
            .into());
        }
        let total = self.totals.entry(self.quote.clone()).or_default();
        *total -= amount;
        Ok(*total)
    }

    fn positive(&self, amount: Decimal) -> Result<(), CapitalRefusal> {
        if amount.is_sign_positive() && !amount.is_zero() {
            Ok(())
        } else {
            Err(CapitalRefusal::NotPositive {
                cohort: self.cohort,
                amount,
            })
        }
    }

    /// Cash plus coins valued at `prices` (coins without a price count as zero), quote units.
    #[must_use]
    pub fn equity(&self, prices: &BTreeMap<Symbol, Price>) -> Decimal {
        let coins: Decimal = prices
            .iter()
            .filter(|(symbol, _)| symbol.quote() == self.quote)
            .map(|(symbol, price)| self.total(&symbol.base()) * price.value())
            .sum();
        self.total(&self.quote) + coins
    }
}

/// One asset where the cohorts' ledgers and the account disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    /// The asset.
    pub asset: Asset,
    /// Σ of the cohorts' totals.
    pub cohorts: Decimal,
    /// The account's total (free + locked).
    pub account: Decimal,
}

/// Compares the cohorts' ledgers with the account's balances, asset by asset. With `exact`,
/// every asset must match to the last unit (the account holds nothing but the cohorts'
/// money, as in a backtest); otherwise the account may hold more than the cohorts (money
/// assigned to no cohort) but never less. Returns the assets that fail.
#[must_use]
pub fn reconcile(ledgers: &[&CohortLedger], account: &[Balance], exact: bool) -> Vec<Discrepancy> {
    let mut sums: BTreeMap<Asset, (Decimal, Decimal)> = BTreeMap::new();
    for ledger in ledgers {
        for (asset, total) in &ledger.totals {
            sums.entry(asset.clone()).or_default().0 += *total;
        }
    }
    for balance in account {
        sums.entry(balance.asset.clone()).or_default().1 += balance.total();
    }
    sums.into_iter()
        .filter(|(_, (cohorts, account))| {
            if exact {
                cohorts != account
            } else {
                cohorts > account
            }
        })
        .map(|(asset, (cohorts, account))| Discrepancy {
            asset,
            cohorts,
            account,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use hybrid_core::{OrderStatus, Quantity, Timestamp};
    use hybrid_exchange::{MatchingConfig, MatchingEngine};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    fn usdt() -> Asset {
        Asset::new("USDT").unwrap()
    }

    fn btc() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    fn request(
        cohort: u32,
        seq: u64,
        side: Side,
        kind: OrderKind,
        price: Option<Decimal>,
        qty: Decimal,
    ) -> OrderRequest {
        OrderRequest {
            client_order_id: ClientOrderId::new(CohortId::new(cohort), &btc(), seq).unwrap(),
            cohort: CohortId::new(cohort),
            symbol: btc(),
            side,
            kind,
            time_in_force: None,
            price: price.map(|p| Price::new(p).unwrap()),
            quantity: Quantity::new(qty).unwrap(),
        }
    }

    #[test]
    fn a_cohort_cannot_buy_beyond_its_own_cash() {
        let ledger = CohortLedger::new(CohortId::new(1), usdt(), dec!(100));
        let price = Price::new(dec!(50000)).unwrap();
        let affordable = request(
            1,
            1,
            Side::Buy,
            OrderKind::Limit,
            Some(dec!(50000)),
            dec!(0.002),
        );
        ledger.check(&affordable, price).unwrap();
        let too_big = request(
            1,
            2,
            Side::Buy,
            OrderKind::Limit,
            Some(dec!(50000)),
            dec!(0.0021),
        );
        let refusal = ledger.check(&too_big, price).unwrap_err();
        assert_eq!((refusal.needed, refusal.free), (dec!(105), dec!(100)));
        let sell = request(1, 3, Side::Sell, OrderKind::Market, None, dec!(0.001));
        assert!(ledger.check(&sell, price).is_err(), "no coins to sell");
    }

    #[test]
    fn reservations_lock_cash_until_filled_or_closed() {
        let mut ledger = CohortLedger::new(CohortId::new(1), usdt(), dec!(100));
        let buy = request(
            1,
            1,
            Side::Buy,
            OrderKind::Limit,
            Some(dec!(40000)),
            dec!(0.001),
        );
        let order = buy.to_new_order(1, Timestamp::from_millis(0));
        ledger.on_accepted(&buy, &order);
        assert_eq!(ledger.free(&usdt()), dec!(60));
        assert_eq!(ledger.reserved(&usdt()), dec!(40));
        ledger.on_closed(&buy.client_order_id);
        assert_eq!(ledger.free(&usdt()), dec!(100));
        let mut filled = order;
        filled.status = OrderStatus::Filled;
        ledger.on_accepted(&buy, &filled);
        assert_eq!(ledger.reserved(&usdt()), dec!(0));
    }

    #[test]
    fn credit_and_debit_move_free_cash_only() {
        let mut ledger = CohortLedger::new(CohortId::new(1), usdt(), dec!(100));
        assert_eq!(ledger.credit(dec!(50)).unwrap(), dec!(150));
        let buy = request(
            1,
            1,
            Side::Buy,
            OrderKind::Limit,
            Some(dec!(40000)),
            dec!(0.001),
        );
        ledger.on_accepted(&buy, &buy.to_new_order(1, Timestamp::from_millis(0)));
        assert_eq!(ledger.free(&usdt()), dec!(110));
        // 40 USDT are reserved by the open buy: at most 110 can be taken.
        let refused = ledger.debit(dec!(110.01)).unwrap_err();
        assert_eq!(
            refused,
            CapitalRefusal::Insufficient(LedgerRefusal {
                cohort: CohortId::new(1),
                asset: usdt(),
                needed: dec!(110.01),
                free: dec!(110),
            })
        );
        assert_eq!(
            ledger.total(&usdt()),
            dec!(150),
            "a refused debit takes nothing"
        );
        assert_eq!(ledger.debit(dec!(110)).unwrap(), dec!(40));
        assert_eq!(ledger.reserved(&usdt()), dec!(40));
        assert_eq!(ledger.free(&usdt()), dec!(0));
        for bad in [dec!(0), dec!(-5)] {
            assert!(matches!(
                ledger.credit(bad),
                Err(CapitalRefusal::NotPositive { .. })
            ));
            assert!(matches!(
                ledger.debit(bad),
                Err(CapitalRefusal::NotPositive { .. })
            ));
        }
    }

    proptest! {
        /// After a restart the ledger rebuilt from the cohort's capital, its fills and its
        /// open orders equals the ledger that ran (cash, coins, reservations, booked trades),
        /// also when fills are reported twice and another cohort's fills are mixed in.
        #[test]
        fn a_restored_ledger_equals_the_running_one(steps in prop::collection::vec((0u32..2, any::<bool>(), any::<bool>(), 1u32..40, 90u32..110), 1..40), credit in 0u32..300) {
            let filters = hybrid_core::SymbolFilters::with_steps(btc(), dec!(0.01), dec!(0.00001));
            let mut engine = MatchingEngine::new(
                MatchingConfig::default(),
                vec![filters],
                &[Balance { asset: usdt(), free: dec!(5000), locked: dec!(0) }],
            );
            let now = Timestamp::from_millis(0);
            engine.on_price(&btc(), Price::new(dec!(100)).unwrap(), now);
            let mut ledgers = [
                CohortLedger::new(CohortId::new(1), usdt(), dec!(1000)),
                CohortLedger::new(CohortId::new(2), usdt(), dec!(1000)),
            ];
            let mut capital = dec!(1000);
            if credit > 0 {
                capital += ledgers[0].credit(Decimal::from(credit)).map(|_| Decimal::from(credit)).unwrap();
            }
            let mut fills = Vec::new();
            for (seq, (who, buy, market, size, price)) in steps.into_iter().enumerate() {
                let side = if buy { Side::Buy } else { Side::Sell };
                let kind = if market { OrderKind::Market } else { OrderKind::Limit };
                let price = Decimal::from(price);
                let req = request(who + 1, seq as u64 + 1, side, kind, (!market).then_some(price), Decimal::from(size) / dec!(10));
                let ledger = &mut ledgers[who as usize];
                let last = engine.last_price(&btc()).unwrap();
                if ledger.check(&req, last).is_err() {
                    continue;
                }
                if let Ok(ack) = engine.place(&req, now) {
                    ledger.on_accepted(&req, &ack.order);
                    for fill in &ack.fills {
                        ledger.apply_fill(fill);
                    }
                    fills.extend(ack.fills);
                }
                for fill in engine.on_price(&btc(), Price::new(price).unwrap(), now) {
                    let (cohort, _, _) = fill.client_order_id.decode().unwrap();
                    ledgers[cohort.get() as usize - 1].apply_fill(&fill);
                    fills.push(fill);
                }
            }
            // Reported twice: the restore books each trade once.
            let twice: Vec<Fill> = fills.iter().chain(fills.iter()).cloned().collect();
            let open = engine.open_orders(None);
            let restored = CohortLedger::restore(CohortId::new(1), usdt(), capital, &twice, &open);
            prop_assert_eq!(&restored, &ledgers[0]);
            let other = CohortLedger::restore(CohortId::new(2), usdt(), dec!(1000), &fills, &open);
            prop_assert_eq!(&other, &ledgers[1]);
        }

        /// Two cohorts trading random orders on one matching engine: the sum of their ledgers
        /// equals the engine's balances after every step, and neither goes negative.
        #[test]
        fn ledgers_sum_to_the_account(steps in prop::collection::vec((0u32..2, any::<bool>(), any::<bool>(), 1u32..40, 90u32..110), 1..40)) {
            let filters = hybrid_core::SymbolFilters::with_steps(btc(), dec!(0.01), dec!(0.00001));
            let mut engine = MatchingEngine::new(
                MatchingConfig::default(),
                vec![filters],
                &[Balance { asset: usdt(), free: dec!(2000), locked: dec!(0) }],
            );
            let now = Timestamp::from_millis(0);
            engine.on_price(&btc(), Price::new(dec!(100)).unwrap(), now);
            let mut ledgers = [
                CohortLedger::new(CohortId::new(1), usdt(), dec!(1000)),
                CohortLedger::new(CohortId::new(2), usdt(), dec!(1000)),
            ];
            for (seq, (who, buy, market, size, price)) in steps.into_iter().enumerate() {
                let side = if buy { Side::Buy } else { Side::Sell };
                let kind = if market { OrderKind::Market } else { OrderKind::Limit };
                let price = Decimal::from(price);
                let req = request(who + 1, seq as u64 + 1, side, kind, (!market).then_some(price), Decimal::from(size) / dec!(10));
                let ledger = &mut ledgers[who as usize];
                let last = engine.last_price(&btc()).unwrap();
                if ledger.check(&req, last).is_err() {
                    continue;
                }
                if let Ok(ack) = engine.place(&req, now) {
                    ledger.on_accepted(&req, &ack.order);
                    for fill in &ack.fills {
                        ledger.apply_fill(fill);
                    }
                }
                for fill in engine.on_price(&btc(), Price::new(price).unwrap(), now) {
                    let (cohort, _, _) = fill.client_order_id.decode().unwrap();
                    ledgers[cohort.get() as usize - 1].apply_fill(&fill);
                }
                let refs: Vec<&CohortLedger> = ledgers.iter().collect();
                prop_assert!(reconcile(&refs, &engine.balances(), true).is_empty());
                for ledger in &ledgers {
                    for line in ledger.lines() {
                        prop_assert!(line.total >= Decimal::ZERO, "{line:?}");
                        prop_assert!(line.total >= line.reserved, "{line:?}");
                    }
                }
            }
        }
    }
}
