//! The LLM as a signal advisor: every prompt and answer is recorded in `ai_conversations`
//! (accepted, refused with its reason, or failed), and a [`ReplayAdvisor`] answers a replayed
//! backtest from those records alone, so it reproduces exactly what the advisor said.
//!
//! When the LLM is down, unconfigured, or its answer is refused, the advisor gives no AI signal:
//! the signal row records it as missing and the decision is made on the other signals (the
//! neutral fallback), never on a guess.

use hybrid_core::Timestamp;
use hybrid_store::{NewConversation, Store, StoreError};

use super::{
    client::{ChatAnswer, ChatRequest, LlmClient, LlmError},
    validate::{validate_trading_signal, TradingSignal},
};
use crate::{
    error::LearningError,
    pass::{AdvisorContext, SignalAdvisor},
    signals::AiInput,
};

/// Consecutive failures after which the LLM counts as unhealthy (spec §4).
pub const UNHEALTHY_AFTER: u32 = 3;

/// The system prompt of the trading-signal call site.
const SIGNAL_SYSTEM: &str = "You are a cautious crypto market analyst. Answer with one JSON object only: \
{\"direction\": \"BULLISH|BEARISH|NEUTRAL\", \"confidence\": 0..1, \"action\": \"BUY|SELL|HOLD|REDUCE\", \
\"risk_level\": \"LOW|MEDIUM|HIGH\", \"affected_assets\": [..], \"reasoning\": \"..\", \"playbook_alignment\": 0..1}.";

/// The trading-signal request for a decision context. Deterministic: the same context gives the
/// same prompt, hence the same replay key.
#[must_use]
pub fn trading_signal_request(context: &AdvisorContext) -> ChatRequest {
    let user = serde_json::json!({
        "symbol": context.symbol.as_str(),
        "time": context.time.to_string(),
        "regime": context.regime.as_str(),
        "price": context.price.value().to_string(),
        "rsi": context.rsi.map(|r| (r * 100.0).round() / 100.0),
        "math_composite": (context.math_composite * 10_000.0).round() / 10_000.0,
    })
    .to_string();
    ChatRequest::new("trading_signal", SIGNAL_SYSTEM, &user, 800, 0.3)
}

/// Counts consecutive failures (spec §4 health).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LlmHealth {
    consecutive_errors: u32,
}

impl LlmHealth {
    /// Notes a call's result: a success resets the count.
    pub fn note(&mut self, success: bool) {
        self.consecutive_errors = if success {
            0
        } else {
            self.consecutive_errors + 1
        };
    }

    /// Healthy unless [`UNHEALTHY_AFTER`] calls in a row failed.
    #[must_use]
    pub const fn is_healthy(self) -> bool {
        self.consecutive_errors < UNHEALTHY_AFTER
    }
}

/// The blocking face of an [`LlmClient`], for synchronous callers (the learning pass, the
/// scheduler's tasks): it owns a small runtime. Do not use it from inside an async runtime.
#[derive(Debug)]
pub struct LlmAdvisor {
    client: LlmClient,
    runtime: tokio::runtime::Runtime,
}

impl LlmAdvisor {
    /// Wraps `client`.
    ///
    /// # Errors
    /// [`LearningError::Source`] when the runtime cannot start.
    pub fn new(client: LlmClient) -> Result<Self, LearningError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LearningError::Source {
                source_name: "llm",
                reason: format!("cannot start a runtime: {e}"),
            })?;
        Ok(Self { client, runtime })
    }

    /// The model asked.
    #[must_use]
    pub fn model(&self) -> &str {
        self.client.model()
    }

    /// Asks and waits.
    ///
    /// # Errors
    /// [`LlmError`] as [`LlmClient::chat`].
    pub fn ask(&self, request: &ChatRequest) -> Result<ChatAnswer, LlmError> {
        self.runtime.block_on(self.client.chat(request))
    }
}

/// What became of one exchange.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict<T> {
    /// Valid; here is what it said.
    Accepted(T),
    /// An answer came but was invalid; nothing changes.
    Refused(String),
    /// No answer (timeout, HTTP error, not configured); nothing changes.
    Failed(String),
}

