//! `main_hybrid scheduler --once` runs the learning tasks: decisions recorded in a SQLite
//! database get their 1 h, 4 h, 24 h and 7 d outcomes priced from the (fake) exchange's
//! 1-minute candles at decision time + window; a failed fetch fails the task and the next run
//! catches up; a further run changes nothing.

use std::{path::Path, process::Output};

use hybrid_core::{Candle, Price, Quantity, Regime, Symbol, Timestamp};
use hybrid_store::{
    DecisionKind, DecisionRecord, NewDecision, OutcomeWindow, SignalRecord, SignalValues, Store,
};
use rust_decimal::Decimal;

/// 2024-01-01 00:00 UTC: the first candle of the fake history.
const T0: i64 = 1_704_067_200_000;
const MINUTE: i64 = 60_000;

/// The open of minute `i` after [`T0`] for a symbol whose price moves by `step` per minute.
fn open_at(base: Decimal, step: Decimal, i: i64) -> Decimal {
    base + step * Decimal::from(i)
}

/// Nine days of 1-minute candles (past every 7 d window of the decisions below).
fn candles(base: Decimal, step: Decimal) -> Vec<Candle> {
    (0..9 * 24 * 60)
        .map(|i| {
            let open = Price::new(open_at(base, step, i)).unwrap();
            Candle::new(
                Timestamp::from_millis(T0 + i * MINUTE),
                open,
                open,
                open,
                open,
                Quantity::new(Decimal::ONE).unwrap(),
            )
            .unwrap()
        })
        .collect()
}

fn decision(key: &str, symbol: &Symbol, minute: i64, stance: i8, price: Decimal) -> NewDecision {
    NewDecision {
        source_key: key.to_owned(),
        at: Timestamp::from_millis(T0 + minute * MINUTE + 17_000),
        cohort: "main".to_owned(),
        symbol: symbol.clone(),
        kind: DecisionKind::Trade,
        action: if stance > 0 { "BUY" } else { "SELL" }.to_owned(),
        stance,
        taken: true,
        price: Price::new(price).unwrap(),
        quantity: Some(Quantity::new(Decimal::ONE).unwrap()),
        regime: Regime::Sideways,
        regime_probability: None,
        reason: "test".to_owned(),
        signals: SignalRecord {
            values: SignalValues::default(),
            ai_confidence: None,
            ai_risk_level: None,
            playbook_alignment: None,
            weights: serde_json::json!({}),
            math_composite: 0.0,
            ai_composite: 0.0,
            final_score: 0.0,
            divergence_type: None,
            divergence_strength: None,
        },
    }
}

fn scheduler_once(dir: &Path, db: &str, base_url: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args(["scheduler", "--once", "--database", db])
        .current_dir(dir)
        .env_clear()
        .env("HYBRID_EXCHANGE__BASE_URL", base_url)
        .output()
        .unwrap()
}

/// `(runs, failed, skipped)` from "scheduler: N runs, F failed, S skipped (held elsewhere)".
fn counts(out: &Output) -> (u32, u32, u32) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n: Vec<u32> = stdout
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(n.len(), 3, "{stdout}");
    (n[0], n[1], n[2])
}

fn decisions(store: &Store) -> Vec<DecisionRecord> {
    store
        .learning_rows()
        .unwrap()
        .into_iter()
        .map(|r| r.decision)
        .collect()
}

