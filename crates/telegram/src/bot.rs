//! The interactive bot: long polling, authorisation by chat id, one handler for every command,
//! and a second confirmation for anything that stops trading.
//!
//! Differs from the old system: it answered any chat; this one answers only the configured
//! chat ids and logs (but never answers) everyone else.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
};

use hybrid_core::{Clock, Timestamp};
use teloxide::{
    dispatching::{Dispatcher, UpdateFilterExt},
    dptree,
    payloads::{SendMessageSetters, SendPhotoSetters},
    prelude::Requester,
    types::{ChatId, InputFile, Me, Message, ParseMode, Update},
    utils::command::BotCommands,
    Bot,
};

use crate::{
    chart,
    cockpit::Cockpit,
    command::Command,
    error::TelegramError,
    format,
    text::{split_message, MAX_MESSAGE_UNITS},
};

/// How long a `/pause` waits for `/confirm`, milliseconds.
pub const CONFIRMATION_TIMEOUT_MS: i64 = 120_000;

/// Settings of the interactive bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotSettings {
    /// The only chats answered.
    pub allowed_chat_ids: Vec<i64>,
}

/// A Telegram client for `token`, talking to `api_url` (Telegram's own URL in production, a
/// fake in tests).
///
/// # Errors
/// [`TelegramError::Config`] when `api_url` is not a URL.
pub fn telegram_client(token: &str, api_url: &str) -> Result<Bot, TelegramError> {
    let url = url::Url::parse(api_url)
        .map_err(|e| TelegramError::Config(format!("telegram.api_url {api_url:?}: {e}")))?;
    Ok(Bot::new(token).set_api_url(url))
}

/// An action waiting for `/confirm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PendingAction {
    Pause,
}

/// What the handler needs, shared by every update.
struct Context {
    cockpit: Arc<dyn Cockpit>,
    clock: Arc<dyn Clock>,
    settings: BotSettings,
    pending: Mutex<HashMap<i64, (PendingAction, Timestamp)>>,
}

/// Runs the bot until `shutdown` completes: registers the command list with Telegram, then
/// long-polls for updates and answers the allowed chats.
///
/// # Errors
/// [`TelegramError::Telegram`] when the command list cannot be registered (e.g. a bad
/// token); later failures are logged and polling continues.
pub async fn run_bot(
    bot: Bot,
    cockpit: Arc<dyn Cockpit>,
    clock: Arc<dyn Clock>,
    settings: BotSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), TelegramError> {
    bot.set_my_commands(Command::bot_commands()).await?;
    let context = Arc::new(Context {
        cockpit,
        clock,
        settings,
        pending: Mutex::new(HashMap::new()),
    });
    let handler = Update::filter_message().endpoint(handle_message);
    let mut dispatcher = Dispatcher::builder(bot, handler)
        .dependencies(dptree::deps![context])
        .default_handler(|_| async {})
        .build();
    let token = dispatcher.shutdown_token();
    tokio::spawn(async move {
        shutdown.await;
        // Fails only when the dispatcher is not running (already stopped): nothing to do.
        if let Ok(stopped) = token.shutdown() {
            stopped.await;
        }
    });
    dispatcher.dispatch().await;
    Ok(())
}

async fn handle_message(
    bot: Bot,
    message: Message,
    me: Me,
    context: Arc<Context>,
) -> Result<(), teloxide::RequestError> {
    let chat = message.chat.id.0;
    let Some(text) = message.text() else {
        return Ok(());
    };
    if !context.settings.allowed_chat_ids.contains(&chat) {
        tracing::warn!(
            chat,
            text,
            "message from a chat that is not allowed; ignored"
        );
        return Ok(());
    }
    let Ok(command) = Command::parse(text, me.username()) else {
        let unknown = "Unknown command. /help lists what I understand.";
        return send_html(&bot, ChatId(chat), unknown).await;
    };
    tracing::info!(chat, ?command, "command");
    let chart = (command == Command::Report)
        .then(|| context.cockpit.snapshot(context.clock.now()).ok())
        .flatten()
        .and_then(|snapshot| chart::realised_equity_png(&snapshot));
    send_html(&bot, ChatId(chat), &answer(&context, chat, command)).await?;
    if let Some(png) = chart {
        bot.send_photo(ChatId(chat), InputFile::memory(png).file_name("equity.png"))
            .caption(chart::CAPTION)
            .await?;
    }
    Ok(())
}

/// Sends `html` (split into parts when it is longer than one message).
async fn send_html(bot: &Bot, chat: ChatId, html: &str) -> Result<(), teloxide::RequestError> {
    for part in split_message(html, MAX_MESSAGE_UNITS) {
        bot.send_message(chat, part)
            .parse_mode(ParseMode::Html)
            .await?;
    }
    Ok(())
}

/// The answer to `command` from `chat`, as HTML.
fn answer(context: &Context, chat: i64, command: Command) -> String {
    let now = context.clock.now();
    let result = match command {
        Command::Start | Command::Help => Ok(crate::text::escape_html(
            &Command::descriptions().to_string(),
        )),
        Command::Validate => Ok(format::validation(&context.cockpit.validation(now))),
        Command::Portfolio => context
            .cockpit
            .portfolio()
            .map(|view| format::portfolio(&view)),
        Command::Pause => Ok(ask_to_confirm(context, chat, PendingAction::Pause, now)),
        Command::Confirm => confirm(context, chat, now),
        Command::Cancel => Ok(match lock(&context.pending).remove(&chat) {
            Some(_) => "Cancelled; nothing changed.".to_owned(),
            None => "Nothing to cancel.".to_owned(),
        }),
        Command::Resume => context
            .cockpit
            .set_paused(false, chat, now)
            .map(|()| "▶️ Resumed: new positions may be opened again.".to_owned()),
        read => context
            .cockpit
            .snapshot(now)
            .map(|snapshot| read_answer(&read, &snapshot)),
    };
    result.unwrap_or_else(|error| {
        tracing::error!(%error, "cannot answer a command");
        format!(
            "⚠️ Cannot answer: {}",
            crate::text::escape_html(&error.to_string())
        )
    })
}

fn read_answer(command: &Command, snapshot: &crate::cockpit::Snapshot) -> String {
    match command {
        Command::Report => format::report(snapshot),
        Command::Compare => format::compare(snapshot),
        Command::Trades => format::trades(snapshot),
        Command::Profit => format::profit(snapshot),
        Command::Daily => format::daily(snapshot),
        Command::Stops => format::stops(snapshot),
        Command::Mode => format::mode(snapshot),
        Command::Health => format::health(snapshot),
        _ => format::status(snapshot),
    }
}

fn ask_to_confirm(context: &Context, chat: i64, action: PendingAction, now: Timestamp) -> String {
    lock(&context.pending).insert(chat, (action, now.plus_millis(CONFIRMATION_TIMEOUT_MS)));
    "⏸ Pause stops opening new positions (open ones are still managed and their stops stay \
     active). Send /confirm within 2 minutes to pause, or /cancel."
        .to_owned()
}

fn confirm(context: &Context, chat: i64, now: Timestamp) -> Result<String, TelegramError> {
    let pending = lock(&context.pending).remove(&chat);
    match pending {
        Some((PendingAction::Pause, deadline)) if now <= deadline => {
            context.cockpit.set_paused(true, chat, now)?;
            Ok("⏸ Paused: no new positions will be opened. /resume to continue.".to_owned())
        }
        Some(_) => Ok("The confirmation came too late; send /pause again.".to_owned()),
        None => Ok("Nothing to confirm.".to_owned()),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
