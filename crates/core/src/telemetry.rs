//! Live metrics the trading loop records, through the `metrics` facade: a call is a few atomic
//! operations when a recorder is installed (the dashboard's Prometheus exporter) and nothing
//! at all when none is (backtests, tests). One name per metric, written here once, so the
//! engine and the `/metrics` page can never disagree.
//!
//! Figures the database already holds (equity, open orders, modes, outbox backlog) are not
//! recorded here: the dashboard reads them at scrape time.

use std::time::Duration;

use crate::{Side, Symbol};

/// Counter of fills booked, labelled `cohort`, `symbol`, `side`.
pub const FILLS_TOTAL: &str = "hybrid_fills_total";
/// Counter of orders the risk guard refused, labelled `reason` (the rule).
pub const RISK_REFUSALS_TOTAL: &str = "hybrid_risk_refusals_total";
/// Histogram of the time one market event (candle or tick) takes to process, seconds.
pub const TICK_LATENCY_SECONDS: &str = "hybrid_tick_latency_seconds";
/// Gauge of the exchange request weight used in the current minute (Binance's
/// `X-MBX-USED-WEIGHT-1M`).
pub const EXCHANGE_WEIGHT_USED: &str = "hybrid_exchange_weight_used";
/// Counter of reconciliation findings, labelled `kind` (e.g. `closed_elsewhere`,
/// `never_placed`, `orphan_cancelled`, `foreign`).
pub const RECONCILIATION_FINDINGS_TOTAL: &str = "hybrid_reconciliation_findings_total";
/// Counter of reconciliation runs.
pub const RECONCILIATIONS_TOTAL: &str = "hybrid_reconciliations_total";

/// Bucket bounds of [`TICK_LATENCY_SECONDS`], seconds (100 µs to 10 s).
pub const TICK_LATENCY_BUCKETS: [f64; 12] = [
    0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 10.0,
];

/// A fill was booked for `cohort` on `symbol`.
pub fn record_fill(cohort: &str, symbol: &Symbol, side: Side) {
    metrics::counter!(
        FILLS_TOTAL,
        "cohort" => cohort.to_owned(),
        "symbol" => symbol.as_str().to_owned(),
        "side" => side.code(),
    )
    .increment(1);
}

/// The risk guard refused an order under `reason` (the rule's name).
pub fn record_risk_refusal(reason: &str) {
    metrics::counter!(RISK_REFUSALS_TOTAL, "reason" => reason.to_owned()).increment(1);
}

/// One market event took `elapsed` to process.
pub fn observe_tick_latency(elapsed: Duration) {
    metrics::histogram!(TICK_LATENCY_SECONDS).record(elapsed.as_secs_f64());
}

/// The exchange reported `used` request weight for the current minute.
pub fn set_exchange_weight_used(used: u32) {
    metrics::gauge!(EXCHANGE_WEIGHT_USED).set(f64::from(used));
}

/// A reconciliation ran and found `count` discrepancies of `kind` (call once per kind found;
/// call [`record_reconciliation`] once per run).
pub fn record_reconciliation_finding(kind: &str, count: u64) {
    metrics::counter!(RECONCILIATION_FINDINGS_TOTAL, "kind" => kind.to_owned()).increment(count);
}

/// A reconciliation ran.
pub fn record_reconciliation() {
    metrics::counter!(RECONCILIATIONS_TOTAL).increment(1);
}
