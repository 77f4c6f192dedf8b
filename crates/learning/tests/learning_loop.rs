//! The learning loop against a real store: outcome windows (spec §11 scenarios 41–47),
//! decision quality for buys and sells, catch-up whatever the scheduler's timing, the playbook's
//! versions (scenario 58) and the backtest pass with declined switches.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use hybrid_core::{Candle, Price, Quantity, Regime, Side, Symbol, Timestamp, TradingMode};
use hybrid_learning::{
    compose, judge_entries_by_pairs, record_backtest, update_outcomes, update_playbook,
    BacktestJournal, CandleHistory, NoAdvisor, SignalInputs, SignalWeights, SwitchEvent,
    TradeEvent,
};
use hybrid_store::{DecisionKind, NewDecision, OutcomeWindow, Store};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const HOUR: i64 = 3_600_000;

fn store() -> Store {
    let store = Store::open("sqlite::memory:").unwrap();
    store.run_migrations().unwrap();
    store
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

/// Hourly candles whose open price at hour `h` is `price(h)`.
fn history(hours: i64, price: impl Fn(i64) -> Decimal) -> CandleHistory {
    let candles = (0..hours)
        .map(|h| {
            let open = Price::new(price(h)).unwrap();
            let close = Price::new(price(h + 1)).unwrap();
            Candle::new(
                Timestamp::from_millis(h * HOUR),
                open,
                open.max(close),
                open.min(close),
                close,
                Quantity::new(dec!(10)).unwrap(),
            )
            .unwrap()
        })
        .collect();
    CandleHistory::new([(btc(), candles)].into_iter().collect(), HOUR)
}

fn decision(key: &str, hour: i64, side: Side, price: Decimal) -> NewDecision {
    let (action, stance) = match side {
        Side::Buy => ("BUY", 1),
        Side::Sell => ("SELL", -1),
    };
    NewDecision {
        source_key: key.to_owned(),
        at: Timestamp::from_millis(hour * HOUR),
        cohort: "main".to_owned(),
        symbol: btc(),
        kind: DecisionKind::Trade,
        action: action.to_owned(),
        stance,
        taken: true,
        price: Price::new(price).unwrap(),
        quantity: Some(Quantity::new(dec!(0.1)).unwrap()),
        regime: Regime::Sideways,
        regime_probability: None,
        reason: "test".to_owned(),
        signals: compose(
            &SignalInputs {
                rsi: Some(25.0),
                ..SignalInputs::default()
            },
            &SignalWeights::default(),
        ),
    }
}

fn only_row(store: &Store) -> hybrid_store::LearningRow {
    let rows = store.learning_rows().unwrap();
    assert_eq!(rows.len(), 1);
    rows.into_iter().next().unwrap()
}

/// The acceptance test: a sell followed by a rally lost money against holding and is a bad
/// decision; a sell followed by a fall avoided a loss and is a good one. Buys mirror it.
#[test]
fn a_sell_that_lost_money_is_bad_and_a_sell_that_avoided_a_loss_is_good() {
    let cases = [
        (Side::Sell, dec!(55000), false, dec!(-10)),
        (Side::Sell, dec!(45000), true, dec!(10)),
        (Side::Buy, dec!(55000), true, dec!(10)),
        (Side::Buy, dec!(45000), false, dec!(-10)),
    ];
    for (side, later, good, outcome) in cases {
        let store = store();
        store
            .record_decision(
                &decision("d", 0, side, dec!(50000)),
                Timestamp::from_millis(0),
            )
            .unwrap();
        let prices = history(200, |h| if h < 24 { dec!(50000) } else { later });
        update_outcomes(&store, &prices, Timestamp::from_millis(30 * HOUR)).unwrap();
        let row = only_row(&store);
        assert_eq!(
            row.decision.outcome(OutcomeWindow::H24),
            Some(outcome),
            "{side:?} → {later}"
        );
        assert_eq!(
            row.decision.was_good_decision,
            Some(good),
            "{side:?} → {later}"
        );
        // RSI 25 is bullish (+0.7): right when the price rose, whatever the side.
        assert_eq!(
            row.was_correct,
            Some(later > dec!(50000)),
            "{side:?} → {later}"
        );
    }
}

/// Scenario 43: each window selects decisions older than its length; here a run at 2 h fills
/// 1 h only, at 5 h also 4 h, at 25 h also 24 h, and at 169 h the 7 d window.
#[test]
fn scenario_11_43_each_window_selects_decisions_old_enough() {
    let store = store();
    store
        .record_decision(
            &decision("d", 0, Side::Buy, dec!(100)),
            Timestamp::from_millis(0),
        )
        .unwrap();
    let prices = history(400, |h| Decimal::from(100 + h));
    let filled = |store: &Store| -> Vec<bool> {
        let d = only_row(store).decision;
        OutcomeWindow::ALL
            .iter()
            .map(|w| d.outcome(*w).is_some())
            .collect()
    };
    update_outcomes(&store, &prices, Timestamp::from_millis(2 * HOUR)).unwrap();
    assert_eq!(filled(&store), [true, false, false, false]);
    update_outcomes(&store, &prices, Timestamp::from_millis(5 * HOUR)).unwrap();
    assert_eq!(filled(&store), [true, true, false, false]);
    update_outcomes(&store, &prices, Timestamp::from_millis(25 * HOUR)).unwrap();
    assert_eq!(filled(&store), [true, true, true, false]);
    update_outcomes(&store, &prices, Timestamp::from_millis(169 * HOUR)).unwrap();
    assert_eq!(filled(&store), [true, true, true, true]);
    let d = only_row(&store).decision;
    // Priced at decision + window, not at "now": +1 %, +4 %, +24 %, +168 %.
    assert_eq!(d.outcome(OutcomeWindow::H1), Some(dec!(1)));
    assert_eq!(d.outcome(OutcomeWindow::H4), Some(dec!(4)));
    assert_eq!(d.outcome(OutcomeWindow::D7), Some(dec!(168)));
}

/// Whatever the scheduler's timing: one late run fills every window of every decision, and a
/// second run changes nothing.
#[test]
fn a_late_run_catches_up_every_window_and_a_second_run_is_a_no_op() {
    let store = store();
    for i in 0..10 {
        store
            .record_decision(
                &decision(
                    &format!("d{i}"),
                    i * 7,
                    Side::Buy,
                    Decimal::from(100 + i * 7),
                ),
                Timestamp::from_millis(0),
            )
            .unwrap();
    }
    let prices = history(600, |h| Decimal::from(100 + h));
    let run = update_outcomes(&store, &prices, Timestamp::from_millis(400 * HOUR)).unwrap();
    for window in ["1h", "4h", "24h", "7d"] {
        assert_eq!(run.written[window], 10, "{window}");
    }
    assert_eq!(run.signals_evaluated, 10);
    let again = update_outcomes(&store, &prices, Timestamp::from_millis(400 * HOUR)).unwrap();
    assert!(again.written.values().all(|n| *n == 0));
    assert_eq!(again.signals_evaluated, 0);
}

/// Scenarios 44 and 45: the 24 h window judges the decision, the 1 h window does not.
#[test]
fn scenario_11_44_45_only_the_24h_window_judges() {
    let store = store();
    store
        .record_decision(
            &decision("d", 0, Side::Buy, dec!(50000)),
            Timestamp::from_millis(0),
        )
        .unwrap();
    let prices = history(100, |h| if h == 0 { dec!(50000) } else { dec!(55000) });
    update_outcomes(&store, &prices, Timestamp::from_millis(HOUR + 1)).unwrap();
    let d = only_row(&store).decision;
    assert_eq!(d.outcome(OutcomeWindow::H1), Some(dec!(10)));
    assert_eq!(d.was_good_decision, None);
    update_outcomes(&store, &prices, Timestamp::from_millis(24 * HOUR)).unwrap();
    assert_eq!(only_row(&store).decision.was_good_decision, Some(true));
}

/// Scenario 46: a SELL at 50 000 with the price at 55 000 stores a negative outcome.
#[test]
fn scenario_11_46_a_sell_before_a_rise_has_a_negative_outcome() {
    let store = store();
    store
        .record_decision(
            &decision("d", 0, Side::Sell, dec!(50000)),
            Timestamp::from_millis(0),
        )
        .unwrap();
    let prices = history(100, |h| if h == 0 { dec!(50000) } else { dec!(55000) });
    update_outcomes(&store, &prices, Timestamp::from_millis(2 * HOUR)).unwrap();
    assert_eq!(
        only_row(&store).decision.outcome(OutcomeWindow::H1),
        Some(dec!(-10))
    );
}

/// Scenario 47: no price for the window's end → nothing is written, and it is retried later.
#[test]
fn scenario_11_47_an_unknown_price_writes_nothing() {
    let store = store();
    store
        .record_decision(
            &decision("d", 0, Side::Buy, dec!(50000)),
            Timestamp::from_millis(0),
        )
        .unwrap();
    let empty = CandleHistory::new(BTreeMap::new(), HOUR);
    let run = update_outcomes(&store, &empty, Timestamp::from_millis(200 * HOUR)).unwrap();
    assert_eq!(run.unpriced, 4);
    assert!(OutcomeWindow::ALL
        .iter()
        .all(|w| only_row(&store).decision.outcome(*w).is_none()));
    let prices = history(200, |_| dec!(50000));
    let run = update_outcomes(&store, &prices, Timestamp::from_millis(200 * HOUR)).unwrap();
    assert_eq!(run.written["7d"], 1);
}

/// Scenarios 41 and 42 (restated for our store): correctness is written once per signal row,
/// per component, and a closed pair judges its entry by net P&L while the exit keeps its own
/// 24 h verdict.
#[test]
fn scenario_11_41_42_correctness_and_pair_judgement() {
    let store = store();
    store
        .record_decision(
            &decision("buy", 0, Side::Buy, dec!(100)),
            Timestamp::from_millis(0),
        )
        .unwrap();
    store
        .record_decision(
            &decision("sell", 10, Side::Sell, dec!(90)),
            Timestamp::from_millis(0),
        )
        .unwrap();
    // 100 → 90 by hour 10, then on down to 80: the buy lost, the sell avoided a further loss.
    let prices = history(300, |h| {
        if h <= 10 {
            Decimal::from(100 - h)
        } else {
            dec!(80)
        }
    });
    update_outcomes(&store, &prices, Timestamp::from_millis(250 * HOUR)).unwrap();
    assert_eq!(judge_entries_by_pairs(&store, dec!(0.001)).unwrap(), 1);
    let rows = store.learning_rows().unwrap();
    let buy = &rows[0];
    let sell = &rows[1];
    assert_eq!(buy.decision.judged_by.as_deref(), Some("pair_pnl"));
    assert_eq!(buy.decision.was_good_decision, Some(false));
    // (90 − 100) × 0.1 − fees 0.01 + 0.009.
    assert_eq!(buy.decision.pair_net_pnl, Some(dec!(-1.019)));
    assert_eq!(sell.decision.judged_by.as_deref(), Some("outcome_24h"));
    assert_eq!(sell.decision.was_good_decision, Some(true));
    let components = buy.components_correct.as_ref().unwrap();
    assert_eq!(components["rsi"], serde_json::json!(false));
    assert_eq!(components["fear_greed"], serde_json::Value::Null);
}

/// Scenario 58: enough judged decisions make version 1 → 2 with signal accuracy in the
/// metrics; too few leave the version and say "not enough".
#[test]
fn scenario_11_58_playbook_versions_need_enough_decisions() {
    let store = store();
    store
        .record_decision(
            &decision("a", 0, Side::Buy, dec!(100)),
            Timestamp::from_millis(0),
        )
        .unwrap();
    store
        .record_decision(
            &decision("b", 1, Side::Buy, dec!(101)),
            Timestamp::from_millis(0),
        )
        .unwrap();
    let prices = history(400, |h| Decimal::from(100 + h));
    update_outcomes(&store, &prices, Timestamp::from_millis(300 * HOUR)).unwrap();
    let update = update_playbook(&store, Timestamp::from_millis(0), "params").unwrap();
    assert_eq!(update.version, 1);
    assert!(!update.produced);
    assert_eq!(update.changes, ["not enough trades (2/5)"]);

    for i in 2..20 {
        store
            .record_decision(
                &decision(&format!("d{i}"), i, Side::Buy, Decimal::from(100 + i)),
                Timestamp::from_millis(0),
            )
            .unwrap();
    }
    update_outcomes(&store, &prices, Timestamp::from_millis(300 * HOUR)).unwrap();
    let update = update_playbook(&store, Timestamp::from_millis(0), "params").unwrap();
    assert_eq!((update.version, update.produced), (2, true));
    let stored = store.latest_playbook().unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.trade_count, 20);
    assert!(stored.metrics["signal_accuracy"]["all"]["signals"][0]["signal"] == "rsi");
    assert!(stored.content.contains("Version: 2"));
    let next = update_playbook(&store, Timestamp::from_millis(1), "params").unwrap();
    assert_eq!(next.version, 3);
}

