//! Candle intervals in Binance's spelling (`1m`, `4h`, `1d`, …): the one list of valid names
//! and their lengths, shared by the candle files (`SYMBOL-INTERVAL.csv`), the Binance client,
//! the live feed and the backtest.

use crate::time::Timestamp;

/// Every kline interval Binance accepts (case-sensitive: `1m` is a minute, `1M` a month).
pub const KLINE_INTERVALS: [&str; 16] = [
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1M",
];

/// The length of a kline interval in milliseconds, or `None` for a name not in
/// [`KLINE_INTERVALS`]. A month (`1M`) counts as 31 days, the longest, so a month candle is
/// never taken as closed too early.
#[must_use]
pub fn kline_interval_ms(interval: &str) -> Option<i64> {
    if !KLINE_INTERVALS.contains(&interval) {
        return None;
    }
    let (count, unit) = interval.split_at(interval.len() - 1);
    let count: i64 = count.parse().ok()?;
    let unit_ms = match unit {
        "s" => Timestamp::SECOND_MS,
        "m" => Timestamp::MINUTE_MS,
        "h" => Timestamp::HOUR_MS,
        "d" => Timestamp::DAY_MS,
        "w" => 7 * Timestamp::DAY_MS,
        "M" => 31 * Timestamp::DAY_MS,
        _ => return None,
    };
    Some(count * unit_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_of_the_binance_intervals() {
        assert_eq!(kline_interval_ms("1s"), Some(1_000));
        assert_eq!(kline_interval_ms("1m"), Some(60_000));
        assert_eq!(kline_interval_ms("4h"), Some(4 * 3_600_000));
        assert_eq!(kline_interval_ms("1w"), Some(7 * 86_400_000));
        assert_eq!(kline_interval_ms("1M"), Some(31 * 86_400_000));
        for bad in ["", "7m", "0m", "1x", "1H", "m"] {
            assert_eq!(kline_interval_ms(bad), None, "{bad}");
        }
        assert!(KLINE_INTERVALS
            .iter()
            .all(|i| kline_interval_ms(i).is_some()));
    }
}
