//! The data writers behind the signals (spec §3.13 and §8): technical indicators history (F2),
//! economic events (F3), the funding-rate signal (D5) and the social-sentiment composite with
//! source dampening (C4). Each outside source has a real client (reqwest, tested against
//! `hybrid_testkit::datasources`) and an offline default that never invents data: a missing
//! funding rate is stored as an UNAVAILABLE signal with no value, and the calendar falls back to
//! the known recurring events.

use std::time::Duration;

use hybrid_core::{Candle, Symbol, Timestamp};
use hybrid_market::indicators::{Atr, Bollinger, Ema, Macd, Rsi, Sma};
use hybrid_store::{EconomicEvent, IndicatorSnapshot, MarketSignal, Store, StoreError};
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

use crate::error::LearningError;

/// Candles the indicator writer needs at least (SMA 200 plus some).
pub const INDICATOR_CANDLES: usize = 250;

/// F2: the indicator snapshot at the end of `candles` (1 h, oldest first), or `None` with no
/// candle. Trend: price vs SMA 20/50; momentum: MACD histogram sign; volatility: ATR vs its
/// mean (> 1.5× HIGH, < 0.7× LOW).
#[must_use]
pub fn indicator_snapshot(
    symbol: &Symbol,
    candles: &[Candle],
    at: Timestamp,
) -> Option<IndicatorSnapshot> {
    let last = candles.last()?;
    let closes: Vec<f64> = candles
        .iter()
        .map(|c| c.close().value().to_f64().unwrap_or(0.0))
        .collect();
    let run = |mut f: Box<dyn FnMut(f64) -> Option<f64>>| closes.iter().fold(None, |_, c| f(*c));
    let sma = |p: usize| -> Option<f64> {
        let mut s = Sma::new(p).ok()?;
        run(Box::new(move |c| s.update(c)))
    };
    let ema = |p: usize| -> Option<f64> {
        let mut e = Ema::new(p).ok()?;
        run(Box::new(move |c| e.update(c)))
    };
    let rsi = Rsi::new(14)
        .ok()
        .and_then(|mut r| run(Box::new(move |c| r.update(c))));
    let macd = Macd::new(12, 26, 9)
        .ok()
        .and_then(|mut m| closes.iter().fold(None, |_, c| m.update(*c)));
    let bands = Bollinger::new(20, 2.0)
        .ok()
        .and_then(|mut b| closes.iter().fold(None, |_, c| b.update(*c)));
    let mut atr = Atr::new(14).ok()?;
    let atrs: Vec<f64> = candles
        .iter()
        .filter_map(|c| atr.update_candle(c))
        .collect();
    let atr_now = atrs.last().copied();
    let (sma20, sma50) = (sma(20), sma(50));
    let price = *closes.last()?;
    let trend = match (sma20, sma50) {
        (Some(a), Some(b)) if price > a && a > b => "UP",
        (Some(a), Some(b)) if price < a && a < b => "DOWN",
        _ => "SIDEWAYS",
    };
    let momentum = match macd {
        Some(m) if m.histogram > 0.0 => "BULLISH",
        Some(m) if m.histogram < 0.0 => "BEARISH",
        _ => "NEUTRAL",
    };
    #[expect(clippy::cast_precision_loss, reason = "a few hundred values")]
    let volatility = match atr_now {
        Some(now) if !atrs.is_empty() => {
            let mean = atrs.iter().sum::<f64>() / atrs.len() as f64;
            if now > 1.5 * mean {
                "HIGH"
            } else if now < 0.7 * mean {
                "LOW"
            } else {
                "NORMAL"
            }
        }
        _ => "NORMAL",
    };
    Some(IndicatorSnapshot {
        at,
        symbol: symbol.clone(),
        price: last.close(),
        values: [
            sma20,
            sma50,
            sma(200),
            ema(12),
            ema(26),
            rsi,
            macd.map(|m| m.macd),
            macd.map(|m| m.signal),
            macd.map(|m| m.histogram),
            bands.map(|b| b.upper),
            bands.map(|b| b.middle),
            bands.map(|b| b.lower),
            atr_now,
        ],
        trend: trend.to_owned(),
        momentum: momentum.to_owned(),
        volatility: volatility.to_owned(),
    })
}

