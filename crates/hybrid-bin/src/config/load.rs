//! Reading, merging and validating the configuration.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

use rust_decimal::Decimal;
use toml::{Table, Value};

use hybrid_core::Symbol;

use super::{
    cohorts,
    schema::{self, Key, Kind, KEYS, SECRET_ENV_VARS, SECRET_WORDS},
    typed::{Config, ExchangeBackend, LogFormat},
};

/// Where an effective value came from, shown by `check-config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    Default,
    File,
    Env(String),
    Cli(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File => f.write_str("file"),
            Self::Env(var) => write!(f, "env {var}"),
            Self::Cli(flag) => write!(f, "command line {flag}"),
        }
    }
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub(crate) database_url: Option<String>,
    pub(crate) log_format: Option<LogFormat>,
    /// `run --exchange`: overrides `exchange.backend` (validated like the configured value).
    pub(crate) exchange_backend: Option<String>,
    /// `run --market`: overrides `market.source`.
    pub(crate) market_source: Option<String>,
    /// `-v` count: 1 = debug, 2 or more = trace.
    pub(crate) verbosity: u8,
}

/// A validated configuration with the origin of every value and the secrets found.
#[derive(Debug, Clone)]
pub(crate) struct LoadedConfig {
    pub(crate) config: Config,
    pub(crate) file: Option<PathBuf>,
    /// Effective values by `section.key`, normalised (decimals as text).
    pub(crate) values: BTreeMap<String, Value>,
    pub(crate) origins: BTreeMap<String, Origin>,
    /// Secret environment variables that are set, by name (the values stay in memory only).
    pub(crate) secrets: BTreeMap<&'static str, String>,
}

/// One problem, located in the file, an environment variable or the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigProblem {
    pub(crate) location: String,
    pub(crate) message: String,
}

/// Every problem found; the configuration is refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) struct ConfigErrors(pub(crate) Vec<ConfigProblem>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "invalid configuration ({count} problem{}):",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            writeln!(
                f,
                "  - {}: {}",
                clip(&problem.location, MAX_SHOWN_CHARS),
                clip(&problem.message, MAX_SHOWN_CHARS)
            )?;
        }
        Ok(())
    }
}

/// The longest location or message a configuration problem prints, in characters: a 2 MB
/// value pasted by mistake is named, not echoed whole (issue 15, D10).
const MAX_SHOWN_CHARS: usize = 400;

/// `text`, or its head and tail around a note of how much was left out when it is longer than
/// `max` characters (the tail keeps what the value was expected to be).
pub(crate) fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let total = text.chars().count();
    if total <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let (head, tail) = (max * 2 / 3, max / 3);
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(total - tail).collect();
    std::borrow::Cow::Owned(format!(
        "{start}… [{} characters left out] …{end}",
        total - head - tail
    ))
}

/// Loads the configuration: defaults, then `file`, then `env`, then `overrides`.
///
/// `env` is a snapshot of the environment (a map, so tests need not touch the process
/// environment).
///
/// # Errors
/// [`ConfigErrors`] listing every problem: unreadable or malformed file, unknown sections and
/// keys (with a suggestion), wrong types, values out of range, secrets in the file, and
/// inconsistent settings (e.g. `live` without confirmation or keys).
pub(crate) fn load(
    file: Option<&Path>,
    env: &BTreeMap<String, String>,
    overrides: &Overrides,
) -> Result<LoadedConfig, ConfigErrors> {
    let mut merged = Merge::with_defaults();
    if let Some(path) = file {
        merged.apply_file(path);
    }
    merged.apply_env(env);
    merged.apply_overrides(overrides);
    let secrets = SECRET_ENV_VARS
        .iter()
        .filter_map(|(var, _)| {
            env.get(*var)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (*var, v.clone()))
        })
        .collect();
    merged.finish(file, secrets)
}

/// The merge in progress: values, their origins and the problems found so far.
struct Merge {
    values: BTreeMap<String, Value>,
    origins: BTreeMap<String, Origin>,
    problems: Vec<ConfigProblem>,
    /// The file's `[[cohorts]]`, when it has them.
    cohorts: Option<Vec<hybrid_cohorts::CohortDefinition>>,
}

