//! Market regimes and the trading mode each one calls for.

use serde::{Deserialize, Serialize};

use crate::text_enum::text_enum;

/// How a coin is traded right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TradingMode {
    /// Bull market: buy the allocation and ride it under a trailing stop.
    Hold,
    /// Sideways market: a grid of limit orders harvests the oscillation.
    Grid,
    /// Bear market: cancel, sell, sit in the quote currency.
    Cash,
}

/// The market state a regime detector reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Regime {
    /// Rising market.
    Bull,
    /// Falling market.
    Bear,
    /// Range-bound market.
    Sideways,
    /// Between regimes: the detector is not sure, so the current mode is kept.
    Transition,
}

impl Regime {
    /// The mode this regime calls for (spec §4.1): BULL → HOLD, SIDEWAYS → GRID, BEAR → CASH,
    /// and `None` for TRANSITION, meaning "keep the current mode".
    #[must_use]
    pub const fn preferred_mode(self) -> Option<TradingMode> {
        match self {
            Self::Bull => Some(TradingMode::Hold),
            Self::Sideways => Some(TradingMode::Grid),
            Self::Bear => Some(TradingMode::Cash),
            Self::Transition => None,
        }
    }
}

text_enum!(TradingMode, "trading mode", as_str, TradingMode::Hold => "HOLD", TradingMode::Grid => "GRID", TradingMode::Cash => "CASH");
text_enum!(Regime, "regime", as_str, Regime::Bull => "BULL", Regime::Bear => "BEAR", Regime::Sideways => "SIDEWAYS", Regime::Transition => "TRANSITION");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regime_maps_to_mode() {
        assert_eq!(Regime::Bull.preferred_mode(), Some(TradingMode::Hold));
        assert_eq!(Regime::Sideways.preferred_mode(), Some(TradingMode::Grid));
        assert_eq!(Regime::Bear.preferred_mode(), Some(TradingMode::Cash));
        assert_eq!(Regime::Transition.preferred_mode(), None);
    }

    #[test]
    fn parsing_is_exact() {
        assert_eq!("GRID".parse::<TradingMode>().unwrap(), TradingMode::Grid);
        assert!("grid".parse::<TradingMode>().is_err());
        assert!("Hold ".parse::<TradingMode>().is_err());
        assert_eq!("SIDEWAYS".parse::<Regime>().unwrap(), Regime::Sideways);
        assert_eq!(
            serde_json::to_string(&Regime::Transition).unwrap(),
            "\"TRANSITION\""
        );
    }
}