/// F2 writer: stores the snapshot of the last [`INDICATOR_CANDLES`] candles; duplicates of the
/// same run time are ignored. Returns whether a row was written.
///
/// # Errors
/// [`StoreError`] from the database.
pub fn write_indicators(
    store: &Store,
    symbol: &Symbol,
    candles: &[Candle],
    at: Timestamp,
) -> Result<bool, StoreError> {
    let window = &candles[candles.len().saturating_sub(INDICATOR_CANDLES)..];
    match indicator_snapshot(symbol, window, at) {
        Some(snapshot) => store.insert_indicators(&snapshot),
        None => Ok(false),
    }
}

/// D5: a funding rate (fraction, e.g. 0.0007 = 0.07 %) as a contrarian signal: above +0.05 %
/// longs are crowded (bearish −0.5), below −0.05 % shorts are (bullish +0.5), else neutral.
#[must_use]
pub fn funding_signal(rate: f64) -> (f64, &'static str) {
    if rate > 0.0005 {
        (-0.5, "BEARISH")
    } else if rate < -0.0005 {
        (0.5, "BULLISH")
    } else {
        (0.0, "NEUTRAL")
    }
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, LearningError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| LearningError::Source {
            source_name: "http",
            reason: e.to_string(),
        })
}

/// The Binance Futures funding-rate client (`/fapi/v1/fundingRate`, public).
#[derive(Debug, Clone)]
pub struct FundingClient {
    base_url: String,
    http: reqwest::Client,
}

impl FundingClient {
    /// A client for `base_url` (e.g. `https://fapi.binance.com`).
    ///
    /// # Errors
    /// [`LearningError::Source`] when the HTTP client cannot be built.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, LearningError> {
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http: http_client(timeout)?,
        })
    }

    /// The latest funding rate of `symbol`, `None` when the exchange lists none.
    ///
    /// # Errors
    /// [`LearningError::Source`] for transport errors, error statuses or malformed JSON.
    pub async fn latest_rate(&self, symbol: &Symbol) -> Result<Option<f64>, LearningError> {
        let fail = |reason: String| LearningError::Source {
            source_name: "funding_rate",
            reason,
        };
        let response = self
            .http
            .get(format!("{}/fapi/v1/fundingRate", self.base_url))
            .query(&[("symbol", symbol.as_str()), ("limit", "1")])
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status().as_u16())));
        }
        let body: Value = response.json().await.map_err(|e| fail(e.to_string()))?;
        let Some(first) = body.as_array().and_then(|a| a.first()) else {
            return Ok(None);
        };
        let rate = first
            .get("fundingRate")
            .and_then(Value::as_str)
            .and_then(|r| r.parse::<f64>().ok())
            .filter(|r| r.is_finite())
            .ok_or_else(|| fail(format!("no numeric fundingRate in {first}")))?;
        Ok(Some(rate))
    }
}

/// D5 writer: stores the funding signal of `symbol` at `at`; a failed or empty fetch stores an
/// UNAVAILABLE row with no value (the offline default), never a neutral 0.
///
/// # Errors
/// [`StoreError`] from the database.
pub fn write_funding_signal(
    store: &Store,
    symbol: &Symbol,
    at: Timestamp,
    fetched: Result<Option<f64>, LearningError>,
) -> Result<MarketSignal, StoreError> {
    let signal = match fetched {
        Ok(Some(rate)) => {
            let (value, label) = funding_signal(rate);
            MarketSignal {
                at,
                source: "funding_rate".to_owned(),
                symbol: symbol.clone(),
                value: Some(value),
                label: label.to_owned(),
                detail: serde_json::json!({ "rate": rate }),
            }
        }
        Ok(None) => unavailable(symbol, at, "no funding rate listed"),
        Err(e) => unavailable(symbol, at, &e.to_string()),
    };
    store.insert_market_signal(&signal)?;
    Ok(signal)
}

fn unavailable(symbol: &Symbol, at: Timestamp, why: &str) -> MarketSignal {
    MarketSignal {
        at,
        source: "funding_rate".to_owned(),
        symbol: symbol.clone(),
        value: None,
        label: "UNAVAILABLE".to_owned(),
        detail: serde_json::json!({ "reason": why }),
    }
}

