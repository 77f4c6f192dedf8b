//! The learning loop's tables on both backends: decisions with signals, idempotent outcomes,
//! judgements, conversations for replay, weights, discoveries and the data writers' rows.

#![allow(clippy::unwrap_used)]

use hybrid_core::{Price, Regime, Symbol, Timestamp};
use rust_decimal_macros::dec;

use crate::{
    learning::{
        DecisionKind, EconomicEvent, IndicatorSnapshot, MarketSignal, NewConversation, NewDecision,
        NewDiscovery, OutcomeWindow, PlaybookVersion, SignalRecord, SignalValues,
        SignalWeightsRecord,
    },
    Store,
};

fn on_both_backends(test: &str, check: impl Fn(&Store)) {
    let sqlite = Store::open("sqlite::memory:").unwrap();
    sqlite.run_migrations().unwrap();
    check(&sqlite);
    if let Some(schema) = hybrid_testkit::pg::pg_test_schema(test) {
        let pg = Store::open(schema.url()).unwrap();
        pg.run_migrations().unwrap();
        check(&pg);
        drop(pg);
    }
}

fn decision(key: &str, at_hours: i64, stance: i8) -> NewDecision {
    NewDecision {
        source_key: key.to_owned(),
        at: Timestamp::from_millis(at_hours * 3_600_000),
        cohort: "main".to_owned(),
        symbol: Symbol::new("BTCUSDT").unwrap(),
        kind: DecisionKind::Trade,
        action: if stance > 0 { "BUY" } else { "SELL" }.to_owned(),
        stance,
        taken: true,
        price: Price::new(dec!(50000)).unwrap(),
        quantity: None,
        regime: Regime::Sideways,
        regime_probability: Some(dec!(0.8)),
        reason: "grid level".to_owned(),
        signals: SignalRecord {
            values: SignalValues {
                rsi: Some(0.3),
                fear_greed: None,
                ..SignalValues::default()
            },
            ai_confidence: None,
            ai_risk_level: None,
            playbook_alignment: None,
            weights: serde_json::json!({"rsi": 0.15}),
            math_composite: 0.045,
            ai_composite: 0.0,
            final_score: 0.045,
            divergence_type: None,
            divergence_strength: None,
        },
    }
}

#[test]
fn a_decision_is_recorded_once_with_its_signals_and_missing_sources_stay_null() {
    on_both_backends("learning_decision_recorded_once", |store| {
        let (id, inserted) = store
            .record_decision(&decision("k1", 0, 1), Timestamp::from_millis(0))
            .unwrap();
        assert!(inserted);
        let (again, inserted) = store
            .record_decision(&decision("k1", 0, 1), Timestamp::from_millis(0))
            .unwrap();
        assert_eq!((again, inserted), (id, false));
        let rows = store.learning_rows().unwrap();
        assert_eq!(rows.len(), 1);
        let signals = rows[0].signals.as_ref().unwrap();
        assert_eq!(signals.values.rsi, Some(0.3));
        assert_eq!(signals.values.fear_greed, None);
        assert_eq!(rows[0].decision.regime, Regime::Sideways);
        assert_eq!(rows[0].components_correct, None);
    });
}

#[test]
fn outcomes_are_selected_by_age_and_written_once() {
    on_both_backends("learning_outcomes_written_once", |store| {
        store
            .record_decision(&decision("old", 0, -1), Timestamp::from_millis(0))
            .unwrap();
        store
            .record_decision(&decision("new", 30, 1), Timestamp::from_millis(0))
            .unwrap();
        let now = Timestamp::from_millis(25 * 3_600_000);
        let due = store
            .decisions_missing_outcome(OutcomeWindow::H24, now)
            .unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].source_key, "old");
        assert!(store
            .set_outcome(due[0].id, OutcomeWindow::H24, dec!(-10), dec!(10))
            .unwrap());
        assert!(!store
            .set_outcome(due[0].id, OutcomeWindow::H24, dec!(5), dec!(-5))
            .unwrap());
        let rows = store.learning_rows().unwrap();
        let old = &rows[0].decision;
        assert_eq!(old.outcome(OutcomeWindow::H24), Some(dec!(-10)));
        assert_eq!(old.raw_move_24h, Some(dec!(10)));
        assert_eq!(old.was_good_decision, Some(false));
        assert_eq!(old.outcome(OutcomeWindow::H1), None);
        assert!(store
            .decisions_missing_outcome(OutcomeWindow::H24, now)
            .unwrap()
            .is_empty());
        store.judge_by_pair(old.id, dec!(3.5)).unwrap();
        let judged = &store.learning_rows().unwrap()[0].decision;
        assert_eq!(judged.was_good_decision, Some(true));
        assert_eq!(judged.judged_by.as_deref(), Some("pair_pnl"));
        assert!(store
            .set_signal_correctness(old.id, Some(true), &serde_json::json!({"rsi": true}))
            .unwrap());
        assert!(!store
            .set_signal_correctness(old.id, Some(false), &serde_json::json!({}))
            .unwrap());
        assert_eq!(store.learning_rows().unwrap()[0].was_correct, Some(true));
    });
}