/// The backtest pass: fills, switches and a declined switch are recorded with the detected
/// regime and technical signals (F&G, whale, sentiment, macro and AI missing, not zero); a
/// re-run records nothing new.
#[test]
fn the_backtest_pass_records_taken_and_declined_decisions_once() {
    let store = store();
    // 60 days falling 2 % a day: the detector calls it BEAR, preferring CASH.
    let prices = history(60 * 24, |h| {
        #[allow(clippy::cast_precision_loss)]
        let price = 1000.0 * 0.98_f64.powf(h as f64 / 24.0);
        rust_decimal::prelude::FromPrimitive::from_f64(price)
            .map(|d: Decimal| d.round_dp(4))
            .unwrap()
    });
    let start = Timestamp::from_millis(40 * 24 * HOUR);
    let journal = BacktestJournal {
        run: "test".to_owned(),
        cohort: "main".to_owned(),
        initial_mode: TradingMode::Grid,
        start,
        end: Timestamp::from_millis(60 * 24 * HOUR),
        trades: vec![TradeEvent {
            time: start.plus_millis(5 * HOUR),
            symbol: btc(),
            side: Side::Buy,
            price: Price::new(dec!(800)).unwrap(),
            quantity: Quantity::new(dec!(0.5)).unwrap(),
            trade_id: 1,
        }],
        switches: vec![SwitchEvent {
            time: start.plus_millis(5 * 24 * HOUR + 3 * HOUR),
            symbol: btc(),
            from: TradingMode::Grid,
            to: TradingMode::Cash,
            reason: "BEAR confirmed".to_owned(),
        }],
    };
    let summary = record_backtest(
        &store,
        &prices,
        &journal,
        &mut NoAdvisor,
        &SignalWeights::default(),
        dec!(0.001),
    )
    .unwrap();
    assert_eq!(summary.recorded["TRADE"], 1);
    assert_eq!(summary.recorded["MODE_SWITCH"], 1);
    let rows = store.learning_rows().unwrap();
    // Days 41..=45 in GRID while BEAR prefers CASH: declined each morning; after the switch,
    // a declined decision can only be staying in CASH.
    let declined: Vec<&hybrid_store::LearningRow> = rows
        .iter()
        .filter(|r| r.decision.kind == DecisionKind::DeclinedSwitch)
        .collect();
    let n_declined = declined.len() as u64;
    assert_eq!(summary.recorded["DECLINED_SWITCH"], n_declined);
    let (before, after): (Vec<&hybrid_store::LearningRow>, Vec<_>) = declined
        .into_iter()
        .partition(|r| r.decision.at < journal.switches[0].time);
    assert_eq!(before.len(), 5);
    assert!(before
        .iter()
        .all(|r| r.decision.action == "stay GRID (not CASH)"));
    assert!(after
        .iter()
        .all(|r| r.decision.action.starts_with("stay CASH")));
    let switch = rows
        .iter()
        .find(|r| r.decision.kind == DecisionKind::ModeSwitch)
        .unwrap();
    assert_eq!(switch.decision.stance, -1);
    assert_eq!(switch.decision.regime, Regime::Bear);
    let declined = rows
        .iter()
        .find(|r| r.decision.kind == DecisionKind::DeclinedSwitch)
        .unwrap();
    assert!(!declined.decision.taken);
    assert_eq!(declined.decision.stance, 1);
    // Staying in GRID while the price kept falling was a bad decision.
    assert_eq!(declined.decision.was_good_decision, Some(false));
    let signals = switch.signals.as_ref().unwrap();
    assert!(signals.values.rsi.is_some() && signals.values.trend.is_some());
    assert_eq!(signals.values.fear_greed, None);
    assert_eq!(signals.values.ai, None);
    let again = record_backtest(
        &store,
        &prices,
        &journal,
        &mut NoAdvisor,
        &SignalWeights::default(),
        dec!(0.001),
    )
    .unwrap();
    assert!(again.recorded.is_empty());
    assert_eq!(again.already_stored, 2 + n_declined);
}

