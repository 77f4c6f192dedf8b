//! Rebalancing (spec §5.6 and `calculate_rebalance` of §7.3): when the held value of a coin
//! has drifted from its target, and which quote amounts would bring it back.
//!
//! Everything is in USDT position values; the caller values holdings (quantity × price, or
//! the tracked grid orders) before calling. Nothing is traded here (the Python check only
//! notified, spec §5.6 gap); the orchestrator turns [`RebalanceOrder`]s into intents.
//!
//! Conventions for the two lists of `(symbol, value)`:
//! - a target of **zero** means "kept, leave alone": the spec keeps coins that still hold a
//!   position at allocation 0 (§5.5 step 8) and never lists them (§11 scenario 69);
//! - a symbol **absent** from the target is sold in full (§7.3 `calculate_rebalance`);
//! - if a symbol is listed twice, its first entry counts.

use hybrid_core::{Notional, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How often the rebalance check runs: every 6 h (spec §5.6).
pub const REBALANCE_INTERVAL_MS: i64 = 6 * Timestamp::HOUR_MS;

/// Drift, in percent of the target, beyond which a coin is rebalanced (spec §5.6: 5 %).
pub const DEFAULT_DRIFT_THRESHOLD_PCT: Decimal = Decimal::from_parts(5, 0, 0, false, 0);

/// Why the portfolio needs rebalancing: the most pressing case found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RebalanceReason {
    /// A coin is held but no longer targeted at all.
    Untargeted {
        /// The coin.
        symbol: Symbol,
        /// Its current value, USDT.
        current: Notional,
    },
    /// A targeted coin drifted by more than the threshold; the largest drift is reported.
    Drift {
        /// The coin.
        symbol: Symbol,
        /// Its current value, USDT.
        current: Notional,
        /// Its target, USDT.
        target: Notional,
        /// `|current − target| / target × 100`.
        drift_pct: Decimal,
    },
}

/// A quote-amount change for one coin: positive buys `delta` USDT more, negative sells
/// `|delta|` USDT worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebalanceOrder {
    /// The coin.
    pub symbol: Symbol,
    /// Target − current, USDT (all of the current value when the coin is no longer targeted).
    pub delta: Notional,
}

impl RebalanceOrder {
    /// Whether this order buys (the spec's INCREASE / BUY).
    #[must_use]
    pub fn is_buy(&self) -> bool {
        self.delta.value() > Decimal::ZERO
    }
}

/// Whether the 6-hourly check is due: on the first run, or 6 h or more after the last.
#[must_use]
pub fn rebalance_due(last_rebalance: Option<Timestamp>, now: Timestamp) -> bool {
    last_rebalance.is_none_or(|last| now.millis_since(last) >= REBALANCE_INTERVAL_MS)
}

/// The reason to rebalance, if any: a held coin that is no longer targeted (first one in
/// `current` order), else the targeted coin with the largest drift above
/// `drift_threshold_pct` (strictly above, as in the spec; ties keep target order).
#[must_use]
pub fn needs_rebalance(
    current: &[(Symbol, Notional)],
    target: &[(Symbol, Notional)],
    drift_threshold_pct: Decimal,
) -> Option<RebalanceReason> {
    untargeted(current, target)
        .next()
        .map(|(symbol, current)| RebalanceReason::Untargeted {
            symbol: symbol.clone(),
            current,
        })
        .or_else(|| largest_drift(current, target, drift_threshold_pct))
}

/// The quote deltas that turn `current` into `target`, sells first (they free the cash the
/// buys need), each group in input order.
///
/// A targeted coin trades when `|target − current| ≥ min_trade` (spec §7.3; pass
/// `min_position_usd`); a coin absent from the target is sold in full whatever its size.
#[must_use]
pub fn rebalance_orders(
    current: &[(Symbol, Notional)],
    target: &[(Symbol, Notional)],
    min_trade: Notional,
) -> Vec<RebalanceOrder> {
    let targeted = first_entries(target).filter_map(|(symbol, goal)| {
        let delta = goal.value() - value_of(current, symbol).value();
        let trade = goal.value() > Decimal::ZERO && delta.abs() >= min_trade.value();
        trade.then(|| RebalanceOrder {
            symbol: symbol.clone(),
            delta: Notional::new(delta),
        })
    });
    let dropped = untargeted(current, target).map(|(symbol, held)| RebalanceOrder {
        symbol: symbol.clone(),
        delta: -held,
    });
    let (buys, mut orders): (Vec<_>, Vec<_>) =
        targeted.chain(dropped).partition(RebalanceOrder::is_buy);
    orders.extend(buys);
    orders
}

