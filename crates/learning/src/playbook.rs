//! The playbook (spec §3.6): an experience document regenerated weekly from the outcomes —
//! regime-stratified rules, the most reliable signals per regime with accuracy and sample size,
//! what worked and what did not — stored with versions in `playbook_versions`.
//!
//! Differs from the old system: patterns are stratified by the regime actually detected at the
//! decision (the old fills all said NEUTRAL); success patterns group *all* decisions and then
//! filter by win rate and mean outcome (the old filter on good decisions made every win rate
//! 100 %); the document lives in the database rather than a file under `config/`.

use std::{collections::BTreeMap, fmt::Write as _};

use hybrid_core::{Regime, Timestamp};
use hybrid_store::{LearningRow, OutcomeWindow, PlaybookVersion, Store, StoreError};
use serde::Serialize;

use crate::{
    accuracy::{accuracy_report, AccuracyReport, AccuracyTable, EvaluatedRow, MIN_SAMPLES},
    outcomes::pct_f64,
};

/// Decisions needed before a new version is produced.
pub const MIN_DECISIONS: u64 = 5;
/// Decisions a pattern needs to become a learned rule.
pub const MIN_RULE_DECISIONS: u64 = 10;

/// The regime filters of the pattern tables.
pub const REGIME_FILTERS: [&str; 4] = ["BULL", "BEAR", "SIDEWAYS", "ALL"];

/// A group of decisions with the same regime filter, action and (optionally) symbol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pattern {
    /// BULL / BEAR / SIDEWAYS / ALL.
    pub regime: String,
    /// BUY, SELL, GRID→CASH, …
    pub action: String,
    /// The symbol, for symbol patterns.
    pub symbol: Option<String>,
    /// Decisions in the group.
    pub decisions: u64,
    /// Share of good decisions, percent (a ratio of 0.75 is stored as 75.0).
    pub success_pct: f64,
    /// Mean side-adjusted 24 h outcome, percent.
    pub avg_outcome_pct: f64,
    /// Population standard deviation of that outcome.
    pub stddev_pct: f64,
}

/// Everything the playbook is written from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlaybookAnalysis {
    /// Decisions with a 24 h outcome.
    pub total: u64,
    /// Good ones among them.
    pub good: u64,
    /// Regime × action patterns with ≥ 5 decisions.
    pub regime_patterns: Vec<Pattern>,
    /// Symbol × action patterns with ≥ 5 decisions, most decisions first.
    pub symbol_patterns: Vec<Pattern>,
    /// Per regime filter: groups of ≥ 5 with mean outcome < −1 %, worst first.
    pub anti_patterns: BTreeMap<String, Vec<Pattern>>,
    /// Per regime filter: groups of ≥ 5 with success > 55 % and mean outcome > +1 %.
    pub success_patterns: BTreeMap<String, Vec<Pattern>>,
    /// Signal accuracy overall and per regime.
    pub accuracy: AccuracyReport,
}

impl PlaybookAnalysis {
    /// Success rate in percent.
    #[must_use]
    pub fn success_pct(&self) -> Option<f64> {
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        (self.total > 0).then(|| self.good as f64 / self.total as f64 * 100.0)
    }
}

/// One decision reduced to what the patterns need.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgedDecision {
    /// Regime at the decision.
    pub regime: Regime,
    /// Action text.
    pub action: String,
    /// Symbol.
    pub symbol: String,
    /// Side-adjusted 24 h outcome in percent.
    pub outcome_24h: f64,
    /// Good or not.
    pub good: bool,
}

impl JudgedDecision {
    /// The judged decisions with a 24 h outcome among stored rows.
    #[must_use]
    pub fn from_rows(rows: &[LearningRow]) -> Vec<Self> {
        rows.iter()
            .filter_map(|r| {
                let d = &r.decision;
                Some(Self {
                    regime: d.regime,
                    action: d.action.clone(),
                    symbol: d.symbol.as_str().to_owned(),
                    outcome_24h: pct_f64(d.outcome(OutcomeWindow::H24)?),
                    good: d.was_good_decision?,
                })
            })
            .collect()
    }
}

