//! The narrow interface between the cockpits (Telegram, the web dashboard) and the rest of
//! the system: what they may read (one [`Snapshot`] per answer or page, the history series,
//! the ranking, the validator) and the one thing they may change (the pause switch). Neither
//! talks to the engine or the exchange directly.
//!
//! [`StoreCockpit`] reads what the engine writes: the cohorts table, each cohort's state
//! document `hybrid_state/<cohort name>` (modes, allocations, stops, progress), open orders,
//! trade pairs, the audit log and the outbox, plus the heartbeat file's age; for `/portfolio`
//! the tier rows, index holdings and redistributions the portfolio manager writes, and for
//! `/validate` the production validator's report over the same database.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, SystemTime},
};

use hybrid_cohorts::Ranking;
use hybrid_core::{Order, Symbol, Timestamp};
use hybrid_portfolio::{
    load_targets, validate_store, Criteria, TierBreakdown, TierKind, TierValues, ValidationReport,
};
use hybrid_store::{
    CohortRecord, Event, IndexHoldingRecord, OutboxSummary, RedistributionRecord, Store, TradePair,
    ValidationCounts,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::{
    error::CockpitError,
    history::{read_history, FillView, History},
};

/// The state document the engine reads to know whether opening positions is paused: the
/// engine's own name for it, so the bot and the live loop can never disagree.
pub const PAUSE_DOCUMENT: &str = hybrid_engine::CONTROL_DOCUMENT;

/// Closed trade pairs read per cohort for the P&L figures.
const CLOSED_PAIRS_LIMIT: u32 = 10_000;
/// Audit-log events read per command (mode decisions, reconciliation).
const EVENTS_LIMIT: u32 = 500;
/// Seed of the ranking's bootstrap (the default of `main_hybrid compare`, so both agree).
const RANKING_SEED: u64 = 1;
/// Resamples of the ranking's bootstrap (the default of `main_hybrid compare`).
const RANKING_RESAMPLES: usize = 2000;

/// What the cockpit may read and change.
pub trait Cockpit: Send + Sync {
    /// Everything the commands show, read now.
    ///
    /// # Errors
    /// [`CockpitError::Store`] when the database cannot be read;
    /// [`CockpitError::State`] for a state document that does not have the expected shape.
    fn snapshot(&self, now: Timestamp) -> Result<Snapshot, CockpitError>;

    /// Pauses (`true`) or resumes (`false`) the opening of new positions, recording who (the
    /// Telegram user id) and when in [`PAUSE_DOCUMENT`].
    ///
    /// # Errors
    /// [`CockpitError::Store`] when the document cannot be written.
    fn set_paused(&self, paused: bool, by: i64, at: Timestamp) -> Result<(), CockpitError>;

    /// The three tiers as the portfolio manager last wrote them, the index holdings and the
    /// last redistribution.
    ///
    /// # Errors
    /// [`CockpitError::Store`] when the database cannot be read;
    /// [`CockpitError::State`] when the stored tier targets are invalid.
    fn portfolio(&self) -> Result<PortfolioView, CockpitError>;

    /// The production validator's nine criteria over the database (the 60-day drawdown window
    /// ends at `now`). Never fails: a database that cannot be read gives a not-ready report
    /// naming why.
    fn validation(&self, now: Timestamp) -> ValidationView;

    /// The series the charts draw, from `since` on: each cohort's hourly equity, its
    /// buy-and-hold, its coins' prices and mode decisions, and the portfolio tiers.
    ///
    /// # Errors
    /// [`CockpitError::Store`] when the database cannot be read.
    fn history(&self, since: Timestamp) -> Result<History, CockpitError>;

    /// The cohorts ranked by realised return, each against the cohort named `baseline` with a
    /// bootstrap confidence interval (the same ranking as `main_hybrid compare`).
    ///
    /// # Errors
    /// [`CockpitError::Ranking`] when it cannot be computed.
    fn ranking(&self, baseline: &str) -> Result<Ranking, CockpitError>;

    /// The latest `limit` fills, newest first, of all cohorts or of one symbol.
    ///
    /// # Errors
    /// [`CockpitError::Store`] when the database cannot be read.
    fn recent_fills(
        &self,
        symbol: Option<&Symbol>,
        limit: u32,
    ) -> Result<Vec<FillView>, CockpitError>;

    /// How many fills each cohort (by name) has booked, all time.
    ///
    /// # Errors
    /// [`CockpitError::Store`] when the database cannot be read.
    fn fill_counts(&self) -> Result<std::collections::BTreeMap<String, u64>, CockpitError>;
}

/// The portfolio tiers as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioView {
    /// The tiers' values, shares, targets and drift from the stored rows (all zero values
    /// before the first snapshot).
    pub breakdown: TierBreakdown,
    /// When the tier values were last written; `None` when the portfolio manager never wrote
    /// them (no row has a current share).
    pub written_at: Option<Timestamp>,
    /// The index tier's active holdings, by symbol.
    pub holdings: Vec<IndexHoldingRecord>,
    /// The latest redistribution between tiers, if any.
    pub last_redistribution: Option<RedistributionRecord>,
}

