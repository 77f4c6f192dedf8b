//! The index holdings tier (spec §1.5): buy-and-hold of the top coins by market cap, a
//! composition with a weight cap, quarterly rebalance orders and 15 % trailing stops.
//!
//! The trailing stops are [`hybrid_risk::StopLossBook`] stops (the same two-phase stops the
//! engine uses), owned by the index's own cohort id.

use std::collections::BTreeMap;

use hybrid_core::{CohortId, Price, Quantity, Symbol, SymbolFilters, Timestamp};
use hybrid_risk::{StopConfig, StopDistance, StopIntent, StopKind, StopLossBook, StopRequest};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::PortfolioError;

/// How many coins the index holds at most.
pub const INDEX_TOP_N: usize = 20;
/// The largest weight one coin may have, percent.
pub const INDEX_MAX_WEIGHT_PCT: Decimal = Decimal::from_parts(30, 0, 0, false, 0);
/// Orders and positions below this many USDT are skipped (Binance's minimum is 5–10).
pub const INDEX_MIN_POSITION_USD: Decimal = Decimal::TEN;
/// The composition is rebuilt and rebalanced every 90 days.
pub const INDEX_REBALANCE_INTERVAL_MS: i64 = 90 * Timestamp::DAY_MS;
/// Trailing stop distance below the highest price, percent.
pub const INDEX_TRAILING_STOP_PCT: Decimal = Decimal::from_parts(15, 0, 0, false, 0);
/// Stablecoins and wrapped coins that never enter the index (compared case-insensitively).
pub const INDEX_EXCLUDED_BASES: [&str; 10] = [
    "USDT", "USDC", "BUSD", "DAI", "TUSD", "FDUSD", "WBTC", "WETH", "STETH", "WBETH",
];

/// A coin's market capitalisation (USD), as a markets source reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketCap {
    /// The coin's ticker in upper case, e.g. `BTC`.
    pub base: String,
    /// Market capitalisation in USD.
    pub market_cap: Decimal,
}

impl MarketCap {
    /// A market cap entry; the ticker is upper-cased.
    #[must_use]
    pub fn new(base: &str, market_cap: Decimal) -> Self {
        Self {
            base: base.to_uppercase(),
            market_cap,
        }
    }
}

/// One coin's target weight in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexWeight {
    /// `BASE + USDT`.
    pub symbol: Symbol,
    /// Share of the index, percent; the weights sum to 100.
    pub weight_pct: Decimal,
}

/// The index composition: the `top_n` largest coins (stablecoins and wrapped coins excluded),
/// weighted by market cap, no weight above `max_weight_pct`, summing to 100.
///
/// Differs from the old system: it renormalised once after capping, which let a capped coin
/// exceed the cap again; here the cap is water-filled (capped coins fixed at the cap, the rest
/// re-weighted by market cap, repeated until no weight exceeds it). When the cap cannot hold
/// (`n × cap < 100`, e.g. three coins and 30 %) every coin gets `100 / n`, the closest feasible
/// composition. Coins with a non-positive cap or no valid symbol are left out; an empty or
/// zero-cap input gives an empty composition.
#[must_use]
pub fn index_composition(
    caps: &[MarketCap],
    top_n: usize,
    max_weight_pct: Decimal,
) -> Vec<IndexWeight> {
    let mut coins: Vec<(Symbol, Decimal)> = caps
        .iter()
        .filter(|c| c.market_cap > Decimal::ZERO)
        .filter(|c| {
            !INDEX_EXCLUDED_BASES
                .iter()
                .any(|x| x.eq_ignore_ascii_case(&c.base))
        })
        .filter_map(|c| {
            Symbol::new(&format!("{}USDT", c.base.to_uppercase()))
                .ok()
                .map(|s| (s, c.market_cap))
        })
        .collect();
    coins.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    coins.dedup_by(|a, b| a.0 == b.0);
    coins.truncate(top_n);
    if coins.is_empty() {
        return Vec::new();
    }
    let n = Decimal::from(coins.len());
    let weights: Vec<Decimal> = if n * max_weight_pct < Decimal::ONE_HUNDRED {
        vec![Decimal::ONE_HUNDRED / n; coins.len()]
    } else {
        water_fill(&coins, max_weight_pct)
    };
    coins
        .into_iter()
        .zip(weights)
        .map(|((symbol, _), w)| IndexWeight {
            symbol,
            weight_pct: w.round_dp(4),
        })
        .collect()
}

