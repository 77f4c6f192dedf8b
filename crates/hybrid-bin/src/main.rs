//! `main_hybrid`: the command line of the Hybrid trading system.
//!
//! Thin by design: it parses arguments, loads and validates the configuration, sets up logging
//! and calls into the library crates. Errors are mapped to exit codes here: 0 success,
//! 1 a runtime failure (database unreachable, …), 2 a usage or configuration error.

mod cli;
mod commands;
mod config;
mod logging;

use std::process::ExitCode;

use clap::Parser;

use crate::{cli::Cli, commands::UsageError, config::ConfigErrors};

/// Exit status for invalid configuration or arguments (clap uses 2 for usage errors too).
const EXIT_CONFIG: u8 = 2;
/// Exit status for a failure while running a command.
const EXIT_FAILURE: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(config_errors) = error.downcast_ref::<ConfigErrors>() {
                eprint!("error: {config_errors}");
                return ExitCode::from(EXIT_CONFIG);
            }
            if let Some(usage) = error.downcast_ref::<UsageError>() {
                eprintln!("error: {usage}");
                return ExitCode::from(EXIT_CONFIG);
            }
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
