//! `main_hybrid portfolio`: the three tiers (value, share, target, drift) and the index
//! holdings from the database; `main_hybrid portfolio backtest` runs the three-tier portfolio
//! over candle files into the database (which `validate` can then read). The logic lives in
//! `hybrid_portfolio`.

use std::str::FromStr;

use anyhow::Context as _;
use hybrid_core::{Symbol, Timestamp};
use hybrid_exchange::candle_file_path;
use hybrid_portfolio::{
    load_targets, needs_redistribution, run_portfolio_backtest, PortfolioBacktestConfig,
    PortfolioBacktestReport, StaticMarketCaps, TierKind, TierValues,
};
use hybrid_store::Store;
use rust_decimal::Decimal;

use super::{parse_time, UsageError};
use crate::{
    cli::{PortfolioAction, PortfolioArgs, PortfolioBacktestArgs},
    config::LoadedConfig,
};

/// `portfolio` (show) or `portfolio backtest`.
pub(crate) fn run(loaded: &LoadedConfig, args: &PortfolioArgs) -> anyhow::Result<()> {
    match &args.action {
        None => show(loaded),
        Some(PortfolioAction::Backtest(backtest)) => run_backtest(loaded, backtest),
    }
}

fn open(loaded: &LoadedConfig) -> anyhow::Result<(Store, String)> {
    let url = &loaded.config.database.url;
    let shown = crate::config::load_mask_url(url);
    let store = Store::open(url).with_context(|| format!("cannot open the database {shown}"))?;
    store
        .run_migrations()
        .with_context(|| format!("migrating {shown} failed"))?;
    Ok((store, shown))
}

/// Prints the tiers as last written, their drift and the index holdings.
fn show(loaded: &LoadedConfig) -> anyhow::Result<()> {
    let (store, shown) = open(loaded)?;
    let targets = load_targets(&store).context("the stored tier targets are invalid")?;
    let rows = store.portfolio_tiers()?;
    let value = |kind: TierKind| {
        rows.iter()
            .find(|r| r.tier_name == kind.code())
            .map_or(Decimal::ZERO, |r| r.current_value_usd)
    };
    let values = TierValues {
        cash: value(TierKind::CashReserve),
        index: value(TierKind::IndexHoldings),
        trading: value(TierKind::Trading),
    };
    let breakdown = values.breakdown(&targets);
    let updated = rows.iter().map(|r| r.updated_at).max();
    println!("portfolio in {shown}");
    if updated.is_none_or(|t| t.as_millis() == 0) {
        println!("no snapshot written yet: the tiers have their targets but no values");
    }
    println!("{breakdown}");
    println!(
        "redistribution needed: {}",
        if needs_redistribution(&breakdown) {
            "yes (a tier drifts more than 3 pp)"
        } else {
            "no"
        }
    );
    let holdings: Vec<_> = store
        .index_holdings()?
        .into_iter()
        .filter(|h| h.is_active)
        .collect();
    if !holdings.is_empty() {
        println!("index holdings:");
        for h in holdings {
            println!(
                "  {:<10} {:>16} @ {:>12}  value {:>12}  weight {:>6}%  stop {}",
                h.symbol.as_str(),
                h.quantity.normalize(),
                h.current_price.normalize(),
                (h.quantity * h.current_price).round_dp(2),
                h.target_weight_pct.round_dp(2),
                h.trailing_stop_price.round_dp(4)
            );
        }
    }
    for r in store.redistributions()?.iter().rev().take(5) {
        println!(
            "redistribution {} ({}): moved {} USDT: {}",
            date(r.at),
            r.trigger_reason,
            r.total_moved,
            r.transfers
        );
    }
    Ok(())
}

/// Validates the arguments, runs the portfolio backtest into the database and prints the
/// tiers over time.
fn run_backtest(loaded: &LoadedConfig, args: &PortfolioBacktestArgs) -> anyhow::Result<()> {
    let config = backtest_config(loaded, args)?;
    let report =
        run_portfolio_backtest(&config, &mut |_| {}).context("portfolio backtest failed")?;
    print_report(&report);
    println!(
        "written to {} (main_hybrid validate --database ... reads it)",
        crate::config::load_mask_url(&config.database_url)
    );
    Ok(())
}

