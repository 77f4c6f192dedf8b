//! The answers, as pure functions from a [`Snapshot`] (or a [`PortfolioView`] /
//! [`ValidationView`]) to HTML text. Every dynamic string is
//! escaped and no markup spans a line, so [`crate::text::split_message`] can cut anywhere
//! between lines. Only figures read from the database appear: where the system records
//! nothing yet, the answer says so instead of showing a sample.

use std::{collections::BTreeMap, fmt::Write as _};

use hybrid_core::Side;
use hybrid_portfolio::{needs_redistribution, TierKind, DRIFT_THRESHOLD_PP};
use hybrid_store::{RedistributionRecord, TradePair};
use rust_decimal::Decimal;

use hybrid_cockpit::{
    figures::{close_time, order_split, pair_pnl, pct, realised, today, win_rate_pct},
    CohortView, PortfolioView, Snapshot, SymbolView, ValidationView,
};

use crate::text::escape_html;

/// Heartbeat older than this is reported as stale (spec §10: the container health check uses
/// 300 s).
pub const HEARTBEAT_STALE_SECS: u64 = 300;

/// `/status`: the pause switch, and per cohort its modes, positions and open orders.
#[must_use]
pub fn status(s: &Snapshot) -> String {
    let mut out = format!("<b>Status</b> {}\n{}\n", s.now, pause_line(s));
    if s.cohorts.is_empty() {
        out.push_str("No cohort data: the engine has not run on this database yet.\n");
    }
    for cohort in &s.cohorts {
        let r = &cohort.record;
        let capital = if r.starting_capital.is_zero() && r.current_capital.is_zero() {
            String::new()
        } else {
            format!(
                " capital {} → {} USDT",
                money(r.starting_capital),
                money(r.current_capital)
            )
        };
        let _ = writeln!(
            out,
            "\n<b>{}</b> (cohort {}{}){capital}",
            escape_html(&r.name),
            r.id,
            if r.is_active { "" } else { ", inactive" },
        );
        for symbol in &cohort.symbols {
            let quantity = symbol.position_quantity();
            let position = if quantity.is_zero() {
                "no position".to_owned()
            } else {
                format!(
                    "position {} at cost {} USDT",
                    quantity.normalize(),
                    money(symbol.position_cost())
                )
            };
            let _ = writeln!(
                out,
                "{} <b>{}</b> · allocation {} · {position}",
                escape_html(symbol.symbol.as_str()),
                escape_html(&symbol.mode),
                symbol.allocation.map_or_else(|| "?".to_owned(), money),
            );
        }
        let (buys, sells) = order_split(cohort, None);
        let _ = writeln!(
            out,
            "open orders: {} ({buys} BUY / {sells} SELL)",
            cohort.open_orders.len()
        );
        for order in cohort.open_orders.iter().take(10) {
            let _ = writeln!(
                out,
                "  {} {} {} @ {}",
                side(order.side),
                order.quantity.value().normalize(),
                escape_html(order.symbol.as_str()),
                order
                    .price
                    .map_or_else(|| "market".to_owned(), |p| compact_price(p.value()))
            );
        }
        if cohort.open_orders.len() > 10 {
            let _ = writeln!(out, "  … and {} more", cohort.open_orders.len() - 10);
        }
    }
    out
}

