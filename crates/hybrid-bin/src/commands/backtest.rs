//! `main_hybrid backtest`: the engine's replay over candle CSV files, with a progress bar on
//! stderr, the readable report on stdout, `report.json` and `equity.png` in the output folder. The logic
//! lives in `hybrid_engine::run_backtest`; this file only validates and wires.

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use hybrid_cohorts::{
    run_cohort_backtest, CohortBacktestConfig, CohortBacktestReport, CohortDefinition,
};
use hybrid_core::{Notional, Symbol, Timestamp};
use hybrid_engine::{equity_chart_png, interval_ms, run_backtest, BacktestConfig, Progress};

use super::{parse_time, UsageError};
use crate::{cli::BacktestArgs, config::LoadedConfig};

/// Validates the arguments, runs the replay and writes the report. `--cohorts` chooses among
/// the configured cohorts (`[[cohorts]]`, or the six defaults).
pub(crate) fn run(loaded: &LoadedConfig, args: &BacktestArgs) -> anyhow::Result<()> {
    let database = audit_database(loaded);
    if let Some(cohorts) = &args.cohorts {
        return run_cohorts(args, cohorts, &loaded.config.cohorts(), database);
    }
    let mut config = backtest_config(args)?;
    config.database_url = database;
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
    match equity_chart_png(report) {
        Ok(png) => std::fs::write(&chart, png)
            .with_context(|| format!("cannot write {}", chart.display()))?,
        Err(e) => eprintln!("no equity chart: {e}"),
    }
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

/// `--cohorts`: every chosen cohort over the same candles in one replay
/// (`hybrid_cohorts::run_cohort_backtest`); report.json and equity.csv in the output folder.
fn run_cohorts(
    args: &BacktestArgs,
    cohorts: &str,
    configured: &[CohortDefinition],
    database: Option<String>,
) -> anyhow::Result<()> {
    let mut config = cohort_config(args, cohorts, configured)?;
    config.database_url = database;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let bar = progress_bar_between(config.from, config.to);
    let started = std::time::Instant::now();
    let report = run_cohort_backtest(&config, &mut |p: Progress| {
        bar.set_position(u64::try_from(p.time.as_millis() / Timestamp::DAY_MS).unwrap_or(0));
        bar.set_message(format!("{} candles", p.candles));
    })
    .context("cohort backtest failed")?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let path = args.out.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let curve = args.out.join("equity.csv");
    std::fs::write(&curve, equity_csv(&report))
        .with_context(|| format!("cannot write {}", curve.display()))?;
    print!("{report}");
    #[expect(
        clippy::cast_precision_loss,
        reason = "a speed figure for the operator"
    )]
    let speed = report.candles as f64 / elapsed.max(1e-9);
    println!(
        "  speed           {speed:.0} candles/s ({} cohorts)",
        report.cohorts.len()
    );
    println!(
        "report written to {} and {}",
        path.display(),
        curve.display()
    );
    Ok(())
}

/// The database a backtest records its orders, fills and trade pairs in: only the one given
/// with `--database` (the configured database belongs to `run`); without it the backtest stays
/// in memory.
fn audit_database(loaded: &LoadedConfig) -> Option<String> {
    matches!(
        loaded.origins.get("database.url"),
        Some(crate::config::Origin::Cli(_))
    )
    .then(|| loaded.config.database.url.clone())
}

/// `time_ms,<cohort>...,total,account`: one row per hourly snapshot, exact (unrounded) USDT so
/// that the total column is exactly the sum of the cohort columns.
fn equity_csv(report: &CohortBacktestReport) -> String {
    let names: Vec<String> = report
        .curve
        .first()
        .map(|p| p.cohorts.keys().cloned().collect())
        .unwrap_or_default();
    let mut out = format!("time_ms,{},total,account\n", names.join(","));
    for point in &report.curve {
        let values: Vec<String> = names
            .iter()
            .map(|n| {
                point
                    .cohorts
                    .get(n)
                    .copied()
                    .unwrap_or_default()
                    .normalize()
                    .to_string()
            })
            .collect();
        out.push_str(&format!(
            "{},{},{},{}\n",
            point.time.as_millis(),
            values.join(","),
            point.total.normalize(),
            point.account.normalize()
        ));
    }
    out
}

/// The cohort replay's settings from the arguments; bad arguments are usage errors.
/// `cohorts` is `all` (every active configured cohort) or names among `configured`.
fn cohort_config(
    args: &BacktestArgs,
    cohorts: &str,
    configured: &[CohortDefinition],
) -> Result<CohortBacktestConfig, UsageError> {
    interval_ms(&args.interval).map_err(|e| UsageError(e.to_string()))?;
    let defaults = configured;
    let chosen: Vec<CohortDefinition> = if cohorts.trim() == "all" {
        defaults.iter().filter(|c| c.is_active).cloned().collect()
    } else {
        cohorts
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|name| {
                defaults
                    .iter()
                    .find(|c| c.name == name)
                    .cloned()
                    .ok_or_else(|| {
                        let known: Vec<&str> = defaults.iter().map(|c| c.name.as_str()).collect();
                        UsageError(format!(
                            "--cohorts: unknown cohort {name:?}; use all or some of the configured {}",
                            known.join(", ")
                        ))
                    })
            })
            .collect::<Result<_, _>>()?
    };
    if chosen.is_empty() {
        return Err(UsageError(
            "--cohorts: name at least one (active) cohort, or all".to_owned(),
        ));
    }
    let symbols = if args.symbols.trim().is_empty() {
        symbols_in(&args.data, &args.interval)?
    } else {
        super::parse_symbols(&args.symbols)?
    };
    super::require_candle_files(&args.data, &symbols, &args.interval)?;
    let (from, to) = window(args)?;
    let mut config = CohortBacktestConfig::new(args.data.clone(), symbols);
    config.interval.clone_from(&args.interval);
    config.from = from;
    config.to = to;
    config.cohorts = chosen;
    config.seed = args.seed;
    Ok(config)
}