/// The production validator's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationView {
    /// The nine criteria and the verdict.
    pub report: ValidationReport,
    /// `false` when the database holds none of what the criteria read (no trades, snapshots,
    /// regimes, tier values or recommendations): every figure is then a zero, not a result.
    pub anything_recorded: bool,
}

/// Everything the commands show, read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// When it was read.
    pub now: Timestamp,
    /// Every stored cohort, by id.
    pub cohorts: Vec<CohortView>,
    /// The latest audit-log events, newest first.
    pub events: Vec<Event>,
    /// The notification outbox at a glance.
    pub outbox: OutboxSummary,
    /// The pause switch, if it was ever set.
    pub pause: Option<PauseState>,
    /// The trading loop's heartbeat file, if one is configured and exists.
    pub heartbeat: Option<Heartbeat>,
}

/// One cohort: its record, its saved state and its open orders and trades.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortView {
    /// The cohorts-table row.
    pub record: CohortRecord,
    /// When the engine last saved the cohort's state document, if ever.
    pub state_saved_at: Option<Timestamp>,
    /// Close time of the last candle the engine traded, from the state document.
    pub last_candle_close: Option<Timestamp>,
    /// Each traded symbol's mode, allocation and open position.
    pub symbols: Vec<SymbolView>,
    /// Orders resting on the exchange (or not yet confirmed), oldest first.
    pub open_orders: Vec<Order>,
    /// Active stop-losses.
    pub stops: Vec<StopView>,
    /// Closed trade pairs, most recently closed first.
    pub closed: Vec<TradePair>,
}

/// One traded symbol of a cohort.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolView {
    /// The pair.
    pub symbol: Symbol,
    /// `HOLD`, `GRID` or `CASH` as the engine saved it.
    pub mode: String,
    /// Quote (USDT) allocated to the symbol.
    pub allocation: Option<Decimal>,
    /// Entry price of a HOLD position, if any.
    pub hold_entry: Option<Decimal>,
    /// Open and partial trade pairs (the position), oldest first.
    pub open_pairs: Vec<TradePair>,
    /// The mode manager's recent switches as `(time, from → to, reason)` text, oldest first.
    pub switches: Vec<String>,
}

impl SymbolView {
    /// Base quantity held, from the open trade pairs.
    #[must_use]
    pub fn position_quantity(&self) -> Decimal {
        self.open_pairs
            .iter()
            .map(|p| p.remaining_quantity.value())
            .sum()
    }

    /// What the held quantity cost, in quote (entry price × remaining quantity).
    #[must_use]
    pub fn position_cost(&self) -> Decimal {
        self.open_pairs
            .iter()
            .map(|p| p.entry_price.value() * p.remaining_quantity.value())
            .sum()
    }
}

/// An active stop-loss, as the engine saved it (values kept as their saved text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopView {
    /// The pair.
    pub symbol: String,
    /// Fixed or trailing.
    pub kind: String,
    /// Entry price.
    pub entry: String,
    /// The price that triggers the sale.
    pub stop_price: String,
    /// Quantity the stop sells.
    pub quantity: String,
    /// Distance below the reference price, percent.
    pub distance_pct: String,
}

/// The pause switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PauseState {
    /// Whether opening new positions is paused.
    pub paused: bool,
    /// The Telegram user who set it.
    pub by: i64,
    /// When.
    pub at: Timestamp,
}

/// The heartbeat file of the trading loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// How long ago the file was last written (by its modification time).
    pub age: Duration,
    /// Its content: the loop's time in milliseconds and RFC 3339 (for a replay, the replayed
    /// time).
    pub content: String,
}

