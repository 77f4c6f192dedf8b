//! Figures derived from a [`Snapshot`], computed once for every cockpit: realised P&L, win
//! rate, today's P&L, order counts. Pure functions over what the store returned.

use hybrid_core::{Side, Timestamp};
use hybrid_store::TradePair;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::snapshot::{CohortView, Snapshot};

/// A closed pair's net P&L (zero for an open pair), quote units.
#[must_use]
pub fn pair_pnl(pair: &TradePair) -> Decimal {
    pair.close
        .as_ref()
        .map_or(Decimal::ZERO, |c| c.net_pnl.value())
}

/// When a pair closed (its entry time while it is open).
#[must_use]
pub fn close_time(pair: &TradePair) -> Timestamp {
    pair.close.as_ref().map_or(pair.entry_time, |c| c.time)
}

/// Σ net P&L of closed pairs, quote units.
#[must_use]
pub fn realised(closed: &[TradePair]) -> Decimal {
    closed.iter().map(pair_pnl).sum()
}

/// Share of closed pairs with a positive net P&L, percent; `None` without a closed pair.
#[must_use]
pub fn win_rate_pct(closed: &[TradePair]) -> Option<Decimal> {
    if closed.is_empty() {
        return None;
    }
    let wins = closed
        .iter()
        .filter(|p| pair_pnl(p) > Decimal::ZERO)
        .count();
    Some(pct(Decimal::from(wins), Decimal::from(closed.len())))
}

/// `part / whole × 100`, zero when `whole` is zero.
#[must_use]
pub fn pct(part: Decimal, whole: Decimal) -> Decimal {
    if whole.is_zero() {
        Decimal::ZERO
    } else {
        part * Decimal::ONE_HUNDRED / whole
    }
}

/// `(buys, sells)` among a cohort's open orders, of one coin or all.
#[must_use]
pub fn order_split(cohort: &CohortView, coin: Option<&str>) -> (usize, usize) {
    let orders = cohort
        .open_orders
        .iter()
        .filter(|o| coin.is_none_or(|c| o.symbol.as_str() == c));
    let buys = orders.clone().filter(|o| o.side == Side::Buy).count();
    (buys, orders.count() - buys)
}

/// One cohort's trades closed today (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayPnl {
    /// The cohort.
    pub cohort: String,
    /// Trades closed since midnight UTC.
    pub trades: usize,
    /// Of which won.
    pub wins: usize,
    /// Their net P&L, quote units.
    pub pnl: Decimal,
}

/// Each cohort's trades closed since the start of `s.now`'s UTC day.
#[must_use]
pub fn today(s: &Snapshot) -> Vec<DayPnl> {
    let day_start = s.now.start_of_utc_day();
    s.cohorts
        .iter()
        .map(|cohort| {
            let today: Vec<&TradePair> = cohort
                .closed
                .iter()
                .filter(|p| close_time(p) >= day_start)
                .collect();
            DayPnl {
                cohort: cohort.record.name.clone(),
                trades: today.len(),
                wins: today.iter().filter(|p| pair_pnl(p) > Decimal::ZERO).count(),
                pnl: today.iter().map(|p| pair_pnl(p)).sum(),
            }
        })
        .collect()
}
