//! The Telegram cockpit: owner-only commands over real data, and notifications sent from a
//! persistent outbox with retries that never block trading.
//!
//! - [`run_bot`]: the interactive bot (teloxide, long polling). Answers only its owners (by
//!   Telegram user id, [`BotSettings::may_command`]); [`Command`] is the command list and its
//!   help text. `/pause` asks for `/confirm` and then writes the pause document that the
//!   engine honours. Start-up retries `getMe` on any failure instead of panicking.
//! - [`LearningDesk`]: `/ta`, `/ask` (the LLM advisor, validated, recorded; refused without a
//!   key), `/playbook`, `/playbook_stats`, `/playbook_update`.
//! - The answers come from `hybrid-cockpit`'s [`Cockpit`](hybrid_cockpit::Cockpit), the read
//!   model the web dashboard uses as well; [`format`] turns its snapshot into the answers, and
//!   its portfolio and validation views into `/portfolio` and `/validate`.
//! - [`OutboxSender`]: drains the store's notification outbox to Telegram in order, with
//!   retries, `retry_after`, splitting and learning mode.
//! - [`split_message`], [`escape_html`]: Telegram's 4096-character limit and HTML escaping.
//!
//! Architecture Invariant: nothing here talks to the engine or the exchange; the bot reads the
//! database and writes only the pause document, playbook versions and recorded LLM exchanges,
//! and the trading loop only writes outbox rows, so neither can slow the other down.

mod bot;
mod command;
mod desk;
mod error;
pub mod format;
mod sender;
mod text;

pub use crate::{
    bot::{run_bot, telegram_client, BotSettings, CONFIRMATION_TIMEOUT_MS},
    command::Command,
    desk::{LearningDesk, MAX_QUESTION_CHARS},
    error::TelegramError,
    sender::{DrainReport, OutboxSender, SenderSettings},
    text::{escape_html, split_message, utf16_len, MAX_MESSAGE_UNITS},
};