/// The store-backed [`Cockpit`].
#[derive(Debug, Clone)]
pub struct StoreCockpit {
    store: Arc<Store>,
    heartbeat: Option<PathBuf>,
}

impl StoreCockpit {
    /// A cockpit over `store`, reading the heartbeat file at `heartbeat` if given.
    #[must_use]
    pub fn new(store: Arc<Store>, heartbeat: Option<PathBuf>) -> Self {
        Self { store, heartbeat }
    }

    fn cohort_view(&self, record: CohortRecord) -> Result<CohortView, CockpitError> {
        let document = self
            .store
            .load_state(&format!("hybrid_state/{}", record.name))?;
        let open_orders = self.store.open_orders(Some(record.id))?;
        let closed = self
            .store
            .closed_trade_pairs(Some(record.id), CLOSED_PAIRS_LIMIT)?;
        let mut view = CohortView {
            state_saved_at: document.as_ref().map(|d| d.updated_at),
            last_candle_close: None,
            symbols: Vec::new(),
            open_orders,
            stops: Vec::new(),
            closed,
            record,
        };
        if let Some(document) = document {
            self.read_state_document(&mut view, &document.body)?;
        }
        Ok(view)
    }

    fn read_state_document(&self, view: &mut CohortView, body: &Value) -> Result<(), CockpitError> {
        view.last_candle_close = body["progress"]["last_candle_close"]
            .as_i64()
            .map(Timestamp::from_millis);
        if let Some(symbols) = body["symbols"].as_object() {
            for (name, saved) in symbols {
                let symbol = Symbol::new(name).map_err(|e| {
                    CockpitError::State(format!(
                        "state of cohort {}: symbol {name:?}: {e}",
                        view.record.name
                    ))
                })?;
                let open_pairs = self.store.open_trade_pairs(Some(view.record.id), &symbol)?;
                view.symbols.push(SymbolView {
                    mode: text(&saved["mode"]).unwrap_or_else(|| "?".to_owned()),
                    allocation: decimal(&saved["allocation"]),
                    hold_entry: decimal(&saved["hold_entry"]),
                    switches: switches(&saved["manager"]["history"]),
                    open_pairs,
                    symbol,
                });
            }
        }
        if let Some(stops) = body["stops"].as_array() {
            view.stops = stops.iter().map(stop_view).collect();
        }
        Ok(())
    }

    fn pause_state(&self) -> Result<Option<PauseState>, CockpitError> {
        let Some(document) = self.store.load_state(PAUSE_DOCUMENT)? else {
            return Ok(None);
        };
        let body = &document.body;
        Ok(Some(PauseState {
            paused: body["paused"].as_bool().unwrap_or(false),
            by: body["by"].as_i64().unwrap_or_default(),
            at: Timestamp::from_millis(body["at"].as_i64().unwrap_or_default()),
        }))
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        let path = self.heartbeat.as_ref()?;
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
        #[expect(
            clippy::disallowed_methods,
            reason = "a file's age is measured against the wall clock its mtime uses"
        )]
        let age = SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default();
        let content = std::fs::read_to_string(path).unwrap_or_default();
        Some(Heartbeat {
            age,
            content: content.trim().to_owned(),
        })
    }
}

impl Cockpit for StoreCockpit {
    fn snapshot(&self, now: Timestamp) -> Result<Snapshot, CockpitError> {
        let cohorts = self
            .store
            .list_cohorts()?
            .into_iter()
            .map(|record| self.cohort_view(record))
            .collect::<Result<_, _>>()?;
        Ok(Snapshot {
            now,
            cohorts,
            events: self.store.recent_events(EVENTS_LIMIT)?,
            outbox: self.store.outbox_summary()?,
            pause: self.pause_state()?,
            heartbeat: self.heartbeat(),
        })
    }

    fn set_paused(&self, paused: bool, by: i64, at: Timestamp) -> Result<(), CockpitError> {
        let body = json!({ "paused": paused, "by": by, "at": at.as_millis() });
        self.store.save_state(PAUSE_DOCUMENT, &body, at)?;
        Ok(())
    }

