//! The notification sender: drains the outbox to Telegram in order, in its own task (in the
//! `telegram` process), so a slow or absent Telegram never touches the trading loop, which
//! only writes rows.
//!
//! - Each notification goes to every configured chat, split into parts of at most 4096
//!   characters at line boundaries and escaped for HTML. Progress is stored after every part
//!   ([`Store::record_parts_sent`]), so a retry never repeats a part already delivered.
//! - 429 `retry_after`: the notification waits exactly that long (the store's retry time), and
//!   everything after it waits too (order is kept).
//! - Network errors, 5xx and unparseable answers: retried with a doubling back-off, forever
//!   (an outage ends; the backlog is delivered in order once it does).
//! - Telegram refusing for good (chat not found, bot blocked, bad request): the notification
//!   is abandoned with the reason, so it cannot block the queue.
//! - Learning mode suppresses routine notifications; important and critical ones always go.
//! - No unbounded backlog: a routine notification older than `routine_max_age` when its turn
//!   comes (e.g. fills queued during a long outage) is suppressed, and the pass ends with one
//!   message saying how many were skipped. Important and critical ones are never dropped.
//! - Pacing: at most one message per `min_send_interval` (Telegram: about one per second per
//!   chat, 30 per second overall).

use std::{future::Future, sync::Arc, time::Duration};

use hybrid_core::{Clock, Timestamp};
use hybrid_store::{Notification, Severity, Store};
use teloxide::{
    payloads::SendMessageSetters,
    prelude::Requester,
    types::{ChatId, ParseMode},
    ApiError, Bot, RequestError,
};

use crate::{
    error::TelegramError,
    text::{escape_html, split_message, MAX_MESSAGE_UNITS},
};

/// Settings of the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderSettings {
    /// The chats every notification goes to.
    pub chat_ids: Vec<i64>,
    /// Suppress routine notifications (spec §5.3).
    pub learning_mode: bool,
    /// How often the outbox is read when it is empty.
    pub poll_interval: Duration,
    /// The least time between two messages.
    pub min_send_interval: Duration,
    /// First retry delay after a transient failure; doubles per attempt up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest retry delay.
    pub max_backoff: Duration,
    /// Routine notifications older than this when their turn comes are skipped.
    pub routine_max_age: Duration,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self {
            chat_ids: Vec::new(),
            learning_mode: false,
            poll_interval: Duration::from_secs(2),
            min_send_interval: Duration::from_millis(1_000),
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            routine_max_age: Duration::from_secs(3_600),
        }
    }
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Notifications delivered.
    pub sent: u32,
    /// Notifications suppressed by learning mode.
    pub suppressed: u32,
    /// Routine notifications skipped because they were older than `routine_max_age`.
    pub skipped_stale: u32,
    /// Notifications Telegram refused for good.
    pub abandoned: u32,
    /// Whether the pass stopped at a notification that must be retried later.
    pub deferred: bool,
}

/// Drains the outbox to Telegram.
#[derive(Clone)]
pub struct OutboxSender {
    bot: Bot,
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    settings: SenderSettings,
}

impl std::fmt::Debug for OutboxSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxSender")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// How one delivery attempt ended.
enum Delivery {
    Sent,
    Abandoned(String),
    Retry(String, Timestamp),
}

/// Due notifications read per pass.
const BATCH: u32 = 50;

impl OutboxSender {
    /// A sender over `store`'s outbox.
    ///
    /// # Errors
    /// [`TelegramError::Config`] when no chat id is configured.
    pub fn new(
        bot: Bot,
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        settings: SenderSettings,
    ) -> Result<Self, TelegramError> {
        if settings.chat_ids.is_empty() {
            return Err(TelegramError::Config(
                "the notification sender needs at least one chat id".to_owned(),
            ));
        }
        Ok(Self {
            bot,
            store,
            clock,
            settings,
        })
    }

