//! Command-line arguments (clap), kept apart from what they do.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::LogFormat;

/// Hybrid: a self-hosted, regime-adaptive trading system for Binance spot.
#[derive(Debug, Parser)]
#[command(name = "main_hybrid", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// Configuration file (TOML). Without it: built-in defaults plus HYBRID_* environment variables.
    #[arg(long, global = true, value_name = "FILE", env = "HYBRID_CONFIG")]
    pub(crate) config: Option<PathBuf>,

    /// Database URL, overriding the configuration: sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) database: Option<String>,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub(crate) log_format: Option<LogFormat>,

    /// More log output: -v debug, -vv trace (RUST_LOG, when set, wins).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate the configuration and print the effective values (secrets masked); exit 2 if invalid.
    CheckConfig,
    /// Create or upgrade the database schema and print what was applied.
    Migrate,
    /// Download candles from Binance's public API into DIR/SYMBOL-INTERVAL.csv (resumes an
    /// interrupted download; refuses to append to a file holding different data).
    FetchKlines(FetchKlinesArgs),
    /// Replay candle CSV files through the hybrid engine (simulated clock and exchange) and
    /// print a report; writes report.json and equity.png into --out.
    Backtest(BacktestArgs),
    /// The live loop: paper trading on public Binance prices by default (no keys), or a replay
    /// of candle files as a live feed; SIGINT/SIGTERM stop it with the state saved.
    Run(RunArgs),
    /// The database-side scheduled tasks (retention, stale-order alerts, daily summary), each
    /// under a task lock so several processes on one PostgreSQL never run one task twice.
    Scheduler(SchedulerArgs),
    /// Print the nine production-readiness criteria computed from the database: each value,
    /// threshold and PASS/FAIL, then whether the system is ready for real money.
    Validate,
    /// The three portfolio tiers (value, share, target, drift) and index holdings from the
    /// database; `portfolio backtest` runs the three-tier portfolio over candle files into it.
    Portfolio(PortfolioArgs),
    /// The learning pass: a backtest whose decisions (fills, mode switches, declined switches)
    /// are recorded with their nine signals and regime, then outcomes, signal accuracy per
    /// regime and the playbook; prints the accuracy table and the playbook.
    Learn(LearnArgs),
    /// The Telegram process: answers the configured chats' commands (long polling) and sends
    /// the notification outbox; needs HYBRID_TELEGRAM_BOT_TOKEN and telegram.allowed_chat_ids.
    Telegram(TelegramArgs),
    /// The read-only web dashboard (overview, coins, cohorts, validator, health), its JSON API
    /// under /api/ and Prometheus /metrics, over the database. Listening anywhere but on
    /// loopback needs HYBRID_DASHBOARD_TOKEN.
    Serve(ServeArgs),
    /// Watches the trading loop's heartbeat file and queues a critical Telegram alert when it
    /// goes stale; with --once, checks once and exits 1 when stale (a health check).
    Watchdog(WatchdogArgs),
    /// Rank the cohorts in the database by realised return (Sharpe, drawdown, win rate, fees),
    /// each against the baseline with a bootstrap confidence interval of daily returns.
    Compare(CompareArgs),
}

/// Arguments of `telegram`.
#[derive(Debug, clap::Args)]
pub(crate) struct TelegramArgs {
    /// The trading loop's heartbeat file, shown by /health.
    #[arg(long, value_name = "PATH", default_value = "data/heartbeat")]
    pub(crate) heartbeat: PathBuf,
}

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = hybrid_dashboard::DEFAULT_LISTEN)]
    pub(crate) listen: std::net::SocketAddr,
    /// The trading loop's heartbeat file, shown on the health page.
    #[arg(long, value_name = "PATH", default_value = "data/heartbeat")]
    pub(crate) heartbeat: PathBuf,
    /// The control cohort the ranking compares against.
    #[arg(long, default_value = "baseline")]
    pub(crate) baseline: String,
    /// Days of history the charts cover (ending at the last candle traded).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub(crate) history_days: u32,
}

/// Arguments of `watchdog`.
#[derive(Debug, clap::Args)]
pub(crate) struct WatchdogArgs {
    /// The trading loop's heartbeat file.
    #[arg(long, value_name = "PATH", default_value = "data/heartbeat")]
    pub(crate) heartbeat: PathBuf,
    /// Seconds between two checks.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) check_secs: u64,
    /// Check once and exit: status 0 when fresh, 1 when stale or missing.
    #[arg(long)]
    pub(crate) once: bool,
}

