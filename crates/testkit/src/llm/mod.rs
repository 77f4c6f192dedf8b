//! A fake OpenAI-compatible chat-completions server (`POST /v1/chat/completions`) on
//! 127.0.0.1, for testing the LLM client and advisor without the internet.
//!
//! By default every request gets a *valid* trading-signal answer whose direction depends on the
//! prompt (so different prompts get different but repeatable answers). Scripted answers can be
//! queued: a given content (valid or not), an empty content, a slow answer (the client times
//! out) or an HTTP error status. Every request is recorded with its bearer token.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};

/// One scripted reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlmReply {
    /// A 200 answer whose message content is this text (valid JSON or not).
    Content(String),
    /// A 200 answer with an empty content.
    Empty,
    /// Waits this long, then answers with the default reply.
    Slow(Duration),
    /// An error status with a short body.
    Status(u16),
}

/// A request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmRequest {
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The JSON body.
    pub body: serde_json::Value,
}

#[derive(Debug, Default)]
struct Shared {
    script: Mutex<VecDeque<LlmReply>>,
    requests: Mutex<Vec<LlmRequest>>,
}

/// A running fake; the server stops when the runtime that spawned it stops.
#[derive(Debug, Clone)]
pub struct FakeLlm {
    base_url: String,
    shared: Arc<Shared>,
}

impl FakeLlm {
    /// The base URL to give the client, e.g. `http://127.0.0.1:PORT/v1`.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Queues a reply for the next request (replies are used in order; then the default).
    pub fn push(&self, reply: LlmReply) {
        self.shared
            .script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(reply);
    }

    /// Every request received so far.
    #[must_use]
    pub fn requests(&self) -> Vec<LlmRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A valid trading-signal answer: `{"direction", "confidence", "action", "risk_level",
/// "reasoning", "affected_assets", "playbook_alignment"}`.
#[must_use]
pub fn valid_signal(direction: &str, confidence: f64, action: &str) -> String {
    serde_json::json!({
        "direction": direction,
        "confidence": confidence,
        "action": action,
        "risk_level": "MEDIUM",
        "affected_assets": ["BTC"],
        "reasoning": "momentum and regime agree on this call",
        "playbook_alignment": 0.6,
    })
    .to_string()
}

/// The default answer for a prompt: a valid signal whose direction is picked from the prompt's
/// bytes, so equal prompts get equal answers.
#[must_use]
pub fn default_answer(body: &serde_json::Value) -> String {
    let text = body
        .get("messages")
        .map(ToString::to_string)
        .unwrap_or_default();
    let sum: u64 = text.bytes().map(u64::from).sum();
    match sum % 3 {
        0 => valid_signal("BULLISH", 0.7, "BUY"),
        1 => valid_signal("BEARISH", 0.6, "SELL"),
        _ => valid_signal("NEUTRAL", 0.4, "HOLD"),
    }
}

/// Starts the fake on 127.0.0.1 on a free port, in the current tokio runtime.
pub async fn spawn() -> FakeLlm {
    let shared = Arc::new(Shared::default());
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .with_state(Arc::clone(&shared));
    #[expect(
        clippy::expect_used,
        reason = "a test fixture without a port cannot run"
    )]
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    #[expect(clippy::expect_used, reason = "a bound listener has an address")]
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    FakeLlm {
        base_url: format!("http://{address}/v1"),
        shared,
    }
}

async fn chat(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(LlmRequest {
            authorization,
            body: body.clone(),
        });
    let reply = shared
        .script
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front();
    let content = match reply {
        None => default_answer(&body),
        Some(LlmReply::Content(text)) => text,
        Some(LlmReply::Empty) => String::new(),
        Some(LlmReply::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            default_answer(&body)
        }
        Some(LlmReply::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, "fake llm error").into_response();
        }
    };
    Json(serde_json::json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": body.get("model").cloned().unwrap_or(serde_json::Value::Null),
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop",
        }],
        "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
    }))
    .into_response()
}