/// `/report`: realised P&L per cohort and coin, positions at cost and open orders.
#[must_use]
pub fn report(s: &Snapshot) -> String {
    if s.cohorts.is_empty() {
        return "No cohort data: the engine has not run on this database yet.".to_owned();
    }
    let mut out = format!("<b>Report</b> {}\n", s.now);
    let (mut total_pnl, mut total_closed, mut total_orders) = (Decimal::ZERO, 0, 0);
    for cohort in &s.cohorts {
        let pnl = realised(&cohort.closed);
        let start = cohort.record.starting_capital;
        let dot = if cohort.closed.is_empty() && cohort.open_orders.is_empty() {
            "⚪"
        } else if pnl >= Decimal::ZERO {
            "🟢"
        } else {
            "🔴"
        };
        let _ = writeln!(
            out,
            "\n{dot} <b>{}</b> start {} USDT · realised {} USDT ({}) · {} closed, win rate {}",
            escape_html(&cohort.record.name),
            money(start),
            signed(pnl),
            percent_of(pnl, start),
            cohort.closed.len(),
            win_rate(&cohort.closed)
        );
        let mut by_coin: BTreeMap<String, (Decimal, usize)> = BTreeMap::new();
        for pair in &cohort.closed {
            let entry = by_coin.entry(pair.symbol.to_string()).or_default();
            entry.0 += pair_pnl(pair);
            entry.1 += 1;
        }
        for symbol in &cohort.symbols {
            by_coin.entry(symbol.symbol.to_string()).or_default();
        }
        for (coin, (coin_pnl, n)) in &by_coin {
            let view = cohort.symbols.iter().find(|v| v.symbol.as_str() == coin);
            let (buys, sells) = order_split(cohort, Some(coin));
            let _ = writeln!(
                out,
                "  {} {} · realised {} USDT in {n} · held {} (cost {}) · orders {buys}B/{sells}S",
                escape_html(coin),
                view.map_or_else(String::new, |v| escape_html(&v.mode)),
                signed(*coin_pnl),
                view.map_or(Decimal::ZERO, SymbolView::position_quantity)
                    .normalize(),
                money(view.map_or(Decimal::ZERO, SymbolView::position_cost)),
            );
        }
        total_pnl += pnl;
        total_closed += cohort.closed.len();
        total_orders += cohort.open_orders.len();
    }
    let _ = writeln!(
        out,
        "\n<b>Total</b> realised {} USDT · {} cohorts · {total_orders} open orders · {total_closed} closed trades",
        signed(total_pnl),
        s.cohorts.len()
    );
    out
}

/// `/compare`: cohorts ranked by realised P&L percent of their starting capital.
#[must_use]
pub fn compare(s: &Snapshot) -> String {
    let active: Vec<&CohortView> = s.cohorts.iter().filter(|c| c.record.is_active).collect();
    if active.len() < 2 {
        return format!(
            "Comparison needs at least two active cohorts; {} stored.",
            active.len()
        );
    }
    let mut rows: Vec<(Decimal, &CohortView)> = active
        .iter()
        .map(|c| (pct(realised(&c.closed), c.record.starting_capital), *c))
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.0));
    let mut out = "<b>Cohort comparison</b> (closed trades)\n".to_owned();
    for (rank, (percent, cohort)) in rows.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. <b>{}</b> {} USDT ({}%) · win rate {} · {} trades",
            rank + 1,
            escape_html(&cohort.record.name),
            signed(realised(&cohort.closed)),
            percent.round_dp(2),
            win_rate(&cohort.closed),
            cohort.closed.len()
        );
    }
    if let (Some(best), Some(worst)) = (rows.first(), rows.last()) {
        let _ = writeln!(out, "spread {} pp", (best.0 - worst.0).round_dp(2));
    }
    out
}

/// `/portfolio`: each tier's value, share, target and drift, the total, the index holdings
/// and the last redistribution with its reason, as the portfolio manager last wrote them.
/// When it never wrote tier values, the answer says so instead of showing zeros.
#[must_use]
pub fn portfolio(view: &PortfolioView) -> String {
    let targets = view
        .breakdown
        .tiers
        .iter()
        .map(|t| format!("{} {}%", tier_label(t.kind), t.target_pct.normalize()))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(written_at) = view.written_at else {
        return format!(
            "<b>Portfolio</b>\nNot yet: the portfolio manager has not run on this database, so \
             no tier values, index holdings or redistributions are recorded.\nTargets: {}.\n",
            escape_html(&targets)
        );
    };
    let mut out = format!("<b>Portfolio</b> (tiers written {written_at})\n");
    for share in &view.breakdown.tiers {
        let _ = writeln!(
            out,
            "{} <b>{}</b>: {} USDT · {}% (target {}%) · drift {} pp",
            drift_dot(share.drift_pp),
            tier_label(share.kind),
            money(share.value),
            money(share.current_pct),
            money(share.target_pct),
            signed(share.drift_pp)
        );
    }
    let _ = writeln!(
        out,
        "<b>Total</b> {} USDT · redistribution needed: {}",
        money(view.breakdown.total),
        if needs_redistribution(&view.breakdown) {
            "yes (a tier drifts more than 3 pp)"
        } else {
            "no"
        }
    );
    out.push_str("\n<b>Index holdings</b>\n");
    if view.holdings.is_empty() {
        out.push_str("none\n");
    }
    for h in &view.holdings {
        let _ = writeln!(
            out,
            "{} {} @ {} · value {} USDT · weight {}% · stop {}",
            escape_html(h.symbol.as_str()),
            h.quantity.normalize(),
            compact_price(h.current_price),
            money(h.quantity * h.current_price),
            money(h.target_weight_pct),
            compact_price(h.trailing_stop_price)
        );
    }
    out.push_str("\n<b>Last redistribution</b>\n");
    match &view.last_redistribution {
        None => out.push_str("none yet\n"),
        Some(r) => redistribution(&mut out, r),
    }
    out
}

