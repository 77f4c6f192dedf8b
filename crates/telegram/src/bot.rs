//! The interactive bot: long polling, authorisation by user, one handler for every command,
//! and a second confirmation for anything that stops trading.
//!
//! Differs from the old system: it answered any chat; this one answers only its owners (by
//! Telegram user id, so other members of an allowed group cannot command it), in the allowed
//! chats or their own private chat, and logs (but never answers) everyone else.
//!
//! Start-up never panics on a bad Bot API answer: `getMe` and the command registration are
//! retried with back-off (an unparsable answer is logged), and dispatching uses teloxide's
//! non-panicking entry point, retried the same way.

use std::{
    collections::HashMap,
    future::Future,
    pin::pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use hybrid_cockpit::{charts, Cockpit};
use hybrid_core::{Clock, Timestamp};
use teloxide::{
    dispatching::{Dispatcher, UpdateFilterExt},
    dptree,
    error_handlers::LoggingErrorHandler,
    payloads::{SendMessageSetters, SendPhotoSetters},
    prelude::Requester,
    types::{ChatId, InputFile, Me, Message, ParseMode, Update},
    update_listeners,
    utils::command::BotCommands,
    Bot,
};

use crate::{
    command::Command,
    desk::LearningDesk,
    error::TelegramError,
    format,
    text::{split_message, MAX_MESSAGE_UNITS},
};

/// First wait after a failed start-up call; doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(500);
/// Longest wait between two start-up attempts.
const MAX_RETRY: Duration = Duration::from_secs(60);
/// History the `/report` chart covers, milliseconds (90 days).
const REPORT_HISTORY_MS: i64 = 90 * Timestamp::DAY_MS;
/// Caption of the `/report` chart.
const CHART_CAPTION: &str =
    "Equity (cash + coins at their last prices) of all cohorts, hourly, against buy-and-hold of the same coins";

/// How long a `/pause` waits for `/confirm`, milliseconds.
pub const CONFIRMATION_TIMEOUT_MS: i64 = 120_000;

/// Settings of the interactive bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotSettings {
    /// The Telegram user ids whose commands are carried out.
    pub owner_user_ids: Vec<i64>,
    /// The chats in which owners are answered (besides each owner's private chat).
    pub allowed_chat_ids: Vec<i64>,
}

impl BotSettings {
    /// Whether a message from `user` in `chat` is an owner's and may be answered.
    #[must_use]
    pub fn may_command(&self, user: Option<i64>, chat: i64) -> bool {
        user.is_some_and(|user| {
            self.owner_user_ids.contains(&user)
                && (chat == user || self.allowed_chat_ids.contains(&chat))
        })
    }
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
    desk: LearningDesk,
    clock: Arc<dyn Clock>,
    settings: BotSettings,
    /// Actions waiting for `/confirm`, per user.
    pending: Mutex<HashMap<i64, (PendingAction, Timestamp)>>,
}

