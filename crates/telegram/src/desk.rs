//! The learning side of the bot: `/ta` (the latest indicators of a coin), `/ask` (the LLM
//! advisor, its answer validated and recorded before it is shown), and `/playbook`,
//! `/playbook_stats`, `/playbook_update` over `hybrid-learning`'s playbook.
//!
//! `/ask` refuses outright when no LLM key is configured; an answer that fails the advisor's
//! validation is refused with the reason, never shown as advice. Every exchange is recorded
//! in `ai_conversations` like the engine's own.

use std::{fmt::Write as _, sync::Arc};

use hybrid_core::{Symbol, Timestamp};
use hybrid_learning::{
    analyse, record_exchange, signal_accuracy_section, update_playbook, validate_trading_signal,
    ChatRequest, EvaluatedRow, JudgedDecision, LlmClient, TradingSignal, Verdict, MIN_DECISIONS,
};
use hybrid_store::Store;

use crate::{error::TelegramError, format::compact_price, text::escape_html};

/// Longest question `/ask` forwards, characters.
pub const MAX_QUESTION_CHARS: usize = 500;

/// The system prompt of `/ask`: the owner's question, answered in the advisor's strict
/// trading-signal shape so the same validation applies.
const ASK_SYSTEM: &str = "You are a cautious crypto market analyst answering the owner of a \
trading bot. Answer the question with one JSON object only: {\"direction\": \
\"BULLISH|BEARISH|NEUTRAL\", \"confidence\": 0..1, \"action\": \"BUY|SELL|HOLD|REDUCE\", \
\"risk_level\": \"LOW|MEDIUM|HIGH\", \"affected_assets\": [..], \"reasoning\": \"..\"}.";

/// What `/ta`, `/ask` and the playbook commands read and write.
pub struct LearningDesk {
    store: Arc<Store>,
    llm: Option<LlmClient>,
}

impl std::fmt::Debug for LearningDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearningDesk")
            .field("llm", &self.llm.as_ref().map(LlmClient::model))
            .finish_non_exhaustive()
    }
}

impl LearningDesk {
    /// A desk over `store`; `llm` is `None` when no API key is configured (then `/ask`
    /// refuses).
    #[must_use]
    pub fn new(store: Arc<Store>, llm: Option<LlmClient>) -> Self {
        Self { store, llm }
    }

    /// `/ta SYMBOL`: the latest indicator snapshot the learning loop stored for the coin.
    ///
    /// # Errors
    /// [`TelegramError::Store`] when the database cannot be read.
    pub fn technical_analysis(&self, coin: &str) -> Result<String, TelegramError> {
        let coin = coin.trim().to_uppercase();
        if coin.is_empty() {
            return Ok("Usage: /ta SYMBOL, e.g. /ta BTCUSDT".to_owned());
        }
        let Ok(symbol) = Symbol::new(&coin) else {
            return Ok(format!(
                "{} is not a trading pair (e.g. BTCUSDT).",
                escape_html(&coin)
            ));
        };
        let Some(snapshot) = self.store.latest_indicators(&symbol)? else {
            return Ok(format!(
                "No indicators recorded for {} yet: the learning loop's indicator task has not \
                 run for it.",
                escape_html(symbol.as_str())
            ));
        };
        const NAMES: [&str; 13] = [
            "SMA 20",
            "SMA 50",
            "SMA 200",
            "EMA 12",
            "EMA 26",
            "RSI 14",
            "MACD",
            "MACD signal",
            "MACD histogram",
            "Bollinger upper",
            "Bollinger middle",
            "Bollinger lower",
            "ATR 14",
        ];
        let mut out = format!(
            "<b>Technical analysis {}</b> at {}\nprice {} · trend {} · momentum {} · volatility {}\n",
            escape_html(symbol.as_str()),
            snapshot.at,
            compact_price(snapshot.price.value()),
            escape_html(&snapshot.trend),
            escape_html(&snapshot.momentum),
            escape_html(&snapshot.volatility)
        );
        for (name, value) in NAMES.iter().zip(snapshot.values) {
            let shown = value.map_or_else(
                || "n/a (not enough candles)".to_owned(),
                |v| {
                    if v.abs() >= 100.0 {
                        format!("{v:.2}")
                    } else {
                        format!("{v:.4}")
                    }
                },
            );
            let _ = writeln!(out, "{name}: {shown}");
        }
        Ok(out)
    }

