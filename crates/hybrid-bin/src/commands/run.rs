//! `main_hybrid run`: the live side of the one loop. Wires a market feed (Binance prices
//! polled, or candle files replayed as a live feed), a venue (the paper exchange kept in the
//! database, or Binance testnet/live), the trader and the shutdown signals into
//! `hybrid_engine::run_live`. The loop itself is the `Driver` every backtest runs too.

use std::{path::PathBuf, str::FromStr, sync::Arc, time::Duration};

use anyhow::Context as _;
use rust_decimal::Decimal;

use hybrid_core::{Clock, SimClock, Symbol, SymbolFilters, SystemClock, Timestamp};
use hybrid_engine::{
    interval_ms, replay_filters_of, run_live, HybridOrchestrator, LiveConfig, OrchestratorConfig,
    Persistence, StorePaperState,
};
use hybrid_exchange::{
    binance::{BinanceClient, BinanceConfig, BinanceEnvironment, Credentials},
    Balance, CandleFeed, MarketData, MarketFeed, MatchingConfig, PaperExchange, PollingFeed,
    ReplaySpeed, Venue,
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

/// The validated arguments of a run.
struct Plan {
    market: Market,
    speed: ReplaySpeed,
    symbols: Vec<Symbol>,
    interval_ms: i64,
    /// The paper account's starting balance.
    capital: Decimal,
}

/// Validates the arguments and runs the loop on a single-threaded runtime until the feed ends
/// or SIGINT/SIGTERM.
pub(crate) fn run(loaded: &LoadedConfig, args: &RunArgs) -> anyhow::Result<()> {
    let plan = plan(loaded, args)?;
    // One run per database, taken before anything is written; released when the process
    // ends, however it ends (issue 15, D7).
    let _instance = hybrid_store::InstanceLock::acquire(&loaded.config.database.url, "run")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(loaded, args, plan))
}

fn plan(loaded: &LoadedConfig, args: &RunArgs) -> anyhow::Result<Plan> {
    let config = &loaded.config;
    let market = parse_market(&config.market.source)?;
    let speed = parse_speed(&args.speed)?;
    let interval_ms =
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
        // The files' first gaps show their interval: refuse a file of another interval (5m
        // candles in -1m.csv) before trading on it (issue 15, D8).
        super::check_candle_intervals(dir, &symbols, &args.interval)?;
        if config.exchange.backend == ExchangeBackend::Live {
            return Err(UsageError(
                "--market replay:DIR never trades real money: use --exchange paper or testnet"
                    .to_owned(),
            )
            .into());
        }
    }
    let capital = match &args.capital {
        Some(_) if config.exchange.backend != ExchangeBackend::Paper => {
            return Err(UsageError(
                "--capital sets the paper account's starting balance; a real exchange's \
                 balance is what it is (drop --capital or use --exchange paper)"
                    .to_owned(),
            )
            .into())
        }
        Some(text) => super::parse_capital(text)?,
        None => config.exchange.paper_initial_quote,
    };
    Ok(Plan {
        market,
        speed,
        symbols,
        interval_ms,
        capital,
    })
}