/// Arguments of `portfolio`.
#[derive(Debug, clap::Args)]
pub(crate) struct PortfolioArgs {
    /// Without an action: show the tiers.
    #[command(subcommand)]
    pub(crate) action: Option<PortfolioAction>,
}

/// What `portfolio` does besides showing the tiers.
#[derive(Debug, Subcommand)]
pub(crate) enum PortfolioAction {
    /// Replay 1h candle files through the three-tier portfolio (cash reserve, index holdings,
    /// trading tier) and write tiers, snapshots, orders and redistributions into --database.
    Backtest(PortfolioBacktestArgs),
}

/// Arguments of `portfolio backtest`.
#[derive(Debug, clap::Args)]
pub(crate) struct PortfolioBacktestArgs {
    /// Folder with SYMBOL-1h.csv candle files.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// First candle traded (YYYY-MM-DD, RFC 3339 or ms); earlier candles warm up.
    #[arg(long, value_name = "TIME")]
    pub(crate) from: Option<String>,
    /// End of the replay, exclusive (same formats).
    #[arg(long, value_name = "TIME")]
    pub(crate) to: Option<String>,
    /// Starting capital in USDT, split 10 / 65 / 25 % by the tier targets.
    #[arg(long, default_value = "10000")]
    pub(crate) capital: String,
    /// Comma-separated symbols of the trading tier.
    #[arg(long, value_name = "LIST", default_value = "BTCUSDT,ETHUSDT")]
    pub(crate) symbols: String,
    /// The index's market caps as comma-separated BASE:USD pairs, e.g.
    /// BTC:1300000000000,ETH:400000000000 (default: the bundled list of the data's coins).
    #[arg(long, value_name = "LIST")]
    pub(crate) index: Option<String>,
    /// Hours between tier snapshots.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=168))]
    pub(crate) snapshot_hours: u32,
    /// Days of candles before --from that only warm the regime detectors up.
    #[arg(long, default_value_t = 120)]
    pub(crate) warmup_days: u32,
}

/// Arguments of `scheduler`.
#[derive(Debug, clap::Args)]
pub(crate) struct SchedulerArgs {
    /// Run every task now (each `--repeat` times) and exit, instead of following the schedule.
    #[arg(long)]
    pub(crate) once: bool,
    /// With --once: how many rounds of all tasks.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub(crate) repeat: u32,
    /// Keep each task's lock at least this long (drills of the locking; 0 in production).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub(crate) hold_ms: u64,
    /// Seconds between checks of the schedule.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub(crate) tick_secs: u64,
}

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Market data: `binance` (public prices, polled) or `replay:DIR` (DIR/SYMBOL-INTERVAL.csv
    /// candle files played as a live feed); overrides market.source.
    #[arg(long, value_name = "SOURCE")]
    pub(crate) market: Option<String>,
    /// Replay pace: `fast` (no waiting) or a factor N (N× real time: 60 plays an hour of
    /// candles in a minute).
    #[arg(long, default_value = "fast", value_name = "fast|N")]
    pub(crate) speed: String,
    /// Where orders go: paper (simulated fills), testnet, demo (Binance Demo Mode) or live
    /// (all three need HYBRID_BINANCE_API_KEY/SECRET; live also exchange.live_confirmed =
    /// true); overrides exchange.backend.
    #[arg(long, value_name = "BACKEND", value_parser = ["paper", "testnet", "demo", "live"])]
    pub(crate) exchange: Option<String>,
    /// Comma-separated symbols (default: trading.symbols).
    #[arg(long, value_name = "LIST")]
    pub(crate) symbols: Option<String>,
    /// Candle interval of the feed (and of the replayed files).
    #[arg(long, default_value = "1m")]
    pub(crate) interval: String,
    /// File rewritten with the current time on every tick.
    #[arg(long, value_name = "PATH", default_value = "data/heartbeat")]
    pub(crate) heartbeat: PathBuf,
    /// Starting balance of the paper account in USDT (as `backtest --capital`); overrides
    /// exchange.paper_initial_quote. Only for a new paper account: a real exchange's balance
    /// is what it is.
    #[arg(long, value_name = "USDT")]
    pub(crate) capital: Option<String>,
}