/// Validates `answer` with `validate` and records the exchange. Returns the verdict.
///
/// # Errors
/// [`StoreError`] when the record cannot be written.
pub fn record_exchange<T>(
    store: &Store,
    at: Timestamp,
    model: &str,
    request: &ChatRequest,
    answer: Result<ChatAnswer, LlmError>,
    validate: impl Fn(&str) -> Result<T, String>,
) -> Result<Verdict<T>, StoreError> {
    let (verdict, response, error, tokens, latency) = match answer {
        Ok(answer) => {
            let verdict = match validate(&answer.content) {
                Ok(value) => Verdict::Accepted(value),
                Err(reason) => Verdict::Refused(reason),
            };
            (
                verdict,
                Some(answer.content),
                None,
                answer.tokens_used,
                answer.latency_ms,
            )
        }
        Err(e) => (
            Verdict::Failed(e.to_string()),
            None,
            Some(e.to_string()),
            None,
            0,
        ),
    };
    let (label, reason) = match &verdict {
        Verdict::Accepted(_) => ("accepted", None),
        Verdict::Refused(r) => ("refused", Some(r.clone())),
        Verdict::Failed(r) => ("failed", Some(r.clone())),
    };
    if let Some(reason) = &reason {
        tracing::warn!(purpose = %request.purpose, verdict = label, %reason, "LLM answer not used");
    }
    store.record_conversation(&NewConversation {
        at,
        purpose: request.purpose.clone(),
        model: model.to_owned(),
        request_key: request.key(model),
        prompt: request.prompt_json(),
        response,
        error,
        verdict: label.to_owned(),
        reason,
        tokens_used: tokens,
        latency_ms: latency,
    })?;
    Ok(verdict)
}

/// Asks the LLM for each decision's trading signal and records every exchange.
#[derive(Debug)]
pub struct RecordingAdvisor<'a> {
    llm: LlmAdvisor,
    store: &'a Store,
    health: LlmHealth,
    /// Exchanges refused or failed, with their reasons.
    pub rejected: Vec<String>,
}

impl<'a> RecordingAdvisor<'a> {
    /// Records into `store`.
    #[must_use]
    pub const fn new(llm: LlmAdvisor, store: &'a Store) -> Self {
        Self {
            llm,
            store,
            health: LlmHealth {
                consecutive_errors: 0,
            },
            rejected: Vec::new(),
        }
    }

    /// The LLM's health.
    #[must_use]
    pub const fn health(&self) -> LlmHealth {
        self.health
    }
}

fn validate_signal(content: &str) -> Result<TradingSignal, String> {
    validate_trading_signal(content).map_err(|r| r.0)
}

impl SignalAdvisor for RecordingAdvisor<'_> {
    fn advise(&mut self, context: &AdvisorContext) -> Option<AiInput> {
        let request = trading_signal_request(context);
        let answer = self.llm.ask(&request);
        self.health.note(answer.is_ok());
        let model = self.llm.model().to_owned();
        match record_exchange(
            self.store,
            context.time,
            &model,
            &request,
            answer,
            validate_signal,
        ) {
            Ok(Verdict::Accepted(signal)) => Some(signal.to_ai_input()),
            Ok(Verdict::Refused(reason) | Verdict::Failed(reason)) => {
                self.rejected.push(reason);
                None
            }
            Err(e) => {
                self.rejected.push(format!("not recorded: {e}"));
                None
            }
        }
    }
}

/// Answers from recorded exchanges only: the same prompt gets the recorded answer, validated
/// the same way; a prompt never recorded gets no AI signal. Nothing is sent anywhere.
#[derive(Debug)]
pub struct ReplayAdvisor<'a> {
    store: &'a Store,
    model: String,
    /// Prompts with no recorded answer.
    pub misses: u64,
}

impl<'a> ReplayAdvisor<'a> {
    /// Replays answers recorded for `model` in `store`.
    #[must_use]
    pub fn new(store: &'a Store, model: &str) -> Self {
        Self {
            store,
            model: model.to_owned(),
            misses: 0,
        }
    }
}

impl SignalAdvisor for ReplayAdvisor<'_> {
    fn advise(&mut self, context: &AdvisorContext) -> Option<AiInput> {
        let request = trading_signal_request(context);
        let recorded = self
            .store
            .recorded_conversation(&request.key(&self.model))
            .ok()
            .flatten();
        let Some(content) = recorded.and_then(|r| r.conversation.response) else {
            self.misses += 1;
            return None;
        };
        validate_trading_signal(&content)
            .ok()
            .map(|s| s.to_ai_input())
    }
}