impl Merge {
    fn with_defaults() -> Self {
        let mut values = BTreeMap::new();
        let mut origins = BTreeMap::new();
        for key in KEYS {
            let literal: Result<Table, _> = toml::from_str(&format!("v = {}", key.default));
            let raw = literal
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(Value::String(String::new()));
            let value = check_value(key, &raw).unwrap_or(raw);
            values.insert(key.path(), value);
            origins.insert(key.path(), Origin::Default);
        }
        Self {
            values,
            origins,
            problems: Vec::new(),
            cohorts: None,
        }
    }

    fn problem(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            location: location.into(),
            message: message.into(),
        });
    }

    fn set(&mut self, key: &Key, raw: &Value, origin: Origin, location: &str) {
        match check_value(key, raw) {
            Ok(value) => {
                self.values.insert(key.path(), value);
                self.origins.insert(key.path(), origin);
            }
            Err(reason) => {
                let message = format!("{} = {}: {reason} ({})", key.path(), show(raw), key.doc);
                self.problem(location, message);
            }
        }
    }

    fn apply_file(&mut self, path: &Path) {
        let location = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => return self.problem(location, format!("cannot read the file: {e}")),
        };
        let table: Table = match toml::from_str(&text) {
            Ok(table) => table,
            Err(e) => {
                return self.problem(
                    location,
                    format!("not valid TOML: {}", e.to_string().trim_end()),
                )
            }
        };
        for (section, value) in &table {
            if section == "cohorts" {
                self.apply_cohorts(&location, value);
            } else {
                self.apply_section(&location, section, value);
            }
        }
    }

    /// The `[[cohorts]]` array: replaces the default cohorts; every bad value is a problem
    /// named by its path (`cohorts[2].min_confidence: 1.5 is above 1`).
    fn apply_cohorts(&mut self, location: &str, value: &Value) {
        match cohorts::parse(value) {
            Ok(parsed) => self.cohorts = Some(parsed),
            Err(problems) => {
                for (path, message) in problems {
                    self.problem(location, format!("{path}: {message}"));
                }
            }
        }
    }

    fn apply_section(&mut self, location: &str, section: &str, value: &Value) {
        let mut sections = schema::sections();
        sections.push("cohorts");
        if !sections.contains(&section) {
            let hint = schema::suggest(section, sections.iter().copied()).map_or_else(
                || format!("known sections: {}", sections.join(", ")),
                |s| format!("did you mean [{s}]?"),
            );
            return self.problem(
                location,
                format!(
                    "unknown section or key `{section}`: {hint}{}",
                    secret_hint(section)
                ),
            );
        }
        let Value::Table(entries) = value else {
            return self.problem(
                location,
                format!(
                    "`{section}` must be a [{section}] table, found {}",
                    type_name(value)
                ),
            );
        };
        for (name, raw) in entries {
            match schema::find(section, name) {
                Some(key) => self.set(key, raw, Origin::File, location),
                None => {
                    let names = KEYS.iter().filter(|k| k.section == section).map(|k| k.name);
                    let hint = schema::suggest(name, names.clone()).map_or_else(
                        || {
                            format!(
                                "allowed keys in [{section}]: {}",
                                names.collect::<Vec<_>>().join(", ")
                            )
                        },
                        |s| format!("did you mean `{s}`?"),
                    );
                    self.problem(
                        location,
                        format!(
                            "unknown key `{section}.{name}`: {hint}{}",
                            secret_hint(name)
                        ),
                    );
                }
            }
        }
    }

    fn apply_env(&mut self, env: &BTreeMap<String, String>) {
        for key in KEYS {
            let var = key.env_var();
            if let Some(text) = env.get(&var) {
                let raw = env_value(key, text);
                self.set(
                    key,
                    &raw,
                    Origin::Env(var.clone()),
                    &format!("environment {var}"),
                );
            }
        }
    }

    fn apply_overrides(&mut self, overrides: &Overrides) {
        if let Some(url) = &overrides.database_url {
            let key = schema::find("database", "url");
            if let Some(key) = key {
                self.set(
                    key,
                    &Value::String(url.clone()),
                    Origin::Cli("--database"),
                    "--database",
                );
            }
        }
        if let (Some(format), Some(key)) = (overrides.log_format, schema::find("logging", "format"))
        {
            let text = match format {
                LogFormat::Pretty => "pretty",
                LogFormat::Json => "json",
            };
            self.set(
                key,
                &Value::String(text.to_owned()),
                Origin::Cli("--log-format"),
                "--log-format",
            );
        }
        let texts = [
            (
                "exchange",
                "backend",
                &overrides.exchange_backend,
                "--exchange",
            ),
            ("market", "source", &overrides.market_source, "--market"),
        ];
        for (section, name, value, flag) in texts {
            if let (Some(value), Some(key)) = (value, schema::find(section, name)) {
                self.set(key, &Value::String(value.clone()), Origin::Cli(flag), flag);
            }
        }
        if overrides.verbosity > 0 {
            let level = if overrides.verbosity == 1 {
                "debug"
            } else {
                "trace"
            };
            self.values
                .insert("logging.level".to_owned(), Value::String(level.to_owned()));
            self.origins
                .insert("logging.level".to_owned(), Origin::Cli("-v"));
        }
    }

    fn finish(
        mut self,
        file: Option<&Path>,
        secrets: BTreeMap<&'static str, String>,
    ) -> Result<LoadedConfig, ConfigErrors> {
        if !self.problems.is_empty() {
            return Err(ConfigErrors(self.problems));
        }
        let config = match self.typed() {
            Ok(mut config) => {
                config.cohorts = self.cohorts.take();
                config
            }
            Err(e) => {
                return Err(ConfigErrors(vec![ConfigProblem {
                    location: "configuration".to_owned(),
                    message: e,
                }]))
            }
        };
        self.check_consistency(&config, &secrets);
        if !self.problems.is_empty() {
            return Err(ConfigErrors(self.problems));
        }
        Ok(LoadedConfig {
            config,
            file: file.map(Path::to_path_buf),
            values: self.values,
            origins: self.origins,
            secrets,
        })
    }

    /// Builds the typed configuration from the (already type-checked) values.
    fn typed(&self) -> Result<Config, String> {
        let mut root = Table::new();
        for (path, value) in &self.values {
            let Some((section, name)) = path.split_once('.') else {
                continue;
            };
            let entry = root
                .entry(section.to_owned())
                .or_insert_with(|| Value::Table(Table::new()));
            if let Value::Table(table) = entry {
                table.insert(name.to_owned(), value.clone());
            }
        }
        Value::Table(root)
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())
    }

    /// Rules that involve more than one key, or a key and the environment.
    fn check_consistency(&mut self, config: &Config, secrets: &BTreeMap<&'static str, String>) {
        let origin_of = |path: &str, origins: &BTreeMap<String, Origin>| {
            origins
                .get(path)
                .map_or_else(String::new, ToString::to_string)
        };
        let url = &config.database.url;
        if !(url.starts_with("sqlite://")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            let location = origin_of("database.url", &self.origins);
            self.problem(
                location,
                format!(
                    "database.url = {:?}: expected sqlite://PATH or postgres://USER@HOST:PORT/DB",
                    mask_url(url)
                ),
            );
        }
        let needs_keys = config.exchange.backend != ExchangeBackend::Paper;
        if config.exchange.backend == ExchangeBackend::Live && !config.exchange.live_confirmed {
            self.problem("exchange.backend", "the `live` backend trades real money: set exchange.live_confirmed = true to confirm");
        }
        if needs_keys {
            for var in ["HYBRID_BINANCE_API_KEY", "HYBRID_BINANCE_API_SECRET"] {
                if !secrets.contains_key(var) {
                    self.problem(
                        "exchange.backend",
                        format!(
                            "the {:?} backend needs the environment variable {var}",
                            config.exchange.backend
                        ),
                    );
                }
            }
        }
        if config.telegram.enabled {
            if !secrets.contains_key("HYBRID_TELEGRAM_BOT_TOKEN") {
                self.problem(
                    "telegram.enabled",
                    "the Telegram bot needs the environment variable HYBRID_TELEGRAM_BOT_TOKEN",
                );
            }
            if config.telegram.allowed_chat_ids.is_empty() {
                self.problem(
                    "telegram.allowed_chat_ids",
                    "the Telegram bot needs at least one allowed chat id (it answers nobody else)",
                );
            }
        }
        if config.trading.min_position_usd > config.trading.total_investment {
            self.problem("trading.min_position_usd", format!(
                "trading.min_position_usd = {} is more than trading.total_investment = {}: no position could be funded",
                config.trading.min_position_usd, config.trading.total_investment
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&config.logging.level).is_err() {
            self.problem("logging.level", format!("logging.level = {:?}: expected error, warn, info, debug, trace or a tracing directive", config.logging.level));
        }
        let source = &config.market.source;
        if source != "binance" && source.strip_prefix("replay:").is_none_or(str::is_empty) {
            self.problem(
                "market.source",
                format!("market.source = {source:?}: expected \"binance\" or \"replay:DIR\""),
            );
        }
    }
}

/// Checks `raw` against the key's kind and returns the normalised value.
fn check_value(key: &Key, raw: &Value) -> Result<Value, String> {
    match key.kind {
        Kind::Text => raw
            .as_str()
            .map(|s| Value::String(s.to_owned()))
            .ok_or_else(|| expected("a quoted string", raw)),
        Kind::Bool => raw
            .as_bool()
            .map(Value::Boolean)
            .ok_or_else(|| expected("true or false", raw)),
        Kind::Int { min, max } => {
            let n = raw
                .as_integer()
                .ok_or_else(|| expected("a whole number", raw))?;
            if n < min || n > max {
                return Err(format!("out of range: allowed {min} to {max}"));
            }
            Ok(Value::Integer(n))
        }
        Kind::Decimal {
            min,
            min_exclusive,
            max,
        } => check_decimal(raw, min, min_exclusive, max),
        Kind::Choice(choices) => {
            let text = raw
                .as_str()
                .ok_or_else(|| expected(&format!("one of {}", choices.join(", ")), raw))?;
            if choices.contains(&text) {
                Ok(Value::String(text.to_owned()))
            } else {
                Err(format!(
                    "not allowed: expected one of {}",
                    choices.join(", ")
                ))
            }
        }
        Kind::SymbolList => check_symbols(raw),
        Kind::IntList => {
            let items = raw
                .as_array()
                .ok_or_else(|| expected("a list of whole numbers, e.g. [123456789]", raw))?;
            if items.iter().all(Value::is_integer) {
                Ok(raw.clone())
            } else {
                Err(expected("a list of whole numbers, e.g. [123456789]", raw))
            }
        }
    }
}

fn check_decimal(raw: &Value, min: &str, min_exclusive: bool, max: &str) -> Result<Value, String> {
    let value = match raw {
        Value::Integer(n) => Decimal::from(*n),
        // f64's Display is the shortest text that reads back as the same float, so `0.1`
        // becomes exactly 0.1 rather than 0.1000000000000000055…
        Value::Float(x) => Decimal::from_str(&x.to_string())
            .map_err(|_| format!("{x} is not a usable decimal number"))?,
        Value::String(s) => {
            Decimal::from_str(s.trim()).map_err(|_| format!("{s:?} is not a decimal number"))?
        }
        other => return Err(expected("a number", other)),
    };
    let (min, max) = (
        Decimal::from_str(min).unwrap_or_default(),
        Decimal::from_str(max).unwrap_or(Decimal::MAX),
    );
    let below = if min_exclusive {
        value <= min
    } else {
        value < min
    };
    if below || value > max {
        let lower = if min_exclusive {
            format!("greater than {min}")
        } else {
            format!("at least {min}")
        };
        return Err(format!("out of range: must be {lower} and at most {max}"));
    }
    Ok(Value::String(value.normalize().to_string()))
}

fn check_symbols(raw: &Value) -> Result<Value, String> {
    let items = raw
        .as_array()
        .ok_or_else(|| expected("a list of symbols, e.g. [\"BTCUSDT\"]", raw))?;
    if items.is_empty() {
        return Err("at least one symbol is needed".to_owned());
    }
    let mut seen = Vec::new();
    for item in items {
        let text = item
            .as_str()
            .ok_or_else(|| expected("a quoted symbol", item))?;
        let symbol = Symbol::new(text).map_err(|e| e.to_string())?;
        if seen.contains(&symbol) {
            return Err(format!("{symbol} is listed twice"));
        }
        seen.push(symbol);
    }
    Ok(raw.clone())
}

/// Turns an environment variable's text into a value of the key's kind: lists may be written
/// comma-separated (`BTCUSDT,ETHUSDT`), text is taken as it is, everything else as a TOML value.
fn env_value(key: &Key, text: &str) -> Value {
    match key.kind {
        Kind::Text | Kind::Choice(_) => Value::String(text.to_owned()),
        Kind::SymbolList if !text.trim_start().starts_with('[') => Value::Array(
            text.split(',')
                .map(|s| Value::String(s.trim().to_owned()))
                .filter(|v| v.as_str() != Some(""))
                .collect(),
        ),
        Kind::IntList if !text.trim_start().starts_with('[') => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<i64>()
                        .map_or_else(|_| Value::String(s.to_owned()), Value::Integer)
                })
                .collect(),
        ),
        Kind::Decimal { .. } => Value::String(text.to_owned()),
        _ => toml::from_str::<Table>(&format!("v = {text}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| Value::String(text.to_owned())),
    }
}

