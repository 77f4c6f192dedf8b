//! Exact money: prices, quantities and quote amounts over `rust_decimal::Decimal`.
//!
//! | operation               | result      |
//! |-------------------------|-------------|
//! | `Price × Quantity`      | `Notional`  |
//! | `Notional ÷ Price`      | `Decimal` (a raw quantity, to be truncated by the filters) |
//! | `Quantity ± Quantity`   | `Quantity` (checked: never negative) |
//! | `Notional ± Notional`   | `Notional` (may be negative: P&L) |
//!
//! Constructors validate their range and return `Result`; nothing here panics on input.

use std::{
    fmt,
    ops::{Add, Mul, Neg, Sub},
};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// A price in units of the quote asset per one unit of the base asset; always > 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Price(Decimal);

/// An amount of the base asset; always ≥ 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Quantity(Decimal);

/// An amount of the quote asset (order value, balance, fee, P&L); may be negative (a loss).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Notional(Decimal);

impl Price {
    /// A price, which must be strictly positive.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] for zero or negative values.
    pub fn new(value: Decimal) -> Result<Self, CoreError> {
        if value > Decimal::ZERO {
            Ok(Self(value.normalize()))
        } else {
            Err(invalid("price", value, "must be greater than zero"))
        }
    }

    /// The price as a decimal.
    #[must_use]
    pub const fn value(self) -> Decimal {
        self.0
    }
}

impl Quantity {
    /// No quantity at all.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// A quantity, which must be zero or positive.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] for negative values.
    pub fn new(value: Decimal) -> Result<Self, CoreError> {
        if value >= Decimal::ZERO {
            Ok(Self(value.normalize()))
        } else {
            Err(invalid("quantity", value, "must not be negative"))
        }
    }

    /// The quantity as a decimal.
    #[must_use]
    pub const fn value(self) -> Decimal {
        self.0
    }

    /// Whether nothing is left.
    #[must_use]
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// `self - other`, or `None` if that would be negative.
    #[must_use]
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        let rest = self.0 - other.0;
        (rest >= Decimal::ZERO).then(|| Self(rest.normalize()))
    }

    /// `self - other`, floored at zero.
    #[must_use]
    pub fn saturating_sub(self, other: Self) -> Self {
        self.checked_sub(other).unwrap_or(Self::ZERO)
    }
}

impl Notional {
    /// Zero quote units.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// A quote amount; any sign is allowed because P&L can be negative.
    #[must_use]
    pub fn new(value: Decimal) -> Self {
        Self(value.normalize())
    }

    /// The amount as a decimal.
    #[must_use]
    pub const fn value(self) -> Decimal {
        self.0
    }

    /// How many whole-or-fractional base units this amount buys at `price` (not yet rounded to
    /// the lot step: pass the result through [`crate::SymbolFilters`]).
    #[must_use]
    pub fn quantity_at(self, price: Price) -> Decimal {
        self.0 / price.0
    }
}

fn invalid(what: &'static str, value: Decimal, reason: &'static str) -> CoreError {
    CoreError::InvalidValue {
        what,
        value: value.to_string(),
        reason,
    }
}

impl Mul<Quantity> for Price {
    type Output = Notional;
    fn mul(self, rhs: Quantity) -> Notional {
        Notional(self.0 * rhs.0)
    }
}

impl Mul<Price> for Quantity {
    type Output = Notional;
    fn mul(self, rhs: Price) -> Notional {
        Notional(self.0 * rhs.0)
    }
}

impl Add for Quantity {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl Add for Notional {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl Sub for Notional {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0 - rhs.0)
    }
}

impl Neg for Notional {
    type Output = Self;
    fn neg(self) -> Self {
        Self(-self.0)
    }
}

impl std::iter::Sum for Notional {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

impl std::iter::Sum for Quantity {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

impl TryFrom<Decimal> for Price {
    type Error = CoreError;
    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<Decimal> for Quantity {
    type Error = CoreError;
    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Price> for Decimal {
    fn from(value: Price) -> Self {
        value.0
    }
}

impl From<Quantity> for Decimal {
    fn from(value: Quantity) -> Self {
        value.0
    }
}

/// Plain notation, never an exponent, trailing zeros removed (Binance refuses exponents).
macro_rules! display_plain {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.normalize(), f)
            }
        }
    )*};
}
display_plain!(Price, Quantity, Notional);

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn price_must_be_positive() {
        assert!(Price::new(dec!(0)).is_err());
        assert!(Price::new(dec!(-1)).is_err());
        assert_eq!(
            Price::new(dec!(0.00000001)).unwrap().to_string(),
            "0.00000001"
        );
    }

    #[test]
    fn quantity_never_negative() {
        let a = Quantity::new(dec!(1.5)).unwrap();
        let b = Quantity::new(dec!(2)).unwrap();
        assert!(Quantity::new(dec!(-0.1)).is_err());
        assert_eq!(a.checked_sub(b), None);
        assert_eq!(b.checked_sub(a).unwrap().value(), dec!(0.5));
        assert_eq!(a.saturating_sub(b), Quantity::ZERO);
    }

    #[test]
    fn price_times_quantity_is_exact() {
        let p = Price::new(dec!(123456789.123456789)).unwrap();
        let q = Quantity::new(dec!(0.00000001)).unwrap();
        assert_eq!((p * q).value(), dec!(1.23456789123456789));
    }

    #[test]
    fn display_is_plain_and_normalised() {
        assert_eq!(Price::new(dec!(42000.1000)).unwrap().to_string(), "42000.1");
        assert_eq!(Notional::new(dec!(-1.50)).to_string(), "-1.5");
        assert_eq!(Quantity::new(dec!(1e-8)).unwrap().to_string(), "0.00000001");
    }

    #[test]
    fn serde_goes_through_validation() {
        let p: Price = serde_json::from_str("\"1.25\"").unwrap();
        assert_eq!(p.value(), dec!(1.25));
        assert!(serde_json::from_str::<Price>("\"0\"").is_err());
        assert!(serde_json::from_str::<Quantity>("\"-3\"").is_err());
    }
}
