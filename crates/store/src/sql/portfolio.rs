// Three-tier portfolio queries; included into each backend module by `sql/mod.rs`.

use crate::portfolio::{
    IndexHoldingRecord as PfHoldingRecord, PortfolioSnapshot as PfSnapshot,
    RedistributionRecord as PfRedistribution, RegimeRecord as PfRegime, TierRecord as PfTier,
    TierValueUpdate as PfTierUpdate, ValidationCounts as PfCounts,
};
use crate::schema_portfolio::{
    index_holdings as pf_holdings, portfolio_snapshots as pf_snapshots,
    portfolio_tiers as pf_tiers, profit_redistributions as pf_redistributions,
    regime_history as pf_regimes,
};

/// A `portfolio_tiers` row as stored.
type PfTierRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    bool,
    i64,
);

pub(crate) fn portfolio_tiers(conn: &mut Conn) -> Result<Vec<PfTier>, StoreError> {
    let rows: Vec<PfTierRow> = pf_tiers::table
        .order(pf_tiers::tier_name)
        .select((
            pf_tiers::tier_name,
            pf_tiers::target_pct,
            pf_tiers::min_pct,
            pf_tiers::max_pct,
            pf_tiers::current_pct,
            pf_tiers::current_value_usd,
            pf_tiers::is_active,
            pf_tiers::updated_at,
        ))
        .load(conn)?;
    let c = |column| col("portfolio_tiers", column);
    rows.into_iter()
        .map(
            |(name, target, min, max, current, value, active, updated)| {
                Ok(PfTier {
                    tier_name: name,
                    target_pct: c("target_pct").decimal(&target)?,
                    min_pct: c("min_pct").decimal(&min)?,
                    max_pct: c("max_pct").decimal(&max)?,
                    current_pct: current.map(|t| c("current_pct").decimal(&t)).transpose()?,
                    current_value_usd: c("current_value_usd").decimal(&value)?,
                    is_active: active,
                    updated_at: Timestamp::from_millis(updated),
                })
            },
        )
        .collect()
}

pub(crate) fn set_tier_target(
    conn: &mut Conn,
    tier_name: &str,
    target_pct: Decimal,
    at: Timestamp,
) -> Result<(), StoreError> {
    let changed = diesel::update(pf_tiers::table.find(tier_name))
        .set((
            pf_tiers::target_pct.eq(money_text(target_pct)),
            pf_tiers::updated_at.eq(at.as_millis()),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "portfolio tier",
            key: tier_name.to_owned(),
        });
    }
    Ok(())
}