async fn run_async(loaded: &LoadedConfig, args: &RunArgs, plan: Plan) -> anyhow::Result<()> {
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
    if let Some(parent) = args
        .heartbeat
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let backend = config.exchange.backend;
    let matching = MatchingConfig {
        maker_fee: config.exchange.fee_rate,
        taker_fee: config.exchange.fee_rate,
        ..MatchingConfig::default()
    };
    let wiring = Wiring {
        orchestrator: orchestrator_config(loaded),
        interval_ms: plan.interval_ms,
        heartbeat: args.heartbeat.clone(),
        control: open_store()?,
    };
    match plan.market {
        Market::Replay(dir) => {
            let mut feed = CandleFeed::open_dir(&dir, &plan.symbols, &args.interval, plan.speed)?;
            let filters = replay_filters_of(&mut feed)?;
            let start = feed
                .peek_firsts()?
                .iter()
                .filter_map(|(_, c)| c.map(|c| c.open_time()))
                .min()
                .context("the candle files hold no candle")?;
            let market_clock = Arc::new(SimClock::new(start));
            let clock: Arc<dyn Clock> = market_clock.clone();
            if matches!(backend, ExchangeBackend::Testnet | ExchangeBackend::Demo) {
                // The testnet's clock must follow the replay (a fake testnet that replays the
                // same candles, as in the end-to-end tests): requests carry replayed times.
                let client = signed_client(config, backend, &clock)?;
                let filters = exchange_filters(&client, &plan.symbols).await?;
                tracing::warn!(dir = %dir.display(), "replaying candles against the testnet");
                let live = wiring.live_config(market_clock, false, Persistence::EveryGroup);
                return wiring
                    .drive(feed, Arc::new(client), store, filters, live)
                    .await;
            }
            let paper = paper_exchange(open_store()?, &clock, matching, &filters, plan.capital)?;
            tracing::info!(dir = %dir.display(), speed = ?plan.speed, "replaying candles as a live feed on the paper exchange");
            let live = wiring.live_config(market_clock, false, Persistence::OnActivity);
            wiring
                .drive(feed, Arc::new(paper), store, filters, live)
                .await
        }
        Market::Binance => {
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let base =
                (!config.exchange.base_url.is_empty()).then(|| config.exchange.base_url.clone());
            let public = || match &base {
                Some(url) => BinanceConfig::with_base_url(url.clone()),
                None => BinanceConfig::new(BinanceEnvironment::MarketData),
            };
            let market_data = BinanceClient::with_clock(public(), Arc::clone(&clock))?;
            let filters = exchange_filters(&market_data, &plan.symbols).await?;
            let feed = PollingFeed::new(
                market_data,
                plan.symbols.clone(),
                &args.interval,
                Duration::from_secs(u64::from(config.trading.tick_interval_secs)),
                Arc::clone(&clock),
            )?;
            // Market time starts at the epoch: the first candle moves it.
            let market_clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
            let live = wiring.live_config(market_clock, true, Persistence::EveryGroup);
            match backend {
                ExchangeBackend::Paper => {
                    let paper =
                        paper_exchange(open_store()?, &clock, matching, &filters, plan.capital)?;
                    tracing::info!("paper trading on Binance prices");
                    wiring
                        .drive(feed, Arc::new(paper), store, filters, live)
                        .await
                }
                ExchangeBackend::Testnet | ExchangeBackend::Demo | ExchangeBackend::Live => {
                    let client = signed_client(config, backend, &clock)?;
                    if backend == ExchangeBackend::Live {
                        live_gate(&client, &store, config, clock.now()).await?;
                    }
                    tracing::warn!(?backend, "trading on Binance");
                    wiring
                        .drive(feed, Arc::new(client), store, filters, live)
                        .await
                }
            }
        }
    }
}

/// What every run is wired with, whatever its feed and venue.
struct Wiring {
    orchestrator: OrchestratorConfig,
    interval_ms: i64,
    heartbeat: PathBuf,
    control: Store,
}

impl Wiring {
    fn live_config(
        &self,
        market_clock: Arc<SimClock>,
        live_feed: bool,
        persistence: Persistence,
    ) -> LiveConfig {
        LiveConfig {
            interval_ms: self.interval_ms,
            market_clock,
            live_feed,
            heartbeat: Some(self.heartbeat.clone()),
            persistence,
        }
    }

    /// Builds the orchestrator, installs the signal handlers and runs the loop.
    async fn drive<F: MarketFeed, V: Venue>(
        self,
        mut feed: F,
        venue: Arc<V>,
        store: Store,
        filters: Vec<SymbolFilters>,
        live: LiveConfig,
    ) -> anyhow::Result<()> {
        let now = live.market_clock.now();
        let mut orchestrator =
            HybridOrchestrator::new(Arc::clone(&venue), store, self.orchestrator, filters, now)
                .context("cannot start the orchestrator")?;
        orchestrator.set_notifications(true);
        orchestrator.set_history(true);
        let shutdown = super::shutdown_signal()?;
        let summary = run_live(
            &mut feed,
            &*venue,
            &mut orchestrator,
            &mut (),
            &live,
            self.control,
            shutdown,
        )
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
}

/// The filters of `symbols` as the exchange states them.
async fn exchange_filters<M: MarketData>(
    market: &M,
    symbols: &[Symbol],
) -> anyhow::Result<Vec<SymbolFilters>> {
    let mut filters = Vec::with_capacity(symbols.len());
    for symbol in symbols {
        filters.push(
            market
                .symbol_filters(symbol)
                .await
                .with_context(|| format!("cannot read the filters of {symbol}"))?,
        );
    }
    Ok(filters)
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

/// The orchestrator's settings: the engine's defaults (those of the backtest, so a replay and
/// a backtest trade alike) under the cohort `main`, with the configured initial mode and fee.
fn orchestrator_config(loaded: &LoadedConfig) -> OrchestratorConfig {
    let mut config = OrchestratorConfig::backtest_defaults();
    config.cohort_name = "main".to_owned();
    config.hybrid.initial_mode = loaded.config.trading.initial_mode;
    config.fee_rate = loaded.config.exchange.fee_rate;
    config
}

fn paper_exchange(
    store: Store,
    clock: &Arc<dyn Clock>,
    matching: MatchingConfig,
    filters: &[SymbolFilters],
    initial_quote: Decimal,
) -> anyhow::Result<PaperExchange<StorePaperState>> {
    let quote = filters
        .first()
        .map(|f| f.symbol.quote())
        .context("no symbol to trade")?;
    let state = StorePaperState::new(Arc::new(store), PAPER_ACCOUNT, Arc::clone(clock));
    PaperExchange::open(
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
