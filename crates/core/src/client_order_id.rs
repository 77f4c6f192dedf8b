//! Our order ids: deterministic, unique for ever, valid for Binance.
//!
//! Format: `hy{cohort}-{SYMBOL}-{sequence}` with cohort and sequence in lower-case base 36, e.g.
//! `hy1-BTCUSDT-2s` is cohort 1's order number 100 on BTCUSDT. The sequence comes from the store
//! (one counter per cohort and symbol, persisted before the order is sent), so a restart
//! continues the sequence and can never reuse an id. The exchange refuses a duplicate client
//! order id on open orders, and we look orders up by it after a timeout: the id is what makes
//! "never place twice" checkable.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{error::CoreError, symbol::Symbol};

/// The prefix of every order id Hybrid creates; orders on the exchange without it are not ours.
pub const CLIENT_ORDER_ID_PREFIX: &str = "hy";

/// Binance's limit on `newClientOrderId` (`^[a-zA-Z0-9-_]{1,36}$`).
const MAX_LEN: usize = 36;

/// The identity of a cohort (a strategy variant with its own capital); the store's primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CohortId(u32);

impl CohortId {
    /// A cohort id.
    #[must_use]
    pub const fn new(id: u32) -> Self {
        Self(id)
    }

    /// The id as a number.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for CohortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A client order id: either one of ours (see the module docs) or a foreign one found on the
/// exchange during reconciliation. Always valid for Binance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientOrderId(String);

impl ClientOrderId {
    /// Our id for order number `sequence` of `cohort` on `symbol`.
    ///
    /// # Errors
    /// [`CoreError::InvalidClientOrderId`] if the result would exceed Binance's 36 characters
    /// (never for cohort ids below 1,296 and sequences below 36⁸ ≈ 2.8 × 10¹², whatever the
    /// symbol; shorter symbols leave room for more).
    pub fn new(cohort: CohortId, symbol: &Symbol, sequence: u64) -> Result<Self, CoreError> {
        let id = format!(
            "{CLIENT_ORDER_ID_PREFIX}{}-{symbol}-{}",
            base36(u64::from(cohort.get())),
            base36(sequence)
        );
        if id.len() > MAX_LEN {
            return Err(CoreError::InvalidClientOrderId {
                id,
                reason: format!("longer than {MAX_LEN} characters"),
            });
        }
        Ok(Self(id))
    }

    /// Accepts any id Binance accepts (ours or not), e.g. one read back from the exchange.
    ///
    /// # Errors
    /// [`CoreError::InvalidClientOrderId`] unless the text matches `^[a-zA-Z0-9-_]{1,36}$`.
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let valid = !text.is_empty()
            && text.len() <= MAX_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(CoreError::InvalidClientOrderId {
                id: text.to_owned(),
                reason: "expected 1-36 characters of a-z, A-Z, 0-9, '-' or '_'".to_owned(),
            })
        }
    }

    /// The id as sent to the exchange.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Cohort, symbol and sequence if this is one of our ids; `None` for a foreign id.
    #[must_use]
    pub fn decode(&self) -> Option<(CohortId, Symbol, u64)> {
        let rest = self.0.strip_prefix(CLIENT_ORDER_ID_PREFIX)?;
        let mut parts = rest.split('-');
        let (cohort, symbol, sequence) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let cohort = u32::try_from(from_base36(cohort)?).ok()?;
        let symbol = Symbol::new(symbol).ok()?;
        let sequence = from_base36(sequence)?;
        // Only the canonical spelling is ours (no leading zeros, lower case).
        let canonical = Self::new(CohortId(cohort), &symbol, sequence).ok()?;
        (canonical == *self).then_some((CohortId(cohort), symbol, sequence))
    }

    /// Whether Hybrid created this id.
    #[must_use]
    pub fn is_ours(&self) -> bool {
        self.decode().is_some()
    }
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn from_base36(text: &str) -> Option<u64> {
    if text.is_empty() || text.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    u64::from_str_radix(text, 36).ok()
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ClientOrderId {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ClientOrderId {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ClientOrderId> for String {
    fn from(value: ClientOrderId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn btc() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    #[test]
    fn encodes_cohort_symbol_and_sequence() {
        let id = ClientOrderId::new(CohortId::new(1), &btc(), 100).unwrap();
        assert_eq!(id.as_str(), "hy1-BTCUSDT-2s");
        assert_eq!(id.decode(), Some((CohortId::new(1), btc(), 100)));
        assert!(id.is_ours());
    }

    #[test]
    fn deterministic_and_distinct() {
        let a = ClientOrderId::new(CohortId::new(3), &btc(), 5).unwrap();
        let b = ClientOrderId::new(CohortId::new(3), &btc(), 5).unwrap();
        let c = ClientOrderId::new(CohortId::new(3), &btc(), 6).unwrap();
        let d = ClientOrderId::new(CohortId::new(4), &btc(), 5).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn always_valid_for_binance_even_at_the_extremes() {
        let long = Symbol::new("ABCDEFGHIJKLMNOPUSDT").unwrap();
        // Up to 1,295 cohorts and 36^8 - 1 (2.8e12) orders each fit beside a 20-character symbol.
        let id = ClientOrderId::new(CohortId::new(1_295), &long, 36u64.pow(8) - 1).unwrap();
        assert!(id.as_str().len() <= 36, "{id}");
        assert_eq!(ClientOrderId::parse(id.as_str()).unwrap(), id);
        assert!(ClientOrderId::new(CohortId::new(u32::MAX), &long, u64::MAX).is_err());
    }

    #[test]
    fn foreign_ids_are_valid_but_not_ours() {
        for foreign in [
            "web_123abc",
            "x-AbCd",
            "hy1-BTCUSDT",
            "hy01-BTCUSDT-1",
            "hyZ-BTCUSDT-1",
        ] {
            let id = ClientOrderId::parse(foreign).unwrap();
            assert!(!id.is_ours(), "{foreign}");
        }
        for bad in ["", "has space", "x".repeat(37).as_str(), "ümlaut"] {
            assert!(ClientOrderId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base36_round_trips() {
        for n in [0, 1, 35, 36, 1295, 1296, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(from_base36(&base36(n)), Some(n));
        }
    }
}
