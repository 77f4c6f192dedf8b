//! The crate's error type, split by cause so callers can react: retry a connection, fix a URL,
//! treat a conflict as "already done", or stop on corrupt data.

use hybrid_core::CoreError;

use crate::store::Backend;

/// Everything that can go wrong in the store. Messages are lowercase and name the value at fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A database URL the store cannot use, e.g. `mysql://…` or `sqlite://` without a path.
    /// Only the scheme is echoed, never the rest of the URL, which may hold a password.
    #[error("invalid database url (scheme {scheme:?}): {reason}")]
    InvalidUrl {
        /// The URL's scheme as given, e.g. `"mysql"`.
        scheme: String,
        /// What is allowed instead.
        reason: String,
    },
    /// The database could not be opened or configured, e.g. the server is down or the SQLite
    /// file's directory cannot be created.
    #[error("cannot connect to the {backend} database: {reason}")]
    Connection {
        /// Which backend was being opened.
        backend: Backend,
        /// What failed.
        reason: String,
    },
    /// Applying or listing migrations failed, e.g. a migration's SQL is invalid.
    ///
    /// The harness's error is part of the message and deliberately not a `source()`: a
    /// chain printer (anyhow's `{:#}`) would print it twice otherwise.
    #[error("{backend} migration failed: {reason}")]
    Migration {
        /// Which backend's migrations were running.
        backend: Backend,
        /// The migration harness's error, as text.
        reason: String,
    },
    /// A query failed for a reason not covered by another variant, e.g. a missing table
    /// because migrations were not run. (Not a `source()`, for the reason above.)
    #[error("database query failed: {0}")]
    Query(diesel::result::Error),
    /// Another process already runs on this database: `holder` names it (pid, host, since
    /// when). Nothing was written.
    #[error("{what} is already in use by another main_hybrid run ({holder}); stop that process first, or point this one at another database")]
    InstanceLocked {
        /// What is locked, e.g. `the database data/hybrid.db`.
        what: String,
        /// Who holds it, as the holder recorded it.
        holder: String,
    },
    /// `HYBRID_FAILPOINT` is set to something the crash injection does not understand.
    #[error("invalid HYBRID_FAILPOINT: {reason}")]
    Failpoint {
        /// What is wrong with it.
        reason: String,
    },
    /// The change contradicts what is stored, e.g. a client order id that is already recorded.
    #[error("conflict on {what} {key}: {reason}")]
    Conflict {
        /// The kind of record, e.g. `"order"`.
        what: &'static str,
        /// Its key, e.g. the client order id.
        key: String,
        /// What clashes.
        reason: String,
    },
    /// A record the operation needs does not exist, e.g. a fill for an unknown order.
    #[error("{what} {key} not found")]
    NotFound {
        /// The kind of record, e.g. `"order"`.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// A domain rule refused the change; nothing was written. E.g. an illegal order status
    /// transition (FILLED → NEW) or a fill that would overfill its order.
    #[error("refused: {0}")]
    Refused(CoreError),
    /// A stored value that no longer parses, e.g. `"abc"` in `orders.price`. Names the table,
    /// column and value so the row can be found and repaired.
    #[error("corrupt value {value:?} in {table}.{column}: {reason}")]
    Corrupt {
        /// The table, e.g. `"orders"`.
        table: &'static str,
        /// The column, e.g. `"price"`.
        column: &'static str,
        /// The stored text (or number, as text).
        value: String,
        /// Why it does not parse.
        reason: String,
    },
}

impl From<diesel::result::Error> for StoreError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Query(error)
    }
}

impl From<CoreError> for StoreError {
    fn from(error: CoreError) -> Self {
        Self::Refused(error)
    }
}
