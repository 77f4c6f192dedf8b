//! `main_hybrid run`: the live loop. Wires a market feed (Binance prices polled, or candle
//! files replayed as a live feed), a venue (the paper exchange kept in the database, or Binance
//! testnet/live), the orchestrator and the shutdown signals into `hybrid_engine::run_live`.

use std::{path::PathBuf, str::FromStr, sync::Arc, time::Duration};

use anyhow::Context as _;
use rust_decimal::Decimal;

use hybrid_core::{CandleCsvReader, Clock, SimClock, Symbol, SymbolFilters, SystemClock};
use hybrid_engine::{
    candle_path, interval_ms, replay_filters, run_live, BinanceVenue, HybridOrchestrator,
    LiveConfig, LiveVenue, OrchestratorConfig, ReplayMarketData, StorePaperState,
};
use hybrid_exchange::{
    binance::{BinanceClient, BinanceConfig, BinanceEnvironment, Credentials},
    Balance, CandleReplayFeed, Exchange, MarketFeed, MatchingConfig, PaperExchange, PollingFeed,
    ReplaySpeed,
};
use hybrid_store::Store;

use super::UsageError;
use crate::{
    cli::RunArgs,
    config::{ExchangeBackend, LoadedConfig},
};

/// The paper account's document name in the store.
const PAPER_ACCOUNT: &str = "default";

/// Where market data comes from.
enum Market {
    Binance,
    Replay(PathBuf),
}

/// Validates the arguments and runs the loop on a single-threaded runtime until the feed ends
/// or SIGINT/SIGTERM.
pub(crate) fn run(loaded: &LoadedConfig, args: &RunArgs) -> anyhow::Result<()> {
    let config = &loaded.config;
    let market = parse_market(&config.market.source)?;
    let speed = parse_speed(&args.speed)?;
    interval_ms(&args.interval).map_err(|e| UsageError(format!("--interval: {e}")))?;
    let symbols = match &args.symbols {
        Some(list) => super::parse_symbols(list)?,
        None => config.trading.symbols.clone(),
    };
    if symbols.is_empty() {
        return Err(UsageError("--symbols: name at least one symbol".to_owned()).into());
    }
    if let Market::Replay(dir) = &market {
        super::require_candle_files(dir, &symbols, &args.interval)?;
    }
    // One run per database, taken before anything is written; released when the process
    // ends, however it ends (issue 15, D7).
    let _instance = hybrid_store::InstanceLock::acquire(&config.database.url, "run")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(loaded, args, market, speed, symbols))
}

