//! `main_hybrid fetch-klines`: download candles into the candle CSV format.

use std::{str::FromStr, sync::Arc};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate};
use indicatif::{ProgressBar, ProgressStyle};

use hybrid_core::{Clock, Symbol, SystemClock, Timestamp};
use hybrid_exchange::binance::{
    fetch_klines, BinanceClient, BinanceConfig, BinanceEnvironment, KlineProgress, KLINE_INTERVALS,
};

use super::UsageError;
use crate::{cli::FetchKlinesArgs, config::LoadedConfig};

/// Validates the arguments, downloads with a progress bar on stderr and prints a summary.
pub(crate) fn run(loaded: &LoadedConfig, args: &FetchKlinesArgs) -> anyhow::Result<()> {
    let symbol = Symbol::new(&args.symbol).map_err(|e| UsageError(e.to_string()))?;
    let interval_ms = interval_millis(&args.interval)?;
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

/// The length of one candle of `interval`, in milliseconds (a month counts as 28 days: only
/// used to estimate progress).
fn interval_millis(interval: &str) -> Result<i64, UsageError> {
    let unknown = || {
        UsageError(format!(
            "unknown interval {interval:?}: expected one of {}",
            KLINE_INTERVALS.join(" ")
        ))
    };
    if !KLINE_INTERVALS.contains(&interval) {
        return Err(unknown());
    }
    let (count, unit) = interval.split_at(interval.len() - 1);
    let count: i64 = count.parse().map_err(|_| unknown())?;
    let unit_ms = match unit {
        "s" => Timestamp::SECOND_MS,
        "m" => Timestamp::MINUTE_MS,
        "h" => Timestamp::HOUR_MS,
        "d" => Timestamp::DAY_MS,
        "w" => 7 * Timestamp::DAY_MS,
        "M" => 28 * Timestamp::DAY_MS,
        _ => return Err(unknown()),
    };
    Ok(count * unit_ms)
}

/// `YYYY-MM-DD` (UTC midnight), RFC 3339, or milliseconds since the epoch.
fn parse_time(text: &str, flag: &str) -> Result<Timestamp, UsageError> {
    if let Ok(ms) = i64::from_str(text) {
        return Ok(Timestamp::from_millis(ms));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        if let Some(midnight) = date.and_hms_opt(0, 0, 0) {
            return Ok(Timestamp::from_millis(
                midnight.and_utc().timestamp_millis(),
            ));
        }
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(Timestamp::from_millis(time.timestamp_millis()));
    }
    Err(UsageError(format!(
        "{flag} {text:?}: expected YYYY-MM-DD, an RFC 3339 time such as 2024-01-01T00:00:00Z, or milliseconds"
    )))
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

    #[test]
    fn interval_lengths() {
        assert_eq!(interval_millis("1m").unwrap(), 60_000);
        assert_eq!(interval_millis("4h").unwrap(), 4 * 3_600_000);
        assert!(interval_millis("7m")
            .unwrap_err()
            .to_string()
            .contains("expected one of 1s 1m"));
    }
}