/// F3: the category of an event title (checked in this order): FOMC/FED/INTEREST RATE → FOMC,
/// CPI/INFLATION → CPI, PAYROLL/EMPLOYMENT → NFP, GDP, ECB, ETF/SEC/BITCOIN/CRYPTO → CRYPTO,
/// else OTHER.
#[must_use]
pub fn event_category(title: &str) -> &'static str {
    let t = title.to_ascii_uppercase();
    let any = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if any(&["FOMC", "FED", "INTEREST RATE"]) {
        "FOMC"
    } else if any(&["CPI", "INFLATION"]) {
        "CPI"
    } else if any(&["PAYROLL", "EMPLOYMENT"]) {
        "NFP"
    } else if any(&["GDP"]) {
        "GDP"
    } else if any(&["ECB"]) {
        "ECB"
    } else if any(&["ETF", "SEC", "BITCOIN", "CRYPTO"]) {
        "CRYPTO"
    } else {
        "OTHER"
    }
}

/// F3: importance ≥ 3 HIGH, ≥ 2 MEDIUM, else LOW.
#[must_use]
pub const fn event_impact(importance: i64) -> &'static str {
    if importance >= 3 {
        "HIGH"
    } else if importance >= 2 {
        "MEDIUM"
    } else {
        "LOW"
    }
}

/// FOMC decision days of 2025–2026 (UTC dates), the recurring fallback.
const FOMC_DATES: [(i32, u32, u32); 16] = [
    (2025, 1, 29),
    (2025, 3, 19),
    (2025, 5, 7),
    (2025, 6, 18),
    (2025, 7, 30),
    (2025, 9, 17),
    (2025, 10, 29),
    (2025, 12, 10),
    (2026, 1, 28),
    (2026, 3, 18),
    (2026, 4, 29),
    (2026, 6, 17),
    (2026, 7, 29),
    (2026, 9, 16),
    (2026, 10, 28),
    (2026, 12, 9),
];

fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> Option<Timestamp> {
    let date = chrono_free_days(year, month, day)?;
    Some(Timestamp::from_millis(
        date * Timestamp::DAY_MS
            + i64::from(hour) * Timestamp::HOUR_MS
            + i64::from(minute) * Timestamp::MINUTE_MS,
    ))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm), `None` if invalid.
fn chrono_free_days(year: i32, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// F3 offline default: the fixed FOMC days (19:00 UTC as in the old list) and CPI on the 12th
/// at 13:30 of `now`'s month and the next, within `[from, to)`.
#[must_use]
pub fn recurring_events(from: Timestamp, to: Timestamp) -> Vec<EconomicEvent> {
    let event = |at: Timestamp, name: &str, category: &str| EconomicEvent {
        event_date: at,
        name: name.to_owned(),
        country: "US".to_owned(),
        impact: "HIGH".to_owned(),
        category: category.to_owned(),
        previous_value: None,
        forecast_value: None,
        actual_value: None,
    };
    let mut out: Vec<EconomicEvent> = FOMC_DATES
        .iter()
        .filter_map(|(y, m, d)| utc(*y, *m, *d, 19, 0))
        .map(|at| event(at, "FOMC rate decision", "FOMC"))
        .collect();
    let days = from.as_millis().div_euclid(Timestamp::DAY_MS);
    // Walk months from `from` for the CPI releases.
    let (mut year, mut month) = civil_year_month(days);
    for _ in 0..2 {
        if let Some(at) = utc(year, month, 12, 13, 30) {
            out.push(event(at, "CPI release", "CPI"));
        }
        (year, month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
    }
    out.retain(|e| e.event_date >= from && e.event_date < to);
    out.sort_by_key(|e| e.event_date);
    out
}

fn civil_year_month(days: i64) -> (i32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(1970),
        u32::try_from(month).unwrap_or(1),
    )
}

/// The economic-calendar client: `GET {base}/calendar/events?from=MS&to=MS` returning
/// `[{"date": ms, "title", "country", "importance", "previous", "forecast", "actual"}]`.
#[derive(Debug, Clone)]
pub struct CalendarClient {
    base_url: String,
    http: reqwest::Client,
}

impl CalendarClient {
    /// A client for `base_url`.
    ///
    /// # Errors
    /// [`LearningError::Source`] when the HTTP client cannot be built.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, LearningError> {
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http: http_client(timeout)?,
        })
    }

    /// Events with `from ≤ date < to`; items without a date or title are skipped.
    ///
    /// # Errors
    /// [`LearningError::Source`] for transport errors, error statuses or a body that is not a
    /// JSON array.
    pub async fn events(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<EconomicEvent>, LearningError> {
        let fail = |reason: String| LearningError::Source {
            source_name: "economic_calendar",
            reason,
        };
        let response = self
            .http
            .get(format!("{}/calendar/events", self.base_url))
            .query(&[
                ("from", from.as_millis().to_string()),
                ("to", to.as_millis().to_string()),
            ])
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status().as_u16())));
        }
        let body: Value = response.json().await.map_err(|e| fail(e.to_string()))?;
        let items = body
            .as_array()
            .ok_or_else(|| fail("the body is not a JSON array".to_owned()))?;
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(items
            .iter()
            .filter_map(|v| {
                let date = v.get("date").and_then(Value::as_i64)?;
                let title = text(v, "title")?;
                Some(EconomicEvent {
                    event_date: Timestamp::from_millis(date),
                    category: event_category(&title).to_owned(),
                    name: title,
                    country: text(v, "country").unwrap_or_else(|| "US".to_owned()),
                    impact: event_impact(v.get("importance").and_then(Value::as_i64).unwrap_or(1))
                        .to_owned(),
                    previous_value: text(v, "previous"),
                    forecast_value: text(v, "forecast"),
                    actual_value: text(v, "actual"),
                })
            })
            .collect())
    }
}

