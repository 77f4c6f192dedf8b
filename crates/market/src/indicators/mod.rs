//! Technical indicators, each as a streaming struct (O(1) work per update, `update` returns
//! `None` until the warm-up is over) and a batch function that returns one `Option` per input.
//!
//! Values are `f64`: indicators are statistics. RSI and ATR use Wilder's smoothing
//! (`avg = (avg·(n−1) + x)/n`, seeded by the simple mean of the first `n` values), as in Wilder's
//! book and TA-Lib; EMA is seeded by the SMA of its first `period` values.

mod atr;
mod bollinger;
mod macd;
mod moving;
mod rsi;

pub use self::{
    atr::{atr, Atr},
    bollinger::{bollinger, Bollinger, BollingerBands},
    macd::{macd, Macd, MacdValue},
    moving::{ema, sma, Ema, Sma},
    rsi::{rsi, Rsi},
};

use crate::error::MarketError;

/// Refuses a period below `min`, naming the parameter.
fn check_period(what: &'static str, period: usize, min: usize) -> Result<(), MarketError> {
    if period < min {
        return Err(MarketError::InvalidPeriod {
            what,
            min,
            got: period,
        });
    }
    Ok(())
}

/// Runs a streaming indicator over a slice, one output per input.
fn run_batch<T, I: Copy, O>(
    indicator: &mut T,
    inputs: &[I],
    mut step: impl FnMut(&mut T, I) -> Option<O>,
) -> Vec<Option<O>> {
    inputs.iter().map(|&x| step(indicator, x)).collect()
}

#[cfg(test)]
fn assert_close(got: Option<f64>, want: f64) {
    let got = got.unwrap_or(f64::NAN);
    assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
}
