//! The query code, written once and compiled for each backend.
//!
//! Diesel types every query by its backend, and the `MultiConnection` derive covers only what
//! all backends share (no BOOLEAN, no upsert, no RETURNING on every backend). So the functions
//! in `cohorts.rs`, `orders.rs`, `pairs.rs`, `events.rs` and `state.rs` are written against a `Conn` type
//! alias and included into one module per backend below; `Store` picks the module from its
//! connection variant (`store::dispatch!`). Row types and conversions are backend-independent
//! and live in `rows.rs`.
//!
//! `cargo fmt` does not follow `include!`: format those files with
//! `rustfmt --edition 2021 crates/store/src/sql/{cohorts,orders,pairs,events,state}.rs`.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use hybrid_core::CohortId;

use crate::error::StoreError;

/// Generates the query module for one backend connection type.
///
/// `$begin` is the connection method that opens a write transaction: SQLite's
/// `immediate_transaction` takes the write lock at BEGIN (a deferred transaction that reads and
/// then writes can fail with SQLITE_BUSY when another process wrote in between), PostgreSQL's
/// `transaction` relies on row locks taken by the first UPDATE.
macro_rules! backend_queries {
    ($module:ident, $conn:ty, $begin:ident) => {
        /// The queries compiled for this backend.
        pub(crate) mod $module {
            use diesel::prelude::*;
            use diesel::upsert::excluded;
            use hybrid_core::{
                ClientOrderId, CohortId, Fill, Order, OrderStatus, Quantity, Symbol, Timestamp,
            };
            use rust_decimal::Decimal;

            use super::{missing_cohort, prorate, unique_violation};
            use crate::{
                codec::{cohort_key, col, money_text},
                cohorts::{CohortRecord, NewCohort},
                error::StoreError,
                events::{Event, NewEvent},
                orders::StatusChange,
                pairs::{FifoClose, PairEntry, PairExit, PairStatus, TradePair},
                rows::{
                    CohortRow, EventRow, FillRow, HistoryRow, NewCohortRow, NewEventRow,
                    NewHistoryRow, NewPairRow, OrderRow, PairCloseChanges, PairRow,
                },
                schema::{
                    cohorts, events, fills, order_sequences, order_status_history, orders,
                    state_documents, trade_pairs,
                },
            };

            /// The connection type of this backend.
            type Conn = $conn;
            /// This backend's diesel backend type.
            type Db = <Conn as diesel::Connection>::Backend;

            /// Runs `body` in a write transaction: committed if it returns `Ok`, rolled back
            /// otherwise.
            fn write_transaction<T>(
                conn: &mut Conn,
                body: impl FnOnce(&mut Conn) -> Result<T, StoreError>,
            ) -> Result<T, StoreError> {
                conn.$begin(body)
            }

            include!("cohorts.rs");
            include!("orders.rs");
            include!("pairs.rs");
            include!("events.rs");
            include!("state.rs");
            include!("learning.rs");
            include!("outbox.rs");
            include!("portfolio.rs");
        }
    };
}

backend_queries!(
    sqlite,
    diesel::sqlite::SqliteConnection,
    immediate_transaction
);
backend_queries!(pg, diesel::pg::PgConnection, transaction);

/// Maps a foreign-key violation (an insert naming a cohort that does not exist) to
/// [`StoreError::NotFound`]; any other error stays a query error.
fn missing_cohort(cohort: Option<CohortId>) -> impl FnOnce(DieselError) -> StoreError {
    move |error| match (&error, cohort) {
        (DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _), Some(id)) => {
            StoreError::NotFound {
                what: "cohort",
                key: id.to_string(),
            }
        }
        _ => StoreError::Query(error),
    }
}

/// Whether the error is a UNIQUE (or primary key) violation.
fn unique_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// `amount × part / whole` without panicking on overflow (multiplying first keeps the result
/// exact whenever the division terminates).
fn prorate(
    amount: rust_decimal::Decimal,
    part: rust_decimal::Decimal,
    whole: rust_decimal::Decimal,
) -> Result<rust_decimal::Decimal, StoreError> {
    amount
        .checked_mul(part)
        .and_then(|product| product.checked_div(whole))
        .ok_or_else(|| {
            StoreError::Refused(hybrid_core::CoreError::InvalidValue {
                what: "prorated amount",
                value: format!("{amount} × {part} / {whole}"),
                reason: "overflows the decimal range",
            })
        })
}