/// F3 writer: upserts the fetched events, or the recurring ones when the fetch failed. Returns
/// how many were written and whether the fallback was used.
///
/// # Errors
/// [`StoreError`] from the database.
pub fn write_events(
    store: &Store,
    from: Timestamp,
    to: Timestamp,
    fetched: Result<Vec<EconomicEvent>, LearningError>,
) -> Result<(usize, bool), StoreError> {
    let (events, fallback) = match fetched {
        Ok(events) => (events, false),
        Err(e) => {
            tracing::warn!(error = %e, "economic calendar unavailable; using the recurring events");
            (recurring_events(from, to), true)
        }
    };
    for event in &events {
        store.upsert_economic_event(event)?;
    }
    Ok((events.len(), fallback))
}

/// F3: trade today? No if a HIGH event of category FOMC or CPI falls within 24 h of `now`.
#[must_use]
pub fn trade_today(events: &[EconomicEvent], now: Timestamp) -> bool {
    !events.iter().any(|e| {
        e.impact == "HIGH"
            && (e.category == "FOMC" || e.category == "CPI")
            && e.event_date >= now
            && e.event_date.millis_since(now) <= Timestamp::DAY_MS
    })
}

/// C4 inputs: each source `None` when unavailable.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SocialInputs {
    /// LunarCrush galaxy score 0–100.
    pub galaxy: Option<f64>,
    /// LunarCrush sentiment 0–5.
    pub lunarcrush: Option<f64>,
    /// Reddit sentiment in [−1, 1].
    pub reddit: Option<f64>,
    /// Reddit mentions in the last day.
    pub mentions: Option<f64>,
}

