//! The portfolio tables on both backends: tier values, snapshots, index holdings,
//! redistributions, regimes and the validator's counts.

use hybrid_core::{Notional, Price, Quantity, Symbol, Timestamp};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::{
    cohorts::NewCohort,
    learning::{PlaybookVersion, PortfolioRecommendation},
    pairs::{ExitReason, PairEntry, PairExit},
    portfolio::{
        IndexHoldingRecord, PortfolioSnapshot, RedistributionRecord, RegimeRecord, TierValueUpdate,
    },
    store::Store,
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

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

#[test]
fn tiers_are_seeded_and_take_values_and_targets() {
    on_both_backends("tiers_are_seeded_and_take_values_and_targets", |store| {
        let tiers = store.portfolio_tiers().unwrap();
        let summary: Vec<(&str, Decimal, Option<Decimal>)> = tiers
            .iter()
            .map(|t| (t.tier_name.as_str(), t.target_pct, t.current_pct))
            .collect();
        assert_eq!(
            summary,
            [
                ("cash_reserve", dec!(10), None),
                ("index_holdings", dec!(65), None),
                ("trading", dec!(25), None),
            ]
        );
        store
            .write_tier_values(
                &[TierValueUpdate {
                    tier_name: "index_holdings".to_owned(),
                    current_pct: dec!(63.5),
                    current_value_usd: dec!(6350.25),
                }],
                t(5),
            )
            .unwrap();
        store
            .set_tier_target("cash_reserve", dec!(15), t(6))
            .unwrap();
        let tiers = store.portfolio_tiers().unwrap();
        assert_eq!(tiers[0].target_pct, dec!(15));
        assert_eq!(tiers[1].current_pct, Some(dec!(63.5)));
        assert_eq!(tiers[1].current_value_usd, dec!(6350.25));
        assert_eq!(tiers[1].updated_at, t(5));
        assert!(store.set_tier_target("bonds", dec!(1), t(7)).is_err());
    });
}

#[test]
fn snapshots_holdings_and_redistributions_round_trip() {
    on_both_backends(
        "snapshots_holdings_and_redistributions_round_trip",
        |store| {
            let snapshot = PortfolioSnapshot {
                at: t(3_600_000),
                total_value_usd: dec!(10000.5),
                cash_usd: dec!(1000),
                index_usd: dec!(6500.5),
                trading_usd: dec!(2500),
                daily_pnl: Some(dec!(-12.25)),
                daily_pnl_pct: None,
                max_drawdown: Some(dec!(-3.5)),
                sharpe_ratio: Some(1.25),
            };
            store.insert_portfolio_snapshot(&snapshot).unwrap();
            assert_eq!(store.portfolio_snapshots(t(0)).unwrap(), [snapshot]);
            assert!(store.portfolio_snapshots(t(3_600_001)).unwrap().is_empty());

            let mut holding = IndexHoldingRecord {
                symbol: Symbol::new("BTCUSDT").unwrap(),
                target_weight_pct: dec!(30),
                quantity: dec!(0.1),
                avg_entry_price: dec!(50000),
                current_price: dec!(60000),
                trailing_stop_pct: dec!(15),
                trailing_stop_price: dec!(51000),
                highest_price: dec!(60000),
                is_active: true,
                last_rebalance_at: Some(t(1)),
                updated_at: t(2),
            };
            store.upsert_index_holding(&holding).unwrap();
            holding.quantity = dec!(0.2);
            store.upsert_index_holding(&holding).unwrap();
            let rows = store.index_holdings().unwrap();
            assert_eq!(rows, [holding]);

            let record = RedistributionRecord {
                at: t(9),
                total_portfolio_value: dec!(10000),
                total_moved: dec!(700),
                pre_allocation: serde_json::json!({"cash_reserve": 3}),
                post_allocation: serde_json::json!({"cash_reserve": 10}),
                transfers: serde_json::json!([{"from": "index_holdings", "to": "cash_reserve", "amount": "700", "reason": "drift"}]),
                trigger_reason: "drift_threshold".to_owned(),
            };
            store.insert_redistribution(&record).unwrap();
            assert_eq!(store.redistributions().unwrap(), [record]);
        },
    );
}

fn closed_pair(store: &Store, pnl_sign: i64, at: i64) {
    let cohort = store
        .upsert_cohort(
            &NewCohort {
                name: "v".to_owned(),
                description: String::new(),
                config: serde_json::json!({}),
                starting_capital: dec!(1000),
                is_active: true,
            },
            t(0),
        )
        .unwrap()
        .id;
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let entry = PairEntry {
        client_order_id: None,
        trade_id: None,
        time: t(at),
        price: Price::new(dec!(100)).unwrap(),
        quantity: Quantity::new(dec!(1)).unwrap(),
        fee: Notional::ZERO,
    };
    store
        .open_trade_pair(Some(cohort), &symbol, &entry)
        .unwrap();
    let exit = PairExit {
        client_order_id: None,
        time: t(at + 1),
        price: Price::new(Decimal::from(100 + 10 * pnl_sign)).unwrap(),
        quantity: Quantity::new(dec!(1)).unwrap(),
        fee: Notional::ZERO,
        reason: ExitReason::GridFill,
    };
    store
        .close_trade_pairs_fifo(Some(cohort), &symbol, &exit)
        .unwrap();
}

#[test]
fn validation_counts_read_every_criterion() {
    on_both_backends("validation_counts_read_every_criterion", |store| {
        let now = t(100 * Timestamp::DAY_MS);
        let empty = store.validation_counts(now).unwrap();
        assert_eq!(empty.closed_trades, 0);
        assert_eq!(empty.index_tier, None);
        assert_eq!(empty.latest_sharpe, None);

        closed_pair(store, 1, 10);
        closed_pair(store, 1, 20);
        closed_pair(store, -1, 30);
        let snap = |at: i64, dd: Decimal, sharpe: Option<f64>| PortfolioSnapshot {
            at: t(at),
            total_value_usd: dec!(1),
            cash_usd: dec!(1),
            index_usd: dec!(0),
            trading_usd: dec!(0),
            daily_pnl: None,
            daily_pnl_pct: None,
            max_drawdown: Some(dd),
            sharpe_ratio: sharpe,
        };
        // Older than 60 days: its drawdown does not count.
        store
            .insert_portfolio_snapshot(&snap(30 * Timestamp::DAY_MS, dec!(-40), Some(0.1)))
            .unwrap();
        store
            .insert_portfolio_snapshot(&snap(50 * Timestamp::DAY_MS, dec!(-8.5), Some(0.9)))
            .unwrap();
        store
            .insert_portfolio_snapshot(&snap(60 * Timestamp::DAY_MS, dec!(-2), None))
            .unwrap();
        for (regime, previous) in [
            ("BULL", None),
            ("BULL", Some("BULL")),
            ("BEAR", Some("BULL")),
            ("BULL", Some("BEAR")),
        ] {
            store
                .record_regime(&RegimeRecord {
                    at: t(1),
                    symbol: None,
                    regime: regime.to_owned(),
                    probability: Some(0.8),
                    previous_regime: previous.map(str::to_owned),
                })
                .unwrap();
        }
        store
            .write_tier_values(
                &[TierValueUpdate {
                    tier_name: "index_holdings".to_owned(),
                    current_pct: dec!(63),
                    current_value_usd: dec!(6300),
                }],
                t(2),
            )
            .unwrap();
        store
            .insert_playbook_version(&PlaybookVersion {
                version: 3,
                generated_at: t(1),
                content: String::new(),
                trade_count: 0,
                success_rate: None,
                changes_summary: String::new(),
                metrics: serde_json::json!({}),
            })
            .unwrap();
        store
            .insert_portfolio_recommendation(&PortfolioRecommendation {
                at: t(1),
                recommended: serde_json::json!({}),
                current: serde_json::json!({}),
                reasoning: String::new(),
                confidence: 0.5,
                regime: None,
                was_applied: false,
            })
            .unwrap();

        let counts = store.validation_counts(now).unwrap();
        assert_eq!(counts.closed_trades, 3);
        assert_eq!((counts.winning_trades, counts.trades_with_pnl), (2, 3));
        assert_eq!(counts.latest_sharpe, Some(0.9));
        assert_eq!(counts.worst_drawdown_pct, Some(dec!(-8.5)));
        assert_eq!(counts.regime_changes, 2);
        assert_eq!(counts.index_tier, Some((dec!(63), dec!(65))));
        assert_eq!(counts.playbook_version, 3);
        assert_eq!(counts.ai_recommendations, 1);
        assert_eq!(counts.signal_evaluations, 0);
    });
}
