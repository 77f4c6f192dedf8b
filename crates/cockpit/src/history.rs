//! The history the charts draw, read from the store: each cohort's hourly equity snapshots
//! (with the prices of its coins), the buy-and-hold of the same coins derived from those
//! prices, its mode decisions, and the portfolio tiers over time.
//!
//! Buy-and-hold is defined as in the backtest report: the cohort's first recorded equity
//! split equally over the coins priced at that moment, never traded again (no fees).

use std::collections::BTreeMap;

use hybrid_core::{Fill, Symbol, Timestamp, TradingMode};
use hybrid_store::{ModeRecord, PortfolioSnapshot, Store};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::CockpitError;

/// Mode decisions read per cohort.
const DECISIONS_LIMIT: u32 = 5_000;

/// Everything the history charts show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    /// One entry per stored cohort, by id.
    pub cohorts: Vec<CohortHistory>,
    /// The portfolio tiers over time, oldest first (empty when the portfolio manager never ran).
    pub tiers: Vec<TierPoint>,
}

/// One cohort's series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortHistory {
    /// The cohort's name.
    pub name: String,
    /// Hourly equity (cash + coins at their last prices), quote currency, oldest first.
    pub equity: Vec<Point>,
    /// Buy-and-hold of the cohort's coins from its first snapshot on, same times.
    pub buy_and_hold: Vec<Point>,
    /// Each coin's price at every snapshot, oldest first.
    pub prices: BTreeMap<Symbol, Vec<Point>>,
    /// Mode decisions that switched (or were held back), oldest first.
    pub decisions: Vec<Decision>,
}

/// A value at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Point {
    /// When (UTC milliseconds).
    pub at: Timestamp,
    /// The value (quote currency, or a price).
    pub value: Decimal,
}

/// One mode decision, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// When it was taken.
    pub at: Timestamp,
    /// The coin.
    pub symbol: Symbol,
    /// Mode before.
    pub from: TradingMode,
    /// Mode after (equal to `from` when the switch was held back).
    pub to: TradingMode,
    /// Whether the mode changed.
    pub switched: bool,
    /// The regime the detector reported (`BULL`, `BEAR`, `SIDEWAYS`), if any.
    pub regime: Option<String>,
    /// Its probability, 0–1.
    pub probability: Option<Decimal>,
    /// The manager's reason as readable text.
    pub reason: String,
}

/// The tiers at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TierPoint {
    /// When.
    pub at: Timestamp,
    /// Cash reserve, USDT.
    pub cash: Decimal,
    /// Index holdings, USDT.
    pub index: Decimal,
    /// Trading tier, USDT.
    pub trading: Decimal,
}

/// A fill with the name of the cohort that made it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FillView {
    /// The cohort named in the fill's client order id (empty when it names none we know).
    pub cohort: String,
    /// The fill.
    #[serde(serialize_with = "fill_json")]
    pub fill: Fill,
}

fn fill_json<S: serde::Serializer>(fill: &Fill, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct as _;
    let mut s = serializer.serialize_struct("Fill", 7)?;
    s.serialize_field("time", &fill.time)?;
    s.serialize_field("symbol", fill.symbol.as_str())?;
    s.serialize_field("side", &fill.side)?;
    s.serialize_field("price", &fill.price.value())?;
    s.serialize_field("quantity", &fill.quantity.value())?;
    s.serialize_field("commission", &fill.commission)?;
    s.serialize_field("client_order_id", fill.client_order_id.as_str())?;
    s.end()
}

impl CohortHistory {
    /// The coins' modes over time: each coin's first decision's `from` (or `current`'s mode
    /// for a coin never decided on) from the first snapshot, then every switch.
    #[must_use]
    pub fn mode_spans(&self, current: &[(Symbol, TradingMode)]) -> Vec<hybrid_charts::ModeSpan> {
        let (Some(start), Some(end)) = (self.equity.first(), self.equity.last()) else {
            return Vec::new();
        };
        let mut initial: Vec<(String, TradingMode)> = Vec::new();
        for (symbol, mode) in current {
            let first = self.decisions.iter().find(|d| &d.symbol == symbol);
            initial.push((symbol.to_string(), first.map_or(*mode, |d| d.from)));
        }
        let switches: Vec<(Timestamp, String, TradingMode)> = self
            .decisions
            .iter()
            .filter(|d| d.switched)
            .map(|d| (d.at, d.symbol.to_string(), d.to))
            .collect();
        hybrid_charts::mode_spans(&initial, &switches, start.at, end.at)
    }
}

/// The sum of several series at each time any of them has a point, each counting its last
/// value at or before that time (nothing before its first point).
#[must_use]
pub fn total_series<'a>(series: impl IntoIterator<Item = &'a [Point]>) -> Vec<Point> {
    let series: Vec<&[Point]> = series.into_iter().collect();
    let mut times: Vec<Timestamp> = series.iter().flat_map(|s| s.iter().map(|p| p.at)).collect();
    times.sort_unstable();
    times.dedup();
    times
        .into_iter()
        .map(|at| Point {
            at,
            value: series
                .iter()
                .filter_map(|s| s.iter().take_while(|p| p.at <= at).last())
                .map(|p| p.value)
                .sum(),
        })
        .collect()
}

