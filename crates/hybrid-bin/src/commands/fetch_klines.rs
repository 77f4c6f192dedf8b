//! `main_hybrid fetch-klines`: download candles into the candle CSV format.

use std::sync::Arc;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use hybrid_core::{kline_interval_ms, Clock, Symbol, SystemClock, KLINE_INTERVALS};
use hybrid_exchange::binance::{
    fetch_klines, BinanceClient, BinanceConfig, BinanceEnvironment, KlineProgress,
};

use super::{parse_time, UsageError};
use crate::{cli::FetchKlinesArgs, config::LoadedConfig};

/// Validates the arguments, downloads with a progress bar on stderr and prints a summary.
pub(crate) fn run(loaded: &LoadedConfig, args: &FetchKlinesArgs) -> anyhow::Result<()> {
    let symbol = Symbol::new(&args.symbol).map_err(|e| UsageError(e.to_string()))?;
    let interval_ms = kline_interval_ms(&args.interval).ok_or_else(|| {
        UsageError(format!(
            "unknown interval {:?}: expected one of {}",
            args.interval,
            KLINE_INTERVALS.join(" ")
        ))
    })?;
    let clock = Arc::new(SystemClock);
    let from = parse_time(&args.from, "--from")?;
    let to = match &args.to {
        Some(text) => parse_time(text, "--to")?,
        None => clock.now(),
    };
    if to < from {
        return Err(UsageError(format!("--to {to} is before --from {from}")).into());
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let base_url = match loaded.config.exchange.base_url.as_str() {
        "" => BinanceEnvironment::MarketData.base_url().to_owned(),
        custom => custom.to_owned(),
    };
    let client = BinanceClient::with_clock(BinanceConfig::with_base_url(&base_url), clock)?;
    let expected =
        u64::try_from((to.millis_since(from) / interval_ms).saturating_add(1)).unwrap_or(0);
    let bar = progress_bar(expected, &symbol, &args.interval);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let summary = runtime
        .block_on(fetch_klines(
            &client,
            &symbol,
            &args.interval,
            from,
            to,
            &args.out,
            |p: KlineProgress| {
                bar.set_position(p.written);
                if let Some(last) = p.last_open_time {
                    bar.set_message(last.to_string());
                }
            },
        ))
        .with_context(|| format!("downloading {symbol} {} from {base_url}", args.interval))?;
    bar.finish_and_clear();
    let resumed = summary
        .resumed_after
        .map_or_else(String::new, |t| format!(", resumed after {t}"));
    let last = summary
        .last_open_time
        .map_or_else(|| "none".to_owned(), |t| t.to_string());
    println!(
        "{}: wrote {} candles{resumed}; last candle {last}",
        summary.path.display(),
        summary.written
    );
    Ok(())
}

fn progress_bar(expected: u64, symbol: &Symbol, interval: &str) -> ProgressBar {
    let bar = ProgressBar::new(expected);
    let style =
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} candles ({eta}) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(format!("{symbol} {interval}"));
    bar
}