fn redistribution(out: &mut String, r: &RedistributionRecord) {
    let _ = writeln!(
        out,
        "{} ({}): moved {} USDT of {} USDT",
        r.at,
        escape_html(&r.trigger_reason),
        money(r.total_moved),
        money(r.total_portfolio_value)
    );
    for t in r.transfers.as_array().into_iter().flatten() {
        let field = |name: &str| {
            t[name]
                .as_str()
                .map_or_else(|| t[name].to_string(), ToOwned::to_owned)
        };
        // The manager records `moved`; older rows and the store's doc name it `amount`.
        let amount = if t["moved"].is_null() {
            field("amount")
        } else {
            field("moved")
        };
        let _ = writeln!(
            out,
            "  {} → {} {} USDT: {}",
            escape_html(&field("from")),
            escape_html(&field("to")),
            escape_html(&amount),
            escape_html(&field("reason"))
        );
    }
}

/// Green within the 3 pp redistribution threshold, red beyond it.
fn drift_dot(drift_pp: Decimal) -> &'static str {
    if drift_pp.abs() > DRIFT_THRESHOLD_PP {
        "🔴"
    } else {
        "🟢"
    }
}

fn tier_label(kind: TierKind) -> &'static str {
    match kind {
        TierKind::CashReserve => "Cash reserve",
        TierKind::IndexHoldings => "Index",
        TierKind::Trading => "Trading",
    }
}

/// `/validate`: each of the nine production criteria with its value, threshold and
/// pass/fail, then the verdict. On a database that records nothing yet, it says so first.
#[must_use]
pub fn validation(view: &ValidationView) -> String {
    let report = &view.report;
    let mut out = "<b>Production readiness</b>\n".to_owned();
    if !view.anything_recorded {
        out.push_str(
            "Not yet: nothing the criteria read is recorded in this database (no trades, \
             snapshots, regimes or tier values).\n",
        );
    }
    for r in &report.results {
        let _ = writeln!(
            out,
            "{} <b>{}</b>: {} (need {}) · {}",
            if r.passed { "✅" } else { "❌" },
            escape_html(&r.name),
            escape_html(&r.value),
            escape_html(&r.threshold),
            escape_html(&r.message)
        );
    }
    if report.results.is_empty() {
        for failure in &report.failures {
            let _ = writeln!(out, "❌ {}", escape_html(failure));
        }
    }
    let _ = writeln!(
        out,
        "<b>{}/{} passed ({}%): {}</b>",
        report.passed_count,
        report.total_count,
        report.progress_pct,
        if report.is_ready {
            "READY for production"
        } else {
            "NOT ready"
        }
    );
    out
}

/// `/trades`: the ten most recently closed trades of all cohorts.
#[must_use]
pub fn trades(s: &Snapshot) -> String {
    let mut closed: Vec<(&str, &TradePair)> = s
        .cohorts
        .iter()
        .flat_map(|c| c.closed.iter().map(|p| (c.record.name.as_str(), p)))
        .collect();
    if closed.is_empty() {
        return "No closed trades yet.".to_owned();
    }
    closed.sort_by_key(|(_, p)| std::cmp::Reverse(close_time(p)));
    let mut out = "<b>Last closed trades</b>\n".to_owned();
    for (cohort, pair) in closed.iter().take(10) {
        let Some(close) = &pair.close else { continue };
        let _ = writeln!(
            out,
            "{} {} {} {} → {} · {} USDT ({:.2}%)",
            close.time,
            escape_html(cohort),
            escape_html(pair.symbol.as_str()),
            compact_price(pair.entry_price.value()),
            compact_price(close.price.value()),
            signed(close.net_pnl.value()),
            close.pnl_pct.round_dp(2)
        );
    }
    out
}