/// Every `SYMBOL-INTERVAL.csv` in `dir`, sorted.
fn symbols_in(dir: &std::path::Path, interval: &str) -> Result<Vec<Symbol>, UsageError> {
    let suffix = format!("-{interval}.csv");
    let entries =
        std::fs::read_dir(dir).map_err(|e| UsageError(format!("--data {}: {e}", dir.display())))?;
    let mut symbols: Vec<Symbol> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter_map(|name| name.strip_suffix(&suffix).map(str::to_owned))
        .filter_map(|code| Symbol::new(&code).ok())
        .collect();
    symbols.sort();
    if symbols.is_empty() {
        return Err(UsageError(format!(
            "--data {}: no *{suffix} candle files (download them with fetch-klines)",
            dir.display()
        )));
    }
    Ok(symbols)
}

/// `--from` and `--to`, checked.
fn window(args: &BacktestArgs) -> Result<(Option<Timestamp>, Option<Timestamp>), UsageError> {
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
    Ok((from, to))
}

/// Raw arguments to a validated configuration; bad arguments are usage errors (exit 2).
fn backtest_config(args: &BacktestArgs) -> Result<BacktestConfig, UsageError> {
    interval_ms(&args.interval).map_err(|e| UsageError(e.to_string()))?;
    let symbols = super::parse_symbols(&args.symbols)?;
    super::require_candle_files(&args.data, &symbols, &args.interval)?;
    let capital = super::parse_capital(&args.capital)?;
    let (from, to) = window(args)?;
    let mut config = BacktestConfig::new(args.data.clone(), symbols);
    config.interval.clone_from(&args.interval);
    config.from = from;
    config.to = to;
    config.capital = Notional::new(capital);
    Ok(config)
}

fn progress_bar(config: &BacktestConfig) -> ProgressBar {
    progress_bar_between(config.from, config.to)
}

fn progress_bar_between(from: Option<Timestamp>, to: Option<Timestamp>) -> ProgressBar {
    let day = |t: Timestamp| u64::try_from(t.as_millis() / Timestamp::DAY_MS).unwrap_or(0);
    let bar = match (from, to) {
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
            cohorts: None,
            seed: 1,
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

    #[test]
    fn cohort_arguments_name_the_unknown_cohort_and_the_missing_files() {
        let defaults = hybrid_cohorts::default_cohorts();
        let mut cohorts = args("", "1000");
        let error = cohort_config(&cohorts, "balanced,bogus", &defaults)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("bogus") && error.contains("meme_hunter"),
            "{error}"
        );
        let error = cohort_config(&cohorts, "all", &defaults)
            .unwrap_err()
            .to_string();
        assert!(error.contains("--data"), "{error}");
        cohorts.symbols = "BTCUSDT".to_owned();
        let error = cohort_config(&cohorts, "all", &defaults)
            .unwrap_err()
            .to_string();
        assert!(error.contains("fetch-klines"), "{error}");
        let data = tempfile::tempdir().unwrap();
        std::fs::write(data.path().join("BTCUSDT-1h.csv"), "").unwrap();
        std::fs::write(data.path().join("ETHUSDT-1h.csv"), "").unwrap();
        std::fs::write(data.path().join("ETHUSDT-5m.csv"), "").unwrap();
        cohorts.data = data.path().to_owned();
        cohorts.symbols = String::new();
        let config = cohort_config(&cohorts, "balanced, baseline", &defaults).unwrap();
        let names: Vec<&str> = config.cohorts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["balanced", "baseline"]);
        let symbols: Vec<&str> = config.symbols.iter().map(Symbol::as_str).collect();
        assert_eq!(symbols, ["BTCUSDT", "ETHUSDT"]);
        assert_eq!(
            cohort_config(&cohorts, "all", &defaults)
                .unwrap()
                .cohorts
                .len(),
            6
        );

        // Configured cohorts replace the defaults; `all` leaves the inactive ones out.
        let mut configured = vec![defaults[0].clone(), defaults[1].clone()];
        configured[0].name = "steady".to_owned();
        configured[1].is_active = false;
        let config = cohort_config(&cohorts, "all", &configured).unwrap();
        let names: Vec<&str> = config.cohorts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["steady"]);
        let error = cohort_config(&cohorts, "baseline", &configured)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("steady") && error.contains("balanced"),
            "{error}"
        );
    }
}