/// Scenario 74 and the 7-day evaluation: errors are named, the message appears only when coins
/// were approved, and an added coin is judged from the decisions recorded for it in 7 days.
#[test]
fn scenario_11_74_discovery_runs_logs_and_judges_after_seven_days() {
    use hybrid_learning::{
        evaluate_discoveries, run_discovery, Candidate, ChatAnswer, ChatRequest, DiscoveryError,
    };

    let store = store();
    let cands = vec![
        Candidate {
            symbol: "BTCUSDT".to_owned(),
            volume_24h: dec!(9000000),
        },
        Candidate {
            symbol: "ETHUSDT".to_owned(),
            volume_24h: dec!(5000000),
        },
    ];
    let answer = |content: &'static str| {
        move |_: &ChatRequest| {
            Ok(ChatAnswer {
                content: content.to_owned(),
                tokens_used: None,
                latency_ms: 1,
            })
        }
    };
    let none = r#"[{"symbol": "BTCUSDT", "category": "LARGE_CAP", "tier": 1, "risk": "low", "approved": false, "reason": "already big"}]"#;
    let two = r#"[{"symbol": "BTCUSDT", "category": "LARGE_CAP", "tier": 1, "risk": "low", "approved": true, "reason": "liquid"},
                  {"symbol": "ETHUSDT", "category": "L2", "tier": 2, "risk": "medium", "approved": true, "reason": "liquid"}]"#;
    let no_key = run_discovery(
        &store,
        &cands,
        false,
        "m",
        Timestamp::from_millis(0),
        answer(two),
    );
    assert!(matches!(no_key, Err(DiscoveryError::NoApiKey)));
    let no_pairs = run_discovery(
        &store,
        &[],
        true,
        "m",
        Timestamp::from_millis(0),
        answer(two),
    );
    assert_eq!(
        no_pairs.unwrap_err().to_string(),
        "Failed to fetch exchange info"
    );
    let quiet = run_discovery(
        &store,
        &cands,
        true,
        "m",
        Timestamp::from_millis(0),
        answer(none),
    )
    .unwrap();
    assert_eq!(quiet.message(), None);
    let summary = run_discovery(
        &store,
        &cands,
        true,
        "m",
        Timestamp::from_millis(0),
        answer(two),
    )
    .unwrap();
    assert_eq!(summary.added, ["BTCUSDT", "ETHUSDT"]);
    let message = summary.message().unwrap();
    assert!(
        message.contains("AUTO-DISCOVERY") && message.contains("2 added"),
        "{message}"
    );

    // BTC gets two winning buys within the 7 days; ETH gets none.
    for (key, hour) in [("w1", 10), ("w2", 20)] {
        store
            .record_decision(
                &decision(key, hour, Side::Buy, Decimal::from(100 + hour)),
                Timestamp::from_millis(0),
            )
            .unwrap();
    }
    let prices = history(400, |h| Decimal::from(100 + h));
    update_outcomes(&store, &prices, Timestamp::from_millis(300 * HOUR)).unwrap();
    assert_eq!(
        evaluate_discoveries(&store, Timestamp::from_millis(24 * HOUR)).unwrap(),
        0
    );
    assert_eq!(
        evaluate_discoveries(&store, Timestamp::from_millis(8 * 24 * HOUR)).unwrap(),
        2
    );
    let judged = store.discoveries(50).unwrap();
    let btc = judged
        .iter()
        .find(|d| d.discovery.symbol.as_str() == "BTCUSDT" && d.was_added)
        .unwrap();
    assert_eq!(btc.was_good_discovery, Some(true));
    assert_eq!(btc.trades_after_7d, Some(2));
    let eth = judged
        .iter()
        .find(|d| d.discovery.symbol.as_str() == "ETHUSDT")
        .unwrap();
    assert_eq!(eth.was_good_discovery, Some(false));
    assert!(eth.was_deactivated);
    assert_eq!(
        evaluate_discoveries(&store, Timestamp::from_millis(9 * 24 * HOUR)).unwrap(),
        0
    );
}

