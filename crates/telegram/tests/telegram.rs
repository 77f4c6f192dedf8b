//! The real teloxide bot and the outbox sender against the fake Bot API of `hybrid-testkit`:
//! authorisation, command answers from the database, pause with confirmation, splitting and
//! escaping, learning mode, an outage and 429 `retry_after`; `/portfolio` and `/validate` over
//! tiers written through the store and over a portfolio backtest on the real 1h candles
//! (`HYBRID_KLINES_DIR`, default `../shared/data/klines` next to the repository).
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on an unexpected error"
)]

use std::{path::PathBuf, sync::Arc, time::Duration};

use hybrid_cockpit::{StoreCockpit, PAUSE_DOCUMENT};
use hybrid_core::{Clock, CohortId, Notional, Price, Quantity, SimClock, Symbol, Timestamp};
use hybrid_store::EquityRecord;
use hybrid_store::{
    ExitReason, IndexHoldingRecord, NewCohort, NewNotification, NotificationStatus, PairEntry,
    PairExit, RedistributionRecord, Severity, Store, TierValueUpdate,
};
use hybrid_telegram::{
    run_bot, telegram_client, BotSettings, Command, LearningDesk, OutboxSender, SenderSettings,
};
use hybrid_testkit::telegram::{spawn, FakeTelegram, FakeTelegramConfig, Outage, SentKind};
use rust_decimal_macros::dec;
use serde_json::json;
use teloxide::utils::command::BotCommands as _;

const OWNER: i64 = 4242;
const STRANGER: i64 = 999;
/// A group both the owner and a stranger are members of.
const GROUP: i64 = -100_777;
const START: i64 = 1_767_225_600_000;

fn store() -> Arc<Store> {
    let store = Store::open("sqlite::memory:").unwrap();
    store.run_migrations().unwrap();
    Arc::new(store)
}

/// A cohort `main` trading BTCUSDT in GRID with 400 USDT, as the engine would save it.
fn seed(store: &Store) {
    store
        .upsert_cohort(
            &NewCohort {
                name: "main".to_owned(),
                description: String::new(),
                config: json!({}),
                starting_capital: dec!(1234.5),
                is_active: true,
            },
            Timestamp::from_millis(START),
        )
        .unwrap();
    let state = json!({
        "saved_at": START,
        "symbols": {"BTCUSDT": {"mode": "GRID", "allocation": "400", "manager": {"history": []}}},
        "stops": [],
        "progress": {"last_candle_close": START}
    });
    store
        .save_state("hybrid_state/main", &state, Timestamp::from_millis(START))
        .unwrap();
}

