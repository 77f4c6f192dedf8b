//! The coin scanner (spec §7.5): scores every tradeable watchlist coin from the inputs the
//! caller could gather.
//!
//! Inputs that are not available (no 4 h candles, no sentiment feed, no whale feed offline) are
//! scored as neutral 0.5 and listed in [`Opportunity::missing`]. Two deliberate changes from
//! the original: technical analysis without candles is neutral, not 0 (the original scored 0
//! forever because its client had no klines method), and the confidence is the share of
//! components computed from real data, because counting "strictly positive" sub-scores made
//! neutral defaults look like evidence.

use hybrid_core::{Candle, Symbol, Timestamp};
use rust_decimal::Decimal;

use crate::{
    convert::to_f64,
    indicators::{Bollinger, Macd, MacdValue, Rsi},
    opportunity::{Opportunity, ScoreComponent, ScoreWeights, SubScores},
    watchlist::Watchlist,
};

/// Only opportunities scoring above this are returned by [`CoinScanner::scan`].
const MIN_TOTAL_SCORE: Decimal = Decimal::from_parts(3, 0, 0, false, 1);
/// Neutral sub-score.
const NEUTRAL: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
/// Minimum 24 h volume for coins not on the watchlist (spec §7.6 default), USD.
const DEFAULT_MIN_VOLUME_USD: Decimal = Decimal::from_parts(10_000_000, 0, 0, false, 0);

/// Large holders' transfers of the base asset over 24 h, in base units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhaleFlows {
    /// Moved onto exchanges (selling pressure).
    pub exchange_inflow: Decimal,
    /// Moved off exchanges (accumulation).
    pub exchange_outflow: Decimal,
}

/// What is known about one coin at scan time; `None` means "not available".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanInputs<'a> {
    /// The coin.
    pub symbol: Symbol,
    /// Recent 4 h candles, oldest first (100 customary).
    pub candles_4h: Option<&'a [Candle]>,
    /// Last 24 h quote volume, USD.
    pub quote_volume_24h: Option<Decimal>,
    /// Fear & Greed index, 0-100.
    pub fear_greed: Option<Decimal>,
    /// Social sentiment composite in [−1, 1].
    pub social_sentiment: Option<Decimal>,
    /// Whale flows.
    pub whale: Option<WhaleFlows>,
    /// 24 h price change, percent.
    pub change_24h_pct: Option<Decimal>,
}

impl<'a> ScanInputs<'a> {
    /// Inputs with nothing known but the symbol.
    #[must_use]
    pub const fn empty(symbol: Symbol) -> Self {
        Self {
            symbol,
            candles_4h: None,
            quote_volume_24h: None,
            fear_greed: None,
            social_sentiment: None,
            whale: None,
            change_24h_pct: None,
        }
    }
}

/// Scores coins with configurable weights.
#[derive(Debug, Clone, Default)]
pub struct CoinScanner {
    weights: ScoreWeights,
}

/// A sub-score, the signals it produced, and whether it came from real data.
struct Part {
    score: Decimal,
    signals: Vec<String>,
    available: bool,
}

impl Part {
    const fn missing() -> Self {
        Self {
            score: NEUTRAL,
            signals: Vec::new(),
            available: false,
        }
    }

    const fn scored(score: Decimal) -> Self {
        Self {
            score,
            signals: Vec::new(),
            available: true,
        }
    }

    fn with_signal(mut self, signal: Option<&str>) -> Self {
        self.signals.extend(signal.map(str::to_owned));
        self
    }
}

impl CoinScanner {
    /// A scanner with the given weights.
    #[must_use]
    pub const fn new(weights: ScoreWeights) -> Self {
        Self { weights }
    }

    /// Merges `overrides` into the weights and renormalises them to sum to 1.
    pub fn set_weights(&mut self, overrides: &[(ScoreComponent, Decimal)]) {
        self.weights = self.weights.merged(overrides);
    }

    /// The weights in use.
    #[must_use]
    pub const fn weights(&self) -> &ScoreWeights {
        &self.weights
    }