/// Bayesian weights from entries judged by their pairs: nothing below 20 judged entries, then
/// one active row per scope that the composite reads back.
#[test]
fn bayesian_weights_are_learned_from_judged_entries_and_read_back() {
    use hybrid_learning::{active_weights, update_weights, SignalName, MIN_UPDATE_SAMPLES};

    let store = store();
    let add_pairs = |from: i64, to: i64| {
        for i in from..to {
            // RSI 25 (bullish): winning round trips, so RSI's sign matches the P&L.
            store
                .record_decision(
                    &decision(&format!("b{i}"), 2 * i, Side::Buy, dec!(100)),
                    Timestamp::from_millis(0),
                )
                .unwrap();
            store
                .record_decision(
                    &decision(&format!("s{i}"), 2 * i + 1, Side::Sell, dec!(110)),
                    Timestamp::from_millis(0),
                )
                .unwrap();
        }
        judge_entries_by_pairs(&store, dec!(0.001)).unwrap();
    };
    add_pairs(0, 10);
    assert!(
        update_weights(&store, "global", Timestamp::from_millis(1), |_| true)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        active_weights(&store, "global").unwrap(),
        SignalWeights::default()
    );
    add_pairs(10, i64::try_from(MIN_UPDATE_SAMPLES).unwrap() + 5);
    let learned = update_weights(&store, "global", Timestamp::from_millis(2), |_| true)
        .unwrap()
        .unwrap();
    let rsi = learned.get(SignalName::Rsi);
    assert!(SignalName::ALL
        .iter()
        .filter(|s| **s != SignalName::Rsi)
        .all(|s| learned.get(*s) < rsi));
    assert!((learned.0.values().sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(active_weights(&store, "global").unwrap(), learned);
    assert_eq!(
        active_weights(&store, "regime:BULL").unwrap(),
        SignalWeights::default()
    );
}
