//! Coin discovery (spec §3.8): candidates from the exchange's symbols and volumes, the LLM's
//! verdicts validated, every decision logged, up to 5 coins added, and each added coin judged
//! 7 days later from the trades it got.
//!
//! Differs from the old system: categories, tiers and risks are validated and symbols the LLM
//! invented (not among the candidates) are dropped; approvals are capped at 5; the evaluation
//! reads the decisions recorded by the learning loop, so it runs (the old one never did, its
//! `was_added` update being invalid SQL on PostgreSQL).

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
};

use hybrid_core::{Symbol, Timestamp};
use hybrid_store::{DiscoveryRecord, NewDiscovery, OutcomeWindow, Store, StoreError};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::{
    llm::{
        advisor::{record_exchange, Verdict},
        client::{ChatAnswer, ChatRequest, LlmError},
        validate::Refusal,
    },
    outcomes::pct_f64,
};

/// Minimum 24 h quote volume of a candidate, USDT.
pub const MIN_VOLUME_USD: i64 = 1_000_000;
/// Candidates sent to the LLM at most.
pub const MAX_CANDIDATES: usize = 20;
/// Coins added per run at most.
pub const MAX_ADDED: usize = 5;
/// Days after which a discovery is judged.
pub const EVALUATION_DAYS: i64 = 7;
/// Categories the LLM may use.
pub const CATEGORIES: [&str; 7] = ["LARGE_CAP", "MID_CAP", "DEFI", "AI", "MEME", "L2", "GAMING"];

/// A symbol as listed by the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSymbol {
    /// e.g. `BTCUSDT`.
    pub symbol: String,
    /// Quote asset.
    pub quote: String,
    /// `TRADING`, `BREAK`, …
    pub status: String,
    /// Spot trading allowed.
    pub spot_allowed: bool,
}

/// A candidate coin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Symbol.
    pub symbol: String,
    /// 24 h quote volume.
    pub volume_24h: Decimal,
}

/// USDT spot symbols that are trading, not watched yet, with ≥ $1 M volume, by volume.
#[must_use]
pub fn candidates(
    listed: &[ListedSymbol],
    watchlist: &BTreeSet<String>,
    volumes: &BTreeMap<String, Decimal>,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = listed
        .iter()
        .filter(|s| s.quote == "USDT" && s.status == "TRADING" && s.spot_allowed)
        .filter(|s| !watchlist.contains(&s.symbol))
        .filter_map(|s| {
            let volume = *volumes.get(&s.symbol)?;
            (volume >= Decimal::from(MIN_VOLUME_USD)).then(|| Candidate {
                symbol: s.symbol.clone(),
                volume_24h: volume,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.volume_24h
            .cmp(&a.volume_24h)
            .then(a.symbol.cmp(&b.symbol))
    });
    out
}

/// The LLM's verdict on one candidate, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryVerdict {
    /// Symbol (one of the candidates).
    pub symbol: String,
    /// Category.
    pub category: String,
    /// Tier 1–3.
    pub tier: i64,
    /// low / medium / high.
    pub risk: String,
    /// Approved.
    pub approved: bool,
    /// Why.
    pub reason: String,
}

/// Parses the LLM's array answer (a leading/trailing code fence is stripped). Items naming a
/// symbol outside `candidates`, or with an invalid category, tier or risk, are dropped (their
/// reasons returned); approvals beyond [`MAX_ADDED`] become rejections.
///
/// # Errors
/// [`Refusal`] when the answer holds no JSON array.
pub fn parse_verdicts(
    content: &str,
    candidates: &[Candidate],
) -> Result<(Vec<DiscoveryVerdict>, Vec<String>), Refusal> {
    let text = content.trim();
    let (Some(start), Some(end)) = (text.find('['), text.rfind(']')) else {
        return Err(Refusal("no JSON array in the answer".to_owned()));
    };
    let items: Vec<Value> = serde_json::from_str(&text[start..=end.max(start)])
        .map_err(|e| Refusal(format!("not a valid JSON array: {e}")))?;
    let known: BTreeSet<&str> = candidates.iter().map(|c| c.symbol.as_str()).collect();
    let mut verdicts = Vec::new();
    let mut dropped = Vec::new();
    for item in items {
        match verdict(&item, &known) {
            Ok(mut v) => {
                if v.approved
                    && verdicts
                        .iter()
                        .filter(|x: &&DiscoveryVerdict| x.approved)
                        .count()
                        >= MAX_ADDED
                {
                    v.approved = false;
                    v.reason = format!("{} (over the {MAX_ADDED} approvals per run)", v.reason);
                }
                verdicts.push(v);
            }
            Err(reason) => dropped.push(reason),
        }
    }
    Ok((verdicts, dropped))
}

fn verdict(item: &Value, known: &BTreeSet<&str>) -> Result<DiscoveryVerdict, String> {
    let text = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default();
    let symbol = text("symbol").to_ascii_uppercase();
    if !known.contains(symbol.as_str()) {
        return Err(format!("{symbol:?} is not a candidate"));
    }
    let category = text("category").to_ascii_uppercase();
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(format!(
            "{symbol}: category {category:?} is not one of {CATEGORIES:?}"
        ));
    }
    let tier = item
        .get("tier")
        .and_then(Value::as_i64)
        .filter(|t| (1..=3).contains(t))
        .ok_or_else(|| format!("{symbol}: tier must be 1, 2 or 3"))?;
    let risk = text("risk").to_ascii_lowercase();
    if !["low", "medium", "high"].contains(&risk.as_str()) {
        return Err(format!(
            "{symbol}: risk {risk:?} is not low, medium or high"
        ));
    }
    let approved = item
        .get("approved")
        .and_then(Value::as_bool)
        .ok_or_else(|| format!("{symbol}: approved must be true or false"))?;
    Ok(DiscoveryVerdict {
        symbol,
        category,
        tier,
        risk,
        approved,
        reason: text("reason").to_owned(),
    })
}