async fn run_async(
    loaded: &LoadedConfig,
    args: &RunArgs,
    market: Market,
    speed: ReplaySpeed,
    symbols: Vec<Symbol>,
) -> anyhow::Result<()> {
    let config = &loaded.config;
    let url = &config.database.url;
    let shown = crate::config::load_mask_url(url);
    let open_store = || -> anyhow::Result<Store> {
        let store =
            Store::open(url).with_context(|| format!("cannot open the database {shown}"))?;
        store
            .run_migrations()
            .with_context(|| format!("migrating {shown} failed"))?;
        Ok(store)
    };
    let store = open_store()?;
    let interval = interval_ms(&args.interval)?;
    if let Some(parent) = args
        .heartbeat
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let orchestrator = orchestrator_config(loaded);
    let mut live = LiveConfig {
        cohort: orchestrator.cohort_name.clone(),
        interval_ms: interval,
        n_symbols: symbols.len(),
        clock: Arc::new(SystemClock),
        sim_clock: None,
        heartbeat: Some(args.heartbeat.clone()),
        // Only a paper replay saves less often: a real exchange (or its testnet) must never
        // see the candle in progress twice.
        save_every_candle: !(matches!(market, Market::Replay(_))
            && config.exchange.backend == ExchangeBackend::Paper),
    };
    let matching = MatchingConfig {
        maker_fee: config.exchange.fee_rate,
        taker_fee: config.exchange.fee_rate,
        ..MatchingConfig::default()
    };
    let backend = config.exchange.backend;
    match market {
        Market::Replay(dir) => {
            if backend == ExchangeBackend::Live {
                return Err(UsageError(
                    "--market replay:DIR never trades real money: use --exchange paper or testnet"
                        .to_owned(),
                )
                .into());
            }
            let (filters, start) = replay_start(&dir, &symbols, &args.interval, interval)?;
            let sim = Arc::new(SimClock::new(start));
            let clock: Arc<dyn Clock> = sim.clone();
            live.clock = Arc::clone(&clock);
            live.sim_clock = Some(sim);
            let feed = CandleReplayFeed::open_dir(&dir, &symbols, &args.interval, speed)?;
            if matches!(backend, ExchangeBackend::Testnet | ExchangeBackend::Demo) {
                // The testnet's clock must follow the replay (a fake testnet that replays the
                // same candles, as in the end-to-end tests): requests carry replayed times.
                let client = signed_client(config, backend, &clock)?;
                let mut exchange_filters = Vec::with_capacity(symbols.len());
                for symbol in &symbols {
                    exchange_filters.push(
                        client
                            .symbol_filters(symbol)
                            .await
                            .with_context(|| format!("cannot read the filters of {symbol}"))?,
                    );
                }
                let exchange = BinanceVenue::new(client, clock.now());
                tracing::warn!(dir = %dir.display(), "replaying candles against the testnet");
                return drive(feed, exchange, store, exchange_filters, orchestrator, &live).await;
            }
            let paper = paper_exchange(
                ReplayMarketData::new(filters.clone()),
                open_store()?,
                &clock,
                matching,
                &filters,
                config.exchange.paper_initial_quote,
            )?;
            tracing::info!(dir = %dir.display(), ?speed, "replaying candles as a live feed on the paper exchange");
            drive(feed, paper, store, filters, orchestrator, &live).await
        }
        Market::Binance => {
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let base = if config.exchange.base_url.is_empty() {
                None
            } else {
                Some(config.exchange.base_url.clone())
            };
            let public = |environment| match &base {
                Some(url) => BinanceConfig::with_base_url(url.clone()),
                None => BinanceConfig::new(environment),
            };
            let market_data = BinanceClient::with_clock(
                public(BinanceEnvironment::MarketData),
                Arc::clone(&clock),
            )?;
            let feed = PollingFeed::new(
                BinanceClient::with_clock(
                    public(BinanceEnvironment::MarketData),
                    Arc::clone(&clock),
                )?,
                symbols.clone(),
                &args.interval,
                Duration::from_secs(u64::from(config.trading.tick_interval_secs)),
                Arc::clone(&clock),
            )?;
            let mut filters = Vec::with_capacity(symbols.len());
            for symbol in &symbols {
                filters.push(
                    market_data
                        .symbol_filters(symbol)
                        .await
                        .with_context(|| format!("cannot read the filters of {symbol}"))?,
                );
            }
            match backend {
                ExchangeBackend::Paper => {
                    let paper = paper_exchange(
                        market_data,
                        open_store()?,
                        &clock,
                        matching,
                        &filters,
                        config.exchange.paper_initial_quote,
                    )?;
                    tracing::info!("paper trading on Binance prices");
                    drive(feed, paper, store, filters, orchestrator, &live).await
                }
                ExchangeBackend::Testnet | ExchangeBackend::Demo | ExchangeBackend::Live => {
                    let client = signed_client(config, backend, &clock)?;
                    if backend == ExchangeBackend::Live {
                        live_gate(&client, &store, config, clock.now()).await?;
                    }
                    let exchange = BinanceVenue::new(client, clock.now());
                    tracing::warn!(?backend, "trading on Binance");
                    drive(feed, exchange, store, filters, orchestrator, &live).await
                }
            }
        }
    }
}

