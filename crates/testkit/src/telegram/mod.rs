//! A fake Telegram Bot API on `127.0.0.1:0`, for running the real teloxide bot and the
//! notification sender in tests.
//!
//! It answers `POST /bot<token>/<method>` like Telegram does (JSON envelope
//! `{"ok": …, "result": …}` or `{"ok": false, "error_code": …, "description": …}`) for
//! `getMe`, `getWebhookInfo`, `deleteWebhook`, `getUpdates` (long polling with `offset` and
//! `timeout`), `sendMessage`, `sendPhoto` (multipart), `setMyCommands`, `deleteMyCommands`,
//! `answerCallbackQuery` and `editMessageText`. It checks what Telegram checks and our code
//! could get wrong: the token (401), the text length after entity parsing (400 "message is too
//! long"), and HTML well-formedness when `parse_mode` is `HTML` (400 "can't parse entities").
//!
//! Tests inject messages from any chat id ([`FakeTelegram::inject_message`]), read what the bot
//! sent ([`FakeTelegram::sent`], [`FakeTelegram::wait_for_sent`]), and inject faults: an outage
//! answering 503 ([`Outage::ServiceUnavailable`]), answers that are not JSON
//! ([`Outage::InvalidJson`]), 409 Conflict on `getUpdates` ([`Outage::Conflict`]), an outage
//! refusing new connections
//! ([`FakeTelegram::go_offline`] / [`FakeTelegram::go_online`]), and 429 with `retry_after`
//! ([`FakeTelegram::rate_limit_next_sends`]).

mod server;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use serde_json::Value;
use tokio::sync::Notify;

/// Settings of a fake Bot API.
#[derive(Debug, Clone)]
pub struct FakeTelegramConfig {
    /// The only token accepted (others get 401 Unauthorized).
    pub token: String,
    /// The bot's `@username` without the `@`.
    pub bot_username: String,
    /// The longest `getUpdates` long poll served, whatever `timeout` the client asks for, so
    /// tests that stop a bot do not wait for a 10 s poll to end.
    pub max_poll: Duration,
}

impl Default for FakeTelegramConfig {
    fn default() -> Self {
        Self {
            token: "123456:TEST-TOKEN".to_owned(),
            bot_username: "hybrid_test_bot".to_owned(),
            max_poll: Duration::from_millis(500),
        }
    }
}

/// How the fake misbehaves while it is "down".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Every request gets HTTP 503 with a non-JSON body, as a failing proxy in front of
    /// Telegram answers.
    ServiceUnavailable,
    /// Every request gets HTTP 200 with a body that is not JSON (a captive portal, a broken
    /// proxy).
    InvalidJson,
    /// `getUpdates` gets 409 Conflict, as when a second bot process polls the same token;
    /// other methods work.
    Conflict,
}

/// What a bot sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SentKind {
    /// `sendMessage`.
    Text,
    /// `sendPhoto`, with the size of the uploaded file in bytes.
    Photo {
        /// The request body's size (the image plus the multipart framing), bytes.
        bytes: usize,
    },
}

/// One message the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The id the fake gave it.
    pub message_id: i64,
    /// The chat it went to.
    pub chat_id: i64,
    /// Text or photo.
    pub kind: SentKind,
    /// The text (or a photo's caption) exactly as sent, markup included.
    pub text: String,
    /// The `parse_mode` asked for, if any (`HTML`, `MarkdownV2`).
    pub parse_mode: Option<String>,
    /// Whether the message was sent silently.
    pub disable_notification: bool,
}

/// One request the fake received, accepted or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    /// The Bot API method, e.g. `"sendMessage"`.
    pub method: String,
    /// The HTTP status answered.
    pub status: u16,
}

/// State shared by the server task and the test.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: FakeTelegramConfig,
    pub(crate) state: Mutex<State>,
    /// Woken when an update is injected, to end a waiting long poll.
    pub(crate) updates_arrived: Notify,
    /// Woken when a message is accepted.
    pub(crate) message_sent: Notify,
}

/// The mutable part of [`Shared`].
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) next_update_id: i64,
    pub(crate) next_message_id: i64,
    /// Updates not yet confirmed by an `offset` above their id.
    pub(crate) updates: Vec<(i64, Value)>,
    pub(crate) sent: Vec<SentMessage>,
    pub(crate) calls: Vec<RecordedCall>,
    pub(crate) outage: Option<Outage>,
    /// Sends still to be answered with 429, and the `retry_after` they carry (seconds).
    pub(crate) rate_limited: Option<(u32, u32)>,
    pub(crate) commands: Vec<(String, String)>,
}

