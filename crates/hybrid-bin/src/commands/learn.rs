//! `main_hybrid learn`: the learning pass over a backtest. Runs `hybrid_engine::run_backtest`,
//! hands its journal (fills, mode switches) to `hybrid_learning::record_backtest` — which adds
//! the switches the regime suggested but the manager declined, computes the nine signals, the
//! outcomes and the playbook — and prints per-signal accuracy per regime with sample sizes and
//! the playbook. `hybrid-learning` may not depend on the engine, so the binary composes the two.

use std::{collections::BTreeMap, path::Path, time::Duration};

use anyhow::Context as _;

use hybrid_core::{Candle, CandleCsvReader, Notional};
use hybrid_engine::{interval_ms, run_backtest, BacktestConfig, BacktestOutcome};
use hybrid_exchange::candle_file_path;
use hybrid_learning::{
    active_weights, record_backtest, AccuracyReport, BacktestJournal, CandleHistory, LlmAdvisor,
    LlmClient, LlmSettings, NoAdvisor, PassSummary, RecordingAdvisor, ReplayAdvisor, SignalAdvisor,
    SwitchEvent, TradeEvent,
};
use hybrid_store::Store;

use super::{parse_time, UsageError};
use crate::{cli::LearnArgs, config::LoadedConfig};

/// Runs the backtest and the learning pass, and prints the report.
pub(crate) fn run(loaded: &LoadedConfig, args: &LearnArgs) -> anyhow::Result<()> {
    let config = learn_config(args)?;
    let store = Store::open(&loaded.config.database.url).context("cannot open the database")?;
    store
        .run_migrations()
        .context("cannot migrate the database")?;
    eprintln!("learn: replaying {} …", args.symbols);
    let outcome = run_backtest(&config, &mut |_| {}).context("backtest failed")?;
    let history = load_history(&config)?;
    let journal = journal(&outcome, &config, &args.run);
    let replay_store = match args.llm.strip_prefix("replay:") {
        Some(url) => Some(Store::open(url).context("cannot open the replay database")?),
        None => None,
    };
    let mut advisor = advisor(loaded, args, &store, replay_store.as_ref())?;
    let summary = record_backtest(
        &store,
        &history,
        &journal,
        advisor.as_mut(),
        &active_weights(&store, "global").context("cannot read the signal weights")?,
        config.orchestrator.fee_rate,
    )
    .context("learning pass failed")?;
    print!("{}", render(&summary));
    Ok(())
}

/// Raw arguments to a backtest configuration; bad arguments are usage errors (exit 2).
fn learn_config(args: &LearnArgs) -> Result<BacktestConfig, UsageError> {
    interval_ms(&args.interval).map_err(|e| UsageError(e.to_string()))?;
    let symbols = super::parse_symbols(&args.symbols)?;
    super::require_candle_files(&args.data, &symbols, &args.interval)?;
    let capital = super::parse_capital(&args.capital)?;
    let mut config = BacktestConfig::new(args.data.clone(), symbols);
    config.interval.clone_from(&args.interval);
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
    config.capital = Notional::new(capital);
    Ok(config)
}

/// Every candle of the replayed files, for indicators, regimes and outcome prices.
fn load_history(config: &BacktestConfig) -> anyhow::Result<CandleHistory> {
    let mut candles = BTreeMap::new();
    for symbol in &config.symbols {
        let path = candle_file_path(&config.data_dir, symbol, &config.interval);
        candles.insert(symbol.clone(), read_candles(&path)?);
    }
    Ok(CandleHistory::new(candles, interval_ms(&config.interval)?))
}

fn read_candles(path: &Path) -> anyhow::Result<Vec<Candle>> {
    CandleCsvReader::open(path)?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot read {}", path.display()))
}

/// The engine's journal in the learning crate's terms.
fn journal(outcome: &BacktestOutcome, config: &BacktestConfig, run: &str) -> BacktestJournal {
    let report = &outcome.report;
    BacktestJournal {
        run: run.to_owned(),
        cohort: config.orchestrator.cohort_name.clone(),
        initial_mode: config.orchestrator.hybrid.initial_mode,
        start: report.start,
        end: report.end,
        trades: outcome
            .venue_fills
            .iter()
            .map(|f| TradeEvent {
                time: f.time,
                symbol: f.symbol.clone(),
                side: f.side,
                price: f.price,
                quantity: f.quantity,
                trade_id: f.trade_id,
            })
            .collect(),
        switches: report
            .mode_switches
            .iter()
            .map(|s| SwitchEvent {
                time: s.time,
                symbol: s.symbol.clone(),
                from: s.from,
                to: s.to,
                reason: s.reason.clone(),
            })
            .collect(),
    }
}

