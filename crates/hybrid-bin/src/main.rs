//! `main_hybrid`: the command line of the Hybrid trading system.
//!
//! Thin by design: it parses arguments, loads and validates the configuration, sets up logging
//! and calls into the library crates. Errors are mapped to exit codes here: 0 success,
//! 1 a runtime failure (database unreachable, …), 2 a usage or configuration error, or a
//! database already in use by another `run` (the holder is named).

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
            eprintln!("error: {}", describe(&error));
            let in_use = error.chain().any(|cause| {
                matches!(
                    cause.downcast_ref::<hybrid_store::StoreError>(),
                    Some(hybrid_store::StoreError::InstanceLocked { .. })
                )
            });
            ExitCode::from(if in_use { EXIT_CONFIG } else { EXIT_FAILURE })
        }
    }
}

/// The error and its causes on one line, `outer: inner: innermost`, each cause printed once.
///
/// Library errors often carry their cause both in their message (`"store: {0}"`) and as
/// `source()`; anyhow's `{:#}` prints both, so a message repeated its causes two to four
/// times (issue 15, D10). A cause whose text the line already holds is left out.
fn describe(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Inner {
        #[error("file x.csv line 3: open time 60000 is not a multiple of 5m")]
        Csv,
    }

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("store: {0}")]
        Wrapped(#[from] Inner),
    }

    #[test]
    fn each_cause_is_printed_once() {
        let error = anyhow::Error::from(Outer::from(Inner::Csv)).context("the live loop stopped");
        // anyhow's own chain printer repeats the inner message.
        let naive = format!("{error:#}");
        assert_eq!(naive.matches("line 3").count(), 2, "{naive}");
        let line = describe(&error);
        assert_eq!(
            line,
            "the live loop stopped: store: file x.csv line 3: open time 60000 is not a multiple of 5m"
        );
        let plain = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(describe(&plain), "outer: middle: inner");
    }
}
