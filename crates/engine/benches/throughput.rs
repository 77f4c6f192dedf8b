//! The throughput targets of issue #5, measured one case per process (so the peak resident
//! memory of a case is its own): wall time, candle-steps per second and peak RSS (`VmHWM`).
//!
//! ```text
//! cargo bench -p hybrid-engine --bench throughput -- single-grid   # 1,000,000 1m candles
//! cargo bench -p hybrid-engine --bench throughput -- ten-symbols-1h  # real 1h files
//! cargo bench -p hybrid-engine --bench throughput -- ten-symbols-1m-year
//! cargo bench -p hybrid-engine --bench throughput -- btc-eth-1h
//! PERF_REPORT_DIR=/tmp/after cargo bench -p hybrid-engine --bench throughput  # + reports
//! ```
//!
//! - `single-grid`: one symbol in GRID (mode switching off) over a seeded random walk of
//!   1,000,000 one-minute candles, written to a temporary CSV file first. Three passes: the CSV
//!   parsing alone, the replay loop alone (candles already in memory, through
//!   [`run_backtest_from`]) and end to end from the file ([`run_backtest`]).
//! - `ten-symbols-1h`: the full orchestrator (regime detection, mode switches, grid, stops,
//!   store) on the ten real 1h files of `HYBRID_KLINES_DIR`.
//! - `ten-symbols-1m-year`: the full orchestrator on ten seeded random walks of a year of 1m
//!   candles each (5,256,000 candle-steps), streamed from temporary CSV files: the memory case.
//!
//! The random walk: prices in cents, log-normal steps of 0.05 % per minute (about BTC's 1m
//! volatility), highs and lows a random half-step outside the body, a fixed seed per symbol,
//! so every run replays the same candles.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a benchmark fails loudly and prints its figures"
)]
#![allow(missing_docs, reason = "a benchmark binary")]

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    time::Instant,
};

use hybrid_core::{
    Candle, CandleCsvReader, CandleCsvWriter, Price, Quantity, Symbol, Timestamp, TradingMode,
};
use hybrid_engine::{run_backtest, run_backtest_from, BacktestConfig};
use hybrid_exchange::CandleSource;
use rust_decimal::Decimal;

/// 2020-01-01 00:00 UTC.
const START_MS: i64 = 1_577_836_800_000;
const MINUTE_MS: i64 = 60_000;
const MINUTES_PER_YEAR: usize = 525_600;

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    )
}

/// xorshift64*: a tiny deterministic generator (no dependency, same numbers everywhere).
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// Roughly standard normal: the sum of four uniforms, centred and scaled.
    fn normal(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.next_f64()).sum();
        (sum - 2.0) * 3.0_f64.sqrt()
    }
}

/// `n` one-minute candles of a seeded random walk starting at `start_price` (quote units).
fn random_walk(seed: u64, n: usize, start_price: f64) -> impl Iterator<Item = Candle> {
    const SIGMA: f64 = 0.0005;
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut open_cents = (start_price * 100.0).round() as i64;
    (0..n).map(move |i| {
        let open = open_cents as f64;
        let close_cents = ((open * (SIGMA * rng.normal()).exp()).round() as i64).max(1);
        let body_high = open_cents.max(close_cents);
        let body_low = open_cents.min(close_cents);
        let wick = |rng: &mut Rng| (open * SIGMA * 0.5 * rng.next_f64()).round() as i64;
        let high = body_high + wick(&mut rng);
        let low = (body_low - wick(&mut rng)).max(1);
        let volume = 1 + (rng.next_f64() * 100_000.0) as i64;
        let price = |cents: i64| Price::new(Decimal::new(cents, 2)).unwrap();
        let candle = Candle::new(
            Timestamp::from_millis(START_MS + i as i64 * MINUTE_MS),
            price(open_cents),
            price(high),
            price(low),
            price(close_cents),
            Quantity::new(Decimal::new(volume, 3)).unwrap(),
        )
        .unwrap();
        open_cents = close_cents;
        candle
    })
}

fn write_csv(path: &Path, candles: impl Iterator<Item = Candle>) {
    let mut writer = CandleCsvWriter::new(BufWriter::new(File::create(path).unwrap())).unwrap();
    for candle in candles {
        writer.write(&candle).unwrap();
    }
    writer.finish().unwrap().flush().unwrap();
}

/// Peak resident set of this process so far, in MB (Linux `VmHWM`).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Writes the case's report as `main_hybrid backtest` does (pretty JSON) into the folder named by
/// `PERF_REPORT_DIR`, if set: the before/after check that an optimisation changed no result.
fn save_report(name: &str, outcome: &hybrid_engine::BacktestOutcome) {
    if let Some(dir) = std::env::var_os("PERF_REPORT_DIR") {
        let json = serde_json::to_string_pretty(&outcome.report).unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.json")), json).unwrap();
    }
}

/// CPU time (user + system) this process has used, in seconds (Linux `/proc/self/stat`, in
/// clock ticks of 10 ms): on a shared machine the wall time includes waiting for a core, the
/// CPU time does not.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the name: state is field 0, utime field 11, stime field 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// A stopwatch of wall and CPU time.
struct Stopwatch {
    wall: Instant,
    cpu: f64,
}

impl Stopwatch {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: cpu_seconds(),
        }
    }
}

fn report(case: &str, candles: u64, watch: &Stopwatch) {
    let wall = watch.wall.elapsed().as_secs_f64();
    let cpu = (cpu_seconds() - watch.cpu).max(0.01);
    println!(
        "{case:<48} {candles:>10} candles  wall {wall:>7.3} s {:>10.0}/s  cpu {cpu:>7.2} s {:>10.0}/s  peak RSS {:.0} MB",
        candles as f64 / wall,
        candles as f64 / cpu,
        peak_rss_mb()
    );
}