/// Analyses judged decisions and evaluated signal rows.
#[must_use]
pub fn analyse(decisions: &[JudgedDecision], evaluated: &[EvaluatedRow]) -> PlaybookAnalysis {
    let total = decisions.len() as u64;
    let good = decisions.iter().filter(|d| d.good).count() as u64;
    let mut regime_patterns = Vec::new();
    let mut anti_patterns = BTreeMap::new();
    let mut success_patterns = BTreeMap::new();
    for filter in REGIME_FILTERS {
        let in_regime: Vec<&JudgedDecision> = decisions
            .iter()
            .filter(|d| filter == "ALL" || d.regime.as_str() == filter)
            .collect();
        let by_action = patterns(filter, &in_regime, false);
        regime_patterns.extend(by_action.iter().cloned());
        let groups = patterns(filter, &in_regime, true);
        let mut anti: Vec<Pattern> = groups
            .iter()
            .filter(|p| p.avg_outcome_pct < -1.0)
            .cloned()
            .collect();
        anti.sort_by(|a, b| a.avg_outcome_pct.total_cmp(&b.avg_outcome_pct));
        anti.truncate(if filter == "ALL" { 10 } else { 5 });
        let mut wins: Vec<Pattern> = groups
            .into_iter()
            .filter(|p| p.success_pct > 55.0 && p.avg_outcome_pct > 1.0)
            .collect();
        wins.sort_by(|a, b| {
            b.success_pct
                .total_cmp(&a.success_pct)
                .then(b.avg_outcome_pct.total_cmp(&a.avg_outcome_pct))
        });
        wins.truncate(if filter == "ALL" { 10 } else { 5 });
        anti_patterns.insert(filter.to_owned(), anti);
        success_patterns.insert(filter.to_owned(), wins);
    }
    let all: Vec<&JudgedDecision> = decisions.iter().collect();
    let mut symbol_patterns = patterns("ALL", &all, true);
    symbol_patterns.sort_by_key(|p| std::cmp::Reverse(p.decisions));
    PlaybookAnalysis {
        total,
        good,
        regime_patterns,
        symbol_patterns,
        anti_patterns,
        success_patterns,
        accuracy: accuracy_report(evaluated),
    }
}

/// Groups by action (and symbol when `by_symbol`), keeping groups of ≥ [`MIN_SAMPLES`].
fn patterns(regime: &str, decisions: &[&JudgedDecision], by_symbol: bool) -> Vec<Pattern> {
    let mut groups: BTreeMap<(String, Option<String>), Vec<&JudgedDecision>> = BTreeMap::new();
    for d in decisions {
        let symbol = by_symbol.then(|| d.symbol.clone());
        groups
            .entry((d.action.clone(), symbol))
            .or_default()
            .push(d);
    }
    groups
        .into_iter()
        .filter(|(_, g)| g.len() as u64 >= MIN_SAMPLES)
        .map(|((action, symbol), g)| pattern(regime, action, symbol, &g))
        .collect()
}

/// The statistics of one group.
fn pattern(
    regime: &str,
    action: String,
    symbol: Option<String>,
    group: &[&JudgedDecision],
) -> Pattern {
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let n = group.len().max(1) as f64;
    let good = group.iter().filter(|d| d.good).count();
    let mean = group.iter().map(|d| d.outcome_24h).sum::<f64>() / n;
    let var = group
        .iter()
        .map(|d| (d.outcome_24h - mean).powi(2))
        .sum::<f64>()
        / n;
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let success_pct = win_rate_pct(good as f64 / n);
    Pattern {
        regime: regime.to_owned(),
        action,
        symbol,
        decisions: group.len() as u64,
        success_pct,
        avg_outcome_pct: mean,
        stddev_pct: var.sqrt(),
    }
}

/// A win-rate ratio in [0, 1] as the stored percentage (0.75 → 75.0).
#[must_use]
pub fn win_rate_pct(ratio: f64) -> f64 {
    (ratio * 1000.0).round() / 10.0
}

fn strength_label(success_pct: f64) -> &'static str {
    if success_pct > 60.0 {
        "Strong"
    } else if success_pct > 45.0 {
        "Medium"
    } else {
        "Weak"
    }
}

/// The reliability label of a signal accuracy: > 60 reliable, > 45 medium, else weak.
#[must_use]
pub fn reliability_label(accuracy_pct: f64) -> &'static str {
    if accuracy_pct > 60.0 {
        "reliable"
    } else if accuracy_pct > 45.0 {
        "medium"
    } else {
        "weak"
    }
}

