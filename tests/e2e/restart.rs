//! Crash safety of `main_hybrid run` against Binance: a replay traded on the fake testnet is
//! killed with SIGKILL at random points and restarted until it ends; then the exchange and
//! the database must agree order by order and fill by fill, no client order id may have been
//! sent twice, and no grid level may hold two orders.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use hybrid_core::{Candle, OrderStatus, Symbol};

/// One-minute candles replayed: a day.
const CANDLES: usize = 1_440;

/// Kills before the run is let finish.
const KILLS: usize = 5;

/// A day of one-minute candles swinging ±8 % around 100 every five hours: every grid level
/// is crossed both ways several times, so orders fill and follow-ups are placed throughout
/// (the real files' quiet days fill too rarely for this test).
fn candles() -> Vec<Candle> {
    let start = 1_722_000_000_000 / 3_600_000 * 3_600_000;
    let price = |i: usize| {
        let phase = std::f64::consts::TAU * i as f64 / 300.0;
        let value = 100.0 * (1.0 + 0.08 * phase.sin());
        rust_decimal::Decimal::from_f64_retain(value)
            .unwrap()
            .round_dp(2)
    };
    (0..CANDLES)
        .map(|i| {
            let (open, close) = (price(i), price(i + 1));
            let high = open.max(close) * rust_decimal::Decimal::new(1001, 3);
            let low = open.min(close) * rust_decimal::Decimal::new(999, 3);
            Candle::new(
                hybrid_core::Timestamp::from_millis(start + 60_000 * i as i64),
                hybrid_core::Price::new(open).unwrap(),
                hybrid_core::Price::new(high.round_dp(2)).unwrap(),
                hybrid_core::Price::new(low.round_dp(2)).unwrap(),
                hybrid_core::Price::new(close).unwrap(),
                hybrid_core::Quantity::new(rust_decimal::Decimal::from(10)).unwrap(),
            )
            .unwrap()
        })
        .collect()
}

/// A small deterministic generator (no dependency): the kill points are the same every run.
struct Lcg(u64);

impl Lcg {
    fn next_in(&mut self, low: u64, high: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        low + (self.0 >> 33) % (high - low)
    }
}

fn spawn_bot(dir: &Path, base_url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args([
            "run",
            "--market",
            "replay:candles",
            "--speed",
            "fast",
            "--exchange",
            "testnet",
            "--symbols",
            "BTCUSDT",
            "--database",
            "sqlite://bot.db",
        ])
        .current_dir(dir)
        .env_clear()
        .env("HYBRID_EXCHANGE__BASE_URL", base_url)
        .env("HYBRID_BINANCE_API_KEY", "k")
        .env("HYBRID_BINANCE_API_SECRET", "s")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Polls the child until it exits or `deadline` passes; returns its exit code if it exited.
#[expect(
    clippy::disallowed_methods,
    reason = "a synchronous test polling a child process"
)]
fn wait_until(child: &mut Child, deadline: Instant) -> Option<i32> {
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// The fake testnet replaying `candles`, with 1 000 USDT.
fn fake_testnet(
    runtime: &tokio::runtime::Runtime,
    symbol: &Symbol,
    candles: &[Candle],
) -> hybrid_testkit::binance::FakeBinance {
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
    // A replay at full speed sends in seconds what a live bot sends in a day: the weight
    // limit is not what this test is about.
    config.weight_limit = 10_000_000;
    let fake = runtime.block_on(hybrid_testkit::binance::spawn(config));
    fake.replay_market(60_000, vec![(symbol.clone(), candles.to_vec())]);
    fake
}

/// A folder with the replayed candles in `candles/BTCUSDT-1m.csv`.
fn replay_dir(candles: &[Candle]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let replay = dir.path().join("candles");
    std::fs::create_dir_all(&replay).unwrap();
    let file = std::fs::File::create(replay.join("BTCUSDT-1m.csv")).unwrap();
    let mut writer = hybrid_core::CandleCsvWriter::new(std::io::BufWriter::new(file)).unwrap();
    for candle in candles {
        writer.write(candle).unwrap();
    }
    dir
}

/// Runs the replay to its end, killing the bot `kills` times at random points first; returns
/// the number of kills that landed and the last run's output.
fn replay_with_kills(dir: &Path, base_url: &str, kills: usize) -> (usize, String) {
    let mut random = Lcg(0x5eed);
    let mut landed = 0;
    for _ in 0..40 {
        let mut child = spawn_bot(dir, base_url);
        if landed < kills {
            let wait = Duration::from_millis(random.next_in(200, 1_500));
            if wait_until(&mut child, Instant::now() + wait).is_none() {
                child.kill().unwrap(); // SIGKILL: no handler, no final save.
                child.wait().unwrap();
                landed += 1;
                continue;
            }
        } else if wait_until(&mut child, Instant::now() + Duration::from_secs(300)).is_none() {
            child.kill().unwrap();
            panic!("the last run did not finish within 5 minutes");
        }
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(0),
            "stdout: {stdout}\nstderr: {stderr}"
        );
        if stdout.contains("feed ended") {
            return (landed, stdout);
        }
    }
    panic!("the replay never finished");
}