/// Cap-and-redistribute until no weight exceeds `cap` (requires `n × cap ≥ 100`).
fn water_fill(coins: &[(Symbol, Decimal)], cap: Decimal) -> Vec<Decimal> {
    let mut capped = vec![false; coins.len()];
    loop {
        let fixed = Decimal::from(capped.iter().filter(|c| **c).count()) * cap;
        let free_caps: Decimal = coins
            .iter()
            .zip(&capped)
            .filter(|(_, c)| !**c)
            .map(|((_, m), _)| *m)
            .sum();
        let remaining = Decimal::ONE_HUNDRED - fixed;
        let weights: Vec<Decimal> = coins
            .iter()
            .zip(&capped)
            .map(|((_, m), c)| {
                if *c {
                    cap
                } else if free_caps.is_zero() {
                    Decimal::ZERO
                } else {
                    remaining * *m / free_caps
                }
            })
            .collect();
        let mut changed = false;
        for (i, w) in weights.iter().enumerate() {
            if !capped[i] && *w > cap {
                capped[i] = true;
                changed = true;
            }
        }
        if !changed {
            return weights;
        }
    }
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexAction {
    /// Buy `amount_usd` worth.
    Buy,
    /// Sell `amount_usd` worth.
    Sell,
}

/// One rebalance order of the index, in USDT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexOrder {
    /// The coin.
    pub symbol: Symbol,
    /// Buy or sell.
    pub action: IndexAction,
    /// How much, USDT (positive).
    pub amount_usd: Decimal,
}

/// The orders that move `current` holding values (USDT per symbol) to `targets` of `capital`:
/// per target, `diff = capital × w / 100 − current`, skipped when `|diff| < 10`; plus a full
/// sale of every held coin not in the targets worth more than 10. Sells come first, so their
/// proceeds fund the buys.
#[must_use]
pub fn index_rebalance_orders(
    targets: &[IndexWeight],
    capital: Decimal,
    current: &BTreeMap<Symbol, Decimal>,
) -> Vec<IndexOrder> {
    let mut orders = Vec::new();
    for target in targets {
        let want = capital * target.weight_pct / Decimal::ONE_HUNDRED;
        let have = current.get(&target.symbol).copied().unwrap_or_default();
        let diff = want - have;
        if diff.abs() < INDEX_MIN_POSITION_USD {
            continue;
        }
        orders.push(IndexOrder {
            symbol: target.symbol.clone(),
            action: if diff > Decimal::ZERO {
                IndexAction::Buy
            } else {
                IndexAction::Sell
            },
            amount_usd: diff.abs(),
        });
    }
    for (symbol, value) in current {
        if *value > INDEX_MIN_POSITION_USD && !targets.iter().any(|t| &t.symbol == symbol) {
            orders.push(IndexOrder {
                symbol: symbol.clone(),
                action: IndexAction::Sell,
                amount_usd: *value,
            });
        }
    }
    orders.sort_by_key(|o| o.action == IndexAction::Buy);
    orders
}

/// Whether the quarterly rebalance is due: never rebalanced, or 90 days since the last.
#[must_use]
pub fn index_rebalance_due(last: Option<Timestamp>, now: Timestamp) -> bool {
    last.is_none_or(|last| now.as_millis() - last.as_millis() >= INDEX_REBALANCE_INTERVAL_MS)
}

