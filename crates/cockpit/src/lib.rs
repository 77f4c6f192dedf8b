//! The one read model of Hybrid's cockpits. Telegram and the web dashboard show the same
//! figures because they read them here, from the same store, through one interface:
//!
//! - [`Cockpit`]: what a cockpit may read (a [`Snapshot`] of cohorts, symbols, open orders,
//!   stops, trades, events, outbox, pause switch and heartbeat; the [`History`] series; the
//!   cohort [`Ranking`](hybrid_cohorts::Ranking); the validator; recent fills) and the one thing
//!   it may change (the pause switch). [`StoreCockpit`] implements it over the database.
//! - [`figures`]: P&L, win rate and today's figures derived from a snapshot.
//! - [`charts`]: the PNG charts drawn from the history (equity with buy-and-hold, cohorts,
//!   tiers, a coin's price with its orders).
//!
//! Architecture Invariant: nothing here talks to the engine or the exchange; the cockpits read
//! the database and write only the pause document.

pub mod charts;
mod error;
pub mod figures;
mod history;
mod snapshot;

pub use crate::{
    error::CockpitError,
    history::{total_series, CohortHistory, Decision, FillView, History, Point, TierPoint},
    snapshot::{
        Cockpit, CohortView, Heartbeat, PauseState, PortfolioView, Snapshot, StopView,
        StoreCockpit, SymbolView, ValidationView, PAUSE_DOCUMENT,
    },
};
