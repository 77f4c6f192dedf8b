//! The dashboard served on 127.0.0.1 over an in-memory database: the token rule, the API's
//! figures against what was stored, the charts, and `/metrics` with live and stored values.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use hybrid_cockpit::StoreCockpit;
use hybrid_core::{telemetry, Notional, Price, Side, SimClock, Symbol, Timestamp};
use hybrid_store::{EquityRecord, NewCohort, Store};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::{serve, Dashboard, DashboardSettings, Metrics};

const T0: i64 = 1_704_067_200_000; // 2024-01-01T00:00Z
const HOUR: i64 = 3_600_000;

/// A database with one cohort trading BTCUSDT in GRID and 24 hourly snapshots.
fn store() -> Arc<Store> {
    let store = Store::open("sqlite::memory:").unwrap();
    store.run_migrations().unwrap();
    let cohort = store
        .upsert_cohort(
            &NewCohort {
                name: "alpha".to_owned(),
                description: String::new(),
                config: Value::Null,
                starting_capital: dec!(1000),
                is_active: true,
            },
            Timestamp::from_millis(T0),
        )
        .unwrap()
        .id;
    let btc = Symbol::new("BTCUSDT").unwrap();
    for h in 0..24 {
        let price = Decimal::from(40_000 + h * 100);
        let equity = dec!(1000) + Decimal::from(h) * dec!(1.25);
        store
            .record_equity_snapshot(&EquityRecord {
                at: Timestamp::from_millis(T0 + h * HOUR),
                cohort,
                cash: Notional::new(equity - dec!(500)),
                holdings: Notional::new(dec!(500)),
                equity: Notional::new(equity),
                positions: [(btc.clone(), Notional::new(dec!(500)))]
                    .into_iter()
                    .collect(),
                prices: [(btc.clone(), Price::new(price).unwrap())]
                    .into_iter()
                    .collect(),
            })
            .unwrap();
    }
    let state = serde_json::json!({
        "progress": { "last_candle_close": T0 + 23 * HOUR },
        "symbols": { "BTCUSDT": { "mode": "GRID", "allocation": "500" } },
        "stops": [],
    });
    store
        .save_state(
            "hybrid_state/alpha",
            &state,
            Timestamp::from_millis(T0 + 23 * HOUR),
        )
        .unwrap();
    Arc::new(store)
}

/// Serves the dashboard on an ephemeral loopback port; returns its base URL.
async fn start(token: Option<&str>, metrics: Metrics) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let dashboard = Dashboard {
        cockpit: Arc::new(StoreCockpit::new(store(), None)),
        clock: Arc::new(SimClock::new(Timestamp::from_millis(T0 + 30 * HOUR))),
        metrics,
        settings: Arc::new(DashboardSettings {
            token: token.map(str::to_owned),
            ..DashboardSettings::default()
        }),
    };
    tokio::spawn(serve(listener, dashboard, std::future::pending()));
    format!("http://{address}")
}

#[tokio::test]
async fn with_a_token_every_request_without_it_gets_401() {
    let (metrics, _recorder) = Metrics::detached().unwrap();
    let base = start(Some("s3cret"), metrics).await;
    let client = reqwest::Client::new();
    for path in [
        "/",
        "/api/overview",
        "/metrics",
        "/charts/overview",
        "/assets/app.js",
    ] {
        let bare = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(bare.status(), 401, "{path}");
        let wrong = client
            .get(format!("{base}{path}"))
            .bearer_auth("s3creT")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401, "{path}");
    }
    let header = client
        .get(format!("{base}/api/overview"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);
    let query = client
        .get(format!("{base}/api/health?token=s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);
}

#[tokio::test]
async fn the_api_shows_the_stored_figures_and_the_charts_draw() {
    let (metrics, _recorder) = Metrics::detached().unwrap();
    let base = start(None, metrics).await;
    let overview: Value = reqwest::get(format!("{base}/api/overview"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The last snapshot: 1000 + 23 × 1.25.
    assert_eq!(overview["total"]["equity"], "1028.75");
    assert_eq!(overview["cohorts"][0]["equity"], "1028.75");
    assert_eq!(overview["as_of"], T0 + 23 * HOUR);
    // Buy-and-hold: 1000 × 42300 / 40000.
    assert_eq!(overview["total"]["buy_and_hold"], "1057.5");
    let coin: Value = reqwest::get(format!("{base}/api/coins/alpha/BTCUSDT"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(coin["mode"], "GRID");
    assert_eq!(coin["last_price"], "42300");
    let missing = reqwest::get(format!("{base}/api/coins/alpha/ETHUSDT"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    for chart in [
        "/charts/overview",
        "/charts/cohorts",
        "/charts/cohort/alpha",
        "/charts/coin/alpha/BTCUSDT",
    ] {
        let response = reqwest::get(format!("{base}{chart}")).await.unwrap();
        assert_eq!(response.status(), 200, "{chart}");
        assert_eq!(response.headers()["content-type"], "image/png");
        let bytes = response.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{chart}");
    }
    let tiers = reqwest::get(format!("{base}/charts/tiers")).await.unwrap();
    assert_eq!(tiers.status(), 404, "no tier values were written");
    let page = reqwest::get(format!("{base}/coin/alpha/BTCUSDT"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/assets/app.js"));
    let api = reqwest::get(format!("{base}/api/openapi.yaml"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for path in [
        "/api/overview:",
        "/api/coins/{cohort}/{symbol}:",
        "/api/health:",
        "/metrics:",
    ] {
        assert!(api.contains(path), "{path} undocumented");
    }
}

#[tokio::test]
async fn metrics_show_live_counters_and_stored_gauges() {
    let (metrics, recorder) = Metrics::detached().unwrap();
    let btc = Symbol::new("BTCUSDT").unwrap();
    metrics::with_local_recorder(&recorder, || {
        telemetry::record_fill("alpha", &btc, Side::Buy);
        telemetry::record_fill("alpha", &btc, Side::Buy);
        telemetry::record_risk_refusal("max_position");
        telemetry::observe_tick_latency(std::time::Duration::from_millis(3));
        telemetry::set_exchange_weight_used(42);
        telemetry::record_reconciliation();
        telemetry::record_reconciliation_finding("orphan_cancelled", 2);
    });
    let base = start(None, metrics).await;
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "hybrid_fills_total{cohort=\"alpha\",symbol=\"BTCUSDT\",side=\"BUY\"} 2",
        "hybrid_risk_refusals_total{reason=\"max_position\"} 1",
        "hybrid_tick_latency_seconds_bucket{le=\"0.005\"} 1",
        "hybrid_tick_latency_seconds_bucket{le=\"0.001\"} 0",
        "hybrid_exchange_weight_used 42",
        "hybrid_reconciliation_findings_total{kind=\"orphan_cancelled\"} 2",
        "hybrid_equity_usdt{cohort=\"alpha\"} 1028.75",
        "hybrid_open_orders{cohort=\"alpha\",side=\"BUY\"} 0",
        "hybrid_fills_booked{cohort=\"alpha\"} 0",
        "hybrid_mode{cohort=\"alpha\",symbol=\"BTCUSDT\",mode=\"GRID\"} 1",
        "hybrid_mode{cohort=\"alpha\",symbol=\"BTCUSDT\",mode=\"HOLD\"} 0",
        "hybrid_outbox_pending 0",
        "hybrid_store_up 1",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    let health: Value = reqwest::get(format!("{base}/api/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["exchange_weight_used"], 42.0);
}
