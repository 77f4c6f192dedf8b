//! `/metrics` in the Prometheus text format: the live metrics the trading loop records through
//! `hybrid_core::telemetry` (fills, risk refusals, tick latency, exchange weight,
//! reconciliation findings), held by the `metrics-exporter-prometheus` recorder, followed by
//! gauges read from the database at scrape time (equity per cohort, open orders, fills
//! booked, mode per coin, outbox backlog, heartbeat age, last reconciliation).

use std::{fmt::Write as _, sync::OnceLock};

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use hybrid_cockpit::{Cockpit, Snapshot};
use hybrid_core::{telemetry, Side, Timestamp};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use rust_decimal::Decimal;

use crate::{Dashboard, DashboardError};

/// The live metrics: a handle on the Prometheus recorder.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn builder() -> Result<PrometheusBuilder, DashboardError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(telemetry::TICK_LATENCY_SECONDS.to_owned()),
            &telemetry::TICK_LATENCY_BUCKETS,
        )
        .map_err(|e| DashboardError::Metrics(e.to_string()))
}

impl Metrics {
    /// Installs the process-wide recorder, so that every `hybrid_core::telemetry` call from
    /// now on is counted, and returns its handle. Installing twice returns the first handle.
    ///
    /// # Errors
    /// [`DashboardError::Metrics`] when another recorder was installed first.
    pub fn install() -> Result<Self, DashboardError> {
        static INSTALLED: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
        let installed = INSTALLED.get_or_init(|| {
            builder()
                .map_err(|e| e.to_string())?
                .install_recorder()
                .map_err(|e| e.to_string())
        });
        match installed {
            Ok(handle) => Ok(Self {
                handle: handle.clone(),
            }),
            Err(e) => Err(DashboardError::Metrics(e.clone())),
        }
    }

    /// A recorder that is not installed process-wide (tests, or a caller that composes
    /// recorders), with the handle that renders it.
    ///
    /// # Errors
    /// [`DashboardError::Metrics`] for an invalid bucket layout (a bug).
    pub fn detached() -> Result<(Self, PrometheusRecorder), DashboardError> {
        let recorder = builder()?.build_recorder();
        Ok((
            Self {
                handle: recorder.handle(),
            },
            recorder,
        ))
    }

    /// The live metrics as Prometheus text.
    #[must_use]
    pub fn render_live(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// The last value of a live gauge or counter without labels, read back from the rendered
    /// text (for the health page).
    #[must_use]
    pub fn value(&self, name: &str) -> Option<f64> {
        let text = self.handle.render();
        text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            (key == name).then(|| value.parse().ok()).flatten()
        })
    }
}

pub(crate) fn routes() -> Router<Dashboard> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(d): State<Dashboard>) -> Response {
    let now = d.clock.now();
    let mut text = d.metrics.render_live();
    match store_gauges(d.cockpit.as_ref(), now) {
        Ok(gauges) => text.push_str(&gauges),
        Err(error) => {
            tracing::warn!(%error, "/metrics: the database cannot be read");
            let _ = writeln!(
                text,
                "# HELP hybrid_store_up Whether the database could be read for this scrape.\n\
                 # TYPE hybrid_store_up gauge\nhybrid_store_up 0"
            );
        }
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// One gauge family: `# HELP`, `# TYPE`, then each `(labels, value)`.
fn family(out: &mut String, name: &str, help: &str, samples: &[(String, String)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

/// A label value with `\`, `"` and newlines escaped as the text format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(value: Decimal) -> String {
    value.normalize().to_string()
}

/// The gauges read from the database.
pub(crate) fn store_gauges(
    cockpit: &dyn Cockpit,
    now: Timestamp,
) -> Result<String, hybrid_cockpit::CockpitError> {
    let snapshot = cockpit.snapshot(now)?;
    let anchor = crate::api::anchor(&snapshot);
    let history = cockpit.history(anchor.plus_millis(-2 * Timestamp::DAY_MS))?;
    let fills = cockpit.fill_counts()?;
    let mut out = String::new();
    family(
        &mut out,
        "hybrid_store_up",
        "Whether the database could be read for this scrape.",
        &[(String::new(), "1".to_owned())],
    );
    let equity: Vec<(String, String)> = history
        .cohorts
        .iter()
        .filter_map(|c| {
            let last = c.equity.last()?;
            Some((format!("cohort=\"{}\"", label(&c.name)), number(last.value)))
        })
        .collect();
    family(
        &mut out,
        "hybrid_equity_usdt",
        "Equity (cash + coins at their last prices) of each cohort at its last hourly snapshot, USDT.",
        &equity,
    );
    let mut orders = Vec::new();
    for cohort in &snapshot.cohorts {
        for side in [Side::Buy, Side::Sell] {
            let n = cohort.open_orders.iter().filter(|o| o.side == side).count();
            orders.push((
                format!(
                    "cohort=\"{}\",side=\"{}\"",
                    label(&cohort.record.name),
                    side.code()
                ),
                n.to_string(),
            ));
        }
    }
    family(
        &mut out,
        "hybrid_open_orders",
        "Orders resting on the exchange (or not yet confirmed), per cohort and side.",
        &orders,
    );
    let booked: Vec<(String, String)> = fills
        .iter()
        .map(|(name, n)| (format!("cohort=\"{}\"", label(name)), n.to_string()))
        .collect();
    family(
        &mut out,
        "hybrid_fills_booked",
        "Fills recorded in the database per cohort (all time).",
        &booked,
    );
    family(
        &mut out,
        "hybrid_mode",
        "1 for the mode each coin of each cohort is in (HOLD, GRID or CASH), 0 for the others.",
        &modes(&snapshot),
    );
    family(
        &mut out,
        "hybrid_outbox_pending",
        "Notifications waiting in the outbox.",
        &[(String::new(), snapshot.outbox.pending.to_string())],
    );
    family(
        &mut out,
        "hybrid_outbox_abandoned",
        "Notifications given up on.",
        &[(String::new(), snapshot.outbox.abandoned.to_string())],
    );
    if let Some(beat) = &snapshot.heartbeat {
        family(
            &mut out,
            "hybrid_heartbeat_age_seconds",
            "Age of the trading loop's heartbeat file, seconds.",
            &[(String::new(), beat.age.as_secs().to_string())],
        );
    }
    if let Some(event) = snapshot.events.iter().find(|e| e.kind == "reconcile") {
        family(
            &mut out,
            "hybrid_last_reconciliation_finding_timestamp_seconds",
            "When reconciliation last found a discrepancy (market time), Unix seconds.",
            &[(String::new(), (event.at.as_millis() / 1000).to_string())],
        );
    }
    family(
        &mut out,
        "hybrid_paused",
        "1 while opening new positions is paused from Telegram.",
        &[(
            String::new(),
            u8::from(snapshot.pause.is_some_and(|p| p.paused)).to_string(),
        )],
    );
    Ok(out)
}

fn modes(snapshot: &Snapshot) -> Vec<(String, String)> {
    let mut samples = Vec::new();
    for cohort in &snapshot.cohorts {
        for symbol in &cohort.symbols {
            for mode in ["HOLD", "GRID", "CASH"] {
                samples.push((
                    format!(
                        "cohort=\"{}\",symbol=\"{}\",mode=\"{mode}\"",
                        label(&cohort.record.name),
                        label(symbol.symbol.as_str())
                    ),
                    u8::from(symbol.mode == mode).to_string(),
                ));
            }
        }
    }
    samples
}