fn backtest_config(
    loaded: &LoadedConfig,
    args: &PortfolioBacktestArgs,
) -> Result<PortfolioBacktestConfig, UsageError> {
    let url = &loaded.config.database.url;
    if url.contains(":memory:") {
        return Err(UsageError(
            "--database: the portfolio backtest needs a database file or server (two connections write to it), not :memory:".to_owned(),
        ));
    }
    let mut config = PortfolioBacktestConfig::new(args.data.clone(), url);
    config.from = args
        .from
        .as_deref()
        .map(|t| parse_time(t, "--from"))
        .transpose()?;
    config.to = args
        .to
        .as_deref()
        .map(|t| parse_time(t, "--to"))
        .transpose()?;
    config.capital = Decimal::from_str(&args.capital)
        .ok()
        .filter(|c| *c > Decimal::ZERO)
        .ok_or_else(|| {
            UsageError(format!(
                "--capital {:?}: expected a positive amount of USDT",
                args.capital
            ))
        })?;
    config.trading_symbols = args
        .symbols
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Symbol::new(s).map_err(|e| UsageError(format!("--symbols: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if config.trading_symbols.is_empty() {
        return Err(UsageError(
            "--symbols: name at least one symbol for the trading tier".to_owned(),
        ));
    }
    for symbol in &config.trading_symbols {
        let path = candle_file_path(&args.data, symbol, &config.interval);
        if !path.is_file() {
            return Err(UsageError(format!(
                "no candle file {} (download it with fetch-klines)",
                path.display()
            )));
        }
    }
    if let Some(index) = &args.index {
        let entries: Vec<String> = index.split(',').map(|e| e.trim().to_owned()).collect();
        config.index_caps =
            StaticMarketCaps::parse(&entries).map_err(|e| UsageError(format!("--index: {e}")))?;
    }
    config.snapshot_hours = args.snapshot_hours;
    config.warmup_days = args.warmup_days;
    Ok(config)
}

fn print_report(report: &PortfolioBacktestReport) {
    println!(
        "portfolio backtest {} .. {}, capital {} USDT",
        date(report.start),
        date(report.end),
        report.initial_capital
    );
    println!(
        "{:<17} {:>12} {:>12} {:>12} {:>12}  {:>6} {:>6} {:>6}",
        "time", "cash", "index", "trading", "total", "cash%", "idx%", "trd%"
    );
    let step = (report.points.len() / 24).max(1);
    let last = report.points.len().saturating_sub(1);
    for (i, point) in report.points.iter().enumerate() {
        if i % step != 0 && i != last {
            continue;
        }
        let b = &point.breakdown;
        let v = |k: TierKind| b.share(k).value.round_dp(2);
        let p = |k: TierKind| b.share(k).current_pct.round_dp(1);
        println!(
            "{:<17} {:>12} {:>12} {:>12} {:>12}  {:>6} {:>6} {:>6}",
            date(point.time),
            v(TierKind::CashReserve),
            v(TierKind::IndexHoldings),
            v(TierKind::Trading),
            b.total.round_dp(2),
            p(TierKind::CashReserve),
            p(TierKind::IndexHoldings),
            p(TierKind::Trading)
        );
    }
    println!(
        "index: {} orders, {} trailing-stop sales, {} rebalances; trading: {} mode switches, {} closed trades",
        report.index_orders, report.stop_sales, report.rebalances, report.mode_switches, report.closed_trades
    );
    println!("index holdings at the end:");
    for h in &report.index_holdings {
        println!(
            "  {:<10} {:>16} value {:>12} (weight {} %)",
            h.symbol.as_str(),
            h.quantity.normalize(),
            h.value().round_dp(2),
            h.target_weight_pct.round_dp(2)
        );
    }
    println!("redistributions: {}", report.redistributions.len());
    for (at, transfers) in &report.redistributions {
        for t in transfers.as_array().into_iter().flatten() {
            println!(
                "  {}  {} -> {}  {} USDT  reason: {}",
                date(*at),
                t["from"].as_str().unwrap_or("?"),
                t["to"].as_str().unwrap_or("?"),
                t["moved"].as_str().unwrap_or("?"),
                t["reason"].as_str().unwrap_or("?")
            );
        }
    }
}

fn date(time: Timestamp) -> String {
    time.to_datetime().map_or_else(
        || time.as_millis().to_string(),
        |d| d.format("%Y-%m-%d %H:%M").to_string(),
    )
}