fn grid_config(dir: &Path, symbols: &[Symbol]) -> BacktestConfig {
    let mut config = BacktestConfig::new(dir.to_path_buf(), symbols.to_vec());
    "1m".clone_into(&mut config.interval);
    config.capital = hybrid_core::Notional::new(Decimal::from(10_000));
    config.orchestrator.hybrid.initial_mode = TradingMode::Grid;
    config.orchestrator.hybrid.enable_mode_switching = false;
    config
}

fn summary(outcome: &hybrid_engine::BacktestOutcome) -> String {
    let r = &outcome.report;
    format!(
        "    orders {} fills {} trades {} switches {} final equity {}",
        r.n_orders,
        r.n_fills,
        r.trades.n_trades,
        r.mode_switches.len(),
        r.final_equity.value().round_dp(2)
    )
}

/// One grid symbol, 1,000,000 one-minute candles: parsing, loop, end to end.
fn single_grid() {
    const N: usize = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let path = dir.path().join("BTCUSDT-1m.csv");
    write_csv(&path, random_walk(1, N, 30_000.0));
    let config = grid_config(dir.path(), std::slice::from_ref(&symbol));

    let started = Stopwatch::start();
    let parsed = CandleCsvReader::open(&path)
        .unwrap()
        .map(Result::unwrap)
        .count();
    report("single grid: CSV parsing alone", parsed as u64, &started);

    let candles: Vec<Candle> = random_walk(1, N, 30_000.0).collect();
    let source: CandleSource = Box::new(candles.into_iter().map(Ok));
    let started = Stopwatch::start();
    let outcome = run_backtest_from(&config, vec![(symbol.clone(), source)], &mut |_| {}).unwrap();
    report(
        "single grid: replay loop (candles in memory)",
        outcome.report.candles,
        &started,
    );
    println!("{}", summary(&outcome));
    save_report("single-grid", &outcome);

    let started = Stopwatch::start();
    let outcome = run_backtest(&config, &mut |_| {}).unwrap();
    report(
        "single grid: end to end (CSV file)",
        outcome.report.candles,
        &started,
    );
}

/// The full orchestrator on the ten real 1h files.
fn ten_symbols_1h() {
    let symbols: Vec<Symbol> = [
        "AAVEUSDT", "BNBUSDT", "BTCUSDT", "DOGEUSDT", "ETHUSDT", "LINKUSDT", "SOLUSDT", "UNIUSDT",
        "XRPUSDT", "SHIBUSDT",
    ]
    .iter()
    .map(|s| Symbol::new(s).unwrap())
    .collect();
    let config = BacktestConfig::new(klines_dir(), symbols);
    let started = Stopwatch::start();
    let outcome = run_backtest(&config, &mut |_| {}).unwrap();
    report(
        "ten symbols 1h (real files), full orchestrator",
        outcome.report.candles,
        &started,
    );
    println!("{}", summary(&outcome));
    save_report("ten-symbols-1h", &outcome);
}

/// The full orchestrator on ten symbols × a year of 1m candles, streamed from CSV files.
fn ten_symbols_1m_year() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT", "EEEUSDT", "FFFUSDT", "GGGUSDT", "HHHUSDT",
        "IIIUSDT", "JJJUSDT",
    ];
    let mut symbols = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let symbol = Symbol::new(name).unwrap();
        let start_price = 10.0 * (i + 1) as f64 * 37.0;
        write_csv(
            &dir.path().join(format!("{name}-1m.csv")),
            random_walk(100 + i as u64, MINUTES_PER_YEAR, start_price),
        );
        symbols.push(symbol);
    }
    let before = peak_rss_mb();
    let mut config = BacktestConfig::new(dir.path().to_path_buf(), symbols);
    "1m".clone_into(&mut config.interval);
    let started = Stopwatch::start();
    let outcome = run_backtest(&config, &mut |_| {}).unwrap();
    println!("    peak RSS before the replay (writing the files): {before:.0} MB");
    report(
        "ten symbols 1m, a year each, full orchestrator",
        outcome.report.candles,
        &started,
    );
    println!("{}", summary(&outcome));
    save_report("ten-symbols-1m-year", &outcome);
}

/// BTCUSDT and ETHUSDT 1h, the whole files, the defaults of `main_hybrid backtest`.
fn btc_eth_1h() {
    let symbols = vec![
        Symbol::new("BTCUSDT").unwrap(),
        Symbol::new("ETHUSDT").unwrap(),
    ];
    let config = BacktestConfig::new(klines_dir(), symbols);
    let started = Stopwatch::start();
    let outcome = run_backtest(&config, &mut |_| {}).unwrap();
    report(
        "BTCUSDT+ETHUSDT 1h (real files), full orchestrator",
        outcome.report.candles,
        &started,
    );
    println!("{}", summary(&outcome));
    save_report("btc-eth-1h", &outcome);
}

fn main() {
    let cases: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let all = cases.is_empty();
    let wants = |name: &str| all || cases.iter().any(|c| c == name);
    if all {
        println!("(all cases in one process: the peak RSS is cumulative; pass a case name)");
    }
    if wants("btc-eth-1h") {
        btc_eth_1h();
    }
    if wants("single-grid") {
        single_grid();
    }
    if wants("ten-symbols-1h") {
        ten_symbols_1h();
    }
    if wants("ten-symbols-1m-year") {
        ten_symbols_1m_year();
    }
}