struct Running {
    fake: FakeTelegram,
    store: Arc<Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn start_bot() -> Running {
    let store = store();
    seed(&store);
    start_bot_on(store).await
}

async fn start_bot_on(store: Arc<Store>) -> Running {
    let fake = spawn(FakeTelegramConfig::default()).await;
    start_bot_with(store, fake)
}

/// Starts the bot on `fake` (owner [`OWNER`], allowed chats: the owner's and [`GROUP`]).
fn start_bot_with(store: Arc<Store>, fake: FakeTelegram) -> Running {
    let bot = telegram_client(fake.token(), &fake.api_url()).unwrap();
    let cockpit = Arc::new(StoreCockpit::new(Arc::clone(&store), None));
    let desk = LearningDesk::new(Arc::clone(&store), None);
    let clock: Arc<dyn Clock> = Arc::new(SimClock::new(Timestamp::from_millis(START)));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = BotSettings {
        owner_user_ids: vec![OWNER],
        allowed_chat_ids: vec![OWNER, GROUP],
    };
    tokio::spawn(async move {
        run_bot(bot, cockpit, desk, clock, settings, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Running {
        fake,
        store,
        stop: Some(stop),
    }
}

/// Sends `text` from `chat` and returns the next message the bot sends.
async fn ask(fake: &FakeTelegram, chat: i64, text: &str) -> String {
    let before = fake.sent().len();
    fake.inject_message(chat, text);
    let sent = fake
        .wait_for_sent(before + 1, Duration::from_secs(10))
        .await;
    assert!(sent.len() > before, "no answer to {text}");
    sent[before].text.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_answers_its_owner_from_the_database_and_ignores_strangers() {
    let mut running = start_bot().await;
    let fake = &running.fake;

    let status = ask(fake, OWNER, "/status").await;
    assert!(status.contains("<b>main</b>"), "{status}");
    assert!(status.contains("1234.50"), "{status}");
    assert!(
        status.contains("BTCUSDT <b>GRID</b> · allocation 400.00"),
        "{status}"
    );
    assert!(status.contains("Trading: ▶️ running"), "{status}");

    fake.inject_message(STRANGER, "/status");
    fake.inject_message(-STRANGER, "/pause");
    let help = ask(fake, OWNER, "/help").await;
    assert!(
        help.contains("/report") && help.contains("/pause"),
        "{help}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fake.sent_to(STRANGER).is_empty());
    assert!(fake.sent_to(-STRANGER).is_empty());
    assert!(running.store.load_state(PAUSE_DOCUMENT).unwrap().is_none());

    let unknown = ask(fake, OWNER, "/sell everything").await;
    assert!(unknown.contains("Unknown command"), "{unknown}");
    // Nothing the validator reads is recorded yet: it says so, and still shows the criteria.
    let validate = ask(fake, OWNER, "/validate").await;
    assert!(validate.contains("Not yet: nothing"), "{validate}");
    assert!(validate.contains("❌ <b>min_trades</b>: 0"), "{validate}");
    assert!(validate.contains("NOT ready"), "{validate}");
    let portfolio = ask(fake, OWNER, "/portfolio").await;
    assert!(
        portfolio.contains("Not yet: the portfolio manager has not run"),
        "{portfolio}"
    );
    assert!(
        portfolio.contains("Cash reserve 10%, Index 65%, Trading 25%"),
        "{portfolio}"
    );
    let registered: Vec<String> = fake
        .registered_commands()
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert!(
        registered
            .iter()
            .any(|c| c.trim_start_matches('/') == "status"),
        "{registered:?}"
    );
    assert!(fake
        .sent()
        .iter()
        .all(|m| m.parse_mode.as_deref() == Some("HTML")));
    running.stop.take().unwrap().send(()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_needs_a_confirmation_and_resume_clears_it() {
    let mut running = start_bot().await;
    let fake = &running.fake;
    let asked = ask(fake, OWNER, "/pause").await;
    assert!(asked.contains("/confirm"), "{asked}");
    assert!(running.store.load_state(PAUSE_DOCUMENT).unwrap().is_none());
    let cancelled = ask(fake, OWNER, "/cancel").await;
    assert!(cancelled.contains("Cancelled"), "{cancelled}");
    assert!(ask(fake, OWNER, "/confirm")
        .await
        .contains("Nothing to confirm"));

    ask(fake, OWNER, "/pause").await;
    let paused = ask(fake, OWNER, "/confirm").await;
    assert!(paused.contains("Paused"), "{paused}");
    let document = running.store.load_state(PAUSE_DOCUMENT).unwrap().unwrap();
    assert_eq!(
        document.body,
        json!({"paused": true, "by": OWNER, "at": START})
    );
    let status = ask(fake, OWNER, "/status").await;
    assert!(status.contains("paused"), "{status}");

    let resumed = ask(fake, OWNER, "/resume").await;
    assert!(resumed.contains("Resumed"), "{resumed}");
    let document = running.store.load_state(PAUSE_DOCUMENT).unwrap().unwrap();
    assert_eq!(document.body["paused"], json!(false));
    running.stop.take().unwrap().send(()).unwrap();
}

/// Books a round trip of 1 BTC bought at `buy` and sold at `sell` (no fees), closed at `at`.
fn round_trip(store: &Store, buy: i64, sell: i64, at: i64) {
    let cohort = store.get_cohort_by_name("main").unwrap().unwrap().id;
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let entry = PairEntry {
        client_order_id: None,
        trade_id: None,
        time: Timestamp::from_millis(at - 60_000),
        price: Price::new(buy.into()).unwrap(),
        quantity: Quantity::new(1.into()).unwrap(),
        fee: Notional::ZERO,
    };
    store
        .open_trade_pair(Some(cohort), &symbol, &entry)
        .unwrap();
    let exit = PairExit {
        client_order_id: None,
        time: Timestamp::from_millis(at),
        price: Price::new(sell.into()).unwrap(),
        quantity: Quantity::new(1.into()).unwrap(),
        fee: Notional::ZERO,
        reason: ExitReason::GridFill,
    };
    store
        .close_trade_pairs_fifo(Some(cohort), &symbol, &exit)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_shows_realised_pnl_per_coin_and_sends_the_equity_chart() {
    let mut running = start_bot().await;
    round_trip(&running.store, 100, 110, START + 3_600_000);
    round_trip(&running.store, 120, 117, START + 7_200_000);
    let cohort = running
        .store
        .get_cohort_by_name("main")
        .unwrap()
        .unwrap()
        .id;
    let btc = Symbol::new("BTCUSDT").unwrap();
    for hour in 0..3_i64 {
        let equity = dec!(1234.5) + rust_decimal::Decimal::from(hour * 3);
        running
            .store
            .record_equity_snapshot(&EquityRecord {
                at: Timestamp::from_millis(START + hour * 3_600_000),
                cohort,
                cash: Notional::new(equity),
                holdings: Notional::ZERO,
                equity: Notional::new(equity),
                positions: std::collections::BTreeMap::new(),
                prices: [(btc.clone(), Price::new((100 + hour * 5).into()).unwrap())]
                    .into_iter()
                    .collect(),
            })
            .unwrap();
    }
    let fake = &running.fake;
    let report = ask(fake, OWNER, "/report").await;
    assert!(report.contains("realised +7.00 USDT (+0.57%)"), "{report}");
    assert!(report.contains("2 closed, win rate 50.0%"), "{report}");
    assert!(
        report.contains("BTCUSDT GRID · realised +7.00 USDT in 2"),
        "{report}"
    );
    let sent = fake.wait_for_sent(2, Duration::from_secs(10)).await;
    let chart = sent.last().unwrap();
    assert!(
        matches!(chart.kind, SentKind::Photo { bytes } if bytes > 1_000),
        "{chart:?}"
    );
    assert!(
        chart.text.starts_with("Equity (cash + coins"),
        "{}",
        chart.text
    );
    let trades = ask(fake, OWNER, "/trades").await;
    assert!(
        trades.contains("$120.00 → $117.00 · -3.00 USDT"),
        "{trades}"
    );
    let profit = ask(fake, OWNER, "/profit").await;
    assert!(profit.contains("<b>Total</b> +7.00 USDT"), "{profit}");
    running.stop.take().unwrap().send(()).unwrap();
}

fn note(at: i64, severity: Severity, text: &str) -> NewNotification {
    NewNotification {
        at: Timestamp::from_millis(at),
        cohort: Some(CohortId::new(1)),
        kind: "test".to_owned(),
        severity,
        text: text.to_owned(),
    }
}

fn sender(
    fake: &FakeTelegram,
    store: &Arc<Store>,
    clock: &Arc<SimClock>,
    learning: bool,
) -> OutboxSender {
    let settings = SenderSettings {
        chat_ids: vec![OWNER],
        learning_mode: learning,
        poll_interval: Duration::from_millis(10),
        min_send_interval: Duration::ZERO,
        initial_backoff: Duration::from_secs(2),
        max_backoff: Duration::from_secs(60),
        routine_max_age: Duration::from_secs(3_600),
    };
    let bot = telegram_client(fake.token(), &fake.api_url()).unwrap();
    let clock: Arc<dyn Clock> = Arc::clone(clock) as Arc<dyn Clock>;
    OutboxSender::new(bot, Arc::clone(store), clock, settings).unwrap()
}

#[tokio::test]
async fn long_notifications_are_split_on_lines_and_escaped() {
    let fake = spawn(FakeTelegramConfig::default()).await;
    let store = store();
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(START)));
    let line = "BTCUSDT P&L <+1.5%> on grid level\n"; // 34 characters, three to escape
    let text = line.repeat(200); // 6 800 characters
    store
        .enqueue_notification(&note(START, Severity::Important, &text))
        .unwrap();
    let report = sender(&fake, &store, &clock, false)
        .drain_once()
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let sent = fake.sent();
    assert_eq!(
        sent.len(),
        2,
        "the fake refuses anything over 4096 visible characters"
    );
    assert!(sent[0]
        .text
        .starts_with("(1/2) BTCUSDT P&amp;L &lt;+1.5%&gt;"));
    assert!(sent[1].text.starts_with("(2/2) "));
    let visible: String = sent
        .iter()
        .map(|m| {
            m.text[6..]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect();
    assert_eq!(visible, text, "nothing lost, every cut on a line boundary");
    assert!(!sent[0].disable_notification);
}

#[tokio::test]
async fn learning_mode_suppresses_routine_notifications_but_never_critical_ones() {
    let fake = spawn(FakeTelegramConfig::default()).await;
    let store = store();
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(START)));
    let fill = store
        .enqueue_notification(&note(START, Severity::Routine, "filled"))
        .unwrap();
    store
        .enqueue_notification(&note(START, Severity::Important, "daily summary"))
        .unwrap();
    store
        .enqueue_notification(&note(START, Severity::Critical, "stop-loss sell failed"))
        .unwrap();
    let report = sender(&fake, &store, &clock, true)
        .drain_once()
        .await
        .unwrap();
    assert_eq!((report.sent, report.suppressed), (2, 1));
    let texts: Vec<String> = fake.sent().into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["daily summary", "🚨 stop-loss sell failed"]);
    assert_eq!(
        store.notification(fill).unwrap().unwrap().status,
        NotificationStatus::Suppressed
    );
    // Without learning mode a routine message goes out, silently.
    store
        .enqueue_notification(&note(START, Severity::Routine, "filled again"))
        .unwrap();
    sender(&fake, &store, &clock, false)
        .drain_once()
        .await
        .unwrap();
    let last = fake.sent().pop().unwrap();
    assert_eq!(last.text, "filled again");
    assert!(last.disable_notification);
    assert_eq!(last.kind, SentKind::Text);
}

#[tokio::test]
async fn an_outage_delays_notifications_which_then_arrive_in_order_and_once() {
    let mut fake = spawn(FakeTelegramConfig::default()).await;
    let store = store();
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(START)));
    let sender = sender(&fake, &store, &clock, false);
    for i in 0..5 {
        store
            .enqueue_notification(&note(START, Severity::Important, &format!("fill {i}")))
            .unwrap();
    }
    // Down with connections refused, then with 503 answers.
    fake.go_offline();
    let report = sender.drain_once().await.unwrap();
    assert!(report.deferred);
    assert_eq!(report.sent, 0);
    fake.go_online().await;
    fake.set_outage(Some(hybrid_testkit::telegram::Outage::ServiceUnavailable));
    clock.advance_by(2_000).unwrap();
    let report = sender.drain_once().await.unwrap();
    assert!(report.deferred);
    assert!(fake.sent().is_empty());
    // More notifications queue while Telegram is down.
    for i in 5..8 {
        store
            .enqueue_notification(&note(
                START + 3_000,
                Severity::Important,
                &format!("fill {i}"),
            ))
            .unwrap();
    }
    let first = store
        .due_notifications(clock.now().plus_millis(3_600_000), 1)
        .unwrap();
    assert_eq!(first[0].attempts, 2);
    assert_eq!(store.outbox_summary().unwrap().pending, 8);

    fake.set_outage(None);
    // Still waiting for the back-off (2 s, then 4 s): nothing is tried early.
    assert_eq!(sender.drain_once().await.unwrap().sent, 0);
    clock.advance_by(4_000).unwrap();
    let report = sender.drain_once().await.unwrap();
    assert_eq!(report.sent, 8);
    let texts: Vec<String> = fake.sent().into_iter().map(|m| m.text).collect();
    let expected: Vec<String> = (0..8).map(|i| format!("fill {i}")).collect();
    assert_eq!(texts, expected);
    // Nothing is sent twice.
    clock.advance_by(60_000).unwrap();
    assert_eq!(sender.drain_once().await.unwrap(), Default::default());
    assert_eq!(fake.sent().len(), 8);
    assert_eq!(store.outbox_summary().unwrap().pending, 0);
}

#[tokio::test]
async fn too_many_requests_waits_exactly_retry_after_and_keeps_the_order() {
    let fake = spawn(FakeTelegramConfig::default()).await;
    let store = store();
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(START)));
    let sender = sender(&fake, &store, &clock, false);
    let first = store
        .enqueue_notification(&note(START, Severity::Important, "first"))
        .unwrap();
    store
        .enqueue_notification(&note(START, Severity::Important, "second"))
        .unwrap();
    fake.rate_limit_next_sends(1, 7);
    let report = sender.drain_once().await.unwrap();
    assert!(report.deferred);
    let waiting = store.notification(first).unwrap().unwrap();
    assert_eq!(
        waiting.next_attempt_at,
        Timestamp::from_millis(START + 7_000)
    );
    assert!(waiting.last_error.unwrap().contains("retry after 7"));
    clock.advance_by(6_999).unwrap();
    assert_eq!(sender.drain_once().await.unwrap().sent, 0);
    clock.advance_by(1).unwrap();
    assert_eq!(sender.drain_once().await.unwrap().sent, 2);
    let texts: Vec<String> = fake.sent().into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["first", "second"]);
}

#[tokio::test]
async fn an_unsendable_notification_is_abandoned_and_does_not_block_the_rest() {
    let fake = spawn(FakeTelegramConfig::default()).await;
    let store = store();
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(START)));
    let empty = store
        .enqueue_notification(&note(START, Severity::Important, ""))
        .unwrap();
    store
        .enqueue_notification(&note(START, Severity::Important, "next"))
        .unwrap();
    let report = sender(&fake, &store, &clock, false)
        .drain_once()
        .await
        .unwrap();
    assert_eq!((report.sent, report.abandoned), (1, 1));
    let abandoned = store.notification(empty).unwrap().unwrap();
    assert_eq!(abandoned.status, NotificationStatus::Abandoned);
    assert_eq!(fake.sent()[0].text, "next");
}