/// The section headings the LLM prompt extract keeps.
pub const PROMPT_SECTIONS: [&str; 5] = [
    "## Market-regime rules",
    "## SIGNAL ACCURACY",
    "## What did not work",
    "## What worked",
    "## Current parameters",
];

/// Writes the SIGNAL ACCURACY section.
#[must_use]
pub fn signal_accuracy_section(report: &AccuracyReport) -> String {
    let mut out = String::from("## SIGNAL ACCURACY\n\n");
    let overall = report.all.overall;
    if overall.total < MIN_SAMPLES {
        let _ = writeln!(
            out,
            "Not enough evaluated signals yet ({}/{MIN_SAMPLES}).",
            overall.total
        );
        return out;
    }
    let _ = writeln!(
        out,
        "Overall: {:.1}% Accuracy ({} of {} evaluated)",
        overall.pct().unwrap_or(0.0),
        overall.correct,
        overall.total
    );
    for (regime, table) in &report.by_regime {
        if let Some(pct) = table
            .overall
            .pct()
            .filter(|_| table.overall.total >= MIN_SAMPLES)
        {
            let _ = writeln!(out, "- {regime}: {pct:.1}% (n={})", table.overall.total);
        }
    }
    out.push_str(
        "\n| signal | accuracy | samples | mean abs | reliability |\n|---|---|---|---|---|\n",
    );
    for s in report.all.kept() {
        let _ = writeln!(
            out,
            "| {} | {:.1}% | {} | {:.2} | {} |",
            s.signal.title(),
            s.pct(),
            s.tally.total,
            s.mean_abs,
            reliability_label(s.pct())
        );
    }
    let reliable: Vec<String> = report
        .all
        .kept()
        .filter(|s| s.pct() > 55.0)
        .take(3)
        .map(|s| {
            format!(
                "{} ({:.1}%, n={})",
                s.signal.title(),
                s.pct(),
                s.tally.total
            )
        })
        .collect();
    if !reliable.is_empty() {
        let _ = writeln!(out, "\nMost reliable: {}", reliable.join(", "));
    }
    let weak: Vec<String> = report
        .all
        .kept()
        .filter(|s| s.pct() < 45.0)
        .map(|s| {
            format!(
                "{} ({:.1}%, n={})",
                s.signal.title(),
                s.pct(),
                s.tally.total
            )
        })
        .collect();
    if !weak.is_empty() {
        let _ = writeln!(out, "Unreliable / de-weight: {}", weak.join(", "));
    }
    out.push_str("\n### Most reliable signals per regime\n");
    for (regime, table) in &report.by_regime {
        let _ = writeln!(out, "- {regime}: {}", top_signals(table));
    }
    out
}

fn top_signals(table: &AccuracyTable) -> String {
    let top: Vec<String> = table
        .kept()
        .take(3)
        .map(|s| format!("{} {:.1}% (n={})", s.signal.title(), s.pct(), s.tally.total))
        .collect();
    if top.is_empty() {
        format!("not enough samples (< {MIN_SAMPLES} per signal)")
    } else {
        top.join(", ")
    }
}

fn pattern_line(p: &Pattern) -> String {
    format!(
        "| {} | {}{} | {} | {:.1}% | {:+.2}% | {} |",
        p.regime,
        p.action,
        p.symbol
            .as_ref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default(),
        p.decisions,
        p.success_pct,
        p.avg_outcome_pct,
        strength_label(p.success_pct)
    )
}

const PATTERN_HEADER: &str =
    "| regime | decision | n | success | avg 24h | strength |\n|---|---|---|---|---|---|\n";

