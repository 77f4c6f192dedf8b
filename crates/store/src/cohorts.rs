//! Cohorts: strategy variants with their own capital, the owners of orders, fills and pairs.

use hybrid_core::{CohortId, Timestamp};
use rust_decimal::Decimal;

use crate::{
    error::StoreError,
    store::{dispatch, Store},
};

/// A cohort as given by configuration, for [`Store::upsert_cohort`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewCohort {
    /// Unique name, e.g. `"conservative"`; the key an upsert matches on.
    pub name: String,
    /// Free text shown in reports.
    pub description: String,
    /// The cohort's strategy settings as JSON (stored as text).
    pub config: serde_json::Value,
    /// Capital the cohort started with, in quote units (USDT).
    pub starting_capital: Decimal,
    /// Whether the cohort trades.
    pub is_active: bool,
}

/// A stored cohort.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortRecord {
    /// The key every order, fill and pair of this cohort carries.
    pub id: CohortId,
    /// Unique name.
    pub name: String,
    /// Free text shown in reports.
    pub description: String,
    /// Strategy settings.
    pub config: serde_json::Value,
    /// Capital the cohort started with, in quote units.
    pub starting_capital: Decimal,
    /// Capital now, in quote units (starting capital plus realised P&L, kept by the engine).
    pub current_capital: Decimal,
    /// Whether the cohort trades.
    pub is_active: bool,
    /// When the cohort was first stored.
    pub created_at: Timestamp,
    /// When anything last changed.
    pub updated_at: Timestamp,
}

impl Store {
    /// Inserts the cohort, or updates the one with the same name, and returns the stored row.
    ///
    /// A new cohort's current capital is its starting capital. An update (configuration
    /// re-applied at start-up) changes description, config, starting capital and the active
    /// flag but keeps the current capital and creation time: those are trading history, not
    /// configuration.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] if the returned row
    /// does not parse.
    pub fn upsert_cohort(
        &self,
        cohort: &NewCohort,
        at: Timestamp,
    ) -> Result<CohortRecord, StoreError> {
        dispatch!(self, upsert_cohort(cohort, at))
    }

    /// The cohort with this id, if any.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn get_cohort(&self, id: CohortId) -> Result<Option<CohortRecord>, StoreError> {
        dispatch!(self, get_cohort(id))
    }

    /// The cohort with this name, if any.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn get_cohort_by_name(&self, name: &str) -> Result<Option<CohortRecord>, StoreError> {
        dispatch!(self, get_cohort_by_name(name))
    }

    /// Every cohort, by id.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn list_cohorts(&self) -> Result<Vec<CohortRecord>, StoreError> {
        dispatch!(self, list_cohorts())
    }

    /// Sets the cohort's current capital (quote units), e.g. after realised P&L.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown cohort; [`StoreError::Query`] on a database
    /// failure.
    pub fn set_cohort_capital(
        &self,
        id: CohortId,
        current_capital: Decimal,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(self, set_cohort_capital(id, current_capital, at))
    }
}
