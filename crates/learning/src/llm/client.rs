//! A thin OpenAI-compatible chat-completions client (DeepSeek by default): JSON output mode,
//! a timeout per attempt, retries with exponential back-off on 5xx, 429, timeouts and
//! connection errors (asking for advice is a read: repeating it changes nothing), none on other
//! 4xx. The API key is sent as a bearer token and never logged.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where and how to call the LLM.
#[derive(Clone, PartialEq, Eq)]
pub struct LlmSettings {
    /// Base URL up to `/v1` (the client appends `/chat/completions`).
    pub base_url: String,
    /// Bearer key (from `HYBRID_LLM_API_KEY`); empty = not configured.
    pub api_key: String,
    /// Model name.
    pub model: String,
    /// Timeout per attempt (spec: 30 s).
    pub timeout: Duration,
    /// Attempts in all (spec: 3).
    pub max_attempts: u32,
    /// First back-off; doubles per attempt, capped at 30 s; a 429 waits three times as long.
    pub backoff: Duration,
}

impl std::fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl Default for LlmSettings {
    /// DeepSeek's endpoint and the spec's HTTP policy; no key.
    fn default() -> Self {
        Self {
            base_url: "https://api.deepseek.com/v1".to_owned(),
            api_key: String::new(),
            model: "deepseek-chat".to_owned(),
            timeout: Duration::from_secs(30),
            max_attempts: 3,
            backoff: Duration::from_secs(1),
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// A question for the LLM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    /// The call site (`trading_signal`, `portfolio_optimizer`, `coin_discovery`).
    pub purpose: String,
    /// The messages.
    pub messages: Vec<ChatMessage>,
    /// Answer length limit.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f64,
}

impl ChatRequest {
    /// A system + user request.
    #[must_use]
    pub fn new(purpose: &str, system: &str, user: &str, max_tokens: u32, temperature: f64) -> Self {
        Self {
            purpose: purpose.to_owned(),
            messages: vec![
                ChatMessage {
                    role: "system".to_owned(),
                    content: system.to_owned(),
                },
                ChatMessage {
                    role: "user".to_owned(),
                    content: user.to_owned(),
                },
            ],
            max_tokens,
            temperature,
        }
    }

    /// The full prompt as recorded (JSON of the messages and parameters).
    #[must_use]
    pub fn prompt_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The replay key: SHA-256 of the model and the recorded prompt, hex.
    #[must_use]
    pub fn key(&self, model: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(model.as_bytes());
        hasher.update([0]);
        hasher.update(self.prompt_json().as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// A raw answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatAnswer {
    /// The message content (not yet validated).
    pub content: String,
    /// Tokens used, if reported.
    pub tokens_used: Option<i64>,
    /// Round trip in milliseconds (all attempts).
    pub latency_ms: i64,
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No API key.
    #[error("no LLM API key configured (HYBRID_LLM_API_KEY)")]
    NotConfigured,
    /// Every attempt timed out.
    #[error("timed out after {0} attempt(s)")]
    Timeout(u32),
    /// The server answered with an error status.
    #[error("HTTP {status}: {body}")]
    Http {
        /// Status code.
        status: u16,
        /// Start of the body.
        body: String,
    },
    /// The connection failed.
    #[error("connection failed: {0}")]
    Transport(String),
    /// The response was not a chat completion.
    #[error("malformed response: {0}")]
    Malformed(String),
}

/// The client.
#[derive(Debug, Clone)]
pub struct LlmClient {
    settings: LlmSettings,
    http: reqwest::Client,
}

#[derive(Debug, Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Debug, Deserialize)]
struct Message {
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    total_tokens: Option<i64>,
}

impl LlmClient {
    /// A client with these settings.
    ///
    /// # Errors
    /// [`LlmError::Transport`] when the HTTP client cannot be built.
    pub fn new(settings: LlmSettings) -> Result<Self, LlmError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        Ok(Self { settings, http })
    }

    /// The model asked.
    #[must_use]
    pub fn model(&self) -> &str {
        &self.settings.model
    }

    /// Asks once, with retries. The answer is JSON mode (`response_format: json_object`).
    ///
    /// # Errors
    /// [`LlmError`]: no key, timeouts, error statuses, connection failures, or a response that
    /// is not a chat completion.
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatAnswer, LlmError> {
        if self.settings.api_key.is_empty() {
            return Err(LlmError::NotConfigured);
        }
        let url = format!(
            "{}/chat/completions",
            self.settings.base_url.trim_end_matches('/')
        );
        let body = serde_json::json!({
            "model": self.settings.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "response_format": {"type": "json_object"},
        });
        let started = Instant::now();
        let attempts = self.settings.max_attempts.max(1);
        let mut last = LlmError::Timeout(0);
        for attempt in 0..attempts {
            if attempt > 0 {
                let factor = if matches!(last, LlmError::Http { status: 429, .. }) {
                    3
                } else {
                    1
                };
                let wait = self.settings.backoff * 2u32.pow(attempt - 1) * factor;
                tokio::time::sleep(wait.min(Duration::from_secs(30) * factor)).await;
            }
            match self.attempt(&url, &body).await {
                Ok((content, tokens)) => {
                    return Ok(ChatAnswer {
                        content,
                        tokens_used: tokens,
                        latency_ms: i64::try_from(started.elapsed().as_millis())
                            .unwrap_or(i64::MAX),
                    })
                }
                Err(error) => {
                    let retry = match &error {
                        LlmError::Timeout(_) | LlmError::Transport(_) => true,
                        LlmError::Http { status, .. } => *status == 429 || *status >= 500,
                        LlmError::NotConfigured | LlmError::Malformed(_) => false,
                    };
                    last = match error {
                        LlmError::Timeout(_) => LlmError::Timeout(attempt + 1),
                        other => other,
                    };
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last)
    }

    async fn attempt(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(String, Option<i64>), LlmError> {
        let response = self
            .http
            .post(url)
            .bearer_auth(&self.settings.api_key)
            .json(body)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        let text = response.text().await.map_err(classify)?;
        if !status.is_success() {
            return Err(LlmError::Http {
                status: status.as_u16(),
                body: text.chars().take(200).collect(),
            });
        }
        let completion: Completion =
            serde_json::from_str(&text).map_err(|e| LlmError::Malformed(e.to_string()))?;
        let content = completion
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| LlmError::Malformed("no choices[0].message.content".to_owned()))?;
        Ok((content, completion.usage.and_then(|u| u.total_tokens)))
    }
}

fn classify(error: reqwest::Error) -> LlmError {
    if error.is_timeout() {
        LlmError::Timeout(1)
    } else {
        LlmError::Transport(error.to_string())
    }
}