/// Writes the whole document.
#[must_use]
pub fn render(
    version: i64,
    generated_at: Timestamp,
    analysis: &PlaybookAnalysis,
    parameters: &str,
    history: &[(i64, u64, Option<f64>)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Hybrid trading playbook\n\nVersion: {version}");
    let _ = writeln!(out, "Generated: {generated_at}");
    let _ = writeln!(
        out,
        "Basis: {} decisions with a 24 h outcome, success rate {:.1}%\n",
        analysis.total,
        analysis.success_pct().unwrap_or(0.0)
    );
    out.push_str("## Market-regime rules\n\n");
    for regime in REGIME_FILTERS {
        let _ = writeln!(out, "### {regime}");
        let mut rows: Vec<&Pattern> = analysis
            .regime_patterns
            .iter()
            .filter(|p| p.regime == regime)
            .collect();
        rows.sort_by(|a, b| b.success_pct.total_cmp(&a.success_pct));
        if rows.is_empty() {
            out.push_str("No pattern with enough decisions yet.\n\n");
            continue;
        }
        out.push_str(PATTERN_HEADER);
        for p in rows.iter().take(3) {
            let _ = writeln!(out, "{}", pattern_line(p));
        }
        out.push('\n');
    }
    out.push_str("### Learned rules\n");
    let learned: Vec<&Pattern> = analysis
        .regime_patterns
        .iter()
        .filter(|p| p.success_pct > 55.0 && p.decisions >= MIN_RULE_DECISIONS)
        .take(5)
        .collect();
    if learned.is_empty() {
        out.push_str("None yet (success > 55 % over ≥ 10 decisions).\n");
    }
    for p in learned {
        let _ = writeln!(
            out,
            "- In {} markets, {} worked {:.1}% of the time (n={}, avg {:+.2}%).",
            p.regime, p.action, p.success_pct, p.decisions, p.avg_outcome_pct
        );
    }
    out.push_str("\n## Symbols\n\n");
    out.push_str(PATTERN_HEADER);
    for p in analysis.symbol_patterns.iter().take(10) {
        let _ = writeln!(out, "{}", pattern_line(p));
    }
    out.push('\n');
    out.push_str(&signal_accuracy_section(&analysis.accuracy));
    for (heading, map) in [
        ("## What did not work", &analysis.anti_patterns),
        ("## What worked", &analysis.success_patterns),
    ] {
        let _ = writeln!(out, "\n{heading}\n");
        for regime in REGIME_FILTERS {
            let take = if regime == "ALL" { 5 } else { 3 };
            for p in map.get(regime).into_iter().flatten().take(take) {
                let _ = writeln!(out, "- {}", pattern_line(p));
            }
        }
    }
    let _ = writeln!(out, "\n## Current parameters\n\n{parameters}");
    out.push_str("\n## Version history\n\n");
    for (v, n, rate) in history {
        let _ = writeln!(
            out,
            "- v{v}: {n} decisions, success {}",
            rate.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.1}%"))
        );
    }
    out
}