/// A running fake Bot API; it stops when dropped.
pub struct FakeTelegram {
    address: SocketAddr,
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeTelegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTelegram")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Starts a fake Bot API on `127.0.0.1:0`.
///
/// # Panics
/// If no local port can be bound (the test cannot run at all then).
pub async fn spawn(config: FakeTelegramConfig) -> FakeTelegram {
    let shared = Arc::new(Shared {
        config,
        state: Mutex::new(State {
            next_update_id: 1000,
            next_message_id: 1,
            ..State::default()
        }),
        updates_arrived: Notify::new(),
        message_sent: Notify::new(),
    });
    #[expect(
        clippy::expect_used,
        reason = "a test fixture without a port cannot run"
    )]
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    #[expect(clippy::expect_used, reason = "a bound listener has an address")]
    let address = listener.local_addr().expect("local address");
    let task = serve(listener, Arc::clone(&shared));
    FakeTelegram {
        address,
        shared,
        task: Some(task),
    }
}

fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) -> tokio::task::JoinHandle<()> {
    let app = server::app(shared);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

impl FakeTelegram {
    /// `http://127.0.0.1:PORT/`, for teloxide's `Bot::set_api_url` (or the `telegram.api_url`
    /// configuration key).
    #[must_use]
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// The token the fake accepts.
    #[must_use]
    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// Queues a text message from `chat_id` (a private chat for positive ids, a group for
    /// negative ones; the sender is the user whose id is the chat id's absolute value) as the
    /// next update and returns its `update_id`.
    pub fn inject_message(&self, chat_id: i64, text: &str) -> i64 {
        self.inject_message_from(chat_id, chat_id.abs(), text)
    }

    /// Queues a text message sent by user `user_id` in `chat_id` (e.g. one member of a group)
    /// as the next update and returns its `update_id`.
    pub fn inject_message_from(&self, chat_id: i64, user_id: i64, text: &str) -> i64 {
        let update_id = {
            let mut state = self.state();
            let update_id = state.next_update_id;
            state.next_update_id += 1;
            let message_id = state.next_message_id;
            state.next_message_id += 1;
            let update = server::message_update(update_id, message_id, chat_id, user_id, text);
            state.updates.push((update_id, update));
            update_id
        };
        self.shared.updates_arrived.notify_waiters();
        update_id
    }

    /// Every message accepted so far, oldest first.
    #[must_use]
    pub fn sent(&self) -> Vec<SentMessage> {
        self.state().sent.clone()
    }

    /// The messages accepted for `chat_id`, oldest first.
    #[must_use]
    pub fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        self.state()
            .sent
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .cloned()
            .collect()
    }

    /// Waits until at least `n` messages were accepted in total, or `timeout` passes, and
    /// returns all accepted messages.
    pub async fn wait_for_sent(&self, n: usize, timeout: Duration) -> Vec<SentMessage> {
        let _ = tokio::time::timeout(timeout, async {
            loop {
                let notified = self.shared.message_sent.notified();
                if self.state().sent.len() >= n {
                    return;
                }
                notified.await;
            }
        })
        .await;
        self.sent()
    }

    /// Every request received (method and HTTP status), oldest first.
    #[must_use]
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.state().calls.clone()
    }

    /// The commands registered with `setMyCommands`: `(command, description)`.
    #[must_use]
    pub fn registered_commands(&self) -> Vec<(String, String)> {
        self.state().commands.clone()
    }

    /// Starts (`Some`) or ends (`None`) an outage of the answering kind.
    pub fn set_outage(&self, outage: Option<Outage>) {
        self.state().outage = outage;
    }

    /// Answers the next `n` `sendMessage`/`sendPhoto` calls with 429 Too Many Requests and
    /// `parameters.retry_after = retry_after_secs`.
    pub fn rate_limit_next_sends(&self, n: u32, retry_after_secs: u32) {
        self.state().rate_limited = Some((n, retry_after_secs));
    }

    /// Stops listening: new connections are refused. Requests on connections the client
    /// keeps alive get 503 until [`Self::go_online`].
    pub fn go_offline(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.set_outage(Some(Outage::ServiceUnavailable));
    }

    /// Listens again on the same address after [`Self::go_offline`] and ends the outage.
    ///
    /// # Panics
    /// If the address cannot be bound again (another process took the port).
    pub async fn go_online(&mut self) {
        if self.task.is_none() {
            let mut attempts = 0;
            let listener = loop {
                match tokio::net::TcpListener::bind(self.address).await {
                    Ok(listener) => break listener,
                    Err(error) => {
                        attempts += 1;
                        assert!(attempts < 50, "cannot bind {} again: {error}", self.address);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            };
            self.task = Some(serve(listener, Arc::clone(&self.shared)));
        }
        self.set_outage(None);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test thread must not hide the first error).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