#[test]
fn conversations_playbooks_weights_and_discoveries_round_trip() {
    on_both_backends("learning_records_round_trip", |store| {
        let conversation = NewConversation {
            at: Timestamp::from_millis(5),
            purpose: "trading_signal".to_owned(),
            model: "deepseek-chat".to_owned(),
            request_key: "abc".to_owned(),
            prompt: "[]".to_owned(),
            response: Some("{}".to_owned()),
            error: None,
            verdict: "refused".to_owned(),
            reason: Some("no direction".to_owned()),
            tokens_used: Some(12),
            latency_ms: 40,
        };
        let failed = NewConversation {
            verdict: "failed".to_owned(),
            response: None,
            ..conversation.clone()
        };
        store.record_conversation(&failed).unwrap();
        store.record_conversation(&conversation).unwrap();
        let found = store.recorded_conversation("abc").unwrap().unwrap();
        assert_eq!(found.conversation, conversation);
        assert!(store.recorded_conversation("zzz").unwrap().is_none());
        assert_eq!(store.conversations().unwrap().len(), 2);

        assert!(store.latest_playbook().unwrap().is_none());
        let playbook = PlaybookVersion {
            version: 2,
            generated_at: Timestamp::from_millis(9),
            content: "# Playbook".to_owned(),
            trade_count: 20,
            success_rate: Some(55.0),
            changes_summary: "first".to_owned(),
            metrics: serde_json::json!({"n": 20}),
        };
        store.insert_playbook_version(&playbook).unwrap();
        assert_eq!(store.latest_playbook().unwrap(), Some(playbook.clone()));
        assert!(store.insert_playbook_version(&playbook).is_err());

        let weights = SignalWeightsRecord {
            at: Timestamp::from_millis(1),
            scope: "global".to_owned(),
            weights: serde_json::json!({"rsi": 0.2}),
            alphas: serde_json::json!({"rsi": 12.0}),
            confidence: 0.3,
            sample_size: 30,
        };
        store.save_signal_weights(&weights).unwrap();
        let newer = SignalWeightsRecord {
            at: Timestamp::from_millis(2),
            ..weights.clone()
        };
        store.save_signal_weights(&newer).unwrap();
        assert_eq!(store.active_signal_weights("global").unwrap(), Some(newer));
        assert_eq!(store.active_signal_weights("regime:BULL").unwrap(), None);

        let id = store
            .insert_discovery(&NewDiscovery {
                symbol: Symbol::new("NEWUSDT").unwrap(),
                discovered_at: Timestamp::from_millis(3),
                ai_approved: true,
                ai_category: Some("DEFI".to_owned()),
                ai_tier: Some(3),
                ai_risk: Some("high".to_owned()),
                ai_reason: "volume".to_owned(),
                volume_24h: Some(dec!(2000000)),
            })
            .unwrap();
        store.mark_discovery_added(id).unwrap();
        store
            .evaluate_discovery(id, 3, Some(66.7), Some(1.2), true)
            .unwrap();
        let stored = &store.discoveries(50).unwrap()[0];
        assert!(stored.was_added);
        assert_eq!(stored.was_good_discovery, Some(true));
        assert_eq!(stored.discovery.volume_24h, Some(dec!(2000000)));
    });
}

#[test]
fn data_writer_rows_ignore_duplicates_and_keep_actual_values() {
    on_both_backends("learning_data_writer_rows", |store| {
        let btc = Symbol::new("BTCUSDT").unwrap();
        let snapshot = IndicatorSnapshot {
            at: Timestamp::from_millis(7),
            symbol: btc.clone(),
            price: Price::new(dec!(100)).unwrap(),
            values: [Some(1.0); 13],
            trend: "UP".to_owned(),
            momentum: "BULLISH".to_owned(),
            volatility: "NORMAL".to_owned(),
        };
        assert!(store.insert_indicators(&snapshot).unwrap());
        assert!(!store.insert_indicators(&snapshot).unwrap());
        assert_eq!(store.latest_indicators(&btc).unwrap(), Some(snapshot));

        let mut event = EconomicEvent {
            event_date: Timestamp::from_millis(100),
            name: "CPI".to_owned(),
            country: "US".to_owned(),
            impact: "HIGH".to_owned(),
            category: "CPI".to_owned(),
            previous_value: None,
            forecast_value: Some("3.1".to_owned()),
            actual_value: Some("3.3".to_owned()),
        };
        store.upsert_economic_event(&event).unwrap();
        event.actual_value = None;
        store.upsert_economic_event(&event).unwrap();
        let events = store
            .economic_events(Timestamp::from_millis(0), Timestamp::from_millis(200))
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].actual_value.as_deref(), Some("3.3"));

        let signal = MarketSignal {
            at: Timestamp::from_millis(50),
            source: "funding_rate".to_owned(),
            symbol: btc.clone(),
            value: None,
            label: "UNAVAILABLE".to_owned(),
            detail: serde_json::json!({}),
        };
        assert!(store.insert_market_signal(&signal).unwrap());
        assert!(!store.insert_market_signal(&signal).unwrap());
        assert_eq!(
            store
                .latest_market_signal("funding_rate", &btc, Timestamp::from_millis(60))
                .unwrap(),
            Some(signal)
        );
    });
}
