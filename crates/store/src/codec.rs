//! Conversions between domain values and their stored form.
//!
//! Money is written as the canonical decimal text of a normalised `Decimal` (`0.00000001`,
//! never `1E-8` or `0.000000010`), so it round-trips exactly on both backends. Reading is
//! strict: a value that does not parse becomes [`StoreError::Corrupt`] naming the table,
//! column and value, never a panic or a silent default.

use std::{fmt::Display, str::FromStr};

use hybrid_core::{CohortId, Notional, Price, Quantity, Timestamp};
use rust_decimal::Decimal;

use crate::error::StoreError;

/// The canonical stored text of an amount.
pub(crate) fn money_text(value: Decimal) -> String {
    value.normalize().to_string()
}

/// The stored form of a cohort id (BIGINT).
pub(crate) fn cohort_key(cohort: CohortId) -> i64 {
    i64::from(cohort.get())
}

/// A column being read, so parse failures can name it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    /// The table, e.g. `"orders"`.
    pub(crate) table: &'static str,
    /// The column, e.g. `"price"`.
    pub(crate) column: &'static str,
}

/// Shorthand for a [`Column`].
pub(crate) const fn col(table: &'static str, column: &'static str) -> Column {
    Column { table, column }
}

impl Column {
    /// The error for `value` that failed to parse because of `reason`.
    pub(crate) fn corrupt(self, value: impl Display, reason: impl Display) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            column: self.column,
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Any value with a `FromStr` (symbols, assets, statuses, client order ids).
    pub(crate) fn parse<T>(self, text: &str) -> Result<T, StoreError>
    where
        T: FromStr,
        T::Err: Display,
    {
        text.parse().map_err(|e| self.corrupt(text, e))
    }

    /// An optional value stored as nullable text.
    pub(crate) fn parse_opt<T>(self, text: Option<&str>) -> Result<Option<T>, StoreError>
    where
        T: FromStr,
        T::Err: Display,
    {
        text.map(|t| self.parse(t)).transpose()
    }

    /// A decimal amount stored as text.
    pub(crate) fn decimal(self, text: &str) -> Result<Decimal, StoreError> {
        Decimal::from_str_exact(text).map_err(|e| self.corrupt(text, e))
    }

    /// A price (> 0).
    pub(crate) fn price(self, text: &str) -> Result<Price, StoreError> {
        Price::new(self.decimal(text)?).map_err(|e| self.corrupt(text, e))
    }

    /// A quantity (≥ 0).
    pub(crate) fn quantity(self, text: &str) -> Result<Quantity, StoreError> {
        Quantity::new(self.decimal(text)?).map_err(|e| self.corrupt(text, e))
    }

    /// A quote amount (any sign).
    pub(crate) fn notional(self, text: &str) -> Result<Notional, StoreError> {
        self.decimal(text).map(Notional::new)
    }

    /// A cohort id (BIGINT that must fit a `u32`).
    pub(crate) fn cohort(self, key: i64) -> Result<CohortId, StoreError> {
        u32::try_from(key)
            .map(CohortId::new)
            .map_err(|_| self.corrupt(key, "not a cohort id (0 to 4294967295)"))
    }

    /// A sequence number (BIGINT that must not be negative).
    pub(crate) fn sequence(self, value: i64) -> Result<u64, StoreError> {
        u64::try_from(value).map_err(|_| self.corrupt(value, "negative sequence number"))
    }

    /// A JSON document stored as text.
    pub(crate) fn json(self, text: &str) -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(text).map_err(|e| self.corrupt(text, e))
    }

    /// A value that must be present for a row in this state.
    pub(crate) fn required<T>(self, value: Option<T>, state: &str) -> Result<T, StoreError> {
        value.ok_or_else(|| self.corrupt("NULL", format!("required when {state}")))
    }
}

/// A time stored as BIGINT UTC milliseconds (every value is a valid [`Timestamp`]).
pub(crate) fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn money_text_is_canonical_and_round_trips() {
        for (value, text) in [
            (dec!(0.00000001), "0.00000001"),
            (dec!(123456789.123456789), "123456789.123456789"),
            (dec!(1.50), "1.5"),
            (dec!(100), "100"),
            (dec!(-0.25), "-0.25"),
        ] {
            assert_eq!(money_text(value), text);
            assert_eq!(col("t", "c").decimal(text).unwrap(), value);
        }
    }

    #[test]
    fn unparsable_values_name_table_column_and_value() {
        let err = col("orders", "price").price("12,5").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("orders.price") && text.contains("\"12,5\""),
            "{text}"
        );
        assert!(col("orders", "price").price("0").is_err());
        assert!(col("orders", "quantity").quantity("-1").is_err());
        assert!(col("orders", "cohort_id").cohort(-1).is_err());
    }
}
