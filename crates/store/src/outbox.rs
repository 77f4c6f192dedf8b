//! The notification outbox: notifications are written to the database first and sent later by
//! a separate sender (the `telegram` process), so a Telegram outage never blocks or slows
//! trading and nothing queued is lost when either process restarts.
//!
//! Delivery contract:
//! - **In order.** [`Store::due_notifications`] returns pending rows by id and stops at the
//!   first one still waiting for its retry time, so a later notification never overtakes an
//!   earlier one that is being retried.
//! - **None twice.** Finishing a row ([`Store::mark_notification_sent`] and friends) only
//!   changes a *pending* row and says whether it did; [`Store::record_parts_sent`] remembers how
//!   many parts of a split message went out, so a retry resumes after them. One sender process
//!   per database is assumed (Telegram itself allows only one long-polling bot per token).
//! - **Nothing blocks forever.** A row Telegram refuses for good is abandoned with the reason
//!   ([`Store::abandon_notification`]) and stays visible for the operator.
//!
//! Differs from the old system: it sent synchronously from the trading loop and dropped the
//! message when the HTTP call failed.

use std::{fmt, str::FromStr};

use diesel::prelude::*;
use hybrid_core::{CohortId, Timestamp};

use crate::{
    codec::{cohort_key, col, timestamp},
    error::StoreError,
    schema_outbox::outbox,
    store::{dispatch, Store},
};

/// How much a notification matters; decides whether learning mode suppresses it and whether
/// the phone makes a sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Informational (a fill, grid orders placed, a rebalance): sent silently, and suppressed
    /// in learning mode.
    Routine,
    /// Worth reading today (daily summary, mode switch, reconciliation findings): always sent,
    /// even in learning mode.
    Important,
    /// Needs action now (a stop-loss sell that failed, an emergency stop, an error, a stale
    /// heartbeat): always sent, with an alarm prefix.
    Critical,
}

impl Severity {
    /// The stored text: `"routine"`, `"important"` or `"critical"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Routine => "routine",
            Self::Important => "important",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "routine" => Ok(Self::Routine),
            "important" => Ok(Self::Important),
            "critical" => Ok(Self::Critical),
            other => Err(format!(
                "unknown severity {other:?}; expected routine, important or critical"
            )),
        }
    }
}

/// Where a notification is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationStatus {
    /// Waiting to be sent (or to be retried).
    Pending,
    /// Delivered (every part).
    Sent,
    /// Deliberately not sent: a routine message in learning mode.
    Suppressed,
    /// Given up: Telegram refused it for good (e.g. the chat does not exist).
    Abandoned,
}

impl NotificationStatus {
    /// The stored text.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Suppressed => "suppressed",
            Self::Abandoned => "abandoned",
        }
    }
}

impl FromStr for NotificationStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "pending" => Ok(Self::Pending),
            "sent" => Ok(Self::Sent),
            "suppressed" => Ok(Self::Suppressed),
            "abandoned" => Ok(Self::Abandoned),
            other => Err(format!("unknown notification status {other:?}")),
        }
    }
}

/// A notification to queue, for [`Store::enqueue_notification`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// When it was raised; also the earliest time it may be sent.
    pub at: Timestamp,
    /// The cohort it is about, if any.
    pub cohort: Option<CohortId>,
    /// A short machine-readable kind, e.g. `"fill"`, `"mode_switch"`, `"stop_failed"`.
    pub kind: String,
    /// How much it matters.
    pub severity: Severity,
    /// The message as plain text; the sender escapes it for Telegram's parse mode and splits
    /// it when it is longer than one Telegram message.
    pub text: String,
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Row id; increases with every enqueue and is the delivery order.
    pub id: i64,
    /// When it was raised.
    pub created_at: Timestamp,
    /// The cohort it is about, if any.
    pub cohort: Option<CohortId>,
    /// The machine-readable kind.
    pub kind: String,
    /// How much it matters.
    pub severity: Severity,
    /// The plain text.
    pub text: String,
    /// Where it is in its life.
    pub status: NotificationStatus,
    /// Failed send attempts so far.
    pub attempts: u32,
    /// How many parts of the (split) message were already delivered.
    pub parts_sent: u32,
    /// The earliest time of the next attempt.
    pub next_attempt_at: Timestamp,
    /// The last error, if an attempt failed.
    pub last_error: Option<String>,
    /// When it was sent, suppressed or abandoned.
    pub finished_at: Option<Timestamp>,
}

/// The outbox at a glance, for health reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxSummary {
    /// Notifications waiting to be sent.
    pub pending: u64,
    /// When the oldest pending notification was raised, if any is pending.
    pub oldest_pending_at: Option<Timestamp>,
    /// When the last notification was delivered, if ever.
    pub last_sent_at: Option<Timestamp>,
    /// Notifications given up on.
    pub abandoned: u64,
}

