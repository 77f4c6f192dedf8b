//! What each subcommand does.

mod backtest;
mod check_config;
mod fetch_klines;
mod migrate;
mod run;

use std::collections::BTreeMap;

use crate::{
    cli::{Cli, Command},
    config::{self, LoadedConfig, Overrides},
    logging,
};

/// A command-line argument that is well-formed for clap but wrong for Hybrid (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub(crate) String);

/// Loads the configuration, starts logging and runs the chosen command.
pub(crate) fn run(cli: &Cli) -> anyhow::Result<()> {
    let loaded = load_config(cli)?;
    logging::init(&loaded.config);
    match &cli.command {
        Command::CheckConfig => check_config::run(&loaded),
        Command::Migrate => migrate::run(&loaded),
        Command::FetchKlines(args) => fetch_klines::run(&loaded, args),
        Command::Backtest(args) => backtest::run(args),
        Command::Run(args) => run::run(&loaded, args),
    }
}

fn load_config(cli: &Cli) -> Result<LoadedConfig, config::ConfigErrors> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let overrides = Overrides {
        database_url: cli.database.clone(),
        log_format: cli.log_format,
        verbosity: cli.verbose,
        ..Overrides::default()
    };
    let overrides = match &cli.command {
        Command::Run(args) => Overrides {
            exchange_backend: args.exchange.clone(),
            market_source: args.market.clone(),
            ..overrides
        },
        _ => overrides,
    };
    config::load(cli.config.as_deref(), &env, &overrides)
}