/// The signed Binance client of `backend` (testnet or live), keys from the environment,
/// the base URL from the configuration when set (a fake server in tests).
fn signed_client(
    config: &crate::config::Config,
    backend: ExchangeBackend,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<BinanceClient> {
    let (key, secret) = (
        std::env::var("HYBRID_BINANCE_API_KEY").unwrap_or_default(),
        std::env::var("HYBRID_BINANCE_API_SECRET").unwrap_or_default(),
    );
    let environment = environment(backend);
    let base = if config.exchange.base_url.is_empty() {
        BinanceConfig::new(environment)
    } else {
        BinanceConfig::with_base_url(config.exchange.base_url.clone())
    };
    let signed = base.with_credentials(Credentials::hmac(key, &secret));
    Ok(BinanceClient::with_clock(signed, Arc::clone(clock))?)
}

/// The Binance environment a signed backend trades on.
fn environment(backend: ExchangeBackend) -> BinanceEnvironment {
    match backend {
        ExchangeBackend::Live => BinanceEnvironment::Mainnet,
        ExchangeBackend::Demo => BinanceEnvironment::Demo,
        ExchangeBackend::Paper | ExchangeBackend::Testnet => BinanceEnvironment::Testnet,
    }
}

/// The go-live gate (spec §2): the API key must not be able to withdraw and must be
/// IP-restricted (Binance reports both), and the production validator must pass for the
/// deployment phase. Refuses with the reason otherwise.
async fn live_gate(
    client: &BinanceClient,
    store: &Store,
    config: &crate::config::Config,
    now: hybrid_core::Timestamp,
) -> anyhow::Result<()> {
    hybrid_portfolio::check_live_api_key(client)
        .await
        .context("refusing to trade live with this API key")?;
    let phase = hybrid_portfolio::detect_phase(false, false, config.portfolio.enabled, None);
    let report =
        hybrid_portfolio::validate_store(store, now, &hybrid_portfolio::Criteria::default());
    hybrid_portfolio::require_ready_for(phase, &report)
        .context("refusing to trade live: run `main_hybrid validate` to see what is missing")?;
    Ok(())
}

/// Builds the orchestrator, installs the signal handlers and runs the loop.
async fn drive<F: MarketFeed, E: LiveVenue>(
    mut feed: F,
    exchange: E,
    store: Store,
    filters: Vec<SymbolFilters>,
    config: OrchestratorConfig,
    live: &LiveConfig,
) -> anyhow::Result<()> {
    let mut orchestrator =
        HybridOrchestrator::new(exchange, store, config, filters, live.clock.now())
            .context("cannot start the orchestrator")?;
    orchestrator.set_notifications(true);
    orchestrator.set_history(true);
    let shutdown = super::shutdown_signal()?;
    let summary = run_live(&mut feed, &mut orchestrator, live, shutdown)
        .await
        .context("the live loop stopped")?;
    let journal = orchestrator.journal();
    let how = if summary.signalled {
        "stopped by signal"
    } else {
        "feed ended"
    };
    let saved = if summary.state_saved {
        "state saved"
    } else {
        "nothing to save (trading had not started)"
    };
    println!(
        "{how}; {saved}: {} candles traded ({} skipped as already traded), {} orders, {} fills{}",
        summary.candles,
        summary.skipped,
        journal.n_orders,
        journal.n_fills,
        if summary.resumed {
            ", resumed from the saved state"
        } else {
            ""
        }
    );
    Ok(())
}

/// The orchestrator's settings: the engine's defaults (those of the backtest, so a replay and
/// a backtest trade alike) under the cohort `main`, with the configured initial mode and fee.
fn orchestrator_config(loaded: &LoadedConfig) -> OrchestratorConfig {
    let mut config = OrchestratorConfig::backtest_defaults();
    config.cohort_name = "main".to_owned();
    config.hybrid.initial_mode = loaded.config.trading.initial_mode;
    config.fee_rate = loaded.config.exchange.fee_rate;
    config
}

fn paper_exchange<D: Exchange>(
    market_data: D,
    store: Store,
    clock: &Arc<dyn Clock>,
    matching: MatchingConfig,
    filters: &[SymbolFilters],
    initial_quote: Decimal,
) -> anyhow::Result<PaperExchange<D, StorePaperState>> {
    let quote = filters
        .first()
        .map(|f| f.symbol.quote())
        .context("no symbol to trade")?;
    let state = StorePaperState::new(Arc::new(store), PAPER_ACCOUNT, Arc::clone(clock));
    PaperExchange::open(
        market_data,
        state,
        Arc::clone(clock),
        matching,
        filters.to_vec(),
        &[Balance {
            asset: quote,
            free: initial_quote,
            locked: Decimal::ZERO,
        }],
    )
    .context("cannot open the paper account")
}

/// The replay's filters (from each file's first price) and the close of its first candle.
fn replay_start(
    dir: &std::path::Path,
    symbols: &[Symbol],
    interval: &str,
    interval_ms: i64,
) -> anyhow::Result<(Vec<SymbolFilters>, hybrid_core::Timestamp)> {
    let mut filters = Vec::with_capacity(symbols.len());
    let mut start = None;
    for symbol in symbols {
        let path = candle_path(dir, symbol, interval);
        let mut reader = CandleCsvReader::open(&path)?;
        let first = reader
            .next()
            .transpose()?
            .with_context(|| format!("{} holds no candle", path.display()))?;
        // The reader checks the file's interval over its first gaps: refuse a file of another
        // interval (5m candles in -1m.csv) before trading on it (issue 15, D8).
        for candle in reader
            .by_ref()
            .take(hybrid_core::GAPS_BEFORE_INTERVAL_SEEN as usize)
        {
            candle?;
        }
        filters.push(replay_filters(symbol.clone(), first.close()));
        let close = first.open_time().plus_millis(interval_ms);
        start = Some(start.map_or(close, |s: hybrid_core::Timestamp| s.min(close)));
    }
    let start = start.context("no symbol to replay")?;
    Ok((filters, start))
}

fn parse_market(source: &str) -> Result<Market, UsageError> {
    if source == "binance" {
        return Ok(Market::Binance);
    }
    match source.strip_prefix("replay:") {
        Some(dir) if !dir.is_empty() => Ok(Market::Replay(PathBuf::from(dir))),
        _ => Err(UsageError(format!(
            "--market {source:?}: expected binance or replay:DIR"
        ))),
    }
}

fn parse_speed(text: &str) -> Result<ReplaySpeed, UsageError> {
    if text == "fast" {
        return Ok(ReplaySpeed::Fast);
    }
    f64::from_str(text)
        .ok()
        .filter(|f| f.is_finite() && *f > 0.0)
        .map(ReplaySpeed::Factor)
        .ok_or_else(|| {
            UsageError(format!(
                "--speed {text:?}: expected fast or a positive factor"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_and_speed_are_parsed_or_refused() {
        assert!(matches!(parse_market("binance"), Ok(Market::Binance)));
        assert!(matches!(parse_market("replay:/x"), Ok(Market::Replay(_))));
        assert!(parse_market("replay:").is_err());
        assert!(parse_market("kraken").is_err());
        assert_eq!(parse_speed("fast").unwrap(), ReplaySpeed::Fast);
        assert_eq!(parse_speed("60").unwrap(), ReplaySpeed::Factor(60.0));
        assert!(parse_speed("0").is_err());
        assert!(parse_speed("slow").is_err());
    }

    #[test]
    fn demo_trades_on_binance_demo_mode_and_only_live_on_mainnet() {
        assert_eq!(
            environment(ExchangeBackend::Demo).base_url(),
            "https://demo-api.binance.com"
        );
        assert_eq!(
            environment(ExchangeBackend::Testnet),
            BinanceEnvironment::Testnet
        );
        assert_eq!(
            environment(ExchangeBackend::Live),
            BinanceEnvironment::Mainnet
        );
    }
}
