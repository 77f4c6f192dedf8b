//! Every configuration key: its section, type, allowed range, default and documentation.
//!
//! This one table drives validation (unknown keys, wrong types, out-of-range values), the
//! environment overrides (`HYBRID_<SECTION>__<KEY>`), `check-config`'s output, and a test that
//! `config/example.toml` and `docs/CONFIGURATION.md` document every key.

/// The type and allowed values of a key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Free text.
    Text,
    /// `true` or `false`.
    Bool,
    /// A whole number in `[min, max]`.
    Int { min: i64, max: i64 },
    /// An exact decimal (written as a number or a quoted string) in the range; money and
    /// percentages use this so that `0.1` stays exactly `0.1`.
    Decimal {
        min: &'static str,
        min_exclusive: bool,
        max: &'static str,
    },
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// A list of trading symbols such as `["BTCUSDT"]`.
    SymbolList,
    /// A list of whole numbers (Telegram chat ids).
    IntList,
}

/// One configuration key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    pub(crate) section: &'static str,
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    /// The default as a TOML literal.
    pub(crate) default: &'static str,
    pub(crate) doc: &'static str,
}

impl Key {
    /// `section.name`, as shown to users.
    pub(crate) fn path(&self) -> String {
        format!("{}.{}", self.section, self.name)
    }

    /// The environment variable that overrides this key.
    pub(crate) fn env_var(&self) -> String {
        format!(
            "HYBRID_{}__{}",
            self.section.to_uppercase(),
            self.name.to_uppercase()
        )
    }
}

const fn key(
    section: &'static str,
    name: &'static str,
    kind: Kind,
    default: &'static str,
    doc: &'static str,
) -> Key {
    Key {
        section,
        name,
        kind,
        default,
        doc,
    }
}

const fn dec(min: &'static str, min_exclusive: bool, max: &'static str) -> Kind {
    Kind::Decimal {
        min,
        min_exclusive,
        max,
    }
}

/// Secrets are read from these environment variables only; a config file that contains one
/// is refused so that keys never end up in a file that gets copied or committed.
pub(crate) const SECRET_ENV_VARS: [(&str, &str); 5] = [
    (
        "HYBRID_BINANCE_API_KEY",
        "Binance API key (testnet, demo or live backend)",
    ),
    (
        "HYBRID_BINANCE_API_SECRET",
        "Binance API secret (HMAC-SHA256)",
    ),
    ("HYBRID_TELEGRAM_BOT_TOKEN", "Telegram bot token"),
    ("HYBRID_LLM_API_KEY", "DeepSeek / OpenAI-compatible API key"),
    (
        "HYBRID_DASHBOARD_TOKEN",
        "Web dashboard access token (required to listen on a non-loopback address)",
    ),
];

/// Words that mark a key as a secret when found in a config file.
pub(crate) const SECRET_WORDS: [&str; 4] = ["key", "secret", "token", "password"];