/// Held coins (value > 0) that the target does not list.
fn untargeted<'a>(
    current: &'a [(Symbol, Notional)],
    target: &'a [(Symbol, Notional)],
) -> impl Iterator<Item = (&'a Symbol, Notional)> + 'a {
    first_entries(current).filter(|(symbol, held)| {
        held.value() > Decimal::ZERO && !target.iter().any(|(s, _)| s == *symbol)
    })
}

fn largest_drift(
    current: &[(Symbol, Notional)],
    target: &[(Symbol, Notional)],
    threshold_pct: Decimal,
) -> Option<RebalanceReason> {
    let mut worst: Option<RebalanceReason> = None;
    for (symbol, goal) in first_entries(target) {
        if goal.value() <= Decimal::ZERO {
            continue;
        }
        let held = value_of(current, symbol);
        let drift_pct = (held.value() - goal.value()).abs() / goal.value() * Decimal::ONE_HUNDRED;
        let larger = match &worst {
            Some(RebalanceReason::Drift { drift_pct: d, .. }) => drift_pct > *d,
            _ => true,
        };
        if drift_pct > threshold_pct && larger {
            worst = Some(RebalanceReason::Drift {
                symbol: symbol.clone(),
                current: held,
                target: goal,
                drift_pct,
            });
        }
    }
    worst
}

/// The entries of `list` whose symbol was not listed before.
fn first_entries(list: &[(Symbol, Notional)]) -> impl Iterator<Item = (&Symbol, Notional)> {
    list.iter()
        .enumerate()
        .filter(|(i, (symbol, _))| !list[..*i].iter().any(|(s, _)| s == symbol))
        .map(|(_, (symbol, value))| (symbol, *value))
}

/// The first value listed for `symbol`, zero if absent.
fn value_of(list: &[(Symbol, Notional)], symbol: &Symbol) -> Notional {
    list.iter()
        .find(|(s, _)| s == symbol)
        .map_or(Notional::ZERO, |(_, value)| *value)
}

#[cfg(test)]
mod tests {
    use hybrid_core::{Price, Quantity};
    use rust_decimal_macros::dec;

    use super::*;

    fn sym(code: &str) -> Symbol {
        Symbol::new(code).unwrap()
    }

    fn book(entries: &[(&str, Decimal)]) -> Vec<(Symbol, Notional)> {
        entries
            .iter()
            .map(|(code, value)| (sym(code), Notional::new(*value)))
            .collect()
    }

    fn held(qty: Decimal, price: Decimal) -> Notional {
        Quantity::new(qty).unwrap() * Price::new(price).unwrap()
    }

    #[test]
    fn scenario_11_69_rebalance_timing() {
        let now = Timestamp::from_millis(100 * Timestamp::HOUR_MS);
        let cases = [
            ("first run", None, true),
            ("1 h ago", Some(99), false),
            ("exactly 6 h ago", Some(94), true),
            ("7 h ago", Some(93), true),
        ];
        for (name, last_hour, due) in cases {
            let last = last_hour.map(|h| Timestamp::from_millis(h * Timestamp::HOUR_MS));
            assert_eq!(rebalance_due(last, now), due, "{name}");
        }
    }

    /// Allocation 50 with 0.001 BTC held: the price sets the drift (spec §11 scenario 69),
    /// and the order amounts follow from the formulas.
    #[test]
    fn scenario_11_69_rebalance_drift_by_price() {
        let cases = [
            (
                "price 25000: INCREASE",
                dec!(50),
                dec!(0.001),
                dec!(25000),
                Some(dec!(25)),
            ),
            (
                "price 100000: DECREASE",
                dec!(50),
                dec!(0.001),
                dec!(100000),
                Some(dec!(-50)),
            ),
            (
                "price 50000: no entry",
                dec!(50),
                dec!(0.001),
                dec!(50000),
                None,
            ),
            (
                "allocation 100, 0.003 at 50000",
                dec!(100),
                dec!(0.003),
                dec!(50000),
                Some(dec!(-50)),
            ),
            (
                "allocation 0: not listed",
                dec!(0),
                dec!(0.003),
                dec!(50000),
                None,
            ),
        ];
        for (name, allocation, qty, price, expected) in cases {
            let current = vec![(sym("BTCUSDT"), held(qty, price))];
            let target = book(&[("BTCUSDT", allocation)]);
            let reason = needs_rebalance(&current, &target, DEFAULT_DRIFT_THRESHOLD_PCT);
            assert_eq!(reason.is_some(), expected.is_some(), "{name}");
            let orders = rebalance_orders(&current, &target, Notional::new(dec!(10)));
            let deltas: Vec<Decimal> = orders.iter().map(|o| o.delta.value()).collect();
            assert_eq!(deltas, expected.into_iter().collect::<Vec<_>>(), "{name}");
        }
    }

    #[test]
    fn scenario_11_69_no_symbols_nothing_to_do() {
        assert_eq!(needs_rebalance(&[], &[], dec!(5)), None);
        assert!(rebalance_orders(&[], &[], Notional::new(dec!(10))).is_empty());
    }

    #[test]
    fn scenario_11_76_rebalance_trades() {
        let target = book(&[
            ("BTCUSDT", dec!(200)),
            ("ETHUSDT", dec!(150)),
            ("SOLUSDT", dec!(100)),
        ]);
        let current = book(&[
            ("BTCUSDT", dec!(150)),
            ("ETHUSDT", dec!(200)),
            ("AVAXUSDT", dec!(100)),
        ]);
        let orders = rebalance_orders(&current, &target, Notional::new(dec!(10)));
        let got: Vec<(&str, Decimal)> = orders
            .iter()
            .map(|o| (o.symbol.as_str(), o.delta.value()))
            .collect();
        // Sells first, then buys.
        assert_eq!(
            got,
            [
                ("ETHUSDT", dec!(-50)),
                ("AVAXUSDT", dec!(-100)),
                ("BTCUSDT", dec!(50)),
                ("SOLUSDT", dec!(100)),
            ]
        );
    }

    #[test]
    fn small_differences_are_not_traded_but_dropped_coins_always_are() {
        let target = book(&[("BTCUSDT", dec!(100))]);
        let current = book(&[("BTCUSDT", dec!(95)), ("DOGEUSDT", dec!(3))]);
        let orders = rebalance_orders(&current, &target, Notional::new(dec!(10)));
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].symbol, sym("DOGEUSDT"));
        assert_eq!(orders[0].delta, Notional::new(dec!(-3)));
    }

    #[test]
    fn needs_rebalance_reports_the_most_pressing_case() {
        let target = book(&[("BTCUSDT", dec!(100)), ("ETHUSDT", dec!(100))]);
        let cases = [
            (
                "within 5 %",
                book(&[("BTCUSDT", dec!(105)), ("ETHUSDT", dec!(96))]),
                None,
            ),
            (
                "largest drift wins",
                book(&[("BTCUSDT", dec!(110)), ("ETHUSDT", dec!(80))]),
                Some(RebalanceReason::Drift {
                    symbol: sym("ETHUSDT"),
                    current: Notional::new(dec!(80)),
                    target: Notional::new(dec!(100)),
                    drift_pct: dec!(20),
                }),
            ),
            (
                "untargeted holding first",
                book(&[("BTCUSDT", dec!(150)), ("SOLUSDT", dec!(1))]),
                Some(RebalanceReason::Untargeted {
                    symbol: sym("SOLUSDT"),
                    current: Notional::new(dec!(1)),
                }),
            ),
        ];
        for (name, current, expected) in cases {
            assert_eq!(
                needs_rebalance(&current, &target, dec!(5)),
                expected,
                "{name}"
            );
        }
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;

    use super::*;

    const CODES: [&str; 4] = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOTUSDT"];

    fn book() -> impl Strategy<Value = Vec<(Symbol, Notional)>> {
        proptest::collection::vec((0..CODES.len(), 0i64..100_000), 0..4).prop_map(|entries| {
            entries
                .into_iter()
                .filter_map(|(i, cents)| {
                    let symbol = Symbol::new(CODES[i]).ok()?;
                    Some((symbol, Notional::new(Decimal::new(cents, 2))))
                })
                .collect()
        })
    }

    proptest! {
        /// Applying the orders to the current book lands every traded coin on its target.
        #[test]
        fn prop_orders_reach_the_target(current in book(), target in book()) {
            let orders = rebalance_orders(&current, &target, Notional::ZERO);
            for order in &orders {
                let after = value_of(&current, &order.symbol) + order.delta;
                prop_assert_eq!(after, value_of(&target, &order.symbol));
            }
            for (symbol, goal) in first_entries(&target).filter(|(_, g)| !g.value().is_zero()) {
                let delta = orders.iter().find(|o| &o.symbol == symbol).map_or(Notional::ZERO, |o| o.delta);
                prop_assert_eq!(value_of(&current, symbol) + delta, goal);
            }
            let sells_done = orders.iter().skip_while(|o| !o.is_buy()).all(RebalanceOrder::is_buy);
            prop_assert!(sells_done, "sells come before buys");
        }
    }
}