/// `--llm off` (default): no AI signal. `--llm replay[:DB]`: the answers recorded in
/// `ai_conversations` (of this or another database), nothing sent. `--llm live`: the `[llm]`
/// settings; `--llm URL`: another OpenAI-compatible server; both with the key from
/// HYBRID_LLM_API_KEY and every exchange recorded.
fn advisor<'a>(
    loaded: &LoadedConfig,
    args: &LearnArgs,
    store: &'a Store,
    replay_store: Option<&'a Store>,
) -> anyhow::Result<Box<dyn SignalAdvisor + 'a>> {
    if let Some(replay) = replay_store {
        return Ok(Box::new(ReplayAdvisor::new(replay, &args.llm_model)));
    }
    let api_key = loaded
        .secrets
        .get("HYBRID_LLM_API_KEY")
        .cloned()
        .unwrap_or_default();
    let llm = &loaded.config.llm;
    let settings = match args.llm.as_str() {
        "off" => return Ok(Box::new(NoAdvisor)),
        "replay" => return Ok(Box::new(ReplayAdvisor::new(store, &args.llm_model))),
        "live" => LlmSettings {
            base_url: llm.base_url.clone(),
            api_key,
            model: llm.model.clone(),
            timeout: Duration::from_secs(u64::from(llm.timeout_secs)),
            max_attempts: llm.max_attempts,
            ..LlmSettings::default()
        },
        url => LlmSettings {
            base_url: url.to_owned(),
            api_key,
            model: args.llm_model.clone(),
            timeout: Duration::from_secs(args.llm_timeout_secs),
            max_attempts: llm.max_attempts,
            ..LlmSettings::default()
        },
    };
    let client = LlmClient::new(settings).context("cannot build the LLM client")?;
    Ok(Box::new(RecordingAdvisor::new(
        LlmAdvisor::new(client)?,
        store,
    )))
}

/// The report: decisions, outcomes, per-signal accuracy per regime with sample sizes, playbook.
fn render(summary: &PassSummary) -> String {
    let mut out = String::from("learning pass\n");
    for (kind, n) in &summary.recorded {
        out.push_str(&format!("  decisions {kind:<16} {n}\n"));
    }
    out.push_str(&format!(
        "  already stored            {}\n",
        summary.already_stored
    ));
    for window in ["1h", "4h", "24h", "7d"] {
        let n = summary.outcomes.written.get(window).copied().unwrap_or(0);
        out.push_str(&format!("  outcomes {window:<4} written    {n}\n"));
    }
    out.push_str(&format!(
        "  outcomes not priceable    {}\n  signal rows evaluated     {}\n  entries judged by pairs   {}\n",
        summary.outcomes.unpriced, summary.outcomes.signals_evaluated, summary.judged_by_pairs
    ));
    out.push_str(&accuracy_table(&summary.accuracy));
    for (scope, weights) in &summary.weights {
        let mut ranked: Vec<_> = weights.0.iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(a.1));
        let top: Vec<String> = ranked
            .iter()
            .take(3)
            .map(|(s, w)| format!("{} {:.3}", s.key(), w))
            .collect();
        out.push_str(&format!("  weights {scope:<16} {}\n", top.join(", ")));
    }
    out.push_str(&format!(
        "\nplaybook v{} ({})\n",
        summary.playbook.version,
        if summary.playbook.produced {
            "new"
        } else {
            "unchanged"
        }
    ));
    for change in &summary.playbook.changes {
        out.push_str(&format!("  - {change}\n"));
    }
    out.push('\n');
    out.push_str(&summary.playbook.content);
    out
}

fn accuracy_table(report: &AccuracyReport) -> String {
    let mut out = String::from("\nper-signal accuracy per regime (n = evaluated samples)\n");
    out.push_str(&format!(
        "  {:<10} {:<12} {:>9} {:>7}\n",
        "regime", "signal", "accuracy", "n"
    ));
    let mut tables: Vec<(&str, &hybrid_learning::AccuracyTable)> = report
        .by_regime
        .iter()
        .map(|(r, t)| (r.as_str(), t))
        .collect();
    tables.push(("ALL", &report.all));
    for (regime, table) in tables {
        out.push_str(&format!(
            "  {:<10} {:<12} {:>8.1}% {:>7}\n",
            regime,
            "final score",
            table.overall.pct().unwrap_or(0.0),
            table.overall.total
        ));
        for s in &table.signals {
            out.push_str(&format!(
                "  {:<10} {:<12} {:>8.1}% {:>7}\n",
                regime,
                s.signal.key(),
                s.pct(),
                s.tally.total
            ));
        }
    }
    out
}
