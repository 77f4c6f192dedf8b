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

use super::workspace_root;

/// One-minute candles replayed: about a day, enough for the grid to trade both ways.
const CANDLES: usize = 1_500;

/// Kills before the run is let finish.
const KILLS: usize = 5;

fn candles() -> Vec<Candle> {
    let dir = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || workspace_root().join("../shared/data/klines"),
        std::path::PathBuf::from,
    );
    hybrid_core::CandleCsvReader::open(&dir.join("BTCUSDT-1m.csv"))
        .unwrap()
        .take(CANDLES)
        .map(Result::unwrap)
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

#[test]
fn run_killed_at_random_points_leaves_exchange_and_database_in_agreement() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let candles = candles();
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
    fake.replay_market(60_000, vec![(symbol.clone(), candles.clone())]);

    let dir = tempfile::tempdir().unwrap();
    let replay = dir.path().join("candles");
    std::fs::create_dir_all(&replay).unwrap();
    let file = std::fs::File::create(replay.join("BTCUSDT-1m.csv")).unwrap();
    let mut writer = hybrid_core::CandleCsvWriter::new(std::io::BufWriter::new(file)).unwrap();
    for candle in &candles {
        writer.write(candle).unwrap();
    }
    drop(writer);

    let mut random = Lcg(0x5eed);
    let mut kills = 0;
    let mut runs = 0;
    let finished = loop {
        runs += 1;
        assert!(runs <= 40, "the replay never finished");
        let mut child = spawn_bot(dir.path(), fake.base_url());
        if kills < KILLS {
            // Somewhere after start-up: the fake's order count tells that trading is under way.
            let wait = Duration::from_millis(random.next_in(200, 1_500));
            if wait_until(&mut child, Instant::now() + wait).is_none() {
                child.kill().unwrap(); // SIGKILL: no handler, no final save.
                child.wait().unwrap();
                kills += 1;
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
            break stdout;
        }
    };
    assert!(
        kills >= 3,
        "only {kills} kills landed before the replay ended"
    );
    assert!(
        finished.contains("resumed from the saved state"),
        "{finished}"
    );

    let state = fake.with_engine(|engine| engine.state());
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
        "only {} orders",
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
        "{kills} kills, {runs} runs: {} orders ({open} open), {} fills agree",
        state.orders.len(),
        state.trades.len()
    );
}