/// One coin held by the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexHolding {
    /// The coin.
    pub symbol: Symbol,
    /// Base quantity held (net of fees).
    pub quantity: Decimal,
    /// Average entry price (quote per base); 0 when unknown.
    pub avg_entry_price: Decimal,
    /// Last price (0 when unknown).
    pub current_price: Decimal,
    /// Highest price since bought (the trailing stop's reference).
    pub highest_price: Decimal,
    /// The trailing stop's price (0 when no stop).
    pub stop_price: Decimal,
    /// Target weight, percent.
    pub target_weight_pct: Decimal,
}

impl IndexHolding {
    /// `quantity × current_price` when the price is known, else 0.
    #[must_use]
    pub fn value(&self) -> Decimal {
        if self.current_price > Decimal::ZERO {
            self.quantity * self.current_price
        } else {
            Decimal::ZERO
        }
    }

    /// Unrealised P&L against the average entry, percent (0 without an entry price).
    #[must_use]
    pub fn pnl_pct(&self) -> Decimal {
        if self.avg_entry_price > Decimal::ZERO {
            (self.current_price - self.avg_entry_price) / self.avg_entry_price
                * Decimal::ONE_HUNDRED
        } else {
            Decimal::ZERO
        }
    }
}

/// The index tier: its holdings, their trailing stops, the target composition and the time
/// of the last rebalance.
#[derive(Debug, Clone)]
pub struct IndexTier {
    owner: CohortId,
    holdings: BTreeMap<Symbol, IndexHolding>,
    stops: StopLossBook,
    targets: Vec<IndexWeight>,
    last_rebalance_at: Option<Timestamp>,
}

impl IndexTier {
    /// An empty index whose stops are owned by `owner` (the index's cohort id in the store).
    ///
    /// # Errors
    /// Never in practice (the stop configuration is fixed); kept for the risk crate's check.
    pub fn new(owner: CohortId) -> Result<Self, PortfolioError> {
        let config = StopConfig {
            hold_trailing_pct: INDEX_TRAILING_STOP_PCT,
            ..StopConfig::default()
        };
        Ok(Self {
            owner,
            holdings: BTreeMap::new(),
            stops: StopLossBook::new(config)?,
            targets: Vec::new(),
            last_rebalance_at: None,
        })
    }

    /// The owner id of the index's orders and stops.
    #[must_use]
    pub const fn owner(&self) -> CohortId {
        self.owner
    }

    /// The holdings by symbol.
    #[must_use]
    pub const fn holdings(&self) -> &BTreeMap<Symbol, IndexHolding> {
        &self.holdings
    }

    /// The target composition.
    #[must_use]
    pub fn targets(&self) -> &[IndexWeight] {
        &self.targets
    }

    /// Sets the target composition (after a rebuild from the markets source).
    pub fn set_targets(&mut self, targets: Vec<IndexWeight>) {
        for holding in self.holdings.values_mut() {
            holding.target_weight_pct = targets
                .iter()
                .find(|t| t.symbol == holding.symbol)
                .map_or(Decimal::ZERO, |t| t.weight_pct);
        }
        self.targets = targets;
    }

    /// When the index was last rebalanced.
    #[must_use]
    pub const fn last_rebalance_at(&self) -> Option<Timestamp> {
        self.last_rebalance_at
    }

    /// Records a completed rebalance.
    pub fn mark_rebalanced(&mut self, at: Timestamp) {
        self.last_rebalance_at = Some(at);
    }

    /// Σ holding value, USDT.
    #[must_use]
    pub fn value(&self) -> Decimal {
        self.holdings.values().map(IndexHolding::value).sum()
    }

    /// Each holding's value, for [`index_rebalance_orders`].
    #[must_use]
    pub fn values(&self) -> BTreeMap<Symbol, Decimal> {
        self.holdings
            .iter()
            .map(|(s, h)| (s.clone(), h.value()))
            .collect()
    }