/// `/profit`: realised profit per cohort and in total.
#[must_use]
pub fn profit(s: &Snapshot) -> String {
    if s.cohorts.is_empty() {
        return "No cohort data: the engine has not run on this database yet.".to_owned();
    }
    let mut out = "<b>Realised profit</b>\n".to_owned();
    let mut total = Decimal::ZERO;
    for cohort in &s.cohorts {
        let pnl = realised(&cohort.closed);
        let fees: Decimal = cohort
            .closed
            .iter()
            .map(|p| {
                p.entry_fee.value() + p.close.as_ref().map_or(Decimal::ZERO, |c| c.fee.value())
            })
            .sum();
        let _ = writeln!(
            out,
            "<b>{}</b> {} USDT ({}) after {} USDT fees · {} trades",
            escape_html(&cohort.record.name),
            signed(pnl),
            percent_of(pnl, cohort.record.starting_capital),
            money(fees),
            cohort.closed.len()
        );
        total += pnl;
    }
    let _ = writeln!(out, "<b>Total</b> {} USDT", signed(total));
    out
}

/// `/daily`: trades closed since the start of the current UTC day.
#[must_use]
pub fn daily(s: &Snapshot) -> String {
    let mut out = format!("<b>Today</b> (since {})\n", s.now.start_of_utc_day());
    let mut total = Decimal::ZERO;
    for day in today(s) {
        let _ = writeln!(
            out,
            "<b>{}</b> {} trades ({} won) · {} USDT",
            escape_html(&day.cohort),
            day.trades,
            day.wins,
            signed(day.pnl)
        );
        total += day.pnl;
    }
    let _ = writeln!(out, "<b>Total</b> {} USDT", signed(total));
    out
}

/// `/stops`: every active stop-loss.
#[must_use]
pub fn stops(s: &Snapshot) -> String {
    let mut out = "<b>Active stop-losses</b>\n".to_owned();
    let mut any = false;
    for cohort in &s.cohorts {
        for stop in &cohort.stops {
            any = true;
            let _ = writeln!(
                out,
                "{} {} {} · entry {} · stop {} ({}%) · qty {}",
                escape_html(&cohort.record.name),
                escape_html(&stop.symbol),
                escape_html(&stop.kind),
                escape_html(&stop.entry),
                escape_html(&stop.stop_price),
                escape_html(&stop.distance_pct),
                escape_html(&stop.quantity)
            );
        }
    }
    if !any {
        out.push_str("none\n");
    }
    out
}

/// `/mode`: each symbol's mode and its last switches with reasons, then the latest
/// mode-switch events.
#[must_use]
pub fn mode(s: &Snapshot) -> String {
    let mut out = "<b>Modes</b>\n".to_owned();
    for cohort in &s.cohorts {
        for symbol in &cohort.symbols {
            let _ = writeln!(
                out,
                "{} {} <b>{}</b>",
                escape_html(&cohort.record.name),
                escape_html(symbol.symbol.as_str()),
                escape_html(&symbol.mode)
            );
            for switch in symbol.switches.iter().rev().take(3) {
                let _ = writeln!(out, "  {}", escape_html(switch));
            }
        }
    }
    let decisions: Vec<_> = s
        .events
        .iter()
        .filter(|e| e.kind == "mode_switch")
        .take(5)
        .collect();
    out.push_str("\n<b>Last decisions</b>\n");
    if decisions.is_empty() {
        out.push_str("no mode switch recorded yet\n");
    }
    for event in decisions {
        let _ = writeln!(
            out,
            "{} {} {}",
            event.at,
            event
                .symbol
                .as_ref()
                .map_or_else(String::new, |s| escape_html(s.as_str())),
            escape_html(&event.message)
        );
    }
    out
}

