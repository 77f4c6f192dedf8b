//! `main_hybrid` as a user runs it: exit codes, messages, and what it leaves behind.

use std::{
    path::Path,
    process::{Command, Output},
};

use super::workspace_root;

/// Runs the binary in `dir` with a clean environment plus `env`.
fn main_hybrid(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_main_hybrid"));
    command.args(args).current_dir(dir).env_clear();
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_config_refuses_a_bad_file_naming_each_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[trading]\ntotal_investment = -100\nmax_symbols = \"many\"\n\n[exchange]\nbackend = \"paper\"\nslippage = 0.5\n",
    )
    .unwrap();
    let out = main_hybrid(dir.path(), &["check-config", "--config", "bad.toml"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("3 problems"), "{stderr}");
    assert!(
        stderr.contains("trading.total_investment = -100: out of range: must be greater than 0"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "trading.max_symbols = \"many\": wrong type: expected a whole number, found a string"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("unknown key `exchange.slippage`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.to_lowercase().contains("backtrace"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn check_config_on_a_missing_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = main_hybrid(dir.path(), &["check-config", "--config", "nope.toml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("nope.toml: cannot read the file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_config_prints_effective_values_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "never-printed-secret-value-0123456789";
    let out = main_hybrid(
        dir.path(),
        &[
            "check-config",
            "--database",
            "postgres://bot:hunter2@127.0.0.1:5432/hybrid",
        ],
        &[
            ("HYBRID_BINANCE_API_KEY", secret),
            ("HYBRID_TRADING__MAX_SYMBOLS", "4"),
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("configuration is valid"));
    assert!(
        stdout.contains("postgres://bot:***@127.0.0.1:5432/hybrid"),
        "{stdout}"
    );
    assert!(stdout.contains("# command line --database"), "{stdout}");
    assert!(
        stdout.contains("# env HYBRID_TRADING__MAX_SYMBOLS"),
        "{stdout}"
    );
    assert!(
        stdout.contains("HYBRID_BINANCE_API_KEY") && stdout.contains("set"),
        "{stdout}"
    );
    let everything = format!("{stdout}{}", text(&out.stderr));
    assert!(
        !everything.contains(secret) && !everything.contains("hunter2"),
        "a secret leaked: {everything}"
    );
}

#[test]
fn shipped_example_config_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let example = workspace_root().join("config/example.toml");
    let out = main_hybrid(
        dir.path(),
        &["check-config", "--config", example.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn migrate_creates_the_schema_and_a_second_run_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let first = main_hybrid(dir.path(), &["--database", "sqlite://x.db", "migrate"], &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("applied"),
        "{}",
        text(&first.stdout)
    );
    assert!(dir.path().join("x.db").exists());
    let second = main_hybrid(dir.path(), &["--database", "sqlite://x.db", "migrate"], &[]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(
        text(&second.stdout).contains("up to date"),
        "{}",
        text(&second.stdout)
    );
}

#[test]
fn migrate_creates_the_default_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = main_hybrid(dir.path(), &["migrate"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.path().join("data/hybrid.db").exists());
}

#[test]
fn unreachable_database_is_a_runtime_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let out = main_hybrid(
        dir.path(),
        &[
            "--database",
            "postgres://nobody@127.0.0.1:1/none",
            "migrate",
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot open the database"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn migrate_on_postgres_creates_the_schema_and_a_second_run_is_a_no_op() {
    let Some(schema) = hybrid_testkit::pg::pg_test_schema("cli_migrate_postgres") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let first = main_hybrid(dir.path(), &["--database", schema.url(), "migrate"], &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("(postgres): applied "),
        "{}",
        text(&first.stdout)
    );
    let second = main_hybrid(dir.path(), &["--database", schema.url(), "migrate"], &[]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(
        text(&second.stdout).contains("up to date"),
        "{}",
        text(&second.stdout)
    );
}

/// The first `n` real BTCUSDT one-minute candles from the shared data folder.
fn real_candles(n: usize) -> Vec<hybrid_core::Candle> {
    let dir = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || workspace_root().join("../shared/data/klines"),
        std::path::PathBuf::from,
    );
    hybrid_core::CandleCsvReader::open(&dir.join("BTCUSDT-1m.csv"))
        .unwrap()
        .take(n)
        .map(Result::unwrap)
        .collect()
}

#[test]
fn fetch_klines_downloads_resumes_and_refuses_different_data() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(hybrid_testkit::binance::spawn(
        hybrid_testkit::binance::FakeBinanceConfig::new("k", "s"),
    ));
    let symbol = hybrid_core::Symbol::new("BTCUSDT").unwrap();
    let candles = real_candles(2_500);
    fake.set_klines(&symbol, "1m", candles.clone());
    let dir = tempfile::tempdir().unwrap();
    let env = [("HYBRID_EXCHANGE__BASE_URL", fake.base_url())];
    let from = candles[0].open_time().as_millis().to_string();
    let middle = candles[1_199].open_time().as_millis().to_string();
    let last = candles[2_499].open_time().as_millis().to_string();

    let first = main_hybrid(
        dir.path(),
        &[
            "fetch-klines",
            "BTCUSDT",
            "1m",
            "--from",
            &from,
            "--to",
            &middle,
            "--out",
            "k",
        ],
        &env,
    );
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("wrote 1200 candles"),
        "{}",
        text(&first.stdout)
    );

    let resumed = main_hybrid(
        dir.path(),
        &[
            "fetch-klines",
            "BTCUSDT",
            "1m",
            "--from",
            &from,
            "--to",
            &last,
            "--out",
            "k",
        ],
        &env,
    );
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert!(
        text(&resumed.stdout).contains("wrote 1300 candles, resumed after"),
        "{}",
        text(&resumed.stdout)
    );
    let file = dir.path().join("k/BTCUSDT-1m.csv");
    let written: Vec<_> = hybrid_core::CandleCsvReader::open(&file)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(written, candles);

    // The exchange now reports other prices for the same times: appending would mix two series.
    let doubled = |p: hybrid_core::Price| {
        hybrid_core::Price::new(p.value() * rust_decimal::Decimal::TWO).unwrap()
    };
    let other: Vec<_> = candles
        .iter()
        .map(|c| {
            hybrid_core::Candle::new(
                c.open_time(),
                doubled(c.open()),
                doubled(c.high()),
                doubled(c.low()),
                doubled(c.close()),
                c.volume(),
            )
            .unwrap()
        })
        .collect();
    fake.set_klines(&symbol, "1m", other);
    let refused = main_hybrid(
        dir.path(),
        &[
            "fetch-klines",
            "BTCUSDT",
            "1m",
            "--from",
            &from,
            "--out",
            "k",
        ],
        &env,
    );
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}{}",
        text(&refused.stdout),
        text(&refused.stderr)
    );
    assert!(
        text(&refused.stderr).contains("holds different data"),
        "{}",
        text(&refused.stderr)
    );
    let unchanged: Vec<_> = hybrid_core::CandleCsvReader::open(&file)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(unchanged, candles);
}

#[test]
fn fetch_klines_refuses_bad_arguments_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &["fetch-klines", "BTCUSDT", "7m", "--from", "2024-01-01"],
            "unknown interval \"7m\"",
        ),
        (
            &["fetch-klines", "btc", "1m", "--from", "2024-01-01"],
            "invalid symbol \"btc\"",
        ),
        (
            &["fetch-klines", "BTCUSDT", "1m", "--from", "last tuesday"],
            "--from \"last tuesday\": expected YYYY-MM-DD",
        ),
    ];
    for (args, expected) in cases {
        let out = main_hybrid(dir.path(), args, &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn backtest_replays_real_candles_prints_a_report_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let klines = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || workspace_root().join("../shared/data/klines"),
        std::path::PathBuf::from,
    );
    let klines = klines.to_str().unwrap();
    let args = [
        "backtest",
        "--data",
        klines,
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--interval",
        "1h",
        "--from",
        "2022-04-01",
        "--to",
        "2022-07-01",
        "--capital",
        "1000",
        "--out",
        "out",
    ];
    let out = main_hybrid(dir.path(), &args, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    for expected in [
        "total return",
        "buy and hold",
        "max drawdown",
        "mode switches",
        "fees",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected} missing from {stdout}"
        );
    }
    let json = std::fs::read_to_string(dir.path().join("out/report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["symbols"], serde_json::json!(["BTCUSDT", "ETHUSDT"]));
    assert!(!report["equity_curve"].as_array().unwrap().is_empty());
    let png = std::fs::read(dir.path().join("out/equity.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));

    // The same run again writes the same bytes.
    let again = main_hybrid(dir.path(), &args, &[]);
    assert_eq!(again.status.code(), Some(0));
    let json_again = std::fs::read_to_string(dir.path().join("out/report.json")).unwrap();
    assert_eq!(json, json_again);

    let bad = main_hybrid(
        dir.path(),
        &[
            "backtest",
            "--data",
            klines,
            "--symbols",
            "NOPEUSDT",
            "--out",
            "out",
        ],
        &[],
    );
    assert_eq!(bad.status.code(), Some(2), "stderr: {}", text(&bad.stderr));
    assert!(
        text(&bad.stderr).contains("fetch-klines"),
        "{}",
        text(&bad.stderr)
    );
}

/// Writes the first `n` real BTCUSDT one-minute candles into `dir/BTCUSDT-1m.csv`.
fn write_replay_dir(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let file = std::fs::File::create(dir.join("BTCUSDT-1m.csv")).unwrap();
    let mut writer = hybrid_core::CandleCsvWriter::new(std::io::BufWriter::new(file)).unwrap();
    for candle in real_candles(n) {
        writer.write(&candle).unwrap();
    }
}

fn run_replay(dir: &Path, replay: &str, speed: &str) -> Output {
    let market = format!("replay:{replay}");
    main_hybrid(
        dir,
        &[
            "run",
            "--market",
            &market,
            "--speed",
            speed,
            "--symbols",
            "BTCUSDT",
            "--database",
            "sqlite://x.db",
        ],
        &[],
    )
}

#[test]
fn run_replays_candles_as_a_live_feed_and_a_second_run_continues() {
    let dir = tempfile::tempdir().unwrap();
    write_replay_dir(&dir.path().join("first"), 300);
    let out = run_replay(dir.path(), "first", "fast");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(stdout.contains("feed ended; state saved"), "{stdout}");
    let heartbeat = std::fs::read_to_string(dir.path().join("data/heartbeat")).unwrap();
    assert!(heartbeat.contains("2024-"), "{heartbeat}");

    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let cohort = "main";
    let first_orders = {
        let store = hybrid_store::Store::open(&url).unwrap();
        assert!(store
            .load_state(&format!("hybrid_state/{cohort}"))
            .unwrap()
            .is_some());
        assert!(store
            .load_state("paper_exchange/default")
            .unwrap()
            .is_some());
        store.open_orders(None).unwrap()
    };
    assert!(!first_orders.is_empty(), "the grid left resting orders");

    // The same candles and 300 more: the first 300 are skipped, trading continues.
    write_replay_dir(&dir.path().join("more"), 600);
    let out = run_replay(dir.path(), "more", "fast");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(stdout.contains("300 skipped"), "{stdout}");
    assert!(stdout.contains("resumed from the saved state"), "{stdout}");
    let store = hybrid_store::Store::open(&url).unwrap();
    let orders = store.open_orders(None).unwrap();
    let mut ids: Vec<String> = orders
        .iter()
        .map(|o| o.client_order_id.to_string())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate client order ids");
    for order in &first_orders {
        assert!(store.get_order(&order.client_order_id).unwrap().is_some());
    }
}

#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "a synchronous test polling a child process"
)]
fn run_stops_cleanly_on_sigterm_with_the_state_saved() {
    let dir = tempfile::tempdir().unwrap();
    write_replay_dir(&dir.path().join("slow"), 300);
    // 60× real time: one one-minute candle per second.
    let child = Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args([
            "run",
            "--market",
            "replay:slow",
            "--speed",
            "60",
            "--symbols",
            "BTCUSDT",
            "--database",
            "sqlite://x.db",
        ])
        .current_dir(dir.path())
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let heartbeat = dir.path().join("data/heartbeat");
    let started = std::time::Instant::now();
    while !heartbeat.exists() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(heartbeat.exists(), "no heartbeat within 10 s");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(
        stdout.contains("stopped by signal; state saved"),
        "{stdout}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let store = hybrid_store::Store::open(&url).unwrap();
    let cohort = "main";
    assert!(store
        .load_state(&format!("hybrid_state/{cohort}"))
        .unwrap()
        .is_some());
}

#[test]
fn run_on_live_without_confirmation_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = main_hybrid(
        dir.path(),
        &["run", "--exchange", "live", "--database", "sqlite://x.db"],
        &[
            ("HYBRID_BINANCE_API_KEY", "test-key-not-real"),
            ("HYBRID_BINANCE_API_SECRET", "test-secret-not-real"),
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("live_confirmed"), "{stderr}");
    assert!(!dir.path().join("x.db").exists(), "nothing ran");
}

#[test]
fn run_live_with_a_key_that_can_withdraw_is_refused() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let symbol = hybrid_core::Symbol::new("BTCUSDT").unwrap();
    let candles = real_candles(5);
    let mut config = hybrid_testkit::binance::FakeBinanceConfig::new("k", "s");
    config.symbols = vec![hybrid_engine::replay_filters(
        symbol.clone(),
        candles[0].close(),
    )];
    config.can_withdraw = true;
    let fake = runtime.block_on(hybrid_testkit::binance::spawn(config));
    fake.set_price(&symbol, candles[4].close());
    let dir = tempfile::tempdir().unwrap();
    let out = main_hybrid(
        dir.path(),
        &[
            "run",
            "--exchange",
            "live",
            "--symbols",
            "BTCUSDT",
            "--database",
            "sqlite://x.db",
        ],
        &[
            ("HYBRID_EXCHANGE__BASE_URL", fake.base_url()),
            ("HYBRID_EXCHANGE__LIVE_CONFIRMED", "true"),
            ("HYBRID_BINANCE_API_KEY", "k"),
            ("HYBRID_BINANCE_API_SECRET", "s"),
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("refusing to trade live"), "{stderr}");
    assert!(stderr.contains("withdraw"), "{stderr}");
    assert!(fake.orders().is_empty(), "no order was sent");
}

#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "a synchronous test polling a child process"
)]
fn run_paper_trades_on_polled_binance_prices_from_the_fake_server() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let symbol = hybrid_core::Symbol::new("BTCUSDT").unwrap();
    let candles = real_candles(50);
    let mut config = hybrid_testkit::binance::FakeBinanceConfig::new("k", "s");
    config.symbols = vec![hybrid_engine::replay_filters(
        symbol.clone(),
        candles[0].close(),
    )];
    let fake = runtime.block_on(hybrid_testkit::binance::spawn(config));
    fake.set_price(&symbol, candles[49].close());
    fake.set_klines(&symbol, "1m", candles);
    // The first price poll fails: the loop logs it and polls again at the next tick.
    fake.inject(
        hybrid_testkit::binance::Route::TickerPrice,
        hybrid_testkit::binance::Fault::MalformedJson,
    );
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args(["run", "--symbols", "BTCUSDT", "--database", "sqlite://x.db"])
        .current_dir(dir.path())
        .env_clear()
        .env("HYBRID_EXCHANGE__BASE_URL", fake.base_url())
        .env("HYBRID_TRADING__TICK_INTERVAL_SECS", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let heartbeat = dir.path().join("data/heartbeat");
    let started = std::time::Instant::now();
    while !heartbeat.exists() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(heartbeat.exists(), "no heartbeat");
    assert!(
        stdout.contains("stopped by signal; state saved"),
        "{stdout}"
    );
    assert!(stdout.contains("1 candles traded"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("retrying at the next tick"), "{stderr}");
    let polls = fake
        .requests()
        .iter()
        .filter(|r| format!("{r:?}").contains("ticker/price"))
        .count();
    assert!(polls >= 2, "the prices were polled every second: {polls}");
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let store = hybrid_store::Store::open(&url).unwrap();
    assert!(!store.open_orders(None).unwrap().is_empty());
}

#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "a synchronous test polling a child process"
)]
fn run_on_testnet_sends_orders_to_binance_and_reads_its_fills_back() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let symbol = hybrid_core::Symbol::new("BTCUSDT").unwrap();
    let candles = real_candles(60);
    let mut config = hybrid_testkit::binance::FakeBinanceConfig::new("k", "s");
    config.symbols = vec![hybrid_engine::replay_filters(
        symbol.clone(),
        candles[0].close(),
    )];
    config.balances = vec![hybrid_exchange::Balance {
        asset: symbol.quote(),
        free: rust_decimal::Decimal::from(1000),
        locked: rust_decimal::Decimal::ZERO,
    }];
    let fake = runtime.block_on(hybrid_testkit::binance::spawn(config));
    fake.set_price(&symbol, candles[49].close());
    fake.set_klines(&symbol, "1m", candles[..50].to_vec());
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args([
            "run",
            "--exchange",
            "testnet",
            "--symbols",
            "BTCUSDT",
            "--database",
            "sqlite://x.db",
        ])
        .current_dir(dir.path())
        .env_clear()
        .env("HYBRID_EXCHANGE__BASE_URL", fake.base_url())
        .env("HYBRID_TRADING__TICK_INTERVAL_SECS", "1")
        .env("HYBRID_BINANCE_API_KEY", "k")
        .env("HYBRID_BINANCE_API_SECRET", "s")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while fake.orders().is_empty() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The price falls through the grid's buy orders, then a new candle closes.
    let low =
        hybrid_core::Price::new(candles[49].close().value() * rust_decimal::Decimal::new(97, 2))
            .unwrap();
    fake.set_price(&symbol, low);
    fake.set_klines(&symbol, "1m", candles.clone());
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(!fake.orders().is_empty(), "orders reached the fake Binance");
    assert!(
        stdout.contains("stopped by signal; state saved"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(" 0 fills"),
        "the fills were read back: {stdout}"
    );
}