    /// A new price of `symbol`: updates the holding and trails its stop. Returns the stop's
    /// market sell when the price reached it (the caller sells and then calls
    /// [`Self::book_sell`] and [`Self::confirm_stop_sold`]).
    pub fn on_price(&mut self, symbol: &Symbol, price: Price, now: Timestamp) -> Option<Quantity> {
        let holding = self.holdings.get_mut(symbol)?;
        holding.current_price = price.value();
        let intents = self.stops.on_price(symbol, price, now);
        if let Some(stop) = self.stops.get(self.owner, symbol) {
            holding.highest_price = stop.highest().value();
            holding.stop_price = stop.stop_price().value();
        }
        intents.into_iter().find_map(|intent| match intent {
            StopIntent::MarketSell(sell) if sell.cohort == self.owner => Some(sell.quantity),
            _ => None,
        })
    }

    /// Books a buy of `quantity` (net of fees) at `price`: averages the entry and places (or
    /// re-places, for the new quantity) the 15 % trailing stop, keeping the highest price seen.
    ///
    /// # Errors
    /// The stop could not be placed (a quantity below the lot step after fees).
    pub fn book_buy(
        &mut self,
        filters: &SymbolFilters,
        quantity: Decimal,
        price: Price,
        now: Timestamp,
    ) -> Result<(), PortfolioError> {
        let symbol = filters.symbol.clone();
        let target_weight_pct = self
            .targets
            .iter()
            .find(|t| t.symbol == symbol)
            .map_or(Decimal::ZERO, |t| t.weight_pct);
        let holding = self
            .holdings
            .entry(symbol.clone())
            .or_insert_with(|| IndexHolding {
                symbol: symbol.clone(),
                quantity: Decimal::ZERO,
                avg_entry_price: Decimal::ZERO,
                current_price: price.value(),
                highest_price: price.value(),
                stop_price: Decimal::ZERO,
                target_weight_pct,
            });
        let new_quantity = holding.quantity + quantity;
        if new_quantity > Decimal::ZERO {
            holding.avg_entry_price = (holding.avg_entry_price * holding.quantity
                + price.value() * quantity)
                / new_quantity;
        }
        holding.quantity = new_quantity;
        holding.current_price = price.value();
        let reference = Price::new(holding.highest_price.max(price.value()))?;
        self.replace_stop(filters, reference, now)
    }

    /// Books a sale of `quantity`: the holding shrinks (and disappears at zero) and its stop
    /// is re-placed for what is left.
    ///
    /// # Errors
    /// The stop for the rest could not be placed.
    pub fn book_sell(
        &mut self,
        filters: &SymbolFilters,
        quantity: Decimal,
        price: Price,
        now: Timestamp,
    ) -> Result<(), PortfolioError> {
        let symbol = &filters.symbol;
        let Some(holding) = self.holdings.get_mut(symbol) else {
            return Ok(());
        };
        holding.quantity = (holding.quantity - quantity).max(Decimal::ZERO);
        holding.current_price = price.value();
        let rest = holding.quantity;
        let reference = Price::new(holding.highest_price.max(price.value()))?;
        if rest.is_zero() || filters.round_quantity(rest).map_or(true, Quantity::is_zero) {
            self.holdings.remove(symbol);
            self.remove_stop(symbol);
            return Ok(());
        }
        self.replace_stop(filters, reference, now)
    }

    /// Puts back a holding read from the store (after a restart): its quantity, entry, last
    /// price and target weight, with its trailing stop re-placed at 15 % below the stored
    /// highest price.
    ///
    /// # Errors
    /// The stop could not be placed.
    pub fn restore(
        &mut self,
        holding: IndexHolding,
        filters: &SymbolFilters,
        now: Timestamp,
    ) -> Result<(), PortfolioError> {
        let reference = holding.highest_price.max(holding.current_price);
        self.holdings.insert(holding.symbol.clone(), holding);
        match Price::new(reference) {
            Ok(reference) => self.replace_stop(filters, reference, now),
            Err(_) => Ok(()),
        }
    }