    fn portfolio(&self) -> Result<PortfolioView, CockpitError> {
        let targets = load_targets(&self.store).map_err(|e| {
            CockpitError::State(format!(
                "the stored portfolio tier targets are invalid: {e}"
            ))
        })?;
        let rows = self.store.portfolio_tiers()?;
        let value = |kind: TierKind| {
            rows.iter()
                .find(|r| r.tier_name == kind.code())
                .map_or(Decimal::ZERO, |r| r.current_value_usd)
        };
        let values = TierValues {
            cash: value(TierKind::CashReserve),
            index: value(TierKind::IndexHoldings),
            trading: value(TierKind::Trading),
        };
        let written_at = rows
            .iter()
            .filter(|r| r.current_pct.is_some())
            .map(|r| r.updated_at)
            .max();
        let holdings = self
            .store
            .index_holdings()?
            .into_iter()
            .filter(|h| h.is_active)
            .collect();
        Ok(PortfolioView {
            breakdown: values.breakdown(&targets),
            written_at,
            holdings,
            last_redistribution: self.store.redistributions()?.pop(),
        })
    }

    fn validation(&self, now: Timestamp) -> ValidationView {
        let report = validate_store(&self.store, now, &Criteria::default());
        // A failed read shows in the report itself (it names the error); only a readable,
        // empty database counts as "nothing recorded".
        let anything_recorded = self
            .store
            .validation_counts(now)
            .map_or(true, |counts| counts != ValidationCounts::default());
        ValidationView {
            report,
            anything_recorded,
        }
    }

    fn history(&self, since: Timestamp) -> Result<History, CockpitError> {
        read_history(&self.store, since)
    }

    fn ranking(&self, baseline: &str) -> Result<Ranking, CockpitError> {
        hybrid_cohorts::ranking_from_store(&self.store, baseline, RANKING_SEED, RANKING_RESAMPLES)
            .map_err(|e| CockpitError::Ranking(e.to_string()))
    }

    fn fill_counts(&self) -> Result<std::collections::BTreeMap<String, u64>, CockpitError> {
        let counts = self.store.fill_counts()?;
        Ok(self
            .store
            .list_cohorts()?
            .into_iter()
            .map(|c| (c.name, counts.get(&c.id).copied().unwrap_or(0)))
            .collect())
    }

    fn recent_fills(
        &self,
        symbol: Option<&Symbol>,
        limit: u32,
    ) -> Result<Vec<FillView>, CockpitError> {
        let names: std::collections::BTreeMap<u32, String> = self
            .store
            .list_cohorts()?
            .into_iter()
            .map(|c| (c.id.get(), c.name))
            .collect();
        Ok(self
            .store
            .recent_fills(None, symbol, limit)?
            .into_iter()
            .map(|fill| FillView {
                cohort: fill
                    .client_order_id
                    .decode()
                    .and_then(|(id, _, _)| names.get(&id.get()).cloned())
                    .unwrap_or_default(),
                fill,
            })
            .collect())
    }
}

/// A JSON string or number as text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn decimal(value: &Value) -> Option<Decimal> {
    text(value).and_then(|t| t.parse().ok())
}

fn stop_view(stop: &Value) -> StopView {
    let field = |name: &str| text(&stop[name]).unwrap_or_else(|| "?".to_owned());
    StopView {
        symbol: field("symbol"),
        kind: match &stop["kind"] {
            Value::Object(map) => map.keys().next().cloned().unwrap_or_else(|| "?".to_owned()),
            other => text(other).unwrap_or_else(|| "?".to_owned()),
        },
        entry: field("entry"),
        stop_price: field("stop_price"),
        quantity: field("quantity"),
        distance_pct: field("distance_pct"),
    }
}

fn switches(history: &Value) -> Vec<String> {
    history
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| {
                    let at = e["at"].as_i64().map_or_else(
                        || "?".to_owned(),
                        |ms| Timestamp::from_millis(ms).to_string(),
                    );
                    format!(
                        "{at} {} → {}: {}",
                        text(&e["from"]).unwrap_or_default(),
                        text(&e["to"]).unwrap_or_default(),
                        reason_text(&e["reason"])
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A decision reason, whatever its serialised shape (a word, or an object naming the case).
pub(crate) fn reason_text(reason: &Value) -> String {
    match reason {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::Object(_) | Value::Array(_) => format!("{k} {v}"),
                Value::Null => k.clone(),
                _ => format!("{k} {}", text(v).unwrap_or_default()),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => text(other).unwrap_or_else(|| other.to_string()),
    }
}