/// Arguments of `backtest`.
#[derive(Debug, clap::Args)]
pub(crate) struct BacktestArgs {
    /// Folder with SYMBOL-INTERVAL.csv candle files.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// Comma-separated symbols, e.g. BTCUSDT,ETHUSDT (with --cohorts: the coins on offer,
    /// default every SYMBOL-INTERVAL.csv in --data).
    #[arg(long, value_name = "LIST", default_value = "")]
    pub(crate) symbols: String,
    /// Candle interval of the files: 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d.
    #[arg(long, default_value = "1h")]
    pub(crate) interval: String,
    /// First candle traded: YYYY-MM-DD (UTC midnight), RFC 3339, or milliseconds (earlier
    /// candles warm the regime detector up); default: the start of the data.
    #[arg(long, value_name = "TIME")]
    pub(crate) from: Option<String>,
    /// End of the replay, exclusive (same formats); default: the end of the data.
    #[arg(long, value_name = "TIME")]
    pub(crate) to: Option<String>,
    /// Starting capital in USDT.
    #[arg(long, default_value = "1000")]
    pub(crate) capital: String,
    /// Folder for report.json and equity.png (created if missing).
    #[arg(long, value_name = "DIR", default_value = "backtest")]
    pub(crate) out: PathBuf,
    /// Cohorts side by side on one account: `all` (the six default cohorts, 1000 USDT each) or
    /// a comma-separated list of their names; writes report.json and equity.csv (per-cohort
    /// and total equity) and prints the ranking. --capital is ignored.
    #[arg(long, value_name = "all|LIST")]
    pub(crate) cohorts: Option<String>,
    /// Seed of the ranking's bootstrap intervals (with --cohorts).
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
}

/// Arguments of `compare`.
#[derive(Debug, clap::Args)]
pub(crate) struct CompareArgs {
    /// The control cohort every other cohort is compared with.
    #[arg(long, default_value = "baseline")]
    pub(crate) baseline: String,
    /// Seed of the bootstrap intervals.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = 2000)]
    pub(crate) resamples: usize,
    /// Print the ranking as JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Arguments of `fetch-klines`.
#[derive(Debug, clap::Args)]
pub(crate) struct FetchKlinesArgs {
    /// Symbol, e.g. BTCUSDT.
    pub(crate) symbol: String,
    /// Candle interval: 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M.
    pub(crate) interval: String,
    /// First candle open time: YYYY-MM-DD (UTC midnight), RFC 3339, or milliseconds since 1970.
    #[arg(long, value_name = "TIME")]
    pub(crate) from: String,
    /// Last candle open time (same formats); default: now.
    #[arg(long, value_name = "TIME")]
    pub(crate) to: Option<String>,
    /// Folder for the CSV file (created if missing).
    #[arg(long, value_name = "DIR", default_value = "data/klines")]
    pub(crate) out: PathBuf,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "main_hybrid",
            "migrate",
            "--database",
            "sqlite://x.db",
            "-vv",
        ])
        .unwrap();
        assert_eq!(cli.database.as_deref(), Some("sqlite://x.db"));
        assert_eq!(cli.verbose, 2);
        assert!(matches!(cli.command, Command::Migrate));
    }
}

/// Arguments of `learn`.
#[derive(Debug, clap::Args)]
pub(crate) struct LearnArgs {
    /// Folder with SYMBOL-INTERVAL.csv candle files.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// Comma-separated symbols, e.g. BTCUSDT,ETHUSDT.
    #[arg(long, value_name = "LIST")]
    pub(crate) symbols: String,
    /// Candle interval of the files.
    #[arg(long, default_value = "1h")]
    pub(crate) interval: String,
    /// First candle traded (YYYY-MM-DD, RFC 3339 or milliseconds); default: the start of the data.
    #[arg(long, value_name = "TIME")]
    pub(crate) from: Option<String>,
    /// End of the replay, exclusive; default: the end of the data.
    #[arg(long, value_name = "TIME")]
    pub(crate) to: Option<String>,
    /// Starting capital in USDT.
    #[arg(long, default_value = "1000")]
    pub(crate) capital: String,
    /// Name of this run; part of every decision's key, so re-running the same name records
    /// nothing twice.
    #[arg(long, default_value = "learn")]
    pub(crate) run: String,
    /// The AI signal: `off` (missing), `live` (the `[llm]` settings; key from
    /// HYBRID_LLM_API_KEY; every exchange recorded), `URL` of another OpenAI-compatible API
    /// (with --llm-model and --llm-timeout-secs), `replay` (answers recorded in this database)
    /// or `replay:DATABASE_URL` (answers recorded in another database).
    #[arg(long, default_value = "off", value_name = "off|live|URL|replay[:DB]")]
    pub(crate) llm: String,
    /// LLM model name.
    #[arg(long, default_value = "deepseek-chat")]
    pub(crate) llm_model: String,
    /// Seconds before an LLM call times out.
    #[arg(long, default_value = "30")]
    pub(crate) llm_timeout_secs: u64,
}
