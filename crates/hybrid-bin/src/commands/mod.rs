//! What each subcommand does.

mod backtest;
mod check_config;
mod compare;
mod fetch_klines;
mod learn;
mod migrate;
mod portfolio;
mod run;
mod scheduler;
pub(crate) mod serve;
mod telegram;
mod validate;
mod watchdog;

use std::{collections::BTreeMap, str::FromStr};

use chrono::{DateTime, NaiveDate};
use hybrid_core::Timestamp;

use crate::{
    cli::{Cli, Command},
    config::{self, LoadedConfig, Overrides},
    logging,
};

/// A command-line argument that is well-formed for clap but wrong for Hybrid (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub(crate) String);

/// Loads the configuration, starts logging and runs the chosen command.
pub(crate) fn run(cli: &Cli) -> anyhow::Result<()> {
    let loaded = load_config(cli)?;
    logging::init(&loaded.config);
    match &cli.command {
        Command::CheckConfig => check_config::run(&loaded),
        Command::Migrate => migrate::run(&loaded),
        Command::FetchKlines(args) => fetch_klines::run(&loaded, args),
        Command::Backtest(args) => backtest::run(&loaded, args),
        Command::Run(args) => run::run(&loaded, args),
        Command::Validate => validate::run(&loaded),
        Command::Portfolio(args) => portfolio::run(&loaded, args),
        Command::Learn(args) => learn::run(&loaded, args),
        Command::Telegram(args) => telegram::run(&loaded, args),
        Command::Serve(args) => serve::run(&loaded, args),
        Command::Watchdog(args) => watchdog::run(&loaded, args),
        Command::Compare(args) => compare::run(&loaded, args),
        Command::Scheduler(args) => scheduler::run(&loaded, args),
    }
}

fn load_config(cli: &Cli) -> Result<LoadedConfig, config::ConfigErrors> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let overrides = Overrides {
        database_url: cli.database.clone(),
        log_format: cli.log_format,
        verbosity: cli.verbose,
        ..Overrides::default()
    };
    let overrides = match &cli.command {
        Command::Run(args) => Overrides {
            exchange_backend: args.exchange.clone(),
            market_source: args.market.clone(),
            ..overrides
        },
        _ => overrides,
    };
    config::load(cli.config.as_deref(), &env, &overrides)
}

/// `YYYY-MM-DD` (UTC midnight), RFC 3339, or milliseconds since the epoch.
fn parse_time(text: &str, flag: &str) -> Result<Timestamp, UsageError> {
    if let Ok(ms) = i64::from_str(text) {
        return Ok(Timestamp::from_millis(ms));
    }
    if let Some(midnight) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
    {
        return Ok(Timestamp::from_millis(
            midnight.and_utc().timestamp_millis(),
        ));
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(Timestamp::from_millis(time.timestamp_millis()));
    }
    Err(UsageError(format!(
        "{flag} {text:?}: expected YYYY-MM-DD, an RFC 3339 time such as 2024-01-01T00:00:00Z, or milliseconds"
    )))
}

/// Comma-separated symbols (`BTCUSDT,ETHUSDT`), at least one; each one validated.
pub(crate) fn parse_symbols(list: &str) -> Result<Vec<hybrid_core::Symbol>, UsageError> {
    let symbols = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| hybrid_core::Symbol::new(s).map_err(|e| UsageError(format!("--symbols: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if symbols.is_empty() {
        return Err(UsageError(
            "--symbols: name at least one symbol, e.g. BTCUSDT".to_owned(),
        ));
    }
    Ok(symbols)
}

/// Reads the first candles of each file (as many as the reader needs to see the interval in
/// the gaps), so that a file of another interval than its name says, or a bad first row, is
/// refused before anything trades.
///
/// # Errors
/// The file's problem, naming the file and the line.
pub(crate) fn check_candle_intervals(
    dir: &std::path::Path,
    symbols: &[hybrid_core::Symbol],
    interval: &str,
) -> anyhow::Result<()> {
    for symbol in symbols {
        let path = hybrid_exchange::candle_file_path(dir, symbol, interval);
        let reader = hybrid_core::CandleCsvReader::open(&path)?;
        let first = usize::try_from(hybrid_core::GAPS_BEFORE_INTERVAL_SEEN).unwrap_or(8) + 1;
        for candle in reader.take(first) {
            candle?;
        }
    }
    Ok(())
}

/// Refuses (exit 2) when a symbol's candle file `DIR/SYMBOL-INTERVAL.csv` is missing.
pub(crate) fn require_candle_files(
    dir: &std::path::Path,
    symbols: &[hybrid_core::Symbol],
    interval: &str,
) -> Result<(), UsageError> {
    for symbol in symbols {
        let path = hybrid_exchange::candle_file_path(dir, symbol, interval);
        if !path.is_file() {
            return Err(UsageError(format!(
                "no candle file {} (download it with fetch-klines)",
                path.display()
            )));
        }
    }
    Ok(())
}

/// A positive amount of quote currency (`--capital 1000`).
pub(crate) fn parse_capital(text: &str) -> Result<rust_decimal::Decimal, UsageError> {
    rust_decimal::Decimal::from_str(text)
        .ok()
        .filter(|c| *c > rust_decimal::Decimal::ZERO)
        .ok_or_else(|| UsageError(format!("--capital {text:?}: expected a positive amount")))
}

/// A watch flag turned `true` on SIGINT or SIGTERM (needs a running tokio runtime).
///
/// # Errors
/// SIGTERM cannot be listened for.
pub(crate) fn shutdown_signal() -> anyhow::Result<tokio::sync::watch::Receiver<bool>> {
    use anyhow::Context as _;
    let (sender, receiver) = tokio::sync::watch::channel(false);
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::spawn(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown requested; stopping after the current step");
        let _ = sender.send(true);
    });
    Ok(receiver)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_time_formats() {
        assert_eq!(
            parse_time("2024-01-01", "--from").unwrap().as_millis(),
            1_704_067_200_000
        );
        assert_eq!(
            parse_time("2024-01-01T01:00:00Z", "--from")
                .unwrap()
                .as_millis(),
            1_704_070_800_000
        );
        assert_eq!(
            parse_time("1704067200000", "--from").unwrap().as_millis(),
            1_704_067_200_000
        );
        let err = parse_time("yesterday", "--to").unwrap_err().to_string();
        assert!(
            err.starts_with("--to \"yesterday\": expected YYYY-MM-DD"),
            "{err}"
        );
    }
}