/// C4: the social composite in [−1, 1]: weighted mean of galaxy (0.40, `(g−50)/50`),
/// LunarCrush (0.20, `(s−2.5)/2.5`), Reddit (0.30, its *weight* × 0.3 under 5 mentions, × 0.7
/// under 20) and activity (0.10, `min(1, log10 m / 3) × 0.5`), times the source dampening
/// {0: 0, 1: 0.5, 2: 0.8, 3: 1.0} (activity is not a source), × 0.8 when LunarCrush and Reddit
/// disagree beyond ±0.2; `None` with no source.
#[must_use]
pub fn social_composite(inputs: &SocialInputs) -> Option<f64> {
    let mut parts: Vec<(f64, f64)> = Vec::new();
    let galaxy = inputs.galaxy.map(|g| (g - 50.0) / 50.0);
    let lc = inputs.lunarcrush.map(|s| (s - 2.5) / 2.5);
    if let Some(g) = galaxy {
        parts.push((0.40, g));
    }
    if let Some(l) = lc {
        parts.push((0.20, l));
    }
    if let Some(r) = inputs.reddit {
        let weight = match inputs.mentions {
            Some(m) if m < 5.0 => 0.30 * 0.3,
            Some(m) if m < 20.0 => 0.30 * 0.7,
            _ => 0.30,
        };
        parts.push((weight, r));
    }
    let sources = [galaxy, lc, inputs.reddit]
        .iter()
        .filter(|s| s.is_some())
        .count();
    if sources == 0 {
        return None;
    }
    if let Some(m) = inputs.mentions.filter(|m| *m >= 1.0) {
        parts.push((0.10, (m.log10() / 3.0).min(1.0) * 0.5));
    }
    let weight: f64 = parts.iter().map(|(w, _)| w).sum();
    let mut value = parts.iter().map(|(w, v)| w * v).sum::<f64>() / weight;
    value *= match sources {
        1 => 0.5,
        2 => 0.8,
        _ => 1.0,
    };
    if let (Some(l), Some(r)) = (lc, inputs.reddit) {
        if (l > 0.2 && r < -0.2) || (l < -0.2 && r > 0.2) {
            value *= 0.8;
        }
    }
    Some(value.clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn social_composite_matches_the_spec_figures() {
        let full = SocialInputs {
            galaxy: Some(75.0),
            lunarcrush: Some(3.75),
            reddit: Some(0.5),
            mentions: Some(100.0),
        };
        assert!((social_composite(&full).unwrap() - 0.4833).abs() < 1e-4);
        let reddit_only = SocialInputs {
            reddit: Some(0.6),
            mentions: Some(3.0),
            ..SocialInputs::default()
        };
        assert!((social_composite(&reddit_only).unwrap() - 0.1630).abs() < 1e-4);
        let disagree = SocialInputs {
            lunarcrush: Some(1.25),
            ..full
        };
        assert!((social_composite(&disagree).unwrap() - 0.2267).abs() < 1e-4);
        assert_eq!(social_composite(&SocialInputs::default()), None);
    }

    #[test]
    fn categories_impacts_and_trading_days() {
        assert_eq!(event_category("FOMC Meeting"), "FOMC");
        assert_eq!(event_category("Core CPI m/m"), "CPI");
        assert_eq!(event_category("Non-Farm Payrolls"), "NFP");
        assert_eq!(event_category("GDP q/q"), "GDP");
        assert_eq!(event_category("ECB Press Conference"), "ECB");
        assert_eq!(event_category("Spot Bitcoin ETF decision"), "CRYPTO");
        assert_eq!(event_category("Retail Sales"), "OTHER");
        assert_eq!(event_impact(3), "HIGH");
        assert_eq!(event_impact(2), "MEDIUM");
        let now = Timestamp::from_millis(0);
        let high = |category: &str| EconomicEvent {
            event_date: now.plus_millis(Timestamp::HOUR_MS),
            name: "x".to_owned(),
            country: "US".to_owned(),
            impact: "HIGH".to_owned(),
            category: category.to_owned(),
            previous_value: None,
            forecast_value: None,
            actual_value: None,
        };
        assert!(!trade_today(&[high("FOMC")], now));
        assert!(!trade_today(&[high("CPI")], now));
        assert!(trade_today(&[high("GDP")], now));
    }

    #[test]
    fn recurring_events_fall_on_the_known_days() {
        let from = utc(2026, 3, 1, 0, 0).unwrap();
        let to = utc(2026, 5, 1, 0, 0).unwrap();
        let events = recurring_events(from, to);
        let names: Vec<(i64, &str)> = events
            .iter()
            .map(|e| (e.event_date.as_millis(), e.category.as_str()))
            .collect();
        assert!(names.contains(&(utc(2026, 3, 18, 19, 0).unwrap().as_millis(), "FOMC")));
        assert!(names.contains(&(utc(2026, 3, 12, 13, 30).unwrap().as_millis(), "CPI")));
        assert!(names.contains(&(utc(2026, 4, 12, 13, 30).unwrap().as_millis(), "CPI")));
        assert_eq!(
            utc(2024, 1, 1, 0, 0).unwrap().as_millis(),
            1_704_067_200_000
        );
    }

    #[test]
    fn funding_thresholds() {
        assert_eq!(funding_signal(0.0007), (-0.5, "BEARISH"));
        assert_eq!(funding_signal(-0.0007), (0.5, "BULLISH"));
        assert_eq!(funding_signal(0.0001), (0.0, "NEUTRAL"));
    }
}
