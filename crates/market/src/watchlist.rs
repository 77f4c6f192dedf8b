//! The watchlist: the seeded coin universe of spec §7.6, categories and tiers.
//!
//! A coin that is not on the watchlist has [`Category::Unknown`]. The Python allocator defaulted
//! such coins to MID_CAP (spec §7.1), so new coins were checked against the wrong category
//! limit; here the caller must decide what an unknown coin may get.

use std::{fmt, str::FromStr};

use hybrid_core::Symbol;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Coin category; limits per category live in the allocator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Category {
    /// BTC, ETH.
    #[serde(rename = "LARGE_CAP")]
    LargeCap,
    /// Established alt-coins.
    #[serde(rename = "MID_CAP")]
    MidCap,
    /// Layer-2 networks.
    #[serde(rename = "L2")]
    L2,
    /// Decentralised finance.
    #[serde(rename = "DEFI")]
    Defi,
    /// AI-themed coins.
    #[serde(rename = "AI")]
    Ai,
    /// Gaming and metaverse.
    #[serde(rename = "GAMING")]
    Gaming,
    /// Meme coins.
    #[serde(rename = "MEME")]
    Meme,
    /// Not on the watchlist: no category is known, and none is guessed.
    #[serde(rename = "UNKNOWN")]
    Unknown,
}

impl Category {
    /// The seven real categories, in the order of spec §7.1.
    pub const KNOWN: [Self; 7] = [
        Self::LargeCap,
        Self::MidCap,
        Self::L2,
        Self::Defi,
        Self::Ai,
        Self::Gaming,
        Self::Meme,
    ];

    /// The upper-case name, as stored and shown (e.g. `LARGE_CAP`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LargeCap => "LARGE_CAP",
            Self::MidCap => "MID_CAP",
            Self::L2 => "L2",
            Self::Defi => "DEFI",
            Self::Ai => "AI",
            Self::Gaming => "GAMING",
            Self::Meme => "MEME",
            Self::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;
    /// Exact upper-case names, `UNKNOWN` included.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::KNOWN
            .into_iter()
            .chain([Self::Unknown])
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown category {s:?}"))
    }
}

/// How central a coin is: 1 primary, 2 secondary, 3 experimental.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// Tier 1.
    Primary,
    /// Tier 2.
    Secondary,
    /// Tier 3.
    Experimental,
}

impl Tier {
    /// 1, 2 or 3.
    #[must_use]
    pub const fn number(self) -> u8 {
        match self {
            Self::Primary => 1,
            Self::Secondary => 2,
            Self::Experimental => 3,
        }
    }
}

/// One row of the seeded universe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedCoin {
    /// Base asset; the pair is against USDT.
    pub base: &'static str,
    /// Category.
    pub category: Category,
    /// Tier.
    pub tier: Tier,
    /// Minimum 24 h quote volume for the coin to be tradeable, in millions of USD.
    pub min_volume_24h_musd: u32,
}

const fn seed(base: &'static str, category: Category, tier: Tier, musd: u32) -> SeedCoin {
    SeedCoin {
        base,
        category,
        tier,
        min_volume_24h_musd: musd,
    }
}

use Category::{Ai, Defi, Gaming, LargeCap, Meme, MidCap, L2};
use Tier::{Experimental as T3, Primary as T1, Secondary as T2};