/// The sections of `playbook` named in [`PROMPT_SECTIONS`], framed by start/end markers.
#[must_use]
pub fn prompt_extract(playbook: &str) -> String {
    let mut out = String::from("=== PLAYBOOK START ===\n");
    let mut keep = false;
    for line in playbook.lines() {
        if line.starts_with("## ") {
            keep = PROMPT_SECTIONS.iter().any(|h| line.starts_with(h));
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str("=== PLAYBOOK END ===\n");
    out
}

/// What a playbook update did.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookUpdate {
    /// The version now current.
    pub version: i64,
    /// Whether a new version was produced.
    pub produced: bool,
    /// What changed.
    pub changes: Vec<String>,
    /// The current document.
    pub content: String,
    /// The analysis used.
    pub analysis: PlaybookAnalysis,
}

/// The weekly update: analyses the stored decisions and stores version N + 1 when there are at
/// least [`MIN_DECISIONS`] with a 24 h outcome; otherwise the version is unchanged and the
/// change list says why. With no stored version the current one is the initial template, 1.
///
/// # Errors
/// [`StoreError`] from the database.
pub fn update_playbook(
    store: &Store,
    now: Timestamp,
    parameters: &str,
) -> Result<PlaybookUpdate, StoreError> {
    let rows = store.learning_rows()?;
    let decisions = JudgedDecision::from_rows(&rows);
    let evaluated = EvaluatedRow::from_rows(&rows);
    let analysis = analyse(&decisions, &evaluated);
    let current = store.latest_playbook()?;
    let current_version = current.as_ref().map_or(1, |p| p.version);
    if analysis.total < MIN_DECISIONS {
        return Ok(PlaybookUpdate {
            version: current_version,
            produced: false,
            changes: vec![format!(
                "not enough trades ({}/{MIN_DECISIONS})",
                analysis.total
            )],
            content: current.map(|p| p.content).unwrap_or_default(),
            analysis,
        });
    }
    let version = current_version + 1;
    let mut history: Vec<(i64, u64, Option<f64>)> = current
        .as_ref()
        .map(|p| {
            vec![(
                p.version,
                u64::try_from(p.trade_count).unwrap_or(0),
                p.success_rate,
            )]
        })
        .unwrap_or_default();
    history.push((version, analysis.total, analysis.success_pct()));
    let content = render(version, now, &analysis, parameters, &history);
    let changes = changes(current.as_ref(), &analysis);
    let metrics = serde_json::json!({
        "total": analysis.total,
        "good": analysis.good,
        "signal_accuracy": analysis.accuracy,
        "regime_patterns": analysis.regime_patterns,
    });
    store.insert_playbook_version(&PlaybookVersion {
        version,
        generated_at: now,
        content: content.clone(),
        trade_count: i64::try_from(analysis.total).unwrap_or(i64::MAX),
        success_rate: analysis.success_pct(),
        changes_summary: changes.join("\n"),
        metrics,
    })?;
    Ok(PlaybookUpdate {
        version,
        produced: true,
        changes,
        content,
        analysis,
    })
}

fn changes(previous: Option<&PlaybookVersion>, analysis: &PlaybookAnalysis) -> Vec<String> {
    let mut out = vec![format!(
        "basis {} decisions, success {:.1}%",
        analysis.total,
        analysis.success_pct().unwrap_or(0.0)
    )];
    if let Some(p) = previous {
        out.push(format!(
            "previous v{}: {} decisions, success {}",
            p.version,
            p.trade_count,
            p.success_rate
                .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.1}%"))
        ));
    }
    if let Some(best) = analysis.accuracy.all.kept().next() {
        out.push(format!(
            "most reliable signal: {} {:.1}% (n={})",
            best.signal.title(),
            best.pct(),
            best.tally.total
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{accuracy::tests::rows, signals::SignalName};

    fn judged(regime: Regime, action: &str, symbol: &str, outcome: f64) -> JudgedDecision {
        JudgedDecision {
            regime,
            action: action.to_owned(),
            symbol: symbol.to_owned(),
            outcome_24h: outcome,
            good: outcome > 0.0,
        }
    }

    fn report_with(
        bull: (u64, u64),
        bear: (u64, u64),
        signals: &[(SignalName, u64, u64)],
    ) -> AccuracyReport {
        let mut all = Vec::new();
        for (s, n, c) in signals {
            all.extend(rows(*s, *n, *c, Regime::Sideways));
        }
        let mut bull_rows = rows(SignalName::Trend, bull.0, bull.1, Regime::Bull);
        for (i, r) in bull_rows.iter_mut().enumerate() {
            r.was_correct = Some((i as u64) < bull.1);
            r.components.clear();
        }
        let mut bear_rows = rows(SignalName::Trend, bear.0, bear.1, Regime::Bear);
        for (i, r) in bear_rows.iter_mut().enumerate() {
            r.was_correct = Some((i as u64) < bear.1);
            r.components.clear();
        }
        all.extend(bull_rows);
        all.extend(bear_rows);
        accuracy_report(&all)
    }

    /// Scenario 50 of spec §11.
    #[test]
    fn scenario_11_50_accuracy_section_names_overall_regimes_and_weak_signals() {
        // Overall 60 % over BULL 65 % (n=100) and BEAR 55 % (n=100).
        let report = report_with(
            (100, 65),
            (100, 55),
            &[
                (SignalName::FearGreed, 100, 68),
                (SignalName::Rsi, 100, 52),
                (SignalName::Macd, 100, 40),
            ],
        );
        let text = signal_accuracy_section(&report);
        assert!(text.contains("SIGNAL ACCURACY"), "{text}");
        assert!(text.contains("60.0% Accuracy"), "{text}");
        assert!(text.contains("Fear & Greed"), "{text}");
        assert!(text.contains("BULL: 65.0%"), "{text}");
        assert!(text.contains("MACD"), "{text}");
        assert!(
            text.contains("| MACD | 40.0% | 100 | 0.50 | weak |"),
            "{text}"
        );
    }

    /// Scenario 51 of spec §11.
    #[test]
    fn scenario_11_51_too_few_evaluations_say_not_enough() {
        let report = report_with((1, 1), (1, 0), &[]);
        let text = signal_accuracy_section(&report);
        assert!(text.contains("Not enough evaluated signals"), "{text}");
        assert!(!text.contains("Accuracy ("), "{text}");
    }

    /// Scenario 52 of spec §11.
    #[test]
    fn scenario_11_52_reliable_and_deweight_lists() {
        let report = report_with(
            (10, 6),
            (10, 6),
            &[(SignalName::Rsi, 100, 70), (SignalName::Whale, 100, 38)],
        );
        let text = signal_accuracy_section(&report);
        assert!(text.contains("Most reliable: RSI (70.0%, n=100)"), "{text}");
        assert!(
            text.contains("Unreliable / de-weight: Whale (38.0%, n=100)"),
            "{text}"
        );
    }

    /// Scenario 53 of spec §11.
    #[test]
    fn scenario_11_53_prompt_extract_keeps_listed_sections_only() {
        let doc = "# P\nVersion: 3\n## Symbols\nBTC line\n## SIGNAL ACCURACY\nRSI 70%\n## Version history\n- v1\n";
        let extract = prompt_extract(doc);
        assert!(extract.contains("## SIGNAL ACCURACY\nRSI 70%"));
        assert!(!extract.contains("BTC line"));
        assert!(!extract.contains("v1"));
        assert!(extract.starts_with("=== PLAYBOOK START ==="));
    }

    fn sample_decisions() -> Vec<JudgedDecision> {
        let mut d = Vec::new();
        for i in 0..6 {
            d.push(judged(
                Regime::Bull,
                "BUY",
                "BTCUSDT",
                if i < 5 { 2.0 } else { -1.0 },
            ));
            d.push(judged(Regime::Bull, "SELL", "BTCUSDT", -3.0));
            d.push(judged(Regime::Bear, "BUY", "DOGEUSDT", -4.0));
            d.push(judged(Regime::Sideways, "BUY", "ETHUSDT", 0.5));
        }
        d
    }

    /// Scenarios 54–56 of spec §11.
    #[test]
    fn scenario_11_54_55_56_patterns_carry_regimes_and_percentages() {
        let analysis = analyse(&sample_decisions(), &[]);
        assert!(!analysis.regime_patterns.is_empty());
        for p in &analysis.regime_patterns {
            assert!(REGIME_FILTERS.contains(&p.regime.as_str()), "{p:?}");
        }
        let keys: Vec<&str> = analysis.anti_patterns.keys().map(String::as_str).collect();
        assert_eq!(keys, ["ALL", "BEAR", "BULL", "SIDEWAYS"]);
        let bull = &analysis.anti_patterns["BULL"];
        assert_eq!(bull.len(), 1);
        assert_eq!(bull[0].symbol.as_deref(), Some("BTCUSDT"));
        assert_eq!(bull[0].action, "SELL");
        assert!((win_rate_pct(0.75) - 75.0).abs() < 1e-12);
        let wins = &analysis.success_patterns["BULL"];
        assert_eq!(wins.len(), 1);
        assert!((wins[0].success_pct - 83.3).abs() < 1e-9, "{wins:?}");
    }

    /// Scenario 57 of spec §11.
    #[test]
    fn scenario_11_57_generated_playbook_has_regime_sections_and_anti_patterns() {
        let mut evaluated = rows(SignalName::Rsi, 10, 7, Regime::Bull);
        evaluated.extend(rows(SignalName::Rsi, 10, 3, Regime::Bear));
        for row in &mut evaluated {
            row.was_correct = row.components[&SignalName::Rsi].1;
        }
        let analysis = analyse(&sample_decisions(), &evaluated);
        let doc = render(2, Timestamp::from_millis(0), &analysis, "grid 5%", &[]);
        for needle in [
            "### BULL",
            "### BEAR",
            "## Market-regime rules",
            "## SIGNAL ACCURACY",
            "RSI",
            "DOGEUSDT",
            "Version: 2",
            "- BULL: RSI 70.0% (n=10)",
        ] {
            assert!(doc.contains(needle), "missing {needle}:\n{doc}");
        }
    }
}