#[tokio::test]
async fn routine_notifications_stale_after_an_outage_are_skipped_and_counted_never_important_ones()
{
    let fake = spawn(FakeTelegramConfig::default()).await;
    let store = store();
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(START)));
    for i in 0..3 {
        store
            .enqueue_notification(&note(START, Severity::Routine, &format!("fill {i}")))
            .unwrap();
    }
    store
        .enqueue_notification(&note(START, Severity::Critical, "stop-loss sell failed"))
        .unwrap();
    // Two hours later (Telegram was down all along), the fills are stale.
    clock.advance_by(2 * 3_600_000).unwrap();
    store
        .enqueue_notification(&note(
            START + 2 * 3_600_000,
            Severity::Routine,
            "fresh fill",
        ))
        .unwrap();
    let report = sender(&fake, &store, &clock, false)
        .drain_once()
        .await
        .unwrap();
    assert_eq!((report.sent, report.skipped_stale), (2, 3));
    let texts: Vec<String> = fake.sent().into_iter().map(|m| m.text).collect();
    assert_eq!(texts[..2], ["🚨 stop-loss sell failed", "fresh fill"]);
    assert!(
        texts[2].starts_with("3 routine notifications older than 60 min"),
        "{}",
        texts[2]
    );
    assert_eq!(texts.len(), 3);
    assert_eq!(store.outbox_summary().unwrap().pending, 0);
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_retried_not_abandoned() {
    let fake = spawn(FakeTelegramConfig::default()).await;
    let store = store();
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(START)));
    let sender = sender(&fake, &store, &clock, false);
    let id = store
        .enqueue_notification(&note(START, Severity::Critical, "circuit breaker"))
        .unwrap();
    fake.set_outage(Some(hybrid_testkit::telegram::Outage::InvalidJson));
    assert!(sender.drain_once().await.unwrap().deferred);
    let waiting = store.notification(id).unwrap().unwrap();
    assert_eq!(waiting.status, NotificationStatus::Pending);
    assert_eq!(
        waiting.next_attempt_at,
        Timestamp::from_millis(START + 2_000)
    );
    fake.set_outage(None);
    clock.advance_by(2_000).unwrap();
    assert_eq!(sender.drain_once().await.unwrap().sent, 1);
    assert_eq!(fake.sent()[0].text, "🚨 circuit breaker");
}