/// What the exchange ended with, comparable across runs.
fn book(state: &hybrid_exchange::MatchingState) -> Vec<String> {
    state
        .orders
        .iter()
        .map(|o| {
            format!(
                "{} {:?} {:?} {} {} {}",
                o.client_order_id, o.side, o.price, o.quantity, o.status, o.filled_quantity
            )
        })
        .collect()
}

#[test]
fn run_killed_at_random_points_leaves_exchange_and_database_in_agreement() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let candles = candles();

    // The same replay without interruption, for reference.
    let calm = fake_testnet(&runtime, &symbol, &candles);
    let calm_dir = replay_dir(&candles);
    replay_with_kills(calm_dir.path(), calm.base_url(), 0);
    let reference = book(&calm.with_engine(|engine| engine.state()));

    let fake = fake_testnet(&runtime, &symbol, &candles);
    let dir = replay_dir(&candles);
    let (kills, finished) = replay_with_kills(dir.path(), fake.base_url(), KILLS);
    assert!(
        kills >= 3,
        "only {kills} kills landed before the replay ended"
    );
    assert!(
        finished.contains("resumed from the saved state"),
        "{finished}"
    );

    let state = fake.with_engine(|engine| engine.state());
    // Killed five times, the bot kept trading as it does uninterrupted. Not order for order:
    // the exchange already holds what the lost candle sent, so the candle replayed after the
    // restart sizes its orders on slightly different balances.
    assert!(
        state.orders.len() * 10 >= reference.len() * 8,
        "{} orders against {} uninterrupted",
        state.orders.len(),
        reference.len()
    );
    let url = format!("sqlite://{}", dir.path().join("bot.db").display());
    let store = hybrid_store::Store::open(&url).unwrap();

    // Every client order id reached the exchange at most once.
    let mut ids = BTreeSet::new();
    for order in &state.orders {
        assert!(
            ids.insert(order.client_order_id.clone()),
            "{} was placed twice",
            order.client_order_id
        );
    }
    assert!(
        state.orders.len() >= 10,
        "only {} orders:\n{finished}",
        state.orders.len()
    );
    assert!(!state.trades.is_empty(), "nothing filled");

    // Order by order, the database says what the exchange says.
    for order in &state.orders {
        let stored = store
            .get_order(&order.client_order_id)
            .unwrap()
            .unwrap_or_else(|| panic!("{} is not in the database", order.client_order_id));
        assert_eq!(
            (
                stored.status,
                stored.filled_quantity,
                stored.exchange_order_id
            ),
            (order.status, order.filled_quantity, order.exchange_order_id),
            "{}",
            order.client_order_id
        );
    }
    // What the database holds as placed is on the exchange.
    let on_exchange: BTreeSet<_> = ids.iter().cloned().collect();
    for order in store.open_orders(None).unwrap() {
        assert!(
            on_exchange.contains(&order.client_order_id),
            "{} is open in the database only",
            order.client_order_id
        );
    }

    // Fill by fill: every trade of the exchange is in the database, once.
    let mut stored_trades = BTreeSet::new();
    for order in &state.orders {
        for fill in store.fills_for_order(&order.client_order_id).unwrap() {
            assert!(
                stored_trades.insert(fill.trade_id),
                "trade {} twice",
                fill.trade_id
            );
        }
    }
    let exchange_trades: BTreeSet<_> = state.trades.iter().map(|t| t.trade_id).collect();
    assert_eq!(stored_trades, exchange_trades, "fills lost or invented");

    // No grid level holds two open orders: a follow-up was never placed twice.
    let mut levels: BTreeMap<(String, String), u32> = BTreeMap::new();
    for order in state.orders.iter().filter(|o| o.status.is_open()) {
        let price = order.price.map(|p| p.to_string()).unwrap_or_default();
        *levels
            .entry((format!("{:?}", order.side), price))
            .or_default() += 1;
    }
    for ((side, price), n) in levels {
        assert_eq!(n, 1, "{n} open {side} orders at {price}");
    }
    let open = state
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::New || o.status == OrderStatus::PartiallyFilled)
        .count();
    println!(
        "{kills} kills: {} orders ({open} open; {} uninterrupted), {} fills agree",
        state.orders.len(),
        reference.len(),
        state.trades.len()
    );
}