/// Buy-and-hold of the coins priced in the first snapshot, starting from its equity.
fn buy_and_hold(
    equity: &[Point],
    prices_at: &[(Timestamp, BTreeMap<Symbol, Decimal>)],
) -> Vec<Point> {
    let (Some(first_equity), Some((_, first_prices))) = (equity.first(), prices_at.first()) else {
        return Vec::new();
    };
    let base: Vec<(&Symbol, Decimal)> = first_prices
        .iter()
        .filter(|(_, p)| !p.is_zero())
        .map(|(s, p)| (s, *p))
        .collect();
    if base.is_empty() {
        return Vec::new();
    }
    let share = first_equity.value / Decimal::from(base.len());
    let mut last: BTreeMap<&Symbol, Decimal> = base.iter().copied().collect();
    prices_at
        .iter()
        .map(|(at, prices)| {
            for (symbol, price) in &base {
                if let Some(now) = prices.get(*symbol) {
                    last.insert(symbol, *now);
                } else {
                    last.entry(symbol).or_insert(*price);
                }
            }
            let value = base
                .iter()
                .map(|(symbol, price)| share * last.get(symbol).copied().unwrap_or(*price) / price)
                .sum::<Decimal>()
                .round_dp(8)
                .normalize();
            Point { at: *at, value }
        })
        .collect()
}

fn decision(record: ModeRecord) -> Decision {
    let reason = serde_json::from_str::<serde_json::Value>(&record.reason).map_or_else(
        |_| record.reason.clone(),
        |v| crate::snapshot::reason_text(&v),
    );
    Decision {
        at: record.at,
        symbol: record.symbol,
        from: record.from,
        to: record.to,
        switched: record.switched,
        regime: record.regime.map(|r| r.as_str().to_owned()),
        probability: record.probability,
        reason,
    }
}

fn tier_point(s: &PortfolioSnapshot) -> TierPoint {
    TierPoint {
        at: s.at,
        cash: s.cash_usd,
        index: s.index_usd,
        trading: s.trading_usd,
    }
}

/// Reads the [`History`] from `since` on.
pub(crate) fn read_history(store: &Store, since: Timestamp) -> Result<History, CockpitError> {
    let mut cohorts = Vec::new();
    for record in store.list_cohorts()? {
        let snapshots = store.equity_snapshots(Some(record.id), since)?;
        let equity: Vec<Point> = snapshots
            .iter()
            .map(|s| Point {
                at: s.at,
                value: s.equity.value(),
            })
            .collect();
        let prices_at: Vec<(Timestamp, BTreeMap<Symbol, Decimal>)> = snapshots
            .iter()
            .map(|s| {
                (
                    s.at,
                    s.prices
                        .iter()
                        .map(|(symbol, p)| (symbol.clone(), p.value()))
                        .collect(),
                )
            })
            .collect();
        let mut prices: BTreeMap<Symbol, Vec<Point>> = BTreeMap::new();
        for (at, map) in &prices_at {
            for (symbol, value) in map {
                prices.entry(symbol.clone()).or_default().push(Point {
                    at: *at,
                    value: *value,
                });
            }
        }
        let mut decisions: Vec<Decision> = store
            .mode_history(Some(record.id), DECISIONS_LIMIT)?
            .into_iter()
            .filter(|d| d.at >= since)
            .map(decision)
            .collect();
        decisions.reverse();
        cohorts.push(CohortHistory {
            name: record.name,
            buy_and_hold: buy_and_hold(&equity, &prices_at),
            equity,
            prices,
            decisions,
        });
    }
    let tiers = store
        .portfolio_snapshots(since)?
        .iter()
        .map(tier_point)
        .collect();
    Ok(History { cohorts, tiers })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rust_decimal_macros::dec;

    use super::*;

    fn p(ms: i64, value: Decimal) -> Point {
        Point {
            at: Timestamp::from_millis(ms),
            value,
        }
    }

    #[test]
    fn buy_and_hold_splits_the_first_equity_equally_and_follows_the_prices() {
        let btc = Symbol::new("BTCUSDT").unwrap();
        let eth = Symbol::new("ETHUSDT").unwrap();
        let at = |ms: i64, b: Decimal, e: Decimal| {
            (
                Timestamp::from_millis(ms),
                [(btc.clone(), b), (eth.clone(), e)].into_iter().collect(),
            )
        };
        let equity = vec![p(1, dec!(1000)), p(2, dec!(990)), p(3, dec!(1010))];
        let prices = vec![
            at(1, dec!(100), dec!(10)),
            at(2, dec!(110), dec!(10)),
            at(3, dec!(50), dec!(20)),
        ];
        let bh = buy_and_hold(&equity, &prices);
        // 500 in each; BTC ×1.1 → 550 + 500; then BTC ×0.5, ETH ×2 → 250 + 1000.
        assert_eq!(
            bh,
            vec![p(1, dec!(1000)), p(2, dec!(1050)), p(3, dec!(1250))]
        );
    }

    #[test]
    fn the_total_carries_each_series_last_value_forward() {
        let a = [p(1, dec!(10)), p(3, dec!(12))];
        let b = [p(2, dec!(5)), p(3, dec!(6))];
        assert_eq!(
            total_series([&a[..], &b[..]]),
            vec![p(1, dec!(10)), p(2, dec!(15)), p(3, dec!(18))]
        );
    }
}
