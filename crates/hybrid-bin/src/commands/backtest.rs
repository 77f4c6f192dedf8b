//! `main_hybrid backtest`: the engine's replay over candle CSV files, with a progress bar on
//! stderr, the readable report on stdout, `report.json` and `equity.png` in the output folder. The logic
//! lives in `hybrid_engine::run_backtest`; this file only validates and wires.

use std::str::FromStr;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;

use hybrid_core::{Notional, Symbol, Timestamp};
use hybrid_engine::{
    candle_path, equity_chart_png, interval_ms, run_backtest, BacktestConfig, Progress,
};

use super::{parse_time, UsageError};
use crate::cli::BacktestArgs;

/// Validates the arguments, runs the replay and writes the report.
pub(crate) fn run(args: &BacktestArgs) -> anyhow::Result<()> {
    let config = backtest_config(args)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let bar = progress_bar(&config);
    let started = std::time::Instant::now();
    let outcome = run_backtest(&config, &mut |p: Progress| {
        bar.set_position(u64::try_from(p.time.as_millis() / Timestamp::DAY_MS).unwrap_or(0));
        bar.set_message(format!("{} candles", p.candles));
    })
    .context("backtest failed")?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let report = &outcome.report;
    let path = args.out.join("report.json");
    let json = serde_json::to_string_pretty(report)?;
    std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
    let chart = args.out.join("equity.png");
    std::fs::write(&chart, equity_chart_png(report))
        .with_context(|| format!("cannot write {}", chart.display()))?;
    print!("{report}");
    #[expect(
        clippy::cast_precision_loss,
        reason = "a speed figure for the operator"
    )]
    let speed = report.candles as f64 / elapsed.max(1e-9);
    println!("  speed           {speed:.0} candles/s");
    println!(
        "report written to {} and {}",
        path.display(),
        chart.display()
    );
    Ok(())
}

/// Raw arguments to a validated configuration; bad arguments are usage errors (exit 2).
fn backtest_config(args: &BacktestArgs) -> Result<BacktestConfig, UsageError> {
    interval_ms(&args.interval).map_err(|e| UsageError(e.to_string()))?;
    let symbols = args
        .symbols
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Symbol::new(s).map_err(|e| UsageError(format!("--symbols: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if symbols.is_empty() {
        return Err(UsageError(
            "--symbols: name at least one symbol, e.g. BTCUSDT".to_owned(),
        ));
    }
    for symbol in &symbols {
        let path = candle_path(&args.data, symbol, &args.interval);
        if !path.is_file() {
            return Err(UsageError(format!(
                "no candle file {} (download it with fetch-klines)",
                path.display()
            )));
        }
    }
    let capital = Decimal::from_str(&args.capital)
        .ok()
        .filter(|c| *c > Decimal::ZERO)
        .ok_or_else(|| {
            UsageError(format!(
                "--capital {:?}: expected a positive amount",
                args.capital
            ))
        })?;
    let from = args
        .from
        .as_deref()
        .map(|t| parse_time(t, "--from"))
        .transpose()?;
    let to = args
        .to
        .as_deref()
        .map(|t| parse_time(t, "--to"))
        .transpose()?;
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            return Err(UsageError(format!("--to {to} is not after --from {from}")));
        }
    }
    let mut config = BacktestConfig::new(args.data.clone(), symbols);
    config.interval.clone_from(&args.interval);
    config.from = from;
    config.to = to;
    config.capital = Notional::new(capital);
    Ok(config)
}

fn progress_bar(config: &BacktestConfig) -> ProgressBar {
    let day = |t: Timestamp| u64::try_from(t.as_millis() / Timestamp::DAY_MS).unwrap_or(0);
    let bar = match (config.from, config.to) {
        (Some(from), Some(to)) => {
            let bar = ProgressBar::new(day(to));
            bar.set_position(day(from));
            bar
        }
        _ => ProgressBar::new_spinner(),
    };
    let style = ProgressStyle::with_template("backtest [{bar:30}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn args(symbols: &str, capital: &str) -> BacktestArgs {
        BacktestArgs {
            data: PathBuf::from("/nonexistent"),
            symbols: symbols.to_owned(),
            interval: "1h".to_owned(),
            from: None,
            to: None,
            capital: capital.to_owned(),
            out: PathBuf::from("out"),
        }
    }

    #[test]
    fn bad_arguments_are_usage_errors_naming_the_flag() {
        let error = backtest_config(&args("", "1000")).unwrap_err().to_string();
        assert!(error.contains("--symbols"), "{error}");
        let error = backtest_config(&args("BTCUSDT", "1000"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("fetch-klines"), "{error}");
        let mut bad_interval = args("BTCUSDT", "1000");
        bad_interval.interval = "7h".to_owned();
        let error = backtest_config(&bad_interval).unwrap_err().to_string();
        assert!(error.contains("interval"), "{error}");
        assert!(parse_time("yesterday", "--from").is_err());
        assert_eq!(
            parse_time("2021-01-01", "--from").unwrap().as_millis(),
            1_609_459_200_000
        );
    }
}
