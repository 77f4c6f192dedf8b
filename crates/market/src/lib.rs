//! Market statistics for Hybrid: technical indicators, daily candles, regime detection,
//! correlation, the watchlist and coin scanner scores.
//!
//! The crate is pure: no network, no database, no clock. Time comes in as a
//! [`hybrid_core::Timestamp`] argument and data as candles.
//!
//! `f64` lives here, and only here, because indicators, the hidden Markov model and Pearson
//! correlation are statistics. Figures that leave the crate towards money code (regime
//! probability, scanner scores, correlation coefficients) are converted to
//! [`rust_decimal::Decimal`] at that boundary.
//!
//! - [`indicators`]: SMA, EMA, RSI, MACD, Bollinger bands, ATR, each as a streaming struct
//!   (O(1) per update) and a batch function.
//! - [`aggregate_daily`] / [`DailyCandleAggregator`]: hourly or minute candles to UTC days.
//! - [`RegimeDetector`]: a three-state Gaussian HMM on daily features, refitted on a schedule,
//!   with the rule-based detector of spec §4.2 as the fallback when history is short.
//! - [`CorrelationMatrix`]: Pearson correlation of aligned daily returns.
//! - [`Watchlist`] and [`Category`]: the seeded universe; unknown coins are [`Category::Unknown`].
//! - [`CoinScanner`] and [`Opportunity`]: weighted scores; missing inputs count as neutral and are
//!   listed, never silently invented.
//!
//! # Example
//!
//! ```
//! use hybrid_core::{Candle, CoreError, Price, Quantity, Regime, Symbol, Timestamp};
//! use hybrid_market::{Category, DetectionMethod, RegimeDetector, Watchlist};
//! use rust_decimal::Decimal;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Ten days of a market rising 2 a day: too short for the HMM, so the rules decide.
//! let daily = (0..10i64)
//!     .map(|day| {
//!         let price = Price::new(Decimal::from(100 + 2 * day))?;
//!         let open_time = Timestamp::from_millis(day * Timestamp::DAY_MS);
//!         Candle::new(open_time, price, price, price, price, Quantity::ZERO)
//!     })
//!     .collect::<Result<Vec<_>, CoreError>>()?;
//! let mut detector = RegimeDetector::default();
//! let now = Timestamp::from_millis(10 * Timestamp::DAY_MS);
//! let report = detector.detect(&daily, now)?;
//! assert_eq!(report.method, DetectionMethod::Rules);
//! assert_eq!(report.regime, Regime::Bull); // +13.5 % in 7 days
//! assert_eq!(report.duration_days, 2); // BULL on each of the 3 days the rules could judge
//!
//! // A coin the watchlist does not know has no category, rather than a guessed MID_CAP.
//! let watchlist = Watchlist::seeded();
//! assert_eq!(watchlist.category_of(&Symbol::new("NEWUSDT")?), Category::Unknown);
//! # Ok(())
//! # }
//! ```

mod convert;
mod correlation;
mod daily;
mod detector;
mod error;
mod features;
mod hmm;
pub mod indicators;
mod opportunity;
mod rules;
mod scanner;
mod watchlist;

pub use crate::{
    correlation::{daily_returns, pearson, CorrelatedPair, CorrelationConfig, CorrelationMatrix},
    daily::{aggregate_daily, DailyCandleAggregator},
    detector::{DetectionMethod, RegimeConfig, RegimeDetector, RegimeReport},
    error::MarketError,
    features::{daily_features, DailyFeatures, RegimeFeatures},
    hmm::{FitConfig, FitReport, GaussianHmm, Observation, N_FEATURES, N_STATES},
    opportunity::{Direction, Opportunity, RiskLevel, ScoreComponent, ScoreWeights, SubScores},
    rules::{classify_by_rules, RuleInputs, RuleVerdict},
    scanner::{CoinScanner, ScanInputs, WhaleFlows},
    watchlist::{Category, SeedCoin, Tier, Watchlist, WatchlistCoin, SEEDED_COINS},
};