/// Runs the bot until `shutdown` completes: checks the token (`getMe`) and registers the
/// command list, retrying both with back-off while Telegram is unreachable or answers
/// something unexpected, then long-polls for updates and answers the owners.
///
/// # Errors
/// None today: every Bot API failure is logged and retried until `shutdown`; the `Result`
/// is kept for failures that cannot be retried.
pub async fn run_bot(
    bot: Bot,
    cockpit: Arc<dyn Cockpit>,
    desk: LearningDesk,
    clock: Arc<dyn Clock>,
    settings: BotSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), TelegramError> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let context = Arc::new(Context {
        cockpit,
        desk,
        clock,
        settings,
        pending: Mutex::new(HashMap::new()),
    });
    let mut wait = FIRST_RETRY;
    loop {
        let stopping = *stop_rx.borrow();
        if stopping {
            return Ok(());
        }
        match start_up(&bot).await {
            Ok(me) => {
                tracing::info!(bot = %me.username(), "telegram bot authorised");
                wait = FIRST_RETRY;
                match dispatch(&bot, &context, stop_rx.clone()).await {
                    Ok(()) => return Ok(()),
                    Err(error) => {
                        tracing::warn!(%error, "telegram dispatching could not start; retrying");
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = wait.as_millis(), "telegram start-up failed (an unexpected Bot API answer or no connection); retrying");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stopped(stop_rx.clone()) => return Ok(()),
        }
        wait = (wait * 2).min(MAX_RETRY);
    }
}

/// Completes when the flag turns `true` (or its sender is gone).
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// `getMe` and the command registration.
async fn start_up(bot: &Bot) -> Result<Me, teloxide::RequestError> {
    let me = bot.get_me().await?;
    bot.set_my_commands(Command::bot_commands()).await?;
    Ok(me)
}

/// Long-polls and answers until `stop` turns `true`. Returns an error (instead of panicking
/// as teloxide's `dispatch` does) when the dispatcher cannot start.
async fn dispatch(
    bot: &Bot,
    context: &Arc<Context>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), teloxide::RequestError> {
    let handler = Update::filter_message().endpoint(handle_message);
    let mut dispatcher = Dispatcher::builder(bot.clone(), handler)
        .dependencies(dptree::deps![Arc::clone(context)])
        .default_handler(|_| async {})
        .build();
    let token = dispatcher.shutdown_token();
    let listener = update_listeners::polling_default(bot.clone()).await;
    let errors = LoggingErrorHandler::with_custom_text("telegram update listener");
    let mut run = pin!(dispatcher.try_dispatch_with_listener(listener, errors));
    tokio::select! {
        result = &mut run => result,
        () = stopped(stop) => {
            // Fails only when the dispatcher is not running (already stopped): nothing to do.
            if let Ok(stopped) = token.shutdown() {
                let _ = tokio::join!(stopped, run);
            }
            Ok(())
        }
    }
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
    let user = message
        .from
        .as_ref()
        .and_then(|u| i64::try_from(u.id.0).ok());
    if !context.settings.may_command(user, chat) {
        tracing::warn!(
            chat,
            user,
            text,
            "message from someone who is not an owner (or from a chat that is not allowed); ignored"
        );
        return Ok(());
    }
    let Some(user) = user else {
        return Ok(());
    };
    let Ok(command) = Command::parse(text, me.username()) else {
        let unknown = "Unknown command. /help lists what I understand.";
        return send_html(&bot, ChatId(chat), unknown).await;
    };
    tracing::info!(chat, user, ?command, "command");
    let chart = (command == Command::Report)
        .then(|| report_chart(&context))
        .flatten();
    let reply = match &command {
        Command::Ask(question) => context
            .desk
            .ask(question, context.clock.now())
            .await
            .unwrap_or_else(|e| cannot_answer(&e)),
        _ => answer(&context, user, command),
    };
    send_html(&bot, ChatId(chat), &reply).await?;
    if let Some(png) = chart {
        bot.send_photo(ChatId(chat), InputFile::memory(png).file_name("equity.png"))
            .caption(CHART_CAPTION)
            .await?;
    }
    Ok(())
}

/// The `/report` chart (the dashboard's overview chart), if there are two hourly snapshots.
fn report_chart(context: &Context) -> Option<Vec<u8>> {
    let now = context.clock.now();
    let snapshot = context.cockpit.snapshot(now).ok()?;
    let history = context
        .cockpit
        .history(now.plus_millis(-REPORT_HISTORY_MS))
        .ok()?;
    match charts::overview_chart(&history, &snapshot) {
        Ok(png) => Some(png),
        Err(error) => {
            tracing::info!(%error, "no /report chart");
            None
        }
    }
}

fn cannot_answer(error: &TelegramError) -> String {
    tracing::error!(%error, "cannot answer a command");
    format!(
        "⚠️ Cannot answer: {}",
        crate::text::escape_html(&error.to_string())
    )
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

/// The answer to `command` from the owner `user`, as HTML.
fn answer(context: &Context, user: i64, command: Command) -> String {
    let now = context.clock.now();
    let result = match command {
        Command::Start | Command::Help => Ok(crate::text::escape_html(
            &Command::descriptions().to_string(),
        )),
        Command::Validate => Ok(format::validation(&context.cockpit.validation(now))),
        Command::Portfolio => context
            .cockpit
            .portfolio()
            .map(|view| format::portfolio(&view))
            .map_err(TelegramError::from),
        Command::Pause => Ok(ask_to_confirm(context, user, PendingAction::Pause, now)),
        Command::Confirm => confirm(context, user, now),
        Command::Cancel => Ok(match lock(&context.pending).remove(&user) {
            Some(_) => "Cancelled; nothing changed.".to_owned(),
            None => "Nothing to cancel.".to_owned(),
        }),
        Command::Resume => context
            .cockpit
            .set_paused(false, user, now)
            .map(|()| "▶️ Resumed: new positions may be opened again.".to_owned())
            .map_err(TelegramError::from),
        Command::Ta(coin) => context.desk.technical_analysis(&coin),
        Command::Playbook => context.desk.playbook(),
        Command::PlaybookStats => context.desk.playbook_stats(),
        Command::PlaybookUpdate => context.desk.playbook_update(now),
        Command::Ask(_) => Ok(String::new()),
        read => context
            .cockpit
            .snapshot(now)
            .map(|snapshot| read_answer(&read, &snapshot))
            .map_err(TelegramError::from),
    };
    result.unwrap_or_else(|error| cannot_answer(&error))
}

fn read_answer(command: &Command, snapshot: &hybrid_cockpit::Snapshot) -> String {
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

fn ask_to_confirm(context: &Context, user: i64, action: PendingAction, now: Timestamp) -> String {
    lock(&context.pending).insert(user, (action, now.plus_millis(CONFIRMATION_TIMEOUT_MS)));
    "⏸ Pause stops opening new positions (open ones are still managed and their stops stay \
     active). Send /confirm within 2 minutes to pause, or /cancel."
        .to_owned()
}

fn confirm(context: &Context, user: i64, now: Timestamp) -> Result<String, TelegramError> {
    let pending = lock(&context.pending).remove(&user);
    match pending {
        Some((PendingAction::Pause, deadline)) if now <= deadline => {
            context.cockpit.set_paused(true, user, now)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_command_and_only_in_allowed_chats_or_their_own() {
        let settings = BotSettings {
            owner_user_ids: vec![4242],
            allowed_chat_ids: vec![-100, 4242],
        };
        assert!(
            settings.may_command(Some(4242), 4242),
            "owner, private chat"
        );
        assert!(
            settings.may_command(Some(4242), -100),
            "owner, allowed group"
        );
        assert!(
            !settings.may_command(Some(777), -100),
            "group member who is not an owner"
        );
        assert!(
            !settings.may_command(Some(4242), -555),
            "owner in a group not allowed"
        );
        assert!(
            !settings.may_command(None, -100),
            "no sender (a channel post)"
        );
        let private_only = BotSettings {
            owner_user_ids: vec![4242],
            allowed_chat_ids: vec![],
        };
        assert!(private_only.may_command(Some(4242), 4242));
    }
}
