//! What each subcommand does.

mod check_config;
mod migrate;

use std::collections::BTreeMap;

use crate::{
    cli::{Cli, Command},
    config::{self, LoadedConfig, Overrides},
    logging,
};

/// Loads the configuration, starts logging and runs the chosen command.
pub(crate) fn run(cli: &Cli) -> anyhow::Result<()> {
    let loaded = load_config(cli)?;
    logging::init(&loaded.config);
    match cli.command {
        Command::CheckConfig => check_config::run(&loaded),
        Command::Migrate => migrate::run(&loaded),
    }
}

fn load_config(cli: &Cli) -> Result<LoadedConfig, config::ConfigErrors> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let overrides = Overrides {
        database_url: cli.database.clone(),
        log_format: cli.log_format,
        verbosity: cli.verbose,
    };
    config::load(cli.config.as_deref(), &env, &overrides)
}