#[rustfmt::skip]
pub(crate) const KEYS: &[Key] = &[
    key("database", "url", Kind::Text, "\"sqlite://data/hybrid.db\"",
        "Where state is kept: `sqlite://PATH` (embedded, the default; the folder is created) or `postgres://USER@HOST:PORT/DB`."),

    key("exchange", "backend", Kind::Choice(&["paper", "testnet", "demo", "live"]), "\"paper\"",
        "`paper`: real public prices, simulated fills, no keys needed. `testnet`: Binance spot testnet (keys needed). `demo`: Binance Demo Mode, real prices and fake money (demo keys needed). `live`: real money (keys and `live_confirmed = true` needed)."),
    key("exchange", "live_confirmed", Kind::Bool, "false",
        "Must be `true` for the `live` backend to start: a deliberate second switch before real money is traded."),
    key("exchange", "base_url", Kind::Text, "\"\"",
        "Override the REST base URL (empty = the backend's official URL). Used for tests against a local fake."),
    key("exchange", "recv_window_ms", Kind::Int { min: 1, max: 60_000 }, "5000",
        "How long (ms) a signed request stays valid at Binance (`recvWindow`)."),
    key("exchange", "paper_initial_quote", dec("0", true, "100000000"), "\"6000\"",
        "Starting quote balance (USDT) of the paper exchange."),
    key("exchange", "fee_rate", dec("0", false, "0.01"), "\"0.001\"",
        "Fee per fill as a fraction (0.001 = 0.1 %), used by paper and backtest fills and by fee-aware grid spacing."),

    key("market", "source", Kind::Text, "\"binance\"",
        "Where prices come from: `binance` (public API) or `replay:DIR` (candle CSV files replayed as a live feed)."),

    key("trading", "symbols", Kind::SymbolList, "[\"BTCUSDT\", \"ETHUSDT\"]",
        "The coins to trade (upper-case Binance symbols; quote USDT, USDC, FDUSD, BTC, ETH or BNB)."),
    key("trading", "total_investment", dec("0", true, "100000000"), "\"400\"",
        "Quote currency (USDT) the bot may commit across all symbols."),
    key("trading", "max_symbols", Kind::Int { min: 1, max: 50 }, "8",
        "Most symbols traded at once."),
    key("trading", "min_position_usd", dec("0", true, "1000000"), "\"10\"",
        "Smallest position worth opening (USDT); coins that cannot be funded with at least this are skipped."),
    key("trading", "tick_interval_secs", Kind::Int { min: 1, max: 3_600 }, "30",
        "Seconds between ticks in the live loop."),
    key("trading", "initial_mode", Kind::Choice(&["HOLD", "GRID", "CASH"]), "\"GRID\"",
        "Mode of a coin before the first regime decision."),
    key("trading", "constraints_preset", Kind::Choice(&["conservative", "balanced", "aggressive", "small"]), "\"small\"",
        "Allocation constraint preset (position limits, cash reserve)."),

    key("modes", "enable_switching", Kind::Bool, "true",
        "Let the regime detector move coins between HOLD, GRID and CASH."),
    key("modes", "min_regime_probability", dec("0", false, "1"), "\"0.75\"",
        "Regime probability needed before a switch (0..1)."),
    key("modes", "min_regime_duration_days", Kind::Int { min: 0, max: 365 }, "2",
        "Days a regime must have lasted before a switch."),
    key("modes", "cooldown_hours", Kind::Int { min: 0, max: 720 }, "24",
        "Hours after a switch during which no other switch happens."),
    key("modes", "hold_trailing_stop_pct", dec("0", true, "50"), "\"7\"",
        "Trailing stop distance in HOLD mode, percent below the highest price."),
    key("modes", "cash_exit_timeout_hours", dec("0", true, "168"), "\"2\"",
        "Hours allowed to leave positions when moving to CASH before selling at market."),

    key("grid", "range_percent", dec("1", false, "30"), "\"5\"",
        "Default grid range, percent above and below the price, when no ATR range is available."),
    key("grid", "num_grids", Kind::Int { min: 2, max: 50 }, "10",
        "Default number of grid levels when no volatility class is known."),
    key("grid", "spacing", Kind::Choice(&["arithmetic", "geometric"]), "\"geometric\"",
        "Level spacing: equal price steps or equal percentage steps."),

    key("risk", "max_daily_drawdown_pct", dec("0", true, "50"), "\"10\"",
        "Stop opening positions for the rest of the UTC day after losing this percent of equity."),
    key("risk", "grid_stop_loss_pct", dec("0", true, "20"), "\"5\"",
        "Trailing stop distance for grid inventory, percent."),
    key("risk", "circuit_breaker_pct", dec("0", true, "50"), "\"10\"",
        "A price jump larger than this percent between two ticks halts trading on the coin."),

    key("telegram", "enabled", Kind::Bool, "false",
        "Run the Telegram bot (needs HYBRID_TELEGRAM_BOT_TOKEN and at least one allowed chat id)."),
    key("telegram", "allowed_chat_ids", Kind::IntList, "[]",
        "The chats the bot answers and notifies (an owner's private chat is always answered); messages from others are ignored and logged."),
    key("telegram", "owner_user_ids", Kind::IntList, "[]",
        "Telegram user ids allowed to command the bot, in any allowed chat; empty: the positive ids in telegram.allowed_chat_ids (private chats, whose id is the user's). Members of an allowed group who are not owners are ignored."),
    key("telegram", "api_url", Kind::Text, "\"https://api.telegram.org/\"",
        "Telegram Bot API base URL; change it only to test against a local fake."),
    key("telegram", "learning_mode", Kind::Bool, "false",
        "Suppress routine notifications (fills, grid orders); important and critical ones (daily summary, mode switches, stop failures, errors, watchdog) are always sent."),
    key("telegram", "min_send_interval_ms", Kind::Int { min: 0, max: 60_000 }, "1000",
        "Least time between two notification messages (Telegram allows about one per second per chat)."),
    key("telegram", "outbox_poll_ms", Kind::Int { min: 50, max: 60_000 }, "2000",
        "How often the notification sender reads the outbox when it is idle."),
    key("telegram", "heartbeat_stale_secs", Kind::Int { min: 10, max: 86_400 }, "300",
        "Heartbeat age after which /health and the watchdog report the trading loop as stale."),

    key("portfolio", "enabled", Kind::Bool, "false",
        "Run the three-tier portfolio manager (cash reserve, index holdings, trading tier); off: the cohorts trade alone."),
    key("portfolio", "coingecko_url", Kind::Text, "\"\"",
        "CoinGecko-compatible markets API for the index composition, e.g. `https://api.coingecko.com/api/v3`; empty: the bundled static list of market caps."),
    key("portfolio", "per_cohort_min_capital", dec("0", true, "100000000"), "\"100\"",
        "Least USDT a trading cohort gets when the trading tier's budget changes: active cohorts = min(phase limit, budget / this)."),

    key("llm", "base_url", Kind::Text, "\"https://api.deepseek.com/v1\"",
        "OpenAI-compatible API base URL (up to `/v1`) of the LLM advisor; the key comes from HYBRID_LLM_API_KEY."),
    key("llm", "model", Kind::Text, "\"deepseek-chat\"",
        "Model asked by the LLM advisor."),
    key("llm", "timeout_secs", Kind::Int { min: 1, max: 600 }, "30",
        "Seconds before one LLM call times out."),
    key("llm", "max_attempts", Kind::Int { min: 1, max: 10 }, "3",
        "LLM call attempts in all; 5xx, 429, timeouts and connection errors are retried with exponential back-off."),

    key("logging", "format", Kind::Choice(&["pretty", "json"]), "\"pretty\"",
        "Log format on stderr: `pretty` for people, `json` for log collectors."),
    key("logging", "level", Kind::Text, "\"info\"",
        "Log filter: a level (`error`, `warn`, `info`, `debug`, `trace`) or a tracing directive such as `info,hybrid_store=debug`."),
];

