//! The JSON API under `/api/` (documented in `openapi.yaml`). Every figure comes from the
//! cockpit's read model; money is a decimal string (exact), times are UTC milliseconds.

use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use hybrid_cockpit::{
    figures::{pct, realised, today, win_rate_pct},
    total_series, CockpitError, History, Point, Snapshot,
};
use hybrid_core::{Symbol, Timestamp};
use hybrid_portfolio::detect_phase;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::Dashboard;

/// The OpenAPI description of this API.
pub(crate) const OPENAPI: &str = include_str!("../openapi.yaml");
/// Fills shown on a coin page.
const RECENT_FILLS: u32 = 20;

pub(crate) fn routes() -> Router<Dashboard> {
    Router::new()
        .route("/api/overview", get(overview))
        .route("/api/history", get(history))
        .route("/api/coins", get(coins))
        .route("/api/coins/{cohort}/{symbol}", get(coin))
        .route("/api/cohorts", get(cohorts))
        .route("/api/validation", get(validation))
        .route("/api/health", get(health))
        .route("/api/openapi.yaml", get(openapi))
}

/// An API failure as JSON `{"error": …}` with its status.
pub(crate) struct ApiError(StatusCode, String);

impl From<CockpitError> for ApiError {
    fn from(e: CockpitError) -> Self {
        tracing::warn!(error = %e, "dashboard API");
        Self(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

/// The time the data is "as of": the close of the last candle any cohort traded (a replay's
/// market time), or `now` before anything was traded. Chart windows end here, so a replay of
/// old candles still shows its history.
pub(crate) fn anchor(snapshot: &Snapshot) -> Timestamp {
    snapshot
        .cohorts
        .iter()
        .filter_map(|c| c.last_candle_close)
        .max()
        .unwrap_or(snapshot.now)
}

/// The snapshot and the history window the settings ask for.
pub(crate) fn read(d: &Dashboard) -> Result<(Snapshot, History), CockpitError> {
    let snapshot = d.cockpit.snapshot(d.clock.now())?;
    let since =
        anchor(&snapshot).plus_millis(-i64::from(d.settings.history_days) * Timestamp::DAY_MS);
    let history = d.cockpit.history(since)?;
    Ok((snapshot, history))
}

/// Drawdown of the last point from the running peak, and the deepest one, percent (≤ 0).
fn drawdowns(points: &[Point]) -> (Option<Decimal>, Option<Decimal>) {
    let mut peak = Decimal::MIN;
    let mut deepest: Option<Decimal> = None;
    let mut last = None;
    for p in points {
        peak = peak.max(p.value);
        let dd = if peak > Decimal::ZERO {
            (p.value / peak - Decimal::ONE) * Decimal::ONE_HUNDRED
        } else {
            Decimal::ZERO
        }
        .round_dp(4);
        deepest = Some(deepest.map_or(dd, |d| d.min(dd)));
        last = Some(dd);
    }
    (last, deepest)
}

async fn overview(State(d): State<Dashboard>) -> ApiResult {
    let (snapshot, history) = read(&d)?;
    let days = today(&snapshot);
    let mut cohorts = Vec::new();
    for cohort in &snapshot.cohorts {
        let h = history
            .cohorts
            .iter()
            .find(|h| h.name == cohort.record.name);
        let day = days.iter().find(|x| x.cohort == cohort.record.name);
        let equity = h.and_then(|h| h.equity.last());
        let realised_pnl = realised(&cohort.closed);
        cohorts.push(json!({
            "name": cohort.record.name,
            "active": cohort.record.is_active,
            "starting_capital": cohort.record.starting_capital,
            "equity": equity.map(|p| p.value),
            "equity_at": equity.map(|p| p.at),
            "buy_and_hold": h.and_then(|h| h.buy_and_hold.last()).map(|p| p.value),
            "realised_pnl": realised_pnl,
            "realised_pnl_pct": pct(realised_pnl, cohort.record.starting_capital).round_dp(4),
            "win_rate_pct": win_rate_pct(&cohort.closed).map(|w| w.round_dp(2)),
            "closed_trades": cohort.closed.len(),
            "open_orders": cohort.open_orders.len(),
            "today_pnl": day.map_or(Decimal::ZERO, |x| x.pnl),
            "today_trades": day.map_or(0, |x| x.trades),
            "coins": cohort.symbols.iter().map(|s| json!({
                "symbol": s.symbol.as_str(),
                "mode": s.mode,
            })).collect::<Vec<_>>(),
        }));
    }
    let total = total_series(history.cohorts.iter().map(|c| c.equity.as_slice()));
    let bench = total_series(history.cohorts.iter().map(|c| c.buy_and_hold.as_slice()));
    let (drawdown, max_drawdown) = drawdowns(&total);
    let portfolio = d.cockpit.portfolio().ok();
    Ok(Json(json!({
        "now": snapshot.now,
        "as_of": anchor(&snapshot),
        "paused": snapshot.pause.is_some_and(|p| p.paused),
        "total": {
            "starting_capital": snapshot.cohorts.iter().map(|c| c.record.starting_capital).sum::<Decimal>(),
            "first_equity": total.first().map(|p| p.value),
            "equity": total.last().map(|p| p.value),
            "buy_and_hold": bench.last().map(|p| p.value),
            "realised_pnl": snapshot.cohorts.iter().map(|c| realised(&c.closed)).sum::<Decimal>(),
            "today_pnl": days.iter().map(|x| x.pnl).sum::<Decimal>(),
            "today_trades": days.iter().map(|x| x.trades).sum::<usize>(),
            "drawdown_pct": drawdown,
            "max_drawdown_pct": max_drawdown,
        },
        "cohorts": cohorts,
        "tiers": portfolio.map(|p| json!({
            "written_at": p.written_at,
            "breakdown": p.breakdown,
        })),
    })))
}

async fn history(State(d): State<Dashboard>) -> ApiResult {
    let (_, history) = read(&d)?;
    let total = total_series(history.cohorts.iter().map(|c| c.equity.as_slice()));
    let bench = total_series(history.cohorts.iter().map(|c| c.buy_and_hold.as_slice()));
    Ok(Json(json!({
        "total": { "equity": total, "buy_and_hold": bench },
        "cohorts": history.cohorts,
        "tiers": history.tiers,
    })))
}

async fn coins(State(d): State<Dashboard>) -> ApiResult {
    let snapshot = d.cockpit.snapshot(d.clock.now())?;
    let list: Vec<Value> = snapshot
        .cohorts
        .iter()
        .flat_map(|c| {
            c.symbols.iter().map(move |s| {
                json!({
                    "cohort": c.record.name,
                    "symbol": s.symbol.as_str(),
                    "mode": s.mode,
                    "allocation": s.allocation,
                })
            })
        })
        .collect();
    Ok(Json(json!(list)))
}

async fn coin(
    State(d): State<Dashboard>,
    Path((cohort, symbol)): Path<(String, String)>,
) -> ApiResult {
    let Ok(symbol) = Symbol::new(&symbol) else {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("{symbol:?} is not a trading pair"),
        ));
    };
    let (snapshot, history) = read(&d)?;
    let not_found = || {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("cohort {cohort:?} does not trade {symbol}"),
        )
    };
    let view = snapshot
        .cohorts
        .iter()
        .find(|c| c.record.name == cohort)
        .ok_or_else(not_found)?;
    let coin = view
        .symbols
        .iter()
        .find(|s| s.symbol == symbol)
        .ok_or_else(not_found)?;
    let h = history.cohorts.iter().find(|h| h.name == cohort);
    let decisions: Vec<_> = h
        .into_iter()
        .flat_map(|h| h.decisions.iter())
        .filter(|x| x.symbol == symbol)
        .collect();
    let last_switch = decisions.iter().rev().find(|x| x.switched);
    let last_decision = decisions.last();
    let orders: Vec<Value> = view
        .open_orders
        .iter()
        .filter(|o| o.symbol == symbol)
        .map(|o| {
            json!({
                "client_order_id": o.client_order_id.as_str(),
                "side": o.side,
                "price": o.price.map(hybrid_core::Price::value),
                "quantity": o.quantity.value(),
                "filled_quantity": o.filled_quantity.value(),
                "status": o.status.code(),
                "created_at": o.created_at,
            })
        })
        .collect();
    let stop = view
        .stops
        .iter()
        .find(|s| s.symbol == symbol.as_str())
        .map(|s| {
            json!({
                "kind": s.kind,
                "entry": s.entry,
                "stop_price": s.stop_price,
                "quantity": s.quantity,
                "distance_pct": s.distance_pct,
            })
        });
    let fills: Vec<Value> = d
        .cockpit
        .recent_fills(Some(&symbol), RECENT_FILLS * 4)?
        .into_iter()
        .filter(|f| f.cohort == cohort)
        .take(RECENT_FILLS as usize)
        .map(|f| serde_json::to_value(&f).unwrap_or(Value::Null))
        .collect();
    let last_price = h.and_then(|h| h.prices.get(&symbol)).and_then(|p| p.last());
    Ok(Json(json!({
        "cohort": cohort,
        "symbol": symbol.as_str(),
        "mode": coin.mode,
        "allocation": coin.allocation,
        "position_quantity": coin.position_quantity(),
        "position_cost": coin.position_cost(),
        "last_price": last_price.map(|p| p.value),
        "last_price_at": last_price.map(|p| p.at),
        "regime": last_decision.and_then(|x| x.regime.clone()),
        "regime_probability": last_decision.and_then(|x| x.probability),
        "last_switch": last_switch.map(|x| json!({
            "at": x.at, "from": x.from, "to": x.to, "reason": x.reason,
        })),
        "last_decision": last_decision.map(|x| json!({
            "at": x.at, "from": x.from, "to": x.to, "switched": x.switched, "reason": x.reason,
        })),
        "switches": coin.switches,
        "open_orders": orders,
        "stop": stop,
        "recent_fills": fills,
    })))
}