impl Store {
    /// Queues a notification and returns its id (its place in the delivery order).
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn enqueue_notification(&self, notification: &NewNotification) -> Result<i64, StoreError> {
        let row = NewOutboxRow {
            created_at: notification.at.as_millis(),
            cohort_id: notification.cohort.map(cohort_key),
            kind: &notification.kind,
            severity: notification.severity.as_str(),
            text: &notification.text,
            next_attempt_at: notification.at.as_millis(),
        };
        dispatch!(self, enqueue_notification(&row))
    }

    /// Up to `limit` pending notifications in delivery order, stopping before the first one
    /// whose retry time is after `now` (so nothing overtakes a notification being retried).
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn due_notifications(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = dispatch!(self, pending_notifications(limit))?;
        rows.into_iter()
            .take_while(|row| row.next_attempt_at <= now.as_millis())
            .map(OutboxRow::into_notification)
            .collect()
    }

    /// The notification with this id, if any.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn notification(&self, id: i64) -> Result<Option<Notification>, StoreError> {
        dispatch!(self, notification(id))?
            .map(OutboxRow::into_notification)
            .transpose()
    }

    /// Records that the first `parts_sent` parts of a split message were delivered, so a retry
    /// after a failure in the middle resumes after them.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn record_parts_sent(&self, id: i64, parts_sent: u32) -> Result<(), StoreError> {
        dispatch!(self, record_parts_sent(id, i64::from(parts_sent)))
    }

    /// Marks a pending notification as delivered at `at`. Returns `false` (and changes
    /// nothing) when it was not pending, e.g. already sent.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn mark_notification_sent(&self, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        dispatch!(
            self,
            finish_notification(id, NotificationStatus::Sent.as_str(), None, at)
        )
    }

    /// Marks a pending notification as deliberately not sent (a routine message in learning
    /// mode). Returns `false` when it was not pending.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn mark_notification_suppressed(&self, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        dispatch!(
            self,
            finish_notification(id, NotificationStatus::Suppressed.as_str(), None, at)
        )
    }

    /// Gives up on a pending notification that Telegram refuses for good, keeping `error` for
    /// the operator. Returns `false` when it was not pending.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn abandon_notification(
        &self,
        id: i64,
        error: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        dispatch!(
            self,
            finish_notification(id, NotificationStatus::Abandoned.as_str(), Some(error), at)
        )
    }

    /// Records a failed attempt: one more attempt, the error, and the earliest time of the next
    /// attempt (e.g. from Telegram's `retry_after`). The notification stays pending.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn mark_notification_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(self, fail_notification(id, error, retry_at.as_millis()))
    }

    /// The outbox at a glance: backlog, oldest pending, last delivery, abandoned count.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn outbox_summary(&self) -> Result<OutboxSummary, StoreError> {
        let (pending, oldest, last_sent, abandoned) = dispatch!(self, outbox_summary())?;
        Ok(OutboxSummary {
            pending: u64::try_from(pending).unwrap_or(0),
            oldest_pending_at: oldest.map(timestamp),
            last_sent_at: last_sent.map(timestamp),
            abandoned: u64::try_from(abandoned).unwrap_or(0),
        })
    }

    /// Deletes sent and suppressed notifications finished before `before` (for retention) and
    /// returns how many; pending and abandoned ones are kept.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn delete_finished_notifications(&self, before: Timestamp) -> Result<u64, StoreError> {
        let deleted = dispatch!(self, delete_finished_notifications(before.as_millis()))?;
        Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
    }
}

/// An `outbox` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub(crate) struct OutboxRow {
    id: i64,
    created_at: i64,
    cohort_id: Option<i64>,
    kind: String,
    severity: String,
    text: String,
    status: String,
    attempts: i64,
    parts_sent: i64,
    pub(crate) next_attempt_at: i64,
    last_error: Option<String>,
    finished_at: Option<i64>,
}

impl OutboxRow {
    fn into_notification(self) -> Result<Notification, StoreError> {
        let c = |column| col("outbox", column);
        let count =
            |column, value: i64| u32::try_from(value).map_err(|e| c(column).corrupt(value, e));
        Ok(Notification {
            id: self.id,
            created_at: timestamp(self.created_at),
            cohort: self
                .cohort_id
                .map(|k| c("cohort_id").cohort(k))
                .transpose()?,
            kind: self.kind,
            severity: c("severity").parse(&self.severity)?,
            text: self.text,
            status: c("status").parse(&self.status)?,
            attempts: count("attempts", self.attempts)?,
            parts_sent: count("parts_sent", self.parts_sent)?,
            next_attempt_at: timestamp(self.next_attempt_at),
            last_error: self.last_error,
            finished_at: self.finished_at.map(timestamp),
        })
    }
}

/// A new `outbox` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
pub(crate) struct NewOutboxRow<'a> {
    created_at: i64,
    cohort_id: Option<i64>,
    kind: &'a str,
    severity: &'a str,
    text: &'a str,
    next_attempt_at: i64,
}