    /// The triggered stop's sale went through: it leaves the book (if the sale's booking has
    /// not already replaced it).
    pub fn confirm_stop_sold(&mut self, symbol: &Symbol) {
        let _ = self.stops.confirm_sold(self.owner, symbol);
    }

    /// The triggered stop's sale did not go through: the stop is active again.
    pub fn stop_sale_failed(&mut self, symbol: &Symbol) {
        let _ = self.stops.sell_failed(self.owner, symbol);
    }

    /// Takes the symbol's stop out of the book, whatever its phase (an active stop is
    /// cancelled, a triggered one confirmed: its sale is being booked).
    fn remove_stop(&mut self, symbol: &Symbol) {
        if self.stops.cancel(self.owner, symbol).is_err() {
            let _ = self.stops.confirm_sold(self.owner, symbol);
        }
    }

    fn replace_stop(
        &mut self,
        filters: &SymbolFilters,
        reference: Price,
        now: Timestamp,
    ) -> Result<(), PortfolioError> {
        let symbol = filters.symbol.clone();
        self.remove_stop(&symbol);
        let Some(holding) = self.holdings.get_mut(&symbol) else {
            return Ok(());
        };
        let Ok(bought) = Quantity::new(holding.quantity) else {
            return Ok(());
        };
        let stop = self.stops.create(
            StopRequest {
                cohort: self.owner,
                symbol: symbol.clone(),
                kind: StopKind::Trailing,
                distance: StopDistance::Percent(INDEX_TRAILING_STOP_PCT),
                entry: reference,
                bought,
            },
            filters,
            now,
        );
        match stop {
            Ok(stop) => {
                holding.highest_price = stop.highest().value();
                holding.stop_price = stop.stop_price().value();
                Ok(())
            }
            // Too little left to protect (below one lot after fees): no stop.
            Err(hybrid_risk::RiskError::UnsellableQuantity { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rust_decimal_macros::dec;

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }

    fn price(p: Decimal) -> Price {
        Price::new(p).unwrap()
    }

    fn filters(s: &str) -> SymbolFilters {
        SymbolFilters::with_steps(sym(s), dec!(0.01), dec!(0.00001))
    }

    #[test]
    fn scenario_11_5_composition_from_market_caps() {
        let caps = [
            MarketCap::new("btc", dec!(1000000000)),
            MarketCap::new("eth", dec!(500000000)),
            MarketCap::new("sol", dec!(200000000)),
        ];
        let index = index_composition(&caps, INDEX_TOP_N, INDEX_MAX_WEIGHT_PCT);
        assert_eq!(index.len(), 3);
        assert_eq!(index[0].symbol.as_str(), "BTCUSDT");
        let sum: Decimal = index.iter().map(|w| w.weight_pct).sum();
        assert!((sum - dec!(100)).abs() <= dec!(0.1), "{sum}");
    }

    #[test]
    fn scenario_11_6_stablecoins_are_excluded() {
        let caps = [
            MarketCap::new("BTC", dec!(1000)),
            MarketCap::new("usdt", dec!(900)),
            MarketCap::new("ETH", dec!(500)),
        ];
        let index = index_composition(&caps, INDEX_TOP_N, dec!(100));
        let names: Vec<&str> = index.iter().map(|w| w.symbol.as_str()).collect();
        assert_eq!(names, ["BTCUSDT", "ETHUSDT"]);
    }

    #[test]
    fn the_cap_holds_after_redistribution() {
        // The old system's case: one renormalisation after the cap leaves BTC above 30 %.
        let mut caps = vec![
            MarketCap::new("BTC", dec!(1000)),
            MarketCap::new("ETH", dec!(500)),
        ];
        for (i, name) in ["AAA", "BBB", "CCC", "DDD", "EEE"].iter().enumerate() {
            caps.push(MarketCap::new(name, Decimal::from(50 - i as i64)));
        }
        let index = index_composition(&caps, INDEX_TOP_N, INDEX_MAX_WEIGHT_PCT);
        let sum: Decimal = index.iter().map(|w| w.weight_pct).sum();
        assert!((sum - dec!(100)).abs() <= dec!(0.001), "{sum}");
        assert!(index.iter().all(|w| w.weight_pct <= dec!(30)), "{index:?}");
        assert_eq!(index[0].weight_pct, dec!(30));
        assert_eq!(index[1].weight_pct, dec!(30));
        // The rest share 40 % by market cap: AAA has 50 / 240 of it.
        assert_eq!(
            index[2].weight_pct,
            (dec!(40) * dec!(50) / dec!(240)).round_dp(4)
        );
    }

    #[test]
    fn top_n_and_empty_inputs() {
        let caps: Vec<MarketCap> = (0..30)
            .map(|i| MarketCap::new(&format!("C{i}"), Decimal::from(100 + i)))
            .collect();
        let index = index_composition(&caps, INDEX_TOP_N, INDEX_MAX_WEIGHT_PCT);
        assert_eq!(index.len(), 20);
        assert_eq!(index[0].symbol.as_str(), "C29USDT");
        assert!(index_composition(&[], 20, dec!(30)).is_empty());
        assert!(index_composition(&[MarketCap::new("BTC", dec!(0))], 20, dec!(30)).is_empty());
    }

    #[test]
    fn scenario_11_7_rebalance_buys_only_what_is_missing() {
        let current = BTreeMap::from([(sym("BTCUSDT"), dec!(0.1) * dec!(50000))]);
        let targets = [
            IndexWeight {
                symbol: sym("BTCUSDT"),
                weight_pct: dec!(50),
            },
            IndexWeight {
                symbol: sym("ETHUSDT"),
                weight_pct: dec!(50),
            },
        ];
        let orders = index_rebalance_orders(&targets, dec!(10000), &current);
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].symbol.as_str(), "ETHUSDT");
        assert_eq!(orders[0].action, IndexAction::Buy);
        assert_eq!(orders[0].amount_usd, dec!(5000));
    }

    #[test]
    fn rebalance_sells_coins_that_left_the_index_first() {
        let current = BTreeMap::from([
            (sym("BTCUSDT"), dec!(7000)),
            (sym("XRPUSDT"), dec!(500)),
            (sym("DOGEUSDT"), dec!(5)),
        ]);
        let targets = [
            IndexWeight {
                symbol: sym("BTCUSDT"),
                weight_pct: dec!(60),
            },
            IndexWeight {
                symbol: sym("ETHUSDT"),
                weight_pct: dec!(40),
            },
        ];
        let orders = index_rebalance_orders(&targets, dec!(10000), &current);
        let summary: Vec<(&str, IndexAction, Decimal)> = orders
            .iter()
            .map(|o| (o.symbol.as_str(), o.action, o.amount_usd))
            .collect();
        assert_eq!(
            summary,
            [
                ("BTCUSDT", IndexAction::Sell, dec!(1000)),
                ("XRPUSDT", IndexAction::Sell, dec!(500)),
                ("ETHUSDT", IndexAction::Buy, dec!(4000)),
            ]
        );
    }

    #[test]
    fn rebalance_is_quarterly() {
        let t0 = Timestamp::from_millis(0);
        assert!(index_rebalance_due(None, t0));
        assert!(!index_rebalance_due(
            Some(t0),
            Timestamp::from_millis(89 * Timestamp::DAY_MS)
        ));
        assert!(index_rebalance_due(
            Some(t0),
            Timestamp::from_millis(90 * Timestamp::DAY_MS)
        ));
    }

    fn index_with_btc_bought_at(p: Decimal) -> IndexTier {
        let mut index = IndexTier::new(CohortId::new(9)).unwrap();
        index
            .book_buy(
                &filters("BTCUSDT"),
                dec!(0.1),
                price(p),
                Timestamp::from_millis(0),
            )
            .unwrap();
        index
    }

    #[test]
    fn scenario_11_8_a_fall_to_the_stop_triggers() {
        let mut index = index_with_btc_bought_at(dec!(50000));
        let h = &index.holdings()[&sym("BTCUSDT")];
        assert_eq!((h.highest_price, h.stop_price), (dec!(50000), dec!(42500)));
        let sell = index.on_price(
            &sym("BTCUSDT"),
            price(dec!(40000)),
            Timestamp::from_millis(1),
        );
        // The stop sells the bought quantity net of the 0.1 % buy fee.
        assert_eq!(sell, Some(Quantity::new(dec!(0.0999)).unwrap()));
    }

    #[test]
    fn scenario_11_9_a_rise_moves_the_stop_up() {
        let mut index = index_with_btc_bought_at(dec!(50000));
        let sell = index.on_price(
            &sym("BTCUSDT"),
            price(dec!(55000)),
            Timestamp::from_millis(1),
        );
        assert_eq!(sell, None);
        let h = &index.holdings()[&sym("BTCUSDT")];
        assert_eq!(h.highest_price, dec!(55000));
        assert_eq!(h.stop_price, dec!(55000) * dec!(0.85));
    }

    #[test]
    fn scenario_11_10_index_value_is_the_sum_of_holdings() {
        let mut index = index_with_btc_bought_at(dec!(50000));
        index
            .book_buy(
                &filters("ETHUSDT"),
                dec!(2),
                price(dec!(3000)),
                Timestamp::from_millis(0),
            )
            .unwrap();
        assert_eq!(index.value(), dec!(11000));
        assert_eq!(IndexTier::new(CohortId::new(9)).unwrap().value(), dec!(0));
    }

    #[test]
    fn scenario_11_10_a_restored_holding_keeps_its_quantity_price_and_stop() {
        let mut index = IndexTier::new(CohortId::new(9)).unwrap();
        let holding = IndexHolding {
            symbol: sym("BTCUSDT"),
            quantity: dec!(0.1),
            avg_entry_price: dec!(50000),
            current_price: dec!(60000),
            highest_price: dec!(64000),
            stop_price: dec!(54400),
            target_weight_pct: dec!(30),
        };
        index
            .restore(holding, &filters("BTCUSDT"), Timestamp::from_millis(0))
            .unwrap();
        let h = &index.holdings()[&sym("BTCUSDT")];
        assert_eq!((h.quantity, h.current_price), (dec!(0.1), dec!(60000)));
        assert_eq!(h.stop_price, dec!(54400));
        assert_eq!(index.value(), dec!(6000));
        let sell = index.on_price(
            &sym("BTCUSDT"),
            price(dec!(54000)),
            Timestamp::from_millis(1),
        );
        assert!(sell.is_some());
    }

    #[test]
    fn selling_everything_removes_the_holding_and_its_stop() {
        let f = filters("BTCUSDT");
        let mut index = index_with_btc_bought_at(dec!(50000));
        index
            .book_buy(&f, dec!(0.1), price(dec!(40000)), Timestamp::from_millis(1))
            .unwrap();
        let h = &index.holdings()[&sym("BTCUSDT")];
        assert_eq!(h.avg_entry_price, dec!(45000));
        // The top-up keeps the highest price seen as the stop's reference.
        assert_eq!(h.stop_price, dec!(42500));
        index
            .book_sell(&f, dec!(0.2), price(dec!(41000)), Timestamp::from_millis(2))
            .unwrap();
        assert!(index.holdings().is_empty());
        assert_eq!(
            index.on_price(&sym("BTCUSDT"), price(dec!(1)), Timestamp::from_millis(3)),
            None
        );
    }
}