    /// Scores every tradeable watchlist coin that has an entry in `inputs`; keeps those with a
    /// total above 0.3, best first (ties by symbol, for a stable order).
    #[must_use]
    pub fn scan(
        &self,
        watchlist: &Watchlist,
        inputs: &[ScanInputs<'_>],
        now: Timestamp,
    ) -> Vec<Opportunity> {
        let mut found: Vec<Opportunity> = watchlist
            .tradeable()
            .into_iter()
            .filter_map(|coin| inputs.iter().find(|i| i.symbol == coin.symbol))
            .map(|i| self.score(watchlist, i, now))
            .filter(|o| o.total_score > MIN_TOTAL_SCORE)
            .collect();
        found.sort_by(|a, b| {
            b.total_score
                .cmp(&a.total_score)
                .then(a.symbol.cmp(&b.symbol))
        });
        found
    }

    /// Scores one coin.
    #[must_use]
    pub fn score(
        &self,
        watchlist: &Watchlist,
        inputs: &ScanInputs<'_>,
        now: Timestamp,
    ) -> Opportunity {
        let min_volume = watchlist
            .coin(&inputs.symbol)
            .map_or(DEFAULT_MIN_VOLUME_USD, |c| c.min_volume_24h_usd);
        let parts = [
            technical_part(inputs.candles_4h),
            volume_part(inputs.quote_volume_24h, min_volume),
            sentiment_part(inputs.fear_greed, inputs.social_sentiment),
            whale_part(inputs.whale),
            momentum_part(inputs.change_24h_pct),
        ];
        let scores = SubScores {
            technical: parts[0].score,
            volume: parts[1].score,
            sentiment: parts[2].score,
            whale: parts[3].score,
            momentum: parts[4].score,
        };
        let available = parts.iter().filter(|p| p.available).count();
        let confidence = Decimal::from(available) / Decimal::from(parts.len());
        let missing = ScoreComponent::ALL
            .into_iter()
            .zip(&parts)
            .filter(|(_, p)| !p.available)
            .map(|(c, _)| c)
            .collect();
        let signals = parts.into_iter().flat_map(|p| p.signals).collect();
        let mut opportunity = Opportunity::new(
            inputs.symbol.clone(),
            watchlist.category_of(&inputs.symbol),
            now,
            scores,
            confidence,
            signals,
            &self.weights,
        );
        opportunity.missing = missing;
        opportunity
    }
}

fn d(value: i64, scale: u32) -> Decimal {
    Decimal::new(value, scale)
}

/// Mean of the RSI, MACD and Bollinger parts that are available (spec §7.5).
fn technical_part(candles: Option<&[Candle]>) -> Part {
    let Some(candles) = candles else {
        return Part::missing();
    };
    let closes: Vec<f64> = candles.iter().map(|c| to_f64(c.close().value())).collect();
    let parts: Vec<Part> = [
        rsi_part(&closes),
        macd_part(&closes),
        bollinger_part(&closes),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        return Part::missing();
    }
    let mean = parts.iter().map(|p| p.score).sum::<Decimal>() / Decimal::from(parts.len());
    let signals = parts.into_iter().flat_map(|p| p.signals).collect();
    Part {
        score: mean,
        signals,
        available: true,
    }
}

fn last_value<T>(values: impl Iterator<Item = Option<T>>) -> Option<T> {
    values.last().flatten()
}

/// RSI(14): < 30 → 0.8 oversold, > 70 → 0.3 overbought, else 0.5.
fn rsi_part(closes: &[f64]) -> Option<Part> {
    let mut rsi = Rsi::new(14).ok()?;
    let value = last_value(closes.iter().map(|&c| rsi.update(c)))?;
    Some(if value < 30.0 {
        Part::scored(d(8, 1)).with_signal(Some("RSI Oversold"))
    } else if value > 70.0 {
        Part::scored(d(3, 1)).with_signal(Some("RSI Overbought"))
    } else {
        Part::scored(NEUTRAL)
    })
}

/// MACD(12, 26, 9) histogram: crossing up 0.8, crossing down 0.2, positive 0.6, else 0.4.
fn macd_part(closes: &[f64]) -> Option<Part> {
    let mut macd = Macd::new(12, 26, 9).ok()?;
    let readings: Vec<MacdValue> = closes.iter().filter_map(|&c| macd.update(c)).collect();
    let [.., previous, last] = readings.as_slice() else {
        return None;
    };
    let (before, now) = (previous.histogram, last.histogram);
    Some(if before <= 0.0 && now > 0.0 {
        Part::scored(d(8, 1)).with_signal(Some("MACD Bullish Crossover"))
    } else if before >= 0.0 && now < 0.0 {
        Part::scored(d(2, 1)).with_signal(Some("MACD Bearish Crossover"))
    } else if now > 0.0 {
        Part::scored(d(6, 1))
    } else {
        Part::scored(d(4, 1))
    })
}

/// Bollinger(20, 2): below the lower band 0.7, above the upper 0.3; inside adds no part.
fn bollinger_part(closes: &[f64]) -> Option<Part> {
    let mut bands = Bollinger::new(20, 2.0).ok()?;
    let b = last_value(closes.iter().map(|&c| bands.update(c)))?;
    let close = *closes.last()?;
    if close < b.lower {
        Some(Part::scored(d(7, 1)).with_signal(Some("Bollinger Oversold")))
    } else if close > b.upper {
        Some(Part::scored(d(3, 1)).with_signal(Some("Bollinger Overbought")))
    } else {
        None
    }
}

/// Volume ratio to the coin's minimum: ≥ 2 → 0.8 spike, ≥ 1.5 → 0.65, < 0.5 → 0.3, else 0.5.
fn volume_part(quote_volume: Option<Decimal>, min_volume: Decimal) -> Part {
    let Some(volume) = quote_volume else {
        return Part::missing();
    };
    if min_volume <= Decimal::ZERO {
        return Part::scored(NEUTRAL);
    }
    let ratio = volume / min_volume;
    if ratio >= d(2, 0) {
        Part::scored(d(8, 1)).with_signal(Some("Volume Spike"))
    } else if ratio >= d(15, 1) {
        Part::scored(d(65, 2))
    } else if ratio < d(5, 1) {
        Part::scored(d(3, 1))
    } else {
        Part::scored(NEUTRAL)
    }
}

/// Mean of the Fear & Greed part and the social part that are available.
fn sentiment_part(fear_greed: Option<Decimal>, social: Option<Decimal>) -> Part {
    let fg = fear_greed.map(|fg| {
        if fg <= d(25, 0) {
            d(8, 1)
        } else if fg >= d(75, 0) {
            d(3, 1)
        } else if fg < d(40, 0) {
            d(65, 2)
        } else if fg > d(60, 0) {
            d(4, 1)
        } else {
            NEUTRAL
        }
    });
    let social = social.map(|c| (c.clamp(-Decimal::ONE, Decimal::ONE) + Decimal::ONE) / d(2, 0));
    let parts: Vec<Decimal> = [fg, social].into_iter().flatten().collect();
    if parts.is_empty() {
        return Part::missing();
    }
    Part::scored(parts.iter().sum::<Decimal>() / Decimal::from(parts.len()))
}

/// Net outflow from exchanges is accumulation (up to 0.8), net inflow distribution (down to 0.2).
fn whale_part(flows: Option<WhaleFlows>) -> Part {
    let Some(flows) = flows else {
        return Part::missing();
    };
    let net = flows.exchange_outflow - flows.exchange_inflow;
    let total = flows.exchange_outflow + flows.exchange_inflow;
    if total <= Decimal::ZERO || net.is_zero() {
        return Part::scored(NEUTRAL);
    }
    let shift = net.abs() / total * d(3, 1);
    if net > Decimal::ZERO {
        Part::scored((NEUTRAL + shift).min(d(8, 1))).with_signal(Some("Whale Accumulation"))
    } else {
        Part::scored((NEUTRAL - shift).max(d(2, 1))).with_signal(Some("Whale Distribution"))
    }
}

/// 24 h change: > 10 → 0.3 (overextended), > 5 → 0.6, < −10 → 0.7 (rebound), < −5 → 0.4.
fn momentum_part(change_pct: Option<Decimal>) -> Part {
    let Some(change) = change_pct else {
        return Part::missing();
    };
    let score = if change > d(10, 0) {
        d(3, 1)
    } else if change > d(5, 0) {
        d(6, 1)
    } else if change < d(-10, 0) {
        d(7, 1)
    } else if change < d(-5, 0) {
        d(4, 1)
    } else {
        NEUTRAL
    };
    Part::scored(score)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::{daily::test_support::daily_closes, opportunity::Direction, watchlist::Category};

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }

    #[test]
    fn nothing_known_is_neutral_and_listed_as_missing() {
        let scanner = CoinScanner::default();
        let o = scanner.score(
            &Watchlist::seeded(),
            &ScanInputs::empty(sym("BTCUSDT")),
            Timestamp::from_millis(0),
        );
        assert_eq!(o.total_score, dec!(0.5));
        assert_eq!(o.confidence, dec!(0));
        assert_eq!(o.missing, ScoreComponent::ALL.to_vec());
        assert_eq!(o.category, Category::LargeCap);
        assert_eq!(o.direction, Direction::Neutral);
    }

    #[test]
    fn offline_inputs_score_and_report_what_is_missing() {
        // Falling 4 h closes: RSI oversold (0.8), MACD below zero (0.4) → technical 0.6.
        let closes: Vec<f64> = (0..100).map(|i| 200.0 - f64::from(i)).collect();
        let candles = daily_closes(&closes);
        let inputs = ScanInputs {
            candles_4h: Some(&candles),
            quote_volume_24h: Some(dec!(1_000_000_000)),
            change_24h_pct: Some(dec!(-12)),
            ..ScanInputs::empty(sym("BTCUSDT"))
        };
        let o =
            CoinScanner::default().score(&Watchlist::seeded(), &inputs, Timestamp::from_millis(0));
        assert_eq!(o.scores.technical, dec!(0.6));
        assert_eq!(o.scores.volume, dec!(0.8), "1 G / 500 M = 2 → spike");
        assert_eq!(o.scores.momentum, dec!(0.7));
        assert_eq!(
            o.missing,
            vec![ScoreComponent::Sentiment, ScoreComponent::Whale]
        );
        assert_eq!(o.confidence, dec!(0.6));
        // 0.3·0.6 + 0.2·0.8 + 0.15·0.5 + 0.15·0.5 + 0.2·0.7 = 0.63
        assert_eq!(o.total_score, dec!(0.63));
        assert!(
            o.signals.contains(&"RSI Oversold".to_owned()),
            "{:?}",
            o.signals
        );
    }