/// The seeded universe of spec §7.6 (37 coins, all against USDT).
#[rustfmt::skip]
pub const SEEDED_COINS: [SeedCoin; 37] = [
    seed("BTC", LargeCap, T1, 500), seed("ETH", LargeCap, T1, 200),
    seed("SOL", MidCap, T1, 100), seed("BNB", MidCap, T1, 50), seed("XRP", MidCap, T1, 50),
    seed("LINK", MidCap, T1, 30), seed("ADA", MidCap, T2, 30), seed("AVAX", MidCap, T2, 30),
    seed("DOT", MidCap, T2, 20), seed("MATIC", MidCap, T2, 20), seed("ATOM", MidCap, T2, 20),
    seed("NEAR", MidCap, T2, 20), seed("LTC", MidCap, T2, 20),
    seed("ARB", L2, T2, 20), seed("OP", L2, T2, 15),
    seed("UNI", Defi, T2, 15), seed("AAVE", Defi, T2, 10), seed("MKR", Defi, T2, 10),
    seed("CRV", Defi, T2, 10), seed("DYDX", Defi, T2, 10), seed("INJ", Defi, T2, 15),
    seed("ENA", Defi, T3, 10), seed("PENDLE", Defi, T3, 10),
    seed("FET", Ai, T2, 15), seed("AGIX", Ai, T2, 10), seed("RNDR", Ai, T2, 15),
    seed("RENDER", Ai, T2, 15), seed("WLD", Ai, T2, 15),
    seed("AXS", Gaming, T3, 10), seed("SAND", Gaming, T3, 10), seed("MANA", Gaming, T3, 10),
    seed("DOGE", Meme, T3, 50), seed("SHIB", Meme, T3, 30), seed("PEPE", Meme, T3, 30),
    seed("FLOKI", Meme, T3, 10), seed("BONK", Meme, T3, 10), seed("WIF", Meme, T3, 10),
];

/// A coin on the watchlist with its limits and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchlistCoin {
    /// The pair, e.g. `SOLUSDT`.
    pub symbol: Symbol,
    /// Category.
    pub category: Category,
    /// Tier.
    pub tier: Tier,
    /// Minimum 24 h quote volume (USD) to stay tradeable.
    pub min_volume_24h_usd: Decimal,
    /// Smallest position, USD (default 10).
    pub min_position_usd: Decimal,
    /// Largest position, USD (default 500).
    pub max_position_usd: Decimal,
    /// Largest share of the portfolio, percent (default 10).
    pub max_allocation_pct: Decimal,
    /// Listed at all.
    pub is_active: bool,
    /// Liquid enough to trade now.
    pub is_tradeable: bool,
}

impl WatchlistCoin {
    /// A coin with the default limits, active and tradeable.
    #[must_use]
    pub fn new(
        symbol: Symbol,
        category: Category,
        tier: Tier,
        min_volume_24h_usd: Decimal,
    ) -> Self {
        Self {
            symbol,
            category,
            tier,
            min_volume_24h_usd,
            min_position_usd: Decimal::TEN,
            max_position_usd: Decimal::new(500, 0),
            max_allocation_pct: Decimal::TEN,
            is_active: true,
            is_tradeable: true,
        }
    }
}

/// The set of coins Hybrid considers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watchlist {
    coins: Vec<WatchlistCoin>,
}

impl Watchlist {
    /// The seeded universe of [`SEEDED_COINS`].
    #[must_use]
    pub fn seeded() -> Self {
        let coins = SEEDED_COINS
            .iter()
            .filter_map(|seed| {
                let symbol = Symbol::new(&format!("{}USDT", seed.base)).ok()?;
                let volume = Decimal::from(seed.min_volume_24h_musd) * Decimal::from(1_000_000);
                Some(WatchlistCoin::new(symbol, seed.category, seed.tier, volume))
            })
            .collect();
        Self { coins }
    }

    /// Adds a coin, replacing any entry with the same symbol (coin discovery).
    pub fn upsert(&mut self, coin: WatchlistCoin) {
        match self.coins.iter_mut().find(|c| c.symbol == coin.symbol) {
            Some(existing) => *existing = coin,
            None => self.coins.push(coin),
        }
    }

    /// The coin, if listed.
    #[must_use]
    pub fn coin(&self, symbol: &Symbol) -> Option<&WatchlistCoin> {
        self.coins.iter().find(|c| &c.symbol == symbol)
    }

    /// The coin's category; [`Category::Unknown`] when it is not listed (never MID_CAP).
    #[must_use]
    pub fn category_of(&self, symbol: &Symbol) -> Category {
        self.coin(symbol).map_or(Category::Unknown, |c| c.category)
    }