/// The sections, in the order of [`KEYS`].
pub(crate) fn sections() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for key in KEYS {
        if !out.contains(&key.section) {
            out.push(key.section);
        }
    }
    out
}

/// The key `section.name`, if it exists.
pub(crate) fn find(section: &str, name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.section == section && k.name == name)
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(current)
            };
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_parses_as_toml() {
        for key in KEYS {
            let parsed: Result<toml::Table, _> = toml::from_str(&format!("v = {}", key.default));
            assert!(parsed.is_ok(), "{}: {}", key.path(), key.default);
        }
    }

    #[test]
    fn keys_are_unique() {
        let mut paths: Vec<_> = KEYS.iter().map(Key::path).collect();
        paths.sort();
        let before = paths.len();
        paths.dedup();
        assert_eq!(before, paths.len());
    }

    #[test]
    fn example_file_and_configuration_doc_cover_every_key() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let example: toml::Table =
            toml::from_str(&std::fs::read_to_string(root.join("config/example.toml")).unwrap())
                .unwrap();
        let doc = std::fs::read_to_string(root.join("docs/CONFIGURATION.md")).unwrap();
        for key in KEYS {
            let in_example = example
                .get(key.section)
                .and_then(|s| s.get(key.name))
                .is_some();
            assert!(in_example, "config/example.toml lacks {}", key.path());
            assert!(
                doc.contains(&format!("`{}`", key.path())),
                "docs/CONFIGURATION.md lacks {}",
                key.path()
            );
        }
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            suggest("total_investmnt", ["total_investment", "symbols"]),
            Some("total_investment")
        );
        assert_eq!(suggest("colour", ["backend", "symbols"]), None);
    }
}
