//! The validated configuration as typed values.
//!
//! Every key is validated now, so a mistake is reported before anything runs, even for keys
//! whose consumers (engine, grid, risk, modes) are wired in by later milestones.
#![allow(
    dead_code,
    reason = "some sections are read by crates wired in by later milestones"
)]

use rust_decimal::Decimal;
use serde::Deserialize;

use hybrid_cohorts::CohortDefinition;
use hybrid_core::{Symbol, TradingMode};

/// The whole validated configuration. Field docs live in `schema::KEYS` and
/// `docs/CONFIGURATION.md`; this struct only carries the values.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    pub(crate) database: DatabaseConfig,
    pub(crate) exchange: ExchangeConfig,
    pub(crate) market: MarketConfig,
    pub(crate) trading: TradingConfig,
    pub(crate) modes: ModesConfig,
    pub(crate) grid: GridConfig,
    pub(crate) risk: RiskConfig,
    pub(crate) telegram: TelegramConfig,
    pub(crate) portfolio: PortfolioConfig,
    pub(crate) llm: LlmConfig,
    pub(crate) logging: LoggingConfig,
    /// The file's `[[cohorts]]` (checked by `config::cohorts`), or `None` for the defaults.
    #[serde(skip)]
    pub(crate) cohorts: Option<Vec<CohortDefinition>>,
}

impl Config {
    /// The cohorts to trade and back-test: the configured `[[cohorts]]`, or the six defaults of
    /// spec §6.2 (1000 USDT each) when the file has none.
    pub(crate) fn cohorts(&self) -> Vec<CohortDefinition> {
        self.cohorts
            .clone()
            .unwrap_or_else(hybrid_cohorts::default_cohorts)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DatabaseConfig {
    pub(crate) url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ExchangeBackend {
    Paper,
    Testnet,
    /// Binance Demo Mode: real prices, fake money; keys needed, like the testnet.
    Demo,
    Live,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExchangeConfig {
    pub(crate) backend: ExchangeBackend,
    pub(crate) live_confirmed: bool,
    pub(crate) base_url: String,
    pub(crate) recv_window_ms: i64,
    pub(crate) paper_initial_quote: Decimal,
    pub(crate) fee_rate: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarketConfig {
    pub(crate) source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TradingConfig {
    pub(crate) symbols: Vec<Symbol>,
    pub(crate) total_investment: Decimal,
    pub(crate) max_symbols: u32,
    pub(crate) min_position_usd: Decimal,
    pub(crate) tick_interval_secs: u32,
    pub(crate) initial_mode: TradingMode,
    pub(crate) constraints_preset: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModesConfig {
    pub(crate) enable_switching: bool,
    pub(crate) min_regime_probability: Decimal,
    pub(crate) min_regime_duration_days: u32,
    pub(crate) cooldown_hours: u32,
    pub(crate) hold_trailing_stop_pct: Decimal,
    pub(crate) cash_exit_timeout_hours: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GridConfig {
    pub(crate) range_percent: Decimal,
    pub(crate) num_grids: u32,
    pub(crate) spacing: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RiskConfig {
    pub(crate) max_daily_drawdown_pct: Decimal,
    pub(crate) grid_stop_loss_pct: Decimal,
    pub(crate) circuit_breaker_pct: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TelegramConfig {
    pub(crate) enabled: bool,
    pub(crate) allowed_chat_ids: Vec<i64>,
    pub(crate) owner_user_ids: Vec<i64>,
    pub(crate) api_url: String,
    pub(crate) learning_mode: bool,
    pub(crate) min_send_interval_ms: u64,
    pub(crate) outbox_poll_ms: u64,
    pub(crate) heartbeat_stale_secs: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortfolioConfig {
    pub(crate) enabled: bool,
    pub(crate) coingecko_url: String,
    pub(crate) per_cohort_min_capital: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoggingConfig {
    pub(crate) format: LogFormat,
    pub(crate) level: String,
}

/// The LLM advisor (`[llm]`); the API key is read from `HYBRID_LLM_API_KEY` only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LlmConfig {
    pub(crate) base_url: String,
    pub(crate) model: String,
    pub(crate) timeout_secs: u32,
    pub(crate) max_attempts: u32,
}
