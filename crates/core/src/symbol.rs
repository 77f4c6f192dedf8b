//! Assets and trading symbols.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// The quote assets a [`Symbol`] may end in, longest match first so that `FDUSD` wins over
/// `USD`-like suffixes and `ETHBTC` splits as `ETH`/`BTC`.
pub const QUOTE_ASSETS: [&str; 6] = ["FDUSD", "USDT", "USDC", "BTC", "ETH", "BNB"];

/// The longest asset or symbol code we accept. Binance's longest spot symbols are around 20.
const MAX_CODE_LEN: usize = 20;

/// A coin or currency code, e.g. `BTC` or `USDT`: 1-20 upper-case ASCII letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Asset(String);

impl Asset {
    /// Validates an asset code.
    ///
    /// # Errors
    /// [`CoreError::InvalidAsset`] unless the code is 1-20 upper-case ASCII letters or digits.
    pub fn new(code: &str) -> Result<Self, CoreError> {
        let valid = !code.is_empty()
            && code.len() <= MAX_CODE_LEN
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if valid {
            Ok(Self(code.to_owned()))
        } else {
            Err(CoreError::InvalidAsset(code.to_owned()))
        }
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Asset {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for Asset {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<Asset> for String {
    fn from(value: Asset) -> Self {
        value.0
    }
}

/// A spot trading pair such as `BTCUSDT`, validated and split into base and quote asset.
///
/// The split uses [`QUOTE_ASSETS`]; a symbol whose quote is not one of them is refused, because
/// every money figure in Hybrid is accounted in a known quote currency.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol {
    code: String,
    base_len: usize,
}

impl Symbol {
    /// Validates a symbol and splits it into base and quote.
    ///
    /// # Errors
    /// [`CoreError::InvalidSymbol`] when the text is not upper-case ASCII alphanumeric, longer
    /// than 20 characters, or does not end in a known quote asset with a non-empty base.
    pub fn new(code: &str) -> Result<Self, CoreError> {
        let invalid = |reason| CoreError::InvalidSymbol {
            symbol: code.to_owned(),
            reason,
        };
        if code.is_empty() || code.len() > MAX_CODE_LEN {
            return Err(invalid("expected 2-20 characters"));
        }
        if !code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(invalid("expected upper-case ASCII letters and digits only"));
        }
        let quote = QUOTE_ASSETS
            .iter()
            .find(|quote| code.len() > quote.len() && code.ends_with(*quote))
            .ok_or_else(|| invalid("no known quote asset (USDT, USDC, FDUSD, BTC, ETH, BNB)"))?;
        Ok(Self {
            code: code.to_owned(),
            base_len: code.len() - quote.len(),
        })
    }

    /// The whole symbol, e.g. `BTCUSDT`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The base asset, the coin being bought or sold (`BTC` in `BTCUSDT`).
    #[must_use]
    pub fn base(&self) -> Asset {
        Asset(self.code[..self.base_len].to_owned())
    }

    /// The quote asset, the currency prices are in (`USDT` in `BTCUSDT`).
    #[must_use]
    pub fn quote(&self) -> Asset {
        Asset(self.code[self.base_len..].to_owned())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl FromStr for Symbol {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for Symbol {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<Symbol> for String {
    fn from(value: Symbol) -> Self {
        value.code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_known_quotes() {
        let cases = [
            ("BTCUSDT", "BTC", "USDT"),
            ("ETHBTC", "ETH", "BTC"),
            ("BNBETH", "BNB", "ETH"),
            ("SOLFDUSD", "SOL", "FDUSD"),
            ("PEPEUSDC", "PEPE", "USDC"),
            ("1000SATSUSDT", "1000SATS", "USDT"),
            ("ADABNB", "ADA", "BNB"),
        ];
        for (code, base, quote) in cases {
            let symbol = Symbol::new(code).unwrap();
            assert_eq!(symbol.base().as_str(), base, "{code}");
            assert_eq!(symbol.quote().as_str(), quote, "{code}");
            assert_eq!(symbol.to_string(), code);
        }
    }

    #[test]
    fn refuses_bad_symbols() {
        for bad in [
            "",
            "btcusdt",
            "BTC-USDT",
            "BTCEUR",
            "USDT",
            "ÄBCUSDT",
            "ABCDEFGHIJKLMNOPQUSDT",
        ] {
            let err = Symbol::new(bad).unwrap_err();
            assert!(
                matches!(err, CoreError::InvalidSymbol { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn serde_validates() {
        let ok: Symbol = serde_json::from_str("\"ETHUSDT\"").unwrap();
        assert_eq!(ok.base().as_str(), "ETH");
        assert!(serde_json::from_str::<Symbol>("\"ethusdt\"").is_err());
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"ETHUSDT\"");
    }

    #[test]
    fn assets_are_validated() {
        assert!(Asset::new("BNB").is_ok());
        assert!(Asset::new("bnb").is_err());
        assert!(Asset::new("").is_err());
    }
}