/// The history lines shown to the LLM: SKIP (not approved), OK / FAIL (judged), PENDING (added,
/// not judged yet), APPROVED (approved, not added).
#[must_use]
pub fn format_history(records: &[DiscoveryRecord]) -> String {
    if records.is_empty() {
        return "No earlier discoveries: this is the first run.".to_owned();
    }
    let mut out = String::new();
    for r in records {
        let symbol = r.discovery.symbol.as_str();
        let line = match (r.discovery.ai_approved, r.was_added, r.was_good_discovery) {
            (false, _, _) => format!("SKIP {symbol}"),
            (_, _, Some(true)) => format!(
                "OK {symbol}: {} trades, win rate {:.0}%, avg {:+.2}%",
                r.trades_after_7d.unwrap_or(0),
                r.win_rate_after_7d.unwrap_or(0.0),
                r.avg_return_after_7d.unwrap_or(0.0)
            ),
            (_, _, Some(false)) => format!(
                "FAIL {symbol}{}",
                r.deactivated_reason
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            (true, true, None) => format!("PENDING {symbol}"),
            (true, false, None) => format!("APPROVED {symbol}"),
        };
        let _ = writeln!(out, "{line}");
    }
    out
}

/// What a discovery run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoverySummary {
    /// Candidates sent.
    pub candidates: usize,
    /// Past discoveries judged now.
    pub evaluated: usize,
    /// Approved now.
    pub approved: usize,
    /// Added to the watchlist now (the caller adds them).
    pub added: Vec<String>,
    /// Problems (refusals, dropped items).
    pub errors: Vec<String>,
}

impl DiscoverySummary {
    /// The notification text, only when something was approved or added.
    #[must_use]
    pub fn message(&self) -> Option<String> {
        (self.approved > 0 || !self.added.is_empty()).then(|| {
            format!(
                "AUTO-DISCOVERY: {} candidates, {} approved, {} added ({}), {} evaluated",
                self.candidates,
                self.approved,
                self.added.len(),
                self.added.join(", "),
                self.evaluated
            )
        })
    }
}

