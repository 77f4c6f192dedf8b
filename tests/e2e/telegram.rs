//! The Telegram process end to end: `main_hybrid run` replays real candles into a SQLite
//! file, then `main_hybrid telegram` answers /status, /report, /pause and /resume through the
//! fake Bot API with the figures in that database, ignores a stranger, delivers the outbox,
//! and stops on SIGTERM. `main_hybrid watchdog --once` raises a critical alert on a stale
//! heartbeat.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use hybrid_core::{Side, Timestamp};
use hybrid_store::{NewNotification, Severity, Store};
use hybrid_telegram::format::compact_price;
use hybrid_testkit::telegram::{spawn, FakeTelegram, FakeTelegramConfig};
use rust_decimal::Decimal;

use super::write_candles;

const OWNER: i64 = 4242;
const STRANGER: i64 = 777;

fn main_hybrid(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_main_hybrid"));
    command.args(args).current_dir(dir).env_clear();
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

fn start_telegram(dir: &Path, fake: &FakeTelegram) -> Child {
    let url = fake.api_url();
    main_hybrid(
        dir,
        &["telegram", "--database", "sqlite://x.db"],
        &[
            ("HYBRID_TELEGRAM_BOT_TOKEN", fake.token()),
            ("HYBRID_TELEGRAM__API_URL", &url),
            ("HYBRID_TELEGRAM__ALLOWED_CHAT_IDS", "4242"),
            ("HYBRID_TELEGRAM__MIN_SEND_INTERVAL_MS", "0"),
            ("HYBRID_TELEGRAM__OUTBOX_POLL_MS", "100"),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

/// Sends `text` from the owner and returns the bot's next message.
async fn ask(fake: &FakeTelegram, text: &str) -> String {
    let before = fake.sent().len();
    fake.inject_message(OWNER, text);
    let sent = fake
        .wait_for_sent(before + 1, Duration::from_secs(20))
        .await;
    assert!(sent.len() > before, "no answer to {text}");
    sent[before].text.clone()
}

fn signed(value: Decimal) -> String {
    let v = value.round_dp(2);
    if v >= Decimal::ZERO {
        format!("+{v:.2}")
    } else {
        format!("{v:.2}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_answers_with_real_figures_pauses_resumes_and_ignores_strangers() {
    let dir = tempfile::tempdir().unwrap();
    write_candles(&dir.path().join("candles"), "BTCUSDT", 600);
    let fake = spawn(FakeTelegramConfig::default()).await;
    // The Telegram process starts first, on an empty database, and keeps running while the
    // engine trades into the same file.
    let bot = start_telegram(dir.path(), &fake);
    let empty = ask(&fake, "/status").await;
    assert!(empty.contains("No cohort data"), "{empty}");

    let replay = main_hybrid(
        dir.path(),
        &[
            "run",
            "--market",
            "replay:candles",
            "--speed",
            "fast",
            "--symbols",
            "BTCUSDT",
            "--database",
            "sqlite://x.db",
        ],
        &[],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let during = ask(&fake, "/health").await;
    assert!(during.contains("<b>Health</b>"), "{during}");
    let replay = tokio::task::spawn_blocking(move || replay.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        replay.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );

    // The figures the answers must show, read from the database the engine filled.
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let store = Store::open(&url).unwrap();
    let cohort = store.get_cohort_by_name("main").unwrap().unwrap();
    let orders = store.open_orders(Some(cohort.id)).unwrap();
    assert!(!orders.is_empty(), "the grid left resting orders");
    let buys = orders.iter().filter(|o| o.side == Side::Buy).count();
    let closed = store.closed_trade_pairs(Some(cohort.id), 10_000).unwrap();
    let realised: Decimal = closed
        .iter()
        .filter_map(|p| p.close.as_ref())
        .map(|c| c.net_pnl.value())
        .sum();
    store
        .enqueue_notification(&NewNotification {
            at: Timestamp::from_millis(0),
            cohort: Some(cohort.id),
            kind: "startup".to_owned(),
            severity: Severity::Important,
            text: "queued by another process".to_owned(),
        })
        .unwrap();

    let before = fake.sent().len();
    let queued = fake
        .wait_for_sent(before + 1, Duration::from_secs(20))
        .await;
    assert_eq!(queued[before].text, "queued by another process");
    assert_eq!(queued[before].chat_id, OWNER);

    let status = ask(&fake, "/status").await;
    assert!(status.contains("<b>main</b>"), "{status}");
    assert!(
        status.contains(&format!(
            "open orders: {} ({buys} BUY / {} SELL)",
            orders.len(),
            orders.len() - buys
        )),
        "{status}"
    );
    for order in &orders {
        let line = format!(
            "{} {} BTCUSDT @ {}",
            if order.side == Side::Buy {
                "BUY"
            } else {
                "SELL"
            },
            order.quantity.value().normalize(),
            compact_price(order.price.unwrap().value())
        );
        assert!(status.contains(&line), "{line} missing from {status}");
    }
    assert!(status.contains("BTCUSDT <b>"), "{status}");

    let report = ask(&fake, "/report").await;
    assert!(
        report.contains(&format!("realised {} USDT", signed(realised))),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "{} open orders · {} closed trades",
            orders.len(),
            closed.len()
        )),
        "{report}"
    );

    fake.inject_message(STRANGER, "/pause");
    assert!(ask(&fake, "/pause").await.contains("/confirm"));
    assert!(ask(&fake, "/confirm").await.contains("Paused"));
    let pause = store.load_state("control/trading").unwrap().unwrap();
    assert_eq!(pause.body["paused"], serde_json::json!(true));
    assert_eq!(pause.body["by"], serde_json::json!(OWNER));
    assert!(ask(&fake, "/status").await.contains("paused"));
    assert!(ask(&fake, "/resume").await.contains("Resumed"));
    let pause = store.load_state("control/trading").unwrap().unwrap();
    assert_eq!(pause.body["paused"], serde_json::json!(false));
    assert!(fake.sent_to(STRANGER).is_empty());

    #[expect(clippy::cast_possible_wrap, reason = "a child's pid fits an i32")]
    let pid = bot.id() as i32;
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || bot.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn watchdog_once_raises_a_critical_alert_for_a_stale_heartbeat() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let run = |heartbeat: &str| {
        main_hybrid(
            dir.path(),
            &[
                "watchdog",
                "--once",
                "--heartbeat",
                heartbeat,
                "--database",
                &url,
            ],
            &[],
        )
        .output()
        .unwrap()
    };
    std::fs::write(dir.path().join("fresh"), "1 now\n").unwrap();
    let fresh = run("fresh");
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    let missing = run("missing");
    assert_eq!(missing.status.code(), Some(1));
    let store = Store::open(&url).unwrap();
    let due = store
        .due_notifications(Timestamp::from_millis(i64::MAX / 2), 10)
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].severity, Severity::Critical);
    assert_eq!(due[0].kind, "heartbeat_stale");
    assert!(due[0].text.contains("missing"), "{}", due[0].text);
}