    /// Runs until `shutdown` completes: drains, then waits `poll_interval`, and again.
    /// Database errors are logged and retried at the next pass.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(error) = self.drain_once().await {
                tracing::error!(%error, "notification outbox pass failed");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }

    /// One pass: delivers the due notifications in order and stops at the first that must be
    /// retried later.
    ///
    /// # Errors
    /// [`TelegramError::Store`] when the outbox cannot be read or updated.
    pub async fn drain_once(&self) -> Result<DrainReport, TelegramError> {
        let mut report = DrainReport::default();
        let due = self.store.due_notifications(self.clock.now(), BATCH)?;
        for notification in due {
            if notification.severity == Severity::Routine {
                if self.settings.learning_mode {
                    self.store
                        .mark_notification_suppressed(notification.id, self.clock.now())?;
                    report.suppressed += 1;
                    continue;
                }
                if self.is_stale(&notification) {
                    self.store
                        .mark_notification_suppressed(notification.id, self.clock.now())?;
                    report.skipped_stale += 1;
                    continue;
                }
            }
            match self.deliver(&notification).await? {
                Delivery::Sent => {
                    self.store
                        .mark_notification_sent(notification.id, self.clock.now())?;
                    report.sent += 1;
                }
                Delivery::Abandoned(reason) => {
                    tracing::error!(id = notification.id, %reason, "notification refused by telegram; abandoned");
                    self.store
                        .abandon_notification(notification.id, &reason, self.clock.now())?;
                    report.abandoned += 1;
                }
                Delivery::Retry(reason, at) => {
                    tracing::warn!(id = notification.id, %reason, retry_at = %at, "notification not delivered; will retry");
                    self.store
                        .mark_notification_failed(notification.id, &reason, at)?;
                    report.deferred = true;
                    break;
                }
            }
        }
        if report.skipped_stale > 0 {
            self.announce_skipped(report.skipped_stale).await;
        }
        Ok(report)
    }

    fn is_stale(&self, notification: &Notification) -> bool {
        let max_age_ms =
            i64::try_from(self.settings.routine_max_age.as_millis()).unwrap_or(i64::MAX);
        self.clock.now().millis_since(notification.created_at) > max_age_ms
    }

    /// Tells the chats how many stale routine notifications were skipped; best effort (a
    /// failure is logged: the skipped rows stay in the outbox as suppressed).
    async fn announce_skipped(&self, skipped: u32) {
        let text = format!(
            "{skipped} routine notifications older than {} min were not sent (Telegram was unreachable or the queue was long); /trades and /report show the current state.",
            self.settings.routine_max_age.as_secs() / 60
        );
        for &chat in &self.settings.chat_ids {
            let sent = self
                .bot
                .send_message(ChatId(chat), escape_html(&text))
                .parse_mode(ParseMode::Html)
                .disable_notification(true)
                .await;
            if let Err(error) = sent {
                tracing::warn!(%error, "cannot announce the skipped notifications");
            }
        }
    }

    /// Sends the parts not yet delivered, recording progress after each.
    async fn deliver(&self, notification: &Notification) -> Result<Delivery, TelegramError> {
        let text = match notification.severity {
            Severity::Critical => format!("🚨 {}", notification.text),
            Severity::Important | Severity::Routine => notification.text.clone(),
        };
        // Room for the "(2/3) " part marker.
        let parts = split_message(&text, MAX_MESSAGE_UNITS - 16);
        if notification.text.trim().is_empty() {
            return Ok(Delivery::Abandoned("empty notification text".to_owned()));
        }
        let n_parts = parts.len();
        let mut index: u32 = 0;
        for &chat in &self.settings.chat_ids {
            for (part_number, part) in parts.iter().enumerate() {
                index += 1;
                if index <= notification.parts_sent {
                    continue;
                }
                let html = if n_parts > 1 {
                    format!("({}/{n_parts}) {}", part_number + 1, escape_html(part))
                } else {
                    escape_html(part)
                };
                let sent = self
                    .bot
                    .send_message(ChatId(chat), html)
                    .parse_mode(ParseMode::Html)
                    .disable_notification(notification.severity == Severity::Routine)
                    .await;
                match sent {
                    Ok(_) => self.store.record_parts_sent(notification.id, index)?,
                    Err(error) => return Ok(self.failure(notification, &error)),
                }
                tokio::time::sleep(self.settings.min_send_interval).await;
            }
        }
        Ok(Delivery::Sent)
    }

    fn failure(&self, notification: &Notification, error: &RequestError) -> Delivery {
        let now = self.clock.now();
        match error {
            RequestError::RetryAfter(seconds) => Delivery::Retry(
                format!("rate limited: retry after {} s", seconds.seconds()),
                now.plus_millis(i64::from(seconds.seconds()) * 1_000),
            ),
            RequestError::Api(api) if !transient_api_error(api) => {
                Delivery::Abandoned(error.to_string())
            }
            _ => Delivery::Retry(
                error.to_string(),
                now.plus_millis(self.backoff_ms(notification)),
            ),
        }
    }

    /// `initial × 2^attempts`, capped at `max_backoff`, in milliseconds.
    fn backoff_ms(&self, notification: &Notification) -> i64 {
        let initial = self.settings.initial_backoff.as_millis();
        let max = self.settings.max_backoff.as_millis();
        let factor = 1u128 << notification.attempts.min(20);
        i64::try_from((initial * factor).min(max)).unwrap_or(i64::MAX)
    }
}

/// Telegram's answers that describe a passing server problem rather than a bad message.
fn transient_api_error(error: &ApiError) -> bool {
    match error {
        ApiError::Unknown(description) => {
            let d = description.to_lowercase();
            d.contains("internal server error")
                || d.contains("bad gateway")
                || d.contains("service unavailable")
                || d.contains("too many requests")
        }
        _ => false,
    }
}
