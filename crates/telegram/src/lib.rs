//! The Telegram cockpit: owner-only commands over real data, and notifications sent from a
//! persistent outbox with retries that never block trading.
//!
//! - [`run_bot`]: the interactive bot (teloxide, long polling). Answers only the configured
//!   chat ids; [`Command`] is the command list and its help text. `/pause` asks for `/confirm`
//!   and then writes the state document [`PAUSE_DOCUMENT`] that the engine honours.
//! - [`Cockpit`]: the narrow read interface the answers come from, and [`StoreCockpit`], its
//!   implementation over the database; [`format`] turns a [`Snapshot`] into the answers, and
//!   a [`PortfolioView`] / [`ValidationView`] into `/portfolio` and `/validate`.
//! - [`OutboxSender`]: drains the store's notification outbox to Telegram in order, with
//!   retries, `retry_after`, splitting and learning mode.
//! - [`split_message`], [`escape_html`]: Telegram's 4096-character limit and HTML escaping.
//!
//! Architecture Invariant: nothing here talks to the engine or the exchange; the bot reads the
//! database and writes only the pause document, and the trading loop only writes outbox rows,
//! so neither can slow the other down.

mod bot;
mod chart;
mod cockpit;
mod command;
mod error;
pub mod format;
mod sender;
mod text;

pub use crate::{
    bot::{run_bot, telegram_client, BotSettings, CONFIRMATION_TIMEOUT_MS},
    cockpit::{
        Cockpit, CohortView, Heartbeat, PauseState, PortfolioView, Snapshot, StopView,
        StoreCockpit, SymbolView, ValidationView, PAUSE_DOCUMENT,
    },
    command::Command,
    error::TelegramError,
    sender::{DrainReport, OutboxSender, SenderSettings},
    text::{escape_html, split_message, utf16_len, MAX_MESSAGE_UNITS},
};