fn expected(what: &str, found: &Value) -> String {
    format!("wrong type: expected {what}, found {}", type_name(found))
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "a whole number",
        Value::Float(_) => "a decimal number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

/// A value as TOML text for messages.
pub(crate) fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn secret_hint(name: &str) -> String {
    let lower = name.to_lowercase();
    if SECRET_WORDS.iter().any(|w| lower.contains(w)) {
        let vars: Vec<_> = SECRET_ENV_VARS.iter().map(|(v, _)| *v).collect();
        format!(
            " (secrets are read from the environment only: {})",
            vars.join(", ")
        )
    } else {
        String::new()
    }
}

/// The URL with any password replaced by `***`, for display.
pub(crate) fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz target: any file and any environment value end in a configuration or a list of
    /// problems, never a panic (`just fuzz` runs it for a set time).
    #[test]
    fn fuzz_config_loader() {
        use proptest::prelude::*;
        const PIECES: &[&str] = &[
            "[exchange]\n",
            "[trading]\n",
            "[database]\n",
            "[logging]\n",
            "[telegram]\n",
            "[portfolio]\n",
            "[[cohorts]]\n",
            "[market]\n",
            "backend = ",
            "url = ",
            "symbols = ",
            "max_symbols = ",
            "total_investment = ",
            "fee_rate = ",
            "level = ",
            "live_confirmed = ",
            "initial_mode = ",
            "name = ",
            "\"paper\"",
            "\"live\"",
            "\"demo\"",
            "true",
            "-1",
            "1e400",
            "0.001",
            "[\"BTCUSDT\", 3]",
            "{ a = 1 }",
            "\n",
            "\"",
            "'",
            "=",
            "#",
            "[",
            "]",
        ];
        let file = prop_oneof![
            hybrid_testkit::fuzz::text_of(PIECES, 40),
            hybrid_testkit::fuzz::bytes(1_024)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ];
        let env_value = hybrid_testkit::fuzz::text_of(PIECES, 4);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hybrid.toml");
        hybrid_testkit::fuzz::fuzz("config_loader", (file, env_value), |(text, value)| {
            std::fs::write(&path, &text).unwrap();
            let env = BTreeMap::from([
                ("HYBRID_TRADING__SYMBOLS".to_owned(), value.clone()),
                ("HYBRID_EXCHANGE__FEE_RATE".to_owned(), value),
            ]);
            if let Err(errors) = load(Some(&path), &env, &Overrides::default()) {
                let _ = errors.to_string();
            }
        });
    }

    #[test]
    fn demo_needs_keys_like_the_testnet_and_no_confirmation() {
        let text = load_text("[exchange]\nbackend = \"demo\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("Demo backend needs the environment variable HYBRID_BINANCE_API_KEY"),
            "{text}"
        );
        let keys = [
            ("HYBRID_BINANCE_API_KEY", "k"),
            ("HYBRID_BINANCE_API_SECRET", "s"),
        ];
        let loaded = load_text("[exchange]\nbackend = \"demo\"\n", &keys).unwrap();
        assert_eq!(loaded.config.exchange.backend, ExchangeBackend::Demo);
    }

    #[test]
    fn a_huge_bad_value_is_named_not_echoed_whole() {
        let huge = "x".repeat(2_000_000);
        let env = BTreeMap::from([("HYBRID_TRADING__INITIAL_MODE".to_owned(), huge)]);
        let text = load(None, &env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(text.len() < 2_000, "{} bytes printed", text.len());
        assert!(text.contains("trading.initial_mode"), "{text}");
        assert!(text.contains("characters left out"), "{text}");
        assert!(text.contains("not allowed"), "the tail is kept: {text}");
        assert_eq!(clip("short", 10), "short");
        assert_eq!(
            clip("abcdefghijklmnop", 6),
            "abcd… [10 characters left out] …op"
        );
    }

    fn load_text(text: &str, env: &[(&str, &str)]) -> Result<LoadedConfig, ConfigErrors> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hybrid.toml");
        std::fs::write(&path, text).unwrap();
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        load(Some(&path), &env, &Overrides::default())
    }

    fn messages(err: &ConfigErrors) -> Vec<String> {
        err.0.iter().map(|p| p.message.clone()).collect()
    }

    #[test]
    fn defaults_are_valid() {
        let loaded = load(None, &BTreeMap::new(), &Overrides::default()).unwrap();
        assert_eq!(loaded.config.database.url, "sqlite://data/hybrid.db");
        assert_eq!(loaded.config.exchange.fee_rate, Decimal::new(1, 3));
        assert_eq!(loaded.config.trading.symbols.len(), 2);
    }

    #[test]
    fn reports_every_problem_at_once() {
        let err = load_text(
            "[trading]\ntotal_investment = -5\nmax_symbols = \"eight\"\ncolour = \"blue\"\n[exchange]\napi_key = \"abc\"\n",
            &[],
        )
        .unwrap_err();
        let text = messages(&err).join("\n");
        assert_eq!(err.0.len(), 4, "{text}");
        assert!(
            text.contains("trading.total_investment = -5: out of range: must be greater than 0"),
            "{text}"
        );
        assert!(text.contains("trading.max_symbols = \"eight\": wrong type: expected a whole number, found a string"), "{text}");
        assert!(text.contains("unknown key `trading.colour`"), "{text}");
        assert!(
            text.contains("unknown key `exchange.api_key`") && text.contains("environment only"),
            "{text}"
        );
    }

    #[test]
    fn suggests_the_intended_key() {
        let err = load_text("[trading]\ntotal_investmnt = 100\n", &[]).unwrap_err();
        assert!(messages(&err)[0].contains("did you mean `total_investment`?"));
    }

    #[test]
    fn malformed_toml_names_the_line() {
        let err = load_text("[trading\n", &[]).unwrap_err();
        assert!(
            messages(&err)[0].contains("not valid TOML") && messages(&err)[0].contains("line 1"),
            "{err}"
        );
    }

    #[test]
    fn environment_overrides_the_file() {
        let loaded = load_text(
            "[trading]\ntotal_investment = 100\n",
            &[
                ("HYBRID_TRADING__TOTAL_INVESTMENT", "250.5"),
                ("HYBRID_TRADING__SYMBOLS", "SOLUSDT, DOGEUSDT"),
            ],
        )
        .unwrap();
        assert_eq!(
            loaded.config.trading.total_investment,
            Decimal::new(2505, 1)
        );
        assert_eq!(loaded.config.trading.symbols[1].as_str(), "DOGEUSDT");
        assert_eq!(
            loaded.origins["trading.total_investment"],
            Origin::Env("HYBRID_TRADING__TOTAL_INVESTMENT".into())
        );
    }

    #[test]
    fn bad_environment_value_names_the_variable() {
        let err = load_text("", &[("HYBRID_EXCHANGE__RECV_WINDOW_MS", "soon")]).unwrap_err();
        assert_eq!(
            err.0[0].location,
            "environment HYBRID_EXCHANGE__RECV_WINDOW_MS"
        );
    }

    #[test]
    fn floats_become_exact_decimals() {
        let loaded = load_text("[exchange]\nfee_rate = 0.00075\n", &[]).unwrap();
        assert_eq!(loaded.config.exchange.fee_rate.to_string(), "0.00075");
    }

    #[test]
    fn live_needs_confirmation_and_keys() {
        let err = load_text("[exchange]\nbackend = \"live\"\n", &[]).unwrap_err();
        let text = messages(&err).join("\n");
        assert!(text.contains("live_confirmed = true"), "{text}");
        assert!(
            text.contains("HYBRID_BINANCE_API_KEY") && text.contains("HYBRID_BINANCE_API_SECRET"),
            "{text}"
        );
        let ok = load_text(
            "[exchange]\nbackend = \"live\"\nlive_confirmed = true\n",
            &[
                ("HYBRID_BINANCE_API_KEY", "k"),
                ("HYBRID_BINANCE_API_SECRET", "s"),
            ],
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn bad_symbols_and_unknown_choices_are_named() {
        let err = load_text(
            "[trading]\nsymbols = [\"btcusdt\"]\ninitial_mode = \"MOON\"\n",
            &[],
        )
        .unwrap_err();
        let text = messages(&err).join("\n");
        assert!(text.contains("invalid symbol \"btcusdt\""), "{text}");
        assert!(text.contains("expected one of HOLD, GRID, CASH"), "{text}");
    }

    #[test]
    fn masks_database_passwords() {
        assert_eq!(
            mask_url("postgres://bot:hunter2@db:5432/hybrid"),
            "postgres://bot:***@db:5432/hybrid"
        );
        assert_eq!(
            mask_url("sqlite://data/hybrid.db"),
            "sqlite://data/hybrid.db"
        );
    }
}