#[test]
fn the_scheduler_fills_every_outcome_window_from_exchange_candles_and_catches_up() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(hybrid_testkit::binance::spawn(
        hybrid_testkit::binance::FakeBinanceConfig::new("k", "s"),
    ));
    let btc = Symbol::new("BTCUSDT").unwrap();
    let eth = Symbol::new("ETHUSDT").unwrap();
    // BTC rises by 0.01 per minute from 100, ETH falls by 0.001 per minute from 50.
    let (btc_base, btc_step) = (Decimal::ONE_HUNDRED, Decimal::new(1, 2));
    let (eth_base, eth_step) = (Decimal::from(50), Decimal::new(-1, 3));
    fake.set_klines(&btc, "1m", candles(btc_base, btc_step));

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hybrid.db").display());
    let store = Store::open(&db).unwrap();
    store.run_migrations().unwrap();
    // (key, symbol, minute after T0, stance, base, step)
    let made = [
        ("buy-btc", &btc, 0, 1, btc_base, btc_step),
        ("sell-btc", &btc, 30, -1, btc_base, btc_step),
        ("buy-eth", &eth, 5, 1, eth_base, eth_step),
    ];
    for (key, symbol, minute, stance, base, step) in made {
        let price = open_at(base, step, minute);
        store
            .record_decision(
                &decision(key, symbol, minute, stance, price),
                Timestamp::from_millis(T0),
            )
            .unwrap();
    }

    // ETHUSDT is not served yet: the fetch fails, the task fails and nothing is written.
    let (_, failed, _) = counts(&scheduler_once(dir.path(), &db, fake.base_url()));
    assert_eq!(failed, 1, "learning_outcomes failed on the missing symbol");
    let runs = store.task_runs("learning_outcomes").unwrap();
    assert_eq!(runs.len(), 1);
    let message = runs[0].outcome.clone().unwrap();
    assert!(message.contains("ETHUSDT"), "{message}");
    assert!(decisions(&store).iter().all(|d| d.outcomes == [None; 4]));

    // The next run catches up every window of every decision.
    fake.set_klines(&eth, "1m", candles(eth_base, eth_step));
    let before = fake.requests().len();
    let (ran, failed, _) = counts(&scheduler_once(dir.path(), &db, fake.base_url()));
    assert_eq!(failed, 0);
    assert!(ran >= 6, "every database task ran: {ran}");
    let requests = fake.requests().len() - before;
    // BTC: 1 h / 4 h ends share a page, then 24 h and 7 d; the two BTC decisions share them.
    assert!(
        requests <= 6,
        "{requests} klines requests for two symbols' few minutes"
    );
    let filled = decisions(&store);
    for (key, _, minute, stance, base, step) in made {
        let d = filled.iter().find(|d| d.source_key == key).unwrap();
        let price = open_at(base, step, minute);
        for window in OutcomeWindow::ALL {
            let end = open_at(base, step, minute + window.hours() * 60);
            let raw = ((end - price) / price * Decimal::ONE_HUNDRED).round_dp(6);
            let expected = if stance < 0 { -raw } else { raw };
            assert_eq!(
                d.outcome(window),
                Some(expected),
                "{key} {}",
                window.label()
            );
        }
    }
    let sell = filled.iter().find(|d| d.source_key == "sell-btc").unwrap();
    assert_eq!(
        sell.was_good_decision,
        Some(false),
        "a sell before a rise is a bad decision"
    );
    let eth_buy = filled.iter().find(|d| d.source_key == "buy-eth").unwrap();
    assert_eq!(eth_buy.was_good_decision, Some(false));
    let buy = filled.iter().find(|d| d.source_key == "buy-btc").unwrap();
    assert_eq!(buy.was_good_decision, Some(true));

    // A further run finds nothing to price: no request, no change.
    let before = fake.requests().len();
    let (_, failed, _) = counts(&scheduler_once(dir.path(), &db, fake.base_url()));
    assert_eq!(failed, 0);
    assert_eq!(decisions(&store), filled);
    let klines_requests = fake.requests()[before..]
        .iter()
        .filter(|r| r.path.contains("klines"))
        .count();
    assert_eq!(klines_requests, 0);
    let outcomes: Vec<_> = store
        .task_runs("learning_outcomes")
        .unwrap()
        .into_iter()
        .map(|r| r.outcome.unwrap())
        .collect();
    assert_eq!(outcomes[1..], ["ok", "ok"]);
    for task in ["learning_weights", "learning_playbook"] {
        assert_eq!(store.task_runs(task).unwrap().len(), 3, "{task}");
    }
}