    /// `/ask QUESTION`: the LLM's answer, validated and recorded; a refusal says why.
    ///
    /// # Errors
    /// [`TelegramError::Store`] when the exchange cannot be recorded.
    pub async fn ask(&self, question: &str, now: Timestamp) -> Result<String, TelegramError> {
        let question = question.trim();
        if question.is_empty() {
            return Ok("Usage: /ask QUESTION, e.g. /ask is BTC still in a bull regime?".to_owned());
        }
        let Some(llm) = &self.llm else {
            return Ok(
                "🚫 /ask is off: no LLM API key is configured (HYBRID_LLM_API_KEY).".to_owned(),
            );
        };
        let question: String = question.chars().take(MAX_QUESTION_CHARS).collect();
        let playbook = self
            .store
            .latest_playbook()?
            .map(|p| hybrid_learning::prompt_extract(&p.content))
            .unwrap_or_default();
        let user = serde_json::json!({
            "question": question,
            "time": now.to_string(),
            "playbook": playbook,
        })
        .to_string();
        let request = ChatRequest::new("telegram_ask", ASK_SYSTEM, &user, 800, 0.3);
        let answer = llm.chat(&request).await;
        let verdict = record_exchange(&self.store, now, llm.model(), &request, answer, |c| {
            validate_trading_signal(c).map_err(|r| r.0)
        })?;
        Ok(match verdict {
            Verdict::Accepted(signal) => advice(&signal),
            Verdict::Refused(reason) => format!(
                "🚫 The advisor's answer was refused by validation: {}",
                escape_html(&reason)
            ),
            Verdict::Failed(reason) => {
                format!("⚠️ The advisor did not answer: {}", escape_html(&reason))
            }
        })
    }

    /// `/playbook`: the current version, or that none exists yet.
    ///
    /// # Errors
    /// [`TelegramError::Store`] when the database cannot be read.
    pub fn playbook(&self) -> Result<String, TelegramError> {
        Ok(match self.store.latest_playbook()? {
            None => format!(
                "No playbook yet: it is written once {MIN_DECISIONS} decisions have a 24 h \
                 outcome (/playbook_update)."
            ),
            Some(p) => format!(
                "<b>Playbook v{}</b> ({}, from {} decisions)\n{}",
                p.version,
                p.generated_at,
                p.trade_count,
                escape_html(&p.content)
            ),
        })
    }

    /// `/playbook_stats`: decision quality and signal accuracy over the stored decisions.
    ///
    /// # Errors
    /// [`TelegramError::Store`] when the database cannot be read.
    pub fn playbook_stats(&self) -> Result<String, TelegramError> {
        let rows = self.store.learning_rows()?;
        let analysis = analyse(
            &JudgedDecision::from_rows(&rows),
            &EvaluatedRow::from_rows(&rows),
        );
        let mut out = format!(
            "<b>Playbook statistics</b>\ndecisions with a 24 h outcome: {} (a new playbook \
             needs {MIN_DECISIONS})\n",
            analysis.total
        );
        if let Some(success) = analysis.success_pct() {
            let _ = writeln!(out, "good decisions: {} ({success:.1}%)", analysis.good);
        }
        for p in analysis.regime_patterns.iter().take(8) {
            let _ = writeln!(
                out,
                "{} {}: {} decisions, {:.1}% good, mean {:+.2}%",
                escape_html(&p.regime),
                escape_html(&p.action),
                p.decisions,
                p.success_pct,
                p.avg_outcome_pct
            );
        }
        out.push('\n');
        out.push_str(&escape_html(&signal_accuracy_section(&analysis.accuracy)));
        Ok(out)
    }

    /// `/playbook_update`: rebuilds the playbook now (a new version only when there are
    /// enough decisions).
    ///
    /// # Errors
    /// [`TelegramError::Store`] when the database cannot be read or written.
    pub fn playbook_update(&self, now: Timestamp) -> Result<String, TelegramError> {
        let update = update_playbook(&self.store, now, "update requested on Telegram")?;
        let changes = update
            .changes
            .iter()
            .map(|c| format!("• {}", escape_html(c)))
            .collect::<Vec<_>>()
            .join("\n");
        Ok(if update.produced {
            format!("📘 Playbook v{} written.\n{changes}", update.version)
        } else {
            format!("Playbook unchanged (v{}).\n{changes}", update.version)
        })
    }
}

fn advice(signal: &TradingSignal) -> String {
    format!(
        "🤖 <b>Advisor</b> (validated)\ndirection {:?} · action {:?} · risk {} · confidence \
         {:.0}%\nassets: {}\n{}\n<i>Advice only: the bot's own rules decide every trade.</i>",
        signal.direction,
        signal.action,
        escape_html(&signal.risk),
        signal.confidence * 100.0,
        escape_html(&signal.affected_assets.join(", ")),
        escape_html(&signal.reasoning)
    )
}