/// The tiers as the portfolio manager writes them: 1200 / 5800 / 3000 USDT of 10 000, one
/// index holding, and one redistribution whose reason needs escaping.
fn seed_portfolio(store: &Store) {
    let tier = |name: &str, pct, value| TierValueUpdate {
        tier_name: name.to_owned(),
        current_pct: pct,
        current_value_usd: value,
    };
    store
        .write_tier_values(
            &[
                tier("cash_reserve", dec!(12), dec!(1200)),
                tier("index_holdings", dec!(58), dec!(5800)),
                tier("trading", dec!(30), dec!(3000)),
            ],
            Timestamp::from_millis(START),
        )
        .unwrap();
    store
        .upsert_index_holding(&IndexHoldingRecord {
            symbol: Symbol::new("ETHUSDT").unwrap(),
            target_weight_pct: dec!(22.5),
            quantity: dec!(2),
            avg_entry_price: dec!(2500),
            current_price: dec!(2900),
            trailing_stop_pct: dec!(15),
            trailing_stop_price: dec!(2465),
            highest_price: dec!(2900),
            is_active: true,
            last_rebalance_at: Some(Timestamp::from_millis(START)),
            updated_at: Timestamp::from_millis(START),
        })
        .unwrap();
    store
        .insert_redistribution(&RedistributionRecord {
            at: Timestamp::from_millis(START - 3_600_000),
            total_portfolio_value: dec!(9950),
            total_moved: dec!(412.5),
            pre_allocation: json!({}),
            post_allocation: json!({}),
            transfers: json!([{
                "from": "trading", "to": "cash_reserve", "planned": "412.5", "moved": "412.50",
                "reason": "cash_reserve drift over 3 pp <below target> & refilled"
            }]),
            trigger_reason: "drift_threshold".to_owned(),
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portfolio_and_validate_show_the_stored_tiers_and_all_nine_criteria() {
    let store = store();
    seed(&store);
    seed_portfolio(&store);
    let mut running = start_bot_on(store).await;
    let fake = &running.fake;

    let portfolio = ask(fake, OWNER, "/portfolio").await;
    for line in [
        "🟢 <b>Cash reserve</b>: 1200.00 USDT · 12.00% (target 10.00%) · drift +2.00 pp",
        "🔴 <b>Index</b>: 5800.00 USDT · 58.00% (target 65.00%) · drift -7.00 pp",
        "🔴 <b>Trading</b>: 3000.00 USDT · 30.00% (target 25.00%) · drift +5.00 pp",
        "<b>Total</b> 10000.00 USDT · redistribution needed: yes",
        "ETHUSDT 2 @ $2.9K · value 5800.00 USDT · weight 22.50% · stop $2.5K",
        "(drift_threshold): moved 412.50 USDT of 9950.00 USDT",
        "trading → cash_reserve 412.50 USDT: cash_reserve drift over 3 pp &lt;below target&gt; &amp; refilled",
    ] {
        assert!(portfolio.contains(line), "{line:?} missing from {portfolio}");
    }
    assert!(!portfolio.contains("Not yet"), "{portfolio}");

    let validate = ask(fake, OWNER, "/validate").await;
    for name in [
        "min_trades",
        "min_sharpe",
        "min_playbook_version",
        "min_signal_evaluations",
        "min_regime_changes",
        "max_drawdown",
        "min_win_rate",
        "index_tracking_error",
        "min_ai_recommendations",
    ] {
        assert!(
            validate.contains(&format!("<b>{name}</b>: ")),
            "{name} missing from {validate}"
        );
    }
    // The index tier is 7 pp below its target: a real value, failing the 5 pp limit.
    assert!(
        validate.contains("❌ <b>index_tracking_error</b>: 7"),
        "{validate}"
    );
    assert!(
        validate.contains("❌ <b>min_trades</b>: 0 (need &gt;= 5000)"),
        "{validate}"
    );
    assert!(!validate.contains("Not yet"), "{validate}");
    assert!(validate.contains("NOT ready"), "{validate}");
    running.stop.take().unwrap().send(()).unwrap();
}

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portfolio_and_validate_read_what_a_portfolio_backtest_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portfolio.db").display());
    let mut config = hybrid_portfolio::PortfolioBacktestConfig::new(klines_dir(), &url);
    config.from = Some(Timestamp::from_millis(1_672_531_200_000)); // 2023-01-01
    config.to = Some(Timestamp::from_millis(1_673_740_800_000)); // 2023-01-15
    config.warmup_days = 10;
    tokio::task::spawn_blocking(move || {
        hybrid_portfolio::run_portfolio_backtest(&config, &mut |_| {})
    })
    .await
    .unwrap()
    .unwrap();
    let store = Store::open(&url).unwrap();
    let tiers = store.portfolio_tiers().unwrap();
    let holdings = store.index_holdings().unwrap();
    assert!(!holdings.is_empty());
    let mut running = start_bot_on(Arc::new(store)).await;
    let fake = &running.fake;

    let portfolio = ask(fake, OWNER, "/portfolio").await;
    assert!(!portfolio.contains("Not yet"), "{portfolio}");
    for (label, code) in [
        ("Cash reserve", "cash_reserve"),
        ("Index", "index_holdings"),
        ("Trading", "trading"),
    ] {
        let row = tiers.iter().find(|t| t.tier_name == code).unwrap();
        let expected = format!(
            "<b>{label}</b>: {:.2} USDT · {:.2}%",
            row.current_value_usd.round_dp(2),
            row.current_pct.unwrap().round_dp(2)
        );
        assert!(
            portfolio.contains(&expected),
            "{expected:?} missing from {portfolio}"
        );
    }
    let total: rust_decimal::Decimal = tiers.iter().map(|t| t.current_value_usd).sum();
    assert!(
        portfolio.contains(&format!("<b>Total</b> {:.2} USDT", total.round_dp(2))),
        "{portfolio}"
    );
    for h in holdings.iter().filter(|h| h.is_active) {
        assert!(
            portfolio.contains(&format!(
                "\n{} {} @",
                h.symbol.as_str(),
                h.quantity.normalize()
            )),
            "{} missing from {portfolio}",
            h.symbol.as_str()
        );
    }

    // The bot's clock stands at START; the validator over the same database at the same time
    // gives the figures the answer must show.
    let validate = ask(fake, OWNER, "/validate").await;
    let expected = hybrid_portfolio::validate_store(
        &Store::open(&url).unwrap(),
        Timestamp::from_millis(START),
        &hybrid_portfolio::Criteria::default(),
    );
    assert_eq!(expected.results.len(), 9);
    for r in &expected.results {
        let line = format!(
            "{} <b>{}</b>: {} (need {})",
            if r.passed { "✅" } else { "❌" },
            r.name,
            r.value,
            hybrid_telegram::escape_html(&r.threshold)
        );
        assert!(validate.contains(&line), "{line:?} missing from {validate}");
    }
    assert!(
        !validate.contains("index_tracking_error</b>: n/a"),
        "{validate}"
    );
    running.stop.take().unwrap().send(()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_only_the_owner_commands_not_the_other_members() {
    let mut running = start_bot().await;
    let fake = &running.fake;
    // A member of an allowed group who is not an owner: ignored, whatever the command.
    fake.inject_message_from(GROUP, STRANGER, "/pause");
    fake.inject_message_from(GROUP, STRANGER, "/confirm");
    fake.inject_message_from(GROUP, STRANGER, "/status");
    // The owner in the same group is answered there.
    let before = fake.sent().len();
    fake.inject_message_from(GROUP, OWNER, "/status");
    let sent = fake
        .wait_for_sent(before + 1, Duration::from_secs(10))
        .await;
    assert_eq!(sent.len(), before + 1, "{sent:?}");
    assert_eq!(sent[before].chat_id, GROUP);
    assert!(
        sent[before].text.contains("<b>main</b>"),
        "{}",
        sent[before].text
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.sent_to(GROUP).len(), 1, "the stranger was answered");
    assert!(running.store.load_state(PAUSE_DOCUMENT).unwrap().is_none());
    // An owner's confirmation is the owner's own: a stranger cannot confirm it.
    fake.inject_message_from(GROUP, OWNER, "/pause");
    fake.wait_for_sent(before + 2, Duration::from_secs(10))
        .await;
    fake.inject_message_from(GROUP, STRANGER, "/confirm");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(running.store.load_state(PAUSE_DOCUMENT).unwrap().is_none());
    running.stop.take().unwrap().send(()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unparsable_get_me_is_retried_and_help_lists_each_command_once() {
    let fake = spawn(FakeTelegramConfig::default()).await;
    fake.set_outage(Some(Outage::InvalidJson));
    let store = store();
    seed(&store);
    let mut running = start_bot_with(store, fake);
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let attempts = running
        .fake
        .calls()
        .iter()
        .filter(|c| c.method.eq_ignore_ascii_case("getMe"))
        .count();
    assert!(attempts >= 2, "getMe tried {attempts} time(s)");
    running.fake.set_outage(None);
    let fake = &running.fake;
    let before = fake.sent().len();
    fake.inject_message(OWNER, "/help");
    let sent = fake
        .wait_for_sent(before + 1, Duration::from_secs(20))
        .await;
    assert!(sent.len() > before, "the bot never recovered");
    let help = &sent[before].text;
    for command in Command::bot_commands() {
        let shown = hybrid_telegram::escape_html(&command.description);
        assert_eq!(help.matches(shown.as_str()).count(), 1, "{shown} in {help}");
    }
    for name in ["/ta", "/ask", "/playbook_stats", "/playbook_update"] {
        assert!(help.contains(name), "{name} missing from {help}");
    }
    running.stop.take().unwrap().send(()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn learning_commands_answer_from_the_database_and_ask_refuses_without_a_key() {
    let mut running = start_bot().await;
    let fake = &running.fake;
    let ask_reply = ask(fake, OWNER, "/ask is BTC in a bull market?").await;
    assert!(ask_reply.contains("no LLM API key"), "{ask_reply}");
    assert!(
        running.store.conversations().unwrap().is_empty(),
        "nothing may be sent"
    );
    let ta = ask(fake, OWNER, "/ta btcusdt").await;
    assert!(ta.contains("No indicators recorded for BTCUSDT"), "{ta}");
    let usage = ask(fake, OWNER, "/ta").await;
    assert!(usage.contains("Usage: /ta SYMBOL"), "{usage}");
    let playbook = ask(fake, OWNER, "/playbook").await;
    assert!(playbook.contains("No playbook yet"), "{playbook}");
    let stats = ask(fake, OWNER, "/playbook_stats").await;
    assert!(
        stats.contains("decisions with a 24 h outcome: 0"),
        "{stats}"
    );
    let update = ask(fake, OWNER, "/playbook_update").await;
    assert!(update.contains("Playbook unchanged"), "{update}");
    assert!(update.contains("not enough trades"), "{update}");
    running.stop.take().unwrap().send(()).unwrap();
}
