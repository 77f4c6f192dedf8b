//! Points in time as UTC milliseconds since the Unix epoch.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A point in time: UTC milliseconds since the Unix epoch.
///
/// Milliseconds because Binance speaks them (candle open times, `transactTime`) and because the
/// store keeps times as BIGINT milliseconds on both database backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// One second in milliseconds.
    pub const SECOND_MS: i64 = 1_000;
    /// One minute in milliseconds.
    pub const MINUTE_MS: i64 = 60 * Self::SECOND_MS;
    /// One hour in milliseconds.
    pub const HOUR_MS: i64 = 60 * Self::MINUTE_MS;
    /// One day in milliseconds.
    pub const DAY_MS: i64 = 24 * Self::HOUR_MS;

    /// The time `ms` milliseconds after the Unix epoch (UTC).
    #[must_use]
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the Unix epoch (UTC).
    #[must_use]
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// This time moved by `ms` milliseconds (negative moves back), saturating at the ends.
    #[must_use]
    pub const fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self` (negative if `earlier` is later).
    #[must_use]
    pub const fn millis_since(self, earlier: Self) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The start of this time's UTC day (midnight), used for daily resets.
    #[must_use]
    pub const fn start_of_utc_day(self) -> Self {
        Self(self.0 - self.0.rem_euclid(Self::DAY_MS))
    }

    /// This time as a chrono UTC date-time, or `None` outside chrono's range.
    #[must_use]
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.0)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value.timestamp_millis())
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds, e.g. `2024-01-01T00:00:00.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_datetime() {
            Some(dt) => write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S%.3fZ")),
            None => write!(f, "{}ms", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_of_day_truncates_to_midnight_utc() {
        // 2024-01-02T13:45:00Z
        let t = Timestamp::from_millis(1_704_203_100_000);
        assert_eq!(t.start_of_utc_day().as_millis(), 1_704_153_600_000);
        assert_eq!(t.start_of_utc_day().to_string(), "2024-01-02T00:00:00.000Z");
    }

    #[test]
    fn start_of_day_before_epoch_goes_down() {
        let t = Timestamp::from_millis(-1);
        assert_eq!(t.start_of_utc_day().as_millis(), -Timestamp::DAY_MS);
    }

    #[test]
    fn displays_rfc3339() {
        assert_eq!(
            Timestamp::from_millis(1_502_942_400_000).to_string(),
            "2017-08-17T04:00:00.000Z"
        );
    }
}