/// `/health`: last tick, heartbeat, reconciliation, exchange weight and the outbox.
#[must_use]
pub fn health(s: &Snapshot) -> String {
    let mut out = format!("<b>Health</b> {}\n{}\n", s.now, pause_line(s));
    match &s.heartbeat {
        Some(beat) => {
            let stale = beat.age.as_secs() > HEARTBEAT_STALE_SECS;
            let _ = writeln!(
                out,
                "heartbeat: {} {} s ago ({})",
                if stale { "🔴 STALE" } else { "🟢" },
                beat.age.as_secs(),
                escape_html(&beat.content)
            );
        }
        None => out.push_str("heartbeat: 🔴 no heartbeat file\n"),
    }
    for cohort in &s.cohorts {
        let _ = writeln!(
            out,
            "{}: last candle {} · state saved {}",
            escape_html(&cohort.record.name),
            cohort
                .last_candle_close
                .map_or_else(|| "never".to_owned(), |t| t.to_string()),
            cohort
                .state_saved_at
                .map_or_else(|| "never".to_owned(), |t| t.to_string())
        );
    }
    match s.events.iter().find(|e| e.kind == "reconcile") {
        Some(event) => {
            let _ = writeln!(
                out,
                "reconciliation: {} {}",
                event.at,
                escape_html(&event.message)
            );
        }
        None => out.push_str("reconciliation: no finding recorded\n"),
    }
    out.push_str("exchange weight used: not recorded by the engine yet\n");
    let _ = writeln!(
        out,
        "notifications: {} pending{}, {} abandoned, last sent {}",
        s.outbox.pending,
        s.outbox
            .oldest_pending_at
            .map_or_else(String::new, |t| format!(" (oldest {t})")),
        s.outbox.abandoned,
        s.outbox
            .last_sent_at
            .map_or_else(|| "never".to_owned(), |t| t.to_string())
    );
    out
}

fn pause_line(s: &Snapshot) -> String {
    match s.pause {
        Some(p) if p.paused => format!(
            "Trading: ⏸ <b>paused</b> since {} by user {} (open positions still managed)",
            p.at, p.by
        ),
        _ => "Trading: ▶️ running".to_owned(),
    }
}

fn side(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

fn win_rate(closed: &[TradePair]) -> String {
    win_rate_pct(closed).map_or_else(|| "–".to_owned(), |p| format!("{:.1}%", p.round_dp(1)))
}

fn percent_of(part: Decimal, whole: Decimal) -> String {
    let p = pct(part, whole).round_dp(2);
    if p >= Decimal::ZERO {
        format!("+{p:.2}%")
    } else {
        format!("{p:.2}%")
    }
}

/// A quote amount (or a percentage) with two decimals.
#[must_use]
pub fn money(value: Decimal) -> String {
    format!("{:.2}", value.round_dp(2))
}

fn signed(value: Decimal) -> String {
    let v = value.round_dp(2);
    if v >= Decimal::ZERO {
        format!("+{v:.2}")
    } else {
        format!("{v:.2}")
    }
}

/// A price in the report's compact form (spec §5.1): ≥ 100 000 → `$97K`, ≥ 1000 → `$2.7K`,
/// ≥ 1 → 2 dp, ≥ 0.01 → 4 dp, ≥ 0.0001 → 6 dp, else 8 dp.
#[must_use]
pub fn compact_price(price: Decimal) -> String {
    let thousand = Decimal::from(1000);
    if price >= Decimal::from(100_000) {
        format!("${:.0}K", (price / thousand).round_dp(0))
    } else if price >= thousand {
        format!("${:.1}K", (price / thousand).round_dp(1))
    } else if price >= Decimal::ONE {
        format!("${:.2}", price.round_dp(2))
    } else if price >= Decimal::new(1, 2) {
        format!("${:.4}", price.round_dp(4))
    } else if price >= Decimal::new(1, 4) {
        format!("${:.6}", price.round_dp(6))
    } else {
        format!("${:.8}", price.round_dp(8))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn compact_prices_follow_the_spec_table() {
        assert_eq!(compact_price(dec!(97123.45)), "$97.1K");
        assert_eq!(compact_price(dec!(197123.45)), "$197K");
        assert_eq!(compact_price(dec!(2712.3)), "$2.7K");
        assert_eq!(compact_price(dec!(3.14159)), "$3.14");
        assert_eq!(compact_price(dec!(120)), "$120.00");
        assert_eq!(compact_price(dec!(0.0123456)), "$0.0123");
        assert_eq!(compact_price(dec!(0.000123456)), "$0.000123");
        assert_eq!(compact_price(dec!(0.0000012345678)), "$0.00000123");
    }

    #[test]
    fn signs_and_percentages() {
        assert_eq!(signed(dec!(1.005)), "+1.00");
        assert_eq!(signed(dec!(-2.5)), "-2.50");
        assert_eq!(percent_of(dec!(5), dec!(1000)), "+0.50%");
        assert_eq!(percent_of(dec!(5), Decimal::ZERO), "+0.00%");
    }
}