pub(crate) fn write_tier_values(
    conn: &mut Conn,
    updates: &[PfTierUpdate],
    at: Timestamp,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        for update in updates {
            diesel::update(pf_tiers::table.find(&update.tier_name))
                .set((
                    pf_tiers::current_pct.eq(Some(money_text(update.current_pct.round_dp(4)))),
                    pf_tiers::current_value_usd.eq(money_text(update.current_value_usd)),
                    pf_tiers::updated_at.eq(at.as_millis()),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

pub(crate) fn insert_portfolio_snapshot(conn: &mut Conn, s: &PfSnapshot) -> Result<(), StoreError> {
    diesel::insert_into(pf_snapshots::table)
        .values((
            pf_snapshots::at.eq(s.at.as_millis()),
            pf_snapshots::total_value_usd.eq(money_text(s.total_value_usd)),
            pf_snapshots::cash_usd.eq(money_text(s.cash_usd)),
            pf_snapshots::index_usd.eq(money_text(s.index_usd)),
            pf_snapshots::trading_usd.eq(money_text(s.trading_usd)),
            pf_snapshots::daily_pnl.eq(s.daily_pnl.map(money_text)),
            pf_snapshots::daily_pnl_pct.eq(s.daily_pnl_pct.map(money_text)),
            pf_snapshots::max_drawdown.eq(s.max_drawdown.map(money_text)),
            pf_snapshots::sharpe_ratio.eq(s.sharpe_ratio.filter(|v| v.is_finite())),
        ))
        .execute(conn)?;
    Ok(())
}

/// A `portfolio_snapshots` row as stored (without the id).
type PfSnapshotRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<f64>,
);

pub(crate) fn portfolio_snapshots(
    conn: &mut Conn,
    since: Timestamp,
) -> Result<Vec<PfSnapshot>, StoreError> {
    let rows: Vec<PfSnapshotRow> = pf_snapshots::table
        .filter(pf_snapshots::at.ge(since.as_millis()))
        .order((pf_snapshots::at, pf_snapshots::id))
        .select((
            pf_snapshots::at,
            pf_snapshots::total_value_usd,
            pf_snapshots::cash_usd,
            pf_snapshots::index_usd,
            pf_snapshots::trading_usd,
            pf_snapshots::daily_pnl,
            pf_snapshots::daily_pnl_pct,
            pf_snapshots::max_drawdown,
            pf_snapshots::sharpe_ratio,
        ))
        .load(conn)?;
    let c = |column| col("portfolio_snapshots", column);
    let opt = |column, text: Option<String>| text.map(|t| c(column).decimal(&t)).transpose();
    rows.into_iter()
        .map(
            |(at, total, cash, index, trading, pnl, pnl_pct, dd, sharpe)| {
                Ok(PfSnapshot {
                    at: Timestamp::from_millis(at),
                    total_value_usd: c("total_value_usd").decimal(&total)?,
                    cash_usd: c("cash_usd").decimal(&cash)?,
                    index_usd: c("index_usd").decimal(&index)?,
                    trading_usd: c("trading_usd").decimal(&trading)?,
                    daily_pnl: opt("daily_pnl", pnl)?,
                    daily_pnl_pct: opt("daily_pnl_pct", pnl_pct)?,
                    max_drawdown: opt("max_drawdown", dd)?,
                    sharpe_ratio: sharpe,
                })
            },
        )
        .collect()
}

pub(crate) fn upsert_index_holding(conn: &mut Conn, h: &PfHoldingRecord) -> Result<(), StoreError> {
    let values = (
        pf_holdings::symbol.eq(h.symbol.as_str()),
        pf_holdings::target_weight_pct.eq(money_text(h.target_weight_pct)),
        pf_holdings::quantity.eq(money_text(h.quantity)),
        pf_holdings::avg_entry_price.eq(money_text(h.avg_entry_price)),
        pf_holdings::current_price.eq(money_text(h.current_price)),
        pf_holdings::trailing_stop_pct.eq(money_text(h.trailing_stop_pct)),
        pf_holdings::trailing_stop_price.eq(money_text(h.trailing_stop_price)),
        pf_holdings::highest_price.eq(money_text(h.highest_price)),
        pf_holdings::is_active.eq(h.is_active),
        pf_holdings::last_rebalance_at.eq(h.last_rebalance_at.map(Timestamp::as_millis)),
        pf_holdings::updated_at.eq(h.updated_at.as_millis()),
    );
    diesel::insert_into(pf_holdings::table)
        .values(values)
        .on_conflict(pf_holdings::symbol)
        .do_update()
        .set((
            pf_holdings::target_weight_pct.eq(excluded(pf_holdings::target_weight_pct)),
            pf_holdings::quantity.eq(excluded(pf_holdings::quantity)),
            pf_holdings::avg_entry_price.eq(excluded(pf_holdings::avg_entry_price)),
            pf_holdings::current_price.eq(excluded(pf_holdings::current_price)),
            pf_holdings::trailing_stop_pct.eq(excluded(pf_holdings::trailing_stop_pct)),
            pf_holdings::trailing_stop_price.eq(excluded(pf_holdings::trailing_stop_price)),
            pf_holdings::highest_price.eq(excluded(pf_holdings::highest_price)),
            pf_holdings::is_active.eq(excluded(pf_holdings::is_active)),
            pf_holdings::last_rebalance_at.eq(excluded(pf_holdings::last_rebalance_at)),
            pf_holdings::updated_at.eq(excluded(pf_holdings::updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// An `index_holdings` row as stored.
type PfHoldingRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
    Option<i64>,
    i64,
);

pub(crate) fn index_holdings(conn: &mut Conn) -> Result<Vec<PfHoldingRecord>, StoreError> {
    let rows: Vec<PfHoldingRow> = pf_holdings::table
        .order(pf_holdings::symbol)
        .select((
            pf_holdings::symbol,
            pf_holdings::target_weight_pct,
            pf_holdings::quantity,
            pf_holdings::avg_entry_price,
            pf_holdings::current_price,
            pf_holdings::trailing_stop_pct,
            pf_holdings::trailing_stop_price,
            pf_holdings::highest_price,
            pf_holdings::is_active,
            pf_holdings::last_rebalance_at,
            pf_holdings::updated_at,
        ))
        .load(conn)?;
    let c = |column| col("index_holdings", column);
    rows.into_iter()
        .map(
            |(symbol, weight, qty, entry, price, stop_pct, stop, high, active, reb, upd)| {
                Ok(PfHoldingRecord {
                    symbol: c("symbol").parse(&symbol)?,
                    target_weight_pct: c("target_weight_pct").decimal(&weight)?,
                    quantity: c("quantity").decimal(&qty)?,
                    avg_entry_price: c("avg_entry_price").decimal(&entry)?,
                    current_price: c("current_price").decimal(&price)?,
                    trailing_stop_pct: c("trailing_stop_pct").decimal(&stop_pct)?,
                    trailing_stop_price: c("trailing_stop_price").decimal(&stop)?,
                    highest_price: c("highest_price").decimal(&high)?,
                    is_active: active,
                    last_rebalance_at: reb.map(Timestamp::from_millis),
                    updated_at: Timestamp::from_millis(upd),
                })
            },
        )
        .collect()
}

pub(crate) fn insert_redistribution(
    conn: &mut Conn,
    r: &PfRedistribution,
) -> Result<(), StoreError> {
    diesel::insert_into(pf_redistributions::table)
        .values((
            pf_redistributions::at.eq(r.at.as_millis()),
            pf_redistributions::total_portfolio_value.eq(money_text(r.total_portfolio_value)),
            pf_redistributions::total_moved.eq(money_text(r.total_moved)),
            pf_redistributions::pre_allocation.eq(r.pre_allocation.to_string()),
            pf_redistributions::post_allocation.eq(r.post_allocation.to_string()),
            pf_redistributions::transfers.eq(r.transfers.to_string()),
            pf_redistributions::trigger_reason.eq(&r.trigger_reason),
        ))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn redistributions(conn: &mut Conn) -> Result<Vec<PfRedistribution>, StoreError> {
    let rows: Vec<(i64, String, String, String, String, String, String)> =
        pf_redistributions::table
            .order((pf_redistributions::at, pf_redistributions::id))
            .select((
                pf_redistributions::at,
                pf_redistributions::total_portfolio_value,
                pf_redistributions::total_moved,
                pf_redistributions::pre_allocation,
                pf_redistributions::post_allocation,
                pf_redistributions::transfers,
                pf_redistributions::trigger_reason,
            ))
            .load(conn)?;
    let c = |column| col("profit_redistributions", column);
    rows.into_iter()
        .map(|(at, total, moved, pre, post, transfers, reason)| {
            Ok(PfRedistribution {
                at: Timestamp::from_millis(at),
                total_portfolio_value: c("total_portfolio_value").decimal(&total)?,
                total_moved: c("total_moved").decimal(&moved)?,
                pre_allocation: c("pre_allocation").json(&pre)?,
                post_allocation: c("post_allocation").json(&post)?,
                transfers: c("transfers").json(&transfers)?,
                trigger_reason: reason,
            })
        })
        .collect()
}

pub(crate) fn record_regime(conn: &mut Conn, r: &PfRegime) -> Result<(), StoreError> {
    diesel::insert_into(pf_regimes::table)
        .values((
            pf_regimes::at.eq(r.at.as_millis()),
            pf_regimes::symbol.eq(r.symbol.as_ref().map(Symbol::as_str)),
            pf_regimes::regime.eq(&r.regime),
            pf_regimes::regime_probability.eq(r.probability),
            pf_regimes::previous_regime.eq(r.previous_regime.as_deref()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A count as the validator's unsigned number (counts are never negative).
fn pf_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) fn validation_counts(conn: &mut Conn, now: Timestamp) -> Result<PfCounts, StoreError> {
    use crate::schema::trade_pairs as tp;
    use crate::schema_learning::{
        ai_portfolio_recommendations as recs, playbook_versions as books,
        signal_components as signals,
    };
    let closed: Vec<Option<String>> = tp::table
        .filter(tp::status.eq("closed"))
        .select(tp::net_pnl)
        .load(conn)?;
    let mut winning_trades = 0;
    let mut trades_with_pnl = 0;
    for pnl in closed.iter().flatten() {
        trades_with_pnl += 1;
        if col("trade_pairs", "net_pnl").decimal(pnl)? > Decimal::ZERO {
            winning_trades += 1;
        }
    }
    let latest_sharpe: Option<f64> = pf_snapshots::table
        .filter(pf_snapshots::sharpe_ratio.is_not_null())
        .order((pf_snapshots::at.desc(), pf_snapshots::id.desc()))
        .select(pf_snapshots::sharpe_ratio)
        .first::<Option<f64>>(conn)
        .optional()?
        .flatten();
    let since = now.as_millis() - 60 * Timestamp::DAY_MS;
    let drawdowns: Vec<Option<String>> = pf_snapshots::table
        .filter(pf_snapshots::at.ge(since))
        .filter(pf_snapshots::at.le(now.as_millis()))
        .select(pf_snapshots::max_drawdown)
        .load(conn)?;
    let mut worst_drawdown_pct: Option<Decimal> = None;
    for dd in drawdowns.iter().flatten() {
        let dd = col("portfolio_snapshots", "max_drawdown").decimal(dd)?;
        worst_drawdown_pct = Some(worst_drawdown_pct.map_or(dd, |w| w.min(dd)));
    }
    let playbook_version: Option<i64> = books::table
        .select(diesel::dsl::max(books::version))
        .first(conn)?;
    let signal_evaluations: i64 = signals::table
        .filter(signals::was_correct.is_not_null())
        .count()
        .get_result(conn)?;
    let regime_changes: i64 = pf_regimes::table
        .filter(pf_regimes::previous_regime.is_not_null())
        .filter(pf_regimes::previous_regime.ne(pf_regimes::regime.nullable()))
        .count()
        .get_result(conn)?;
    let index_row: Option<(Option<String>, String)> = pf_tiers::table
        .filter(pf_tiers::tier_name.eq("index_holdings"))
        .filter(pf_tiers::is_active.eq(true))
        .select((pf_tiers::current_pct, pf_tiers::target_pct))
        .first(conn)
        .optional()?;
    let index_tier = match index_row {
        Some((Some(current), target)) => Some((
            col("portfolio_tiers", "current_pct").decimal(&current)?,
            col("portfolio_tiers", "target_pct").decimal(&target)?,
        )),
        _ => None,
    };
    let ai_recommendations: i64 = recs::table.count().get_result(conn)?;
    Ok(PfCounts {
        closed_trades: closed.len() as u64,
        latest_sharpe,
        playbook_version: pf_count(playbook_version.unwrap_or(0)),
        signal_evaluations: pf_count(signal_evaluations),
        regime_changes: pf_count(regime_changes),
        worst_drawdown_pct,
        winning_trades,
        trades_with_pnl,
        index_tier,
        ai_recommendations: pf_count(ai_recommendations),
    })
}