    #[test]
    fn sub_score_tables() {
        assert_eq!(volume_part(Some(dec!(15)), dec!(10)).score, dec!(0.65));
        assert_eq!(volume_part(Some(dec!(4.9)), dec!(10)).score, dec!(0.3));
        assert_eq!(sentiment_part(Some(dec!(20)), None).score, dec!(0.8));
        assert_eq!(
            sentiment_part(Some(dec!(50)), Some(dec!(1))).score,
            dec!(0.75)
        );
        assert_eq!(sentiment_part(Some(dec!(80)), None).score, dec!(0.3));
        let flows = |inflow, outflow| {
            Some(WhaleFlows {
                exchange_inflow: inflow,
                exchange_outflow: outflow,
            })
        };
        assert_eq!(whale_part(flows(dec!(0), dec!(10))).score, dec!(0.8));
        assert_eq!(whale_part(flows(dec!(10), dec!(30))).score, dec!(0.65));
        assert_eq!(whale_part(flows(dec!(30), dec!(10))).score, dec!(0.35));
        assert_eq!(whale_part(flows(dec!(10), dec!(0))).score, dec!(0.2));
        assert_eq!(momentum_part(Some(dec!(11))).score, dec!(0.3));
        assert_eq!(momentum_part(Some(dec!(6))).score, dec!(0.6));
        assert_eq!(momentum_part(Some(dec!(-6))).score, dec!(0.4));
    }

    #[test]
    fn scan_keeps_tradeable_coins_above_threshold_best_first() {
        let mut list = Watchlist::seeded();
        list.apply_liquidity(&sym("ETHUSDT"), dec!(0));
        let inputs = [
            ScanInputs {
                change_24h_pct: Some(dec!(-12)),
                ..ScanInputs::empty(sym("SOLUSDT"))
            },
            ScanInputs::empty(sym("BTCUSDT")),
            ScanInputs {
                change_24h_pct: Some(dec!(-12)),
                ..ScanInputs::empty(sym("ETHUSDT"))
            },
            ScanInputs {
                quote_volume_24h: Some(dec!(1)),
                fear_greed: Some(dec!(90)),
                change_24h_pct: Some(dec!(20)),
                ..ScanInputs::empty(sym("DOGEUSDT"))
            },
            ScanInputs::empty(sym("NEWCOINUSDT")),
        ];
        let found = CoinScanner::default().scan(&list, &inputs, Timestamp::from_millis(0));
        let names: Vec<&str> = found.iter().map(|o| o.symbol.as_str()).collect();
        assert_eq!(names, ["SOLUSDT", "BTCUSDT", "DOGEUSDT"]);
        assert!(CoinScanner::default()
            .scan(&Watchlist::default(), &inputs, Timestamp::from_millis(0))
            .is_empty());
    }

    #[test]
    fn set_weights_renormalises() {
        let mut scanner = CoinScanner::default();
        assert_eq!(scanner.weights().get(ScoreComponent::Technical), dec!(0.3));
        scanner.set_weights(&[(ScoreComponent::Whale, dec!(0.35))]);
        let sum: Decimal = ScoreComponent::ALL
            .iter()
            .map(|&c| scanner.weights().get(c))
            .sum();
        assert!((sum - Decimal::ONE).abs() < dec!(0.000001));
    }
}
