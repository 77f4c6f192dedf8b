//! Issue 13: a backtest measures exactly what `run` trades. `main_hybrid backtest --database`
//! and `main_hybrid run --market replay:DIR --speed fast` (paper) over the same real candles,
//! with the same configuration and capital, must leave the same orders and fills in their
//! databases and end with the same equity.

use std::path::Path;

use hybrid_core::{CandleCsvReader, CandleCsvWriter, Timestamp};
use hybrid_store::Store;

use super::workspace_root;

/// 2023-01-01 .. 2023-02-15 of the real 1h files: enough for grids, fills and mode switches.
const FROM_MS: i64 = 1_672_531_200_000;
const TO_MS: i64 = FROM_MS + 45 * Timestamp::DAY_MS;

fn write_window(dir: &Path, symbol: &str) {
    let source = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || workspace_root().join("../shared/data/klines"),
        std::path::PathBuf::from,
    );
    let name = format!("{symbol}-1h.csv");
    let file = std::fs::File::create(dir.join(&name)).unwrap();
    let mut writer = CandleCsvWriter::new(std::io::BufWriter::new(file)).unwrap();
    for candle in CandleCsvReader::open(&source.join(&name)).unwrap() {
        let candle = candle.unwrap();
        let t = candle.open_time().as_millis();
        if (FROM_MS..TO_MS).contains(&t) {
            writer.write(&candle).unwrap();
        }
    }
}

fn main_hybrid(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Every order (id, symbol, side, kind, price, quantity, status, filled) and every fill
/// (symbol, side, price, quantity, time) of the database's one trading cohort.
fn book(url: &str) -> (Vec<String>, Vec<String>) {
    let store = Store::open(url).unwrap();
    let cohorts = store.list_cohorts().unwrap();
    let traded: Vec<_> = cohorts
        .iter()
        .filter(|c| !store.cohort_orders(c.id).unwrap().is_empty())
        .collect();
    assert_eq!(traded.len(), 1, "one cohort traded: {cohorts:?}");
    let id = traded[0].id;
    let orders = store
        .cohort_orders(id)
        .unwrap()
        .into_iter()
        .map(|o| {
            format!(
                "{} {} {:?} {:?} {:?} {} {:?} {}",
                o.client_order_id,
                o.symbol,
                o.side,
                o.kind,
                o.price.map(|p| p.value().normalize()),
                o.quantity.value().normalize(),
                o.status,
                o.filled_quantity.value().normalize()
            )
        })
        .collect();
    let fills = store
        .cohort_fills(id)
        .unwrap()
        .into_iter()
        .map(|f| {
            format!(
                "{} {:?} {} {} {}",
                f.symbol,
                f.side,
                f.price.value().normalize(),
                f.quantity.value().normalize(),
                f.time.as_millis()
            )
        })
        .collect();
    (orders, fills)
}

#[test]
fn backtest_and_a_paper_replay_trade_the_same_orders_and_fills() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for symbol in ["BTCUSDT", "ETHUSDT"] {
        write_window(&data, symbol);
    }
    let data_arg = data.display().to_string();
    let report = main_hybrid(
        dir.path(),
        &[
            "--database",
            "sqlite://backtest.db",
            "backtest",
            "--data",
            &data_arg,
            "--symbols",
            "BTCUSDT,ETHUSDT",
            "--interval",
            "1h",
            "--capital",
            "1000",
            "--out",
            "out",
        ],
    );
    let replay = format!("replay:{data_arg}");
    main_hybrid(
        dir.path(),
        &[
            "--database",
            "sqlite://run.db",
            "run",
            "--market",
            &replay,
            "--speed",
            "fast",
            "--interval",
            "1h",
            "--symbols",
            "BTCUSDT,ETHUSDT",
            "--capital",
            "1000",
            "--heartbeat",
            "heartbeat",
        ],
    );
    let backtest_url = format!("sqlite://{}", dir.path().join("backtest.db").display());
    let run_url = format!("sqlite://{}", dir.path().join("run.db").display());
    let (backtest_orders, backtest_fills) = book(&backtest_url);
    let (run_orders, run_fills) = book(&run_url);
    assert!(backtest_fills.len() > 10, "the window trades: {report}");
    assert_eq!(run_orders, backtest_orders);
    assert_eq!(run_fills, backtest_fills);

    // The same final equity: the report's last point and the run's last hourly snapshot.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    let final_equity: rust_decimal::Decimal =
        json["final_equity"].as_str().unwrap().parse().unwrap();
    let end = json["end"].as_i64().unwrap();
    let run = Store::open(&run_url).unwrap();
    let snapshots = run
        .equity_snapshots(None, Timestamp::from_millis(0))
        .unwrap();
    let last = snapshots.last().unwrap();
    assert_eq!(last.at.as_millis(), end);
    assert_eq!(last.equity.value(), final_equity);
}