async fn cohorts(State(d): State<Dashboard>) -> ApiResult {
    let ranking = d.cockpit.ranking(&d.settings.baseline)?;
    Ok(Json(
        json!({ "baseline": d.settings.baseline, "ranking": ranking }),
    ))
}

async fn validation(State(d): State<Dashboard>) -> ApiResult {
    let now = d.clock.now();
    let view = d.cockpit.validation(now);
    let total = d
        .cockpit
        .portfolio()
        .ok()
        .filter(|p| p.written_at.is_some())
        .map(|p| p.breakdown.total);
    let dep = d.settings.deployment;
    let phase = detect_phase(dep.paper, dep.testnet, dep.portfolio_manager, total);
    Ok(Json(json!({
        "report": view.report,
        "anything_recorded": view.anything_recorded,
        "phase": phase.to_string(),
        "phase_limits": phase.limits(),
        "deployment": {
            "paper": dep.paper, "testnet": dep.testnet, "portfolio_manager": dep.portfolio_manager,
        },
    })))
}

async fn health(State(d): State<Dashboard>) -> ApiResult {
    let snapshot = d.cockpit.snapshot(d.clock.now())?;
    let reconciliation = snapshot.events.iter().find(|e| e.kind == "reconcile");
    Ok(Json(json!({
        "now": snapshot.now,
        "as_of": anchor(&snapshot),
        "paused": snapshot.pause.is_some_and(|p| p.paused),
        "heartbeat": snapshot.heartbeat.as_ref().map(|b| json!({
            "age_secs": b.age.as_secs(),
            "content": b.content,
        })),
        "exchange_weight_used": d.metrics.value(hybrid_core::telemetry::EXCHANGE_WEIGHT_USED),
        "reconciliations_run": d.metrics.value(hybrid_core::telemetry::RECONCILIATIONS_TOTAL),
        "last_reconciliation_finding": reconciliation.map(|e| json!({
            "at": e.at,
            "findings": e.message,
        })),
        "outbox": {
            "pending": snapshot.outbox.pending,
            "oldest_pending_at": snapshot.outbox.oldest_pending_at,
            "last_sent_at": snapshot.outbox.last_sent_at,
            "abandoned": snapshot.outbox.abandoned,
        },
        "cohorts": snapshot.cohorts.iter().map(|c| json!({
            "name": c.record.name,
            "last_candle_close": c.last_candle_close,
            "state_saved_at": c.state_saved_at,
        })).collect::<Vec<_>>(),
    })))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI).into_response()
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn drawdown_is_from_the_running_peak() {
        let p = |ms, v| Point {
            at: Timestamp::from_millis(ms),
            value: v,
        };
        let (last, deepest) = drawdowns(&[p(1, dec!(100)), p(2, dec!(80)), p(3, dec!(90))]);
        assert_eq!(last, Some(dec!(-10)));
        assert_eq!(deepest, Some(dec!(-20)));
        assert_eq!(drawdowns(&[]), (None, None));
    }
}