    /// Active coins ordered by tier, then category, then symbol.
    #[must_use]
    pub fn active(&self) -> Vec<&WatchlistCoin> {
        let mut active: Vec<_> = self.coins.iter().filter(|c| c.is_active).collect();
        active
            .sort_by(|a, b| (a.tier, a.category, &a.symbol).cmp(&(b.tier, b.category, &b.symbol)));
        active
    }

    /// Active and tradeable coins, in [`Watchlist::active`] order.
    #[must_use]
    pub fn tradeable(&self) -> Vec<&WatchlistCoin> {
        self.active()
            .into_iter()
            .filter(|c| c.is_tradeable)
            .collect()
    }

    /// The liquidity check: a coin whose 24 h quote volume (USD) is below its minimum becomes
    /// untradeable, one that meets it again is re-enabled. Returns the new state, `None` for an
    /// unlisted coin.
    pub fn apply_liquidity(&mut self, symbol: &Symbol, quote_volume_24h: Decimal) -> Option<bool> {
        let coin = self.coins.iter_mut().find(|c| &c.symbol == symbol)?;
        coin.is_tradeable = quote_volume_24h >= coin.min_volume_24h_usd;
        Some(coin.is_tradeable)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }

    #[test]
    fn every_seed_becomes_a_coin() {
        let list = Watchlist::seeded();
        assert_eq!(list.active().len(), SEEDED_COINS.len());
        let btc = list.coin(&sym("BTCUSDT")).unwrap();
        assert_eq!(
            (btc.category, btc.tier),
            (Category::LargeCap, Tier::Primary)
        );
        assert_eq!(btc.min_volume_24h_usd, dec!(500_000_000));
        assert_eq!(list.category_of(&sym("ARBUSDT")), Category::L2);
        assert_eq!(list.category_of(&sym("PEPEUSDT")), Category::Meme);
        let count = |cat| SEEDED_COINS.iter().filter(|s| s.category == cat).count();
        assert_eq!(Category::KNOWN.map(count), [2, 11, 2, 8, 5, 3, 6]);
    }

    #[test]
    fn an_unlisted_coin_is_unknown_not_mid_cap() {
        let list = Watchlist::seeded();
        assert_eq!(list.category_of(&sym("NEWCOINUSDT")), Category::Unknown);
    }

    #[test]
    fn active_order_is_tier_category_symbol() {
        let list = Watchlist::seeded();
        let first: Vec<&str> = list
            .active()
            .iter()
            .take(4)
            .map(|c| c.symbol.as_str())
            .collect();
        assert_eq!(first, ["BTCUSDT", "ETHUSDT", "BNBUSDT", "LINKUSDT"]);
        assert_eq!(list.active().last().unwrap().symbol.as_str(), "WIFUSDT");
    }

    #[test]
    fn liquidity_check_disables_and_re_enables() {
        let mut list = Watchlist::seeded();
        let op = sym("OPUSDT");
        assert_eq!(list.apply_liquidity(&op, dec!(14_999_999)), Some(false));
        assert!(list.tradeable().iter().all(|c| c.symbol != op));
        assert_eq!(list.apply_liquidity(&op, dec!(15_000_000)), Some(true));
        assert_eq!(list.apply_liquidity(&sym("NEWCOINUSDT"), dec!(1)), None);
    }

    #[test]
    fn category_names_round_trip() {
        for c in Category::KNOWN.into_iter().chain([Category::Unknown]) {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), c);
        }
        assert!("mid_cap".parse::<Category>().is_err());
    }

    #[test]
    fn upsert_replaces_by_symbol() {
        let mut list = Watchlist::default();
        list.upsert(WatchlistCoin::new(
            sym("XUSDT"),
            Category::Ai,
            Tier::Experimental,
            dec!(1),
        ));
        list.upsert(WatchlistCoin::new(
            sym("XUSDT"),
            Category::Defi,
            Tier::Secondary,
            dec!(1),
        ));
        assert_eq!(list.active().len(), 1);
        assert_eq!(list.category_of(&sym("XUSDT")), Category::Defi);
    }
}