/// Why discovery could not run.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// No LLM key.
    #[error("LLM API key not set (HYBRID_LLM_API_KEY)")]
    NoApiKey,
    /// The exchange listed nothing usable.
    #[error("Failed to fetch exchange info")]
    NoSymbols,
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Judges every added discovery older than 7 days that is not judged yet, from the decisions
/// the learning loop recorded for its symbol in those 7 days: good ⇔ ≥ 2 trades and (win rate
/// ≥ 50 % or mean 24 h outcome > 0). Returns how many were judged.
///
/// # Errors
/// [`StoreError`] from the database.
pub fn evaluate_discoveries(store: &Store, now: Timestamp) -> Result<usize, StoreError> {
    let rows = store.learning_rows()?;
    let mut judged = 0;
    for d in store.discoveries(50)? {
        let start = d.discovery.discovered_at;
        let end = start.plus_millis(EVALUATION_DAYS * Timestamp::DAY_MS);
        if !d.was_added || d.was_good_discovery.is_some() || end > now {
            continue;
        }
        let outcomes: Vec<f64> = rows
            .iter()
            .filter(|r| r.decision.symbol == d.discovery.symbol && r.decision.taken)
            .filter(|r| r.decision.at >= start && r.decision.at < end)
            .filter_map(|r| r.decision.outcome(OutcomeWindow::H24).map(pct_f64))
            .collect();
        let trades = outcomes.len();
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let (win_rate, avg) = if trades == 0 {
            (None, None)
        } else {
            let n = trades as f64;
            (
                Some(outcomes.iter().filter(|o| **o > 0.0).count() as f64 / n * 100.0),
                Some(outcomes.iter().sum::<f64>() / n),
            )
        };
        let good = trades >= 2 && (win_rate.unwrap_or(0.0) >= 50.0 || avg.unwrap_or(0.0) > 0.0);
        store.evaluate_discovery(d.id, trades as i64, win_rate, avg, good)?;
        if trades == 0 {
            store.deactivate_discovery(d.id, now, "no trades in 7 days")?;
        }
        judged += 1;
    }
    Ok(judged)
}

