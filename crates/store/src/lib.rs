//! Persistence for Hybrid: the database is the source of truth for orders, fills, realised
//! P&L and the audit log.
//!
//! [`Store`] opens SQLite (bundled; the default `sqlite://data/hybrid.db`) or PostgreSQL (for
//! several processes sharing one database), chosen by the URL, and carries embedded migrations
//! for both. Repository methods take and return `hybrid-core` types; diesel rows stay private.
//! Money is stored as canonical decimal text and times as UTC milliseconds, so values round-trip
//! exactly on both backends. Orders are recorded before they are sent and every status change
//! goes through `OrderStatus::transition`, so a crash at any instant can be reconciled.

mod codec;
mod cohorts;
mod error;
mod events;
pub mod failpoint;
mod history;
mod instance;
mod learning;
mod orders;
mod outbox;
mod pairs;
mod portfolio;
mod raw;
mod rows;
mod schema;
mod schema_learning;
mod schema_outbox;
mod schema_portfolio;
mod sql;
mod state;
mod store;
mod tasks;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_learning;
#[cfg(test)]
mod tests_outbox;
#[cfg(test)]
mod tests_portfolio;

pub use crate::{
    cohorts::{CohortRecord, NewCohort},
    error::StoreError,
    events::{Event, NewEvent},
    failpoint::failpoint,
    history::{EquityRecord, ModeRecord},
    instance::InstanceLock,
    learning::{
        ConversationRecord, DecisionKind, DecisionRecord, DiscoveryRecord, EconomicEvent,
        IndicatorSnapshot, LearningRow, MarketSignal, NewConversation, NewDecision, NewDiscovery,
        OutcomeWindow, PlaybookVersion, PortfolioRecommendation, SignalRecord, SignalValues,
        SignalWeightsRecord,
    },
    orders::StatusChange,
    outbox::{NewNotification, Notification, NotificationStatus, OutboxSummary, Severity},
    pairs::{ExitReason, FifoClose, PairClose, PairEntry, PairExit, PairStatus, TradePair},
    portfolio::{
        IndexHoldingRecord, PortfolioSnapshot, RedistributionRecord, RegimeRecord, TierRecord,
        TierValueUpdate, ValidationCounts,
    },
    state::StateDocument,
    store::{Backend, Store},
    tasks::{task_lock_key, RetentionTable, TaskRun, RETENTION_TABLES},
};
