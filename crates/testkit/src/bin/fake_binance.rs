//! `fake_binance`: the fake Binance spot server of `hybrid_testkit::binance` as a process, for
//! crash campaigns and manual testnet runs: `main_hybrid run --exchange testnet` pointed at it
//! (`HYBRID_EXCHANGE__BASE_URL`) can be killed and restarted while the exchange's books live
//! on, and `GET /fake/state` shows them.
//!
//! ```text
//! fake_binance --candles DIR --symbols SOLUSDT,DOGEUSDT [--interval 1h] [--port 0]
//!              [--api-key k] [--secret s] [--balance USDT=1000]... [--weight-limit N]
//! ```
//!
//! The market replays `DIR/SYMBOL-INTERVAL.csv` at the clock of the signed requests (a bot
//! replaying the same files trades on it as if live); symbols are listed with
//! `SymbolFilters::for_replay` of their first price. The first line on stdout is the base URL
//! (`http://127.0.0.1:PORT`); the server runs until SIGINT or SIGTERM.

use std::{io::Write as _, path::PathBuf, process::ExitCode, str::FromStr};

use hybrid_core::{Asset, CandleCsvReader, Symbol, SymbolFilters};
use hybrid_exchange::Balance;
use hybrid_testkit::binance::{spawn_on, FakeBinanceConfig};
use rust_decimal::Decimal;

/// The command line, parsed.
#[derive(Debug)]
struct Args {
    candles: PathBuf,
    symbols: Vec<Symbol>,
    interval: String,
    port: u16,
    api_key: String,
    secret: String,
    balances: Vec<Balance>,
    weight_limit: u32,
}

const USAGE: &str = "usage: fake_binance --candles DIR --symbols A,B [--interval 1m] [--port 0] \
                     [--api-key k] [--secret s] [--balance USDT=1000]... [--weight-limit N]";

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        candles: PathBuf::new(),
        symbols: Vec::new(),
        interval: "1m".to_owned(),
        port: 0,
        api_key: "k".to_owned(),
        secret: "s".to_owned(),
        balances: Vec::new(),
        // A replay at full speed sends in seconds what a live bot sends in a day.
        weight_limit: 10_000_000,
    };
    while let Some(flag) = argv.next() {
        let mut value = || argv.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--candles" => args.candles = PathBuf::from(value()?),
            "--symbols" => {
                args.symbols = value()?
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| Symbol::new(s.trim()).map_err(|e| format!("--symbols: {e}")))
                    .collect::<Result<_, _>>()?;
            }
            "--interval" => args.interval = value()?,
            "--port" => {
                let text = value()?;
                args.port = text.parse().map_err(|_| format!("--port {text:?}"))?;
            }
            "--api-key" => args.api_key = value()?,
            "--secret" => args.secret = value()?,
            "--balance" => {
                let text = value()?;
                let (asset, amount) = text
                    .split_once('=')
                    .ok_or_else(|| format!("--balance {text:?}: expected ASSET=AMOUNT"))?;
                args.balances.push(Balance {
                    asset: Asset::new(asset).map_err(|e| format!("--balance: {e}"))?,
                    free: Decimal::from_str(amount)
                        .map_err(|_| format!("--balance {text:?}: {amount:?} is not a number"))?,
                    locked: Decimal::ZERO,
                });
            }
            "--weight-limit" => {
                let text = value()?;
                args.weight_limit = text
                    .parse()
                    .map_err(|_| format!("--weight-limit {text:?}"))?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.candles.as_os_str().is_empty() || args.symbols.is_empty() {
        return Err(format!("--candles and --symbols are required\n{USAGE}"));
    }
    if hybrid_core::kline_interval_ms(&args.interval).is_none() {
        return Err(format!(
            "--interval {:?} is not a Binance interval",
            args.interval
        ));
    }
    Ok(args)
}

/// The configuration and the candles to replay, read from the files.
type Market = (FakeBinanceConfig, Vec<(Symbol, Vec<hybrid_core::Candle>)>);

fn market(args: &Args) -> Result<Market, String> {
    let mut config = FakeBinanceConfig::new(&args.api_key, &args.secret);
    config.weight_limit = args.weight_limit;
    let mut series = Vec::with_capacity(args.symbols.len());
    for symbol in &args.symbols {
        let path = args.candles.join(format!("{symbol}-{}.csv", args.interval));
        let candles = CandleCsvReader::open(&path)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| e.to_string())?;
        let first = candles
            .first()
            .ok_or_else(|| format!("{} holds no candle", path.display()))?;
        config.symbols.push(SymbolFilters::for_replay(
            symbol.clone(),
            first.close().value(),
        ));
        series.push((symbol.clone(), candles));
    }
    config.balances.clone_from(&args.balances);
    if config.balances.is_empty() {
        let quote = args.symbols[0].quote();
        config.balances.push(Balance {
            asset: quote,
            free: Decimal::from(10_000),
            locked: Decimal::ZERO,
        });
    }
    Ok((config, series))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("fake_binance: {message}");
            return ExitCode::from(2);
        }
    };
    let (config, series) = match market(&args) {
        Ok(market) => market,
        Err(message) => {
            eprintln!("fake_binance: {message}");
            return ExitCode::from(2);
        }
    };
    let interval_ms = hybrid_core::kline_interval_ms(&args.interval).unwrap_or(60_000);
    let fake = match spawn_on(config, args.port).await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!(
                "fake_binance: cannot listen on 127.0.0.1:{}: {e}",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    fake.replay_market(interval_ms, series);
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", fake.base_url());
    let _ = stdout.flush();
    let stop = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = async {
                match term.as_mut() {
                    Some(term) => { term.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    };
    stop.await;
    ExitCode::SUCCESS
}
