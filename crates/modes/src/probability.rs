//! A probability in `[0, 1]`, exact.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ModesError;

/// How sure the regime detector is, as a fraction in `[0, 1]` (0.75 means 75 %).
///
/// Decimal rather than `f64` so that threshold comparisons (`p ≥ 0.85`) are exact and a
/// replay decides the same way on every machine. The regime detector works in `f64`; convert
/// at that boundary with [`Probability::from_f64`].
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Probability(Decimal);

/// Decimal places kept when converting from `f64`: more than any threshold needs, few enough
/// that `0.1 + 0.2` noise does not leak into the decision records.
const F64_DP: u32 = 6;

impl Probability {
    /// Certainty that nothing is known.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// A probability, which must lie in `[0, 1]`.
    ///
    /// # Errors
    /// [`ModesError::InvalidInput`] outside `[0, 1]`.
    pub fn new(value: Decimal) -> Result<Self, ModesError> {
        if (Decimal::ZERO..=Decimal::ONE).contains(&value) {
            Ok(Self(value.normalize()))
        } else {
            Err(ModesError::InvalidInput {
                what: "probability",
                value: value.to_string(),
                reason: "must be between 0 and 1",
            })
        }
    }

    /// A probability from the detector's `f64`, rounded to 6 decimal places.
    ///
    /// # Errors
    /// [`ModesError::InvalidInput`] for NaN, infinities and values outside `[0, 1]`.
    pub fn from_f64(value: f64) -> Result<Self, ModesError> {
        let decimal = Decimal::try_from(value).map_err(|_| ModesError::InvalidInput {
            what: "probability",
            value: value.to_string(),
            reason: "must be a finite number",
        })?;
        Self::new(decimal.round_dp(F64_DP))
    }

    /// The probability as a fraction.
    #[must_use]
    pub const fn value(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Probability {
    type Error = ModesError;
    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Probability> for Decimal {
    fn from(value: Probability) -> Self {
        value.0
    }
}

impl fmt::Display for Probability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn range_is_closed_unit_interval() {
        assert!(Probability::new(dec!(0)).is_ok());
        assert!(Probability::new(dec!(1)).is_ok());
        assert!(Probability::new(dec!(-0.01)).is_err());
        assert!(Probability::new(dec!(1.01)).is_err());
    }

    #[test]
    fn from_f64_rounds_and_refuses_nan() {
        assert_eq!(Probability::from_f64(0.1 + 0.2).unwrap().value(), dec!(0.3));
        assert!(Probability::from_f64(f64::NAN).is_err());
        assert!(Probability::from_f64(1.5).is_err());
    }

    #[test]
    fn serde_goes_through_validation() {
        let p: Probability = serde_json::from_str("\"0.85\"").unwrap();
        assert_eq!(p.value(), dec!(0.85));
        assert!(serde_json::from_str::<Probability>("\"2\"").is_err());
    }
}