/// One discovery run: judge past discoveries, ask the LLM about the candidates, log every
/// verdict, and mark up to 5 approved coins added (returned for the watchlist).
///
/// # Errors
/// [`DiscoveryError`]: no key, no usable symbols, or a database failure.
pub fn run_discovery(
    store: &Store,
    candidates: &[Candidate],
    api_key_set: bool,
    model: &str,
    now: Timestamp,
    ask: impl FnOnce(&ChatRequest) -> Result<ChatAnswer, LlmError>,
) -> Result<DiscoverySummary, DiscoveryError> {
    if !api_key_set {
        return Err(DiscoveryError::NoApiKey);
    }
    if candidates.is_empty() {
        return Err(DiscoveryError::NoSymbols);
    }
    let evaluated = evaluate_discoveries(store, now)?;
    let sent: Vec<Candidate> = candidates.iter().take(MAX_CANDIDATES).cloned().collect();
    let history = format_history(&store.discoveries(50)?);
    let list: Vec<String> = sent
        .iter()
        .map(|c| format!("{} (24h volume {} USDT)", c.symbol, c.volume_24h.round()))
        .collect();
    let request = ChatRequest::new(
        "coin_discovery",
        &format!(
            "You review new coins for a crypto trading system. Answer with a JSON array only: \
             [{{\"symbol\", \"category\" ({}), \"tier\" 1-3, \"risk\" low|medium|high, \
             \"approved\" true|false, \"reason\"}}]. Approve at most {MAX_ADDED}.",
            CATEGORIES.join("/")
        ),
        &format!("History:\n{history}\nCandidates:\n{}", list.join("\n")),
        2048,
        0.3,
    );
    let verdict = record_exchange(store, now, model, &request, ask(&request), |content| {
        parse_verdicts(content, &sent).map_err(|r| r.0)
    })?;
    let mut summary = DiscoverySummary {
        candidates: sent.len(),
        evaluated,
        ..DiscoverySummary::default()
    };
    let (verdicts, dropped) = match verdict {
        Verdict::Accepted(v) => v,
        Verdict::Refused(reason) | Verdict::Failed(reason) => {
            summary.errors.push(reason);
            return Ok(summary);
        }
    };
    summary.errors.extend(dropped);
    for v in verdicts {
        let volume = sent
            .iter()
            .find(|c| c.symbol == v.symbol)
            .map(|c| c.volume_24h);
        let Ok(symbol) = Symbol::new(&v.symbol) else {
            summary
                .errors
                .push(format!("{}: not a valid symbol", v.symbol));
            continue;
        };
        let id = store.insert_discovery(&NewDiscovery {
            symbol,
            discovered_at: now,
            ai_approved: v.approved,
            ai_category: Some(v.category.clone()),
            ai_tier: Some(v.tier),
            ai_risk: Some(v.risk.clone()),
            ai_reason: v.reason.clone(),
            volume_24h: volume,
        })?;
        if v.approved {
            summary.approved += 1;
            store.mark_discovery_added(id)?;
            summary.added.push(v.symbol);
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn listed(symbol: &str, quote: &str, status: &str) -> ListedSymbol {
        ListedSymbol {
            symbol: symbol.to_owned(),
            quote: quote.to_owned(),
            status: status.to_owned(),
            spot_allowed: true,
        }
    }

    /// Scenarios 70 and 71 of spec §11.
    #[test]
    fn scenario_11_70_71_candidates_filter_and_sort() {
        let volumes: BTreeMap<String, Decimal> = [
            ("BTCUSDT", 9_000_000),
            ("ETHBTC", 9_000_000),
            ("XRPUSDT", 9_000_000),
        ]
        .into_iter()
        .map(|(s, v)| (s.to_owned(), Decimal::from(v)))
        .collect();
        let found = candidates(
            &[
                listed("BTCUSDT", "USDT", "TRADING"),
                listed("ETHBTC", "BTC", "TRADING"),
                listed("XRPUSDT", "USDT", "BREAK"),
            ],
            &BTreeSet::new(),
            &volumes,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].symbol, "BTCUSDT");
        let volumes: BTreeMap<String, Decimal> = [
            ("AAAUSDT", 5_000_000),
            ("BBBUSDT", 100_000),
            ("CCCUSDT", 2_000_000),
        ]
        .into_iter()
        .map(|(s, v)| (s.to_owned(), Decimal::from(v)))
        .collect();
        let listed: Vec<ListedSymbol> = volumes
            .keys()
            .map(|s| listed(s, "USDT", "TRADING"))
            .collect();
        let found: Vec<String> = candidates(&listed, &BTreeSet::new(), &volumes)
            .into_iter()
            .map(|c| c.symbol)
            .collect();
        assert_eq!(found, ["AAAUSDT", "CCCUSDT"]);
        assert!(candidates(&[], &BTreeSet::new(), &volumes).is_empty());
    }

    fn record(symbol: &str, approved: bool, added: bool, good: Option<bool>) -> DiscoveryRecord {
        DiscoveryRecord {
            id: 1,
            discovery: NewDiscovery {
                symbol: Symbol::new(symbol).unwrap(),
                discovered_at: Timestamp::from_millis(0),
                ai_approved: approved,
                ai_category: None,
                ai_tier: None,
                ai_risk: None,
                ai_reason: String::new(),
                volume_24h: None,
            },
            was_added: added,
            was_deactivated: false,
            deactivated_reason: None,
            trades_after_7d: Some(3),
            win_rate_after_7d: Some(66.0),
            avg_return_after_7d: Some(1.0),
            was_good_discovery: good,
        }
    }

    /// Scenario 72 of spec §11.
    #[test]
    fn scenario_11_72_history_lines() {
        assert!(format_history(&[]).contains("first run"));
        let text = format_history(&[
            record("AAAUSDT", true, true, Some(true)),
            record("BBBUSDT", true, true, Some(false)),
            record("CCCUSDT", false, false, None),
            record("DDDUSDT", true, true, None),
        ]);
        assert!(text.contains("OK AAAUSDT"), "{text}");
        assert!(text.contains("FAIL BBBUSDT"), "{text}");
        assert!(text.contains("SKIP CCCUSDT"), "{text}");
        assert!(text.contains("PENDING DDDUSDT"), "{text}");
    }

    /// Scenario 73 of spec §11, with the enum checks.
    #[test]
    fn scenario_11_73_answers_parsed_fenced_or_refused() {
        let cands = vec![
            Candidate {
                symbol: "AAAUSDT".to_owned(),
                volume_24h: Decimal::from(5_000_000),
            },
            Candidate {
                symbol: "BBBUSDT".to_owned(),
                volume_24h: Decimal::from(2_000_000),
            },
        ];
        let (v, _) = parse_verdicts(
            r#"[{"symbol": "AAAUSDT", "category": "DEFI", "tier": 2, "risk": "medium", "approved": true, "reason": "volume"}]"#,
            &cands,
        )
        .unwrap();
        assert!(v[0].approved);
        let (v, _) = parse_verdicts(
            "```json\n[{\"symbol\": \"BBBUSDT\", \"category\": \"MEME\", \"tier\": 3, \"risk\": \"high\", \"approved\": false, \"reason\": \"hype\"}]\n```",
            &cands,
        )
        .unwrap();
        assert!(!v[0].approved);
        assert!(parse_verdicts("These coins look fine.", &cands).is_err());
        let (v, dropped) = parse_verdicts(
            r#"[{"symbol": "ZZZUSDT", "category": "DEFI", "tier": 2, "risk": "low", "approved": true},
                {"symbol": "AAAUSDT", "category": "STONKS", "tier": 2, "risk": "low", "approved": true},
                {"symbol": "BBBUSDT", "category": "AI", "tier": 7, "risk": "low", "approved": true}]"#,
            &cands,
        )
        .unwrap();
        assert!(v.is_empty());
        assert_eq!(dropped.len(), 3, "{dropped:?}");
    }
}
