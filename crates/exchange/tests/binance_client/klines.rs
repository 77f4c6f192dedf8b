//! `fetch_klines`: paging, resuming and refusing to mix different data.

use hybrid_core::{Candle, CandleCsvReader, Clock, SystemClock, Timestamp};
use hybrid_exchange::binance::{fetch_klines, FetchKlinesError};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::{
    market_and_account::candle,
    support::{btc, client, fake},
};

const MINUTE: i64 = 60_000;

fn series(start_ms: i64, n: i64) -> Vec<Candle> {
    (0..n)
        .map(|i| candle(start_ms + i * MINUTE, dec!(100) + Decimal::from(i % 50)))
        .collect()
}

fn read(path: &std::path::Path) -> Vec<Candle> {
    CandleCsvReader::open(path)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn downloads_in_pages_resumes_and_refuses_different_data() {
    let fake = fake().await;
    let start = 1_700_000_000_000 / MINUTE * MINUTE;
    let all = series(start, 2_500);
    fake.set_klines(&btc(), "1m", all.clone());
    let client = client(&fake).await;
    let dir = tempfile::tempdir().unwrap();
    let from = Timestamp::from_millis(start);
    let last = Timestamp::from_millis(start + 2_499 * MINUTE);

    // An "interrupted" first download: only the first 1200 candles.
    let partial_to = Timestamp::from_millis(start + 1_199 * MINUTE);
    let first = fetch_klines(&client, &btc(), "1m", from, partial_to, dir.path(), |_| {})
        .await
        .unwrap();
    assert_eq!(first.written, 1_200);
    assert_eq!(first.path, dir.path().join("BTCUSDT-1m.csv"));

    let mut pages = Vec::new();
    let resumed = fetch_klines(&client, &btc(), "1m", from, last, dir.path(), |p| {
        pages.push(p);
    })
    .await
    .unwrap();
    assert_eq!(resumed.resumed_after, Some(partial_to));
    assert_eq!(resumed.written, 1_300);
    assert_eq!(resumed.last_open_time, Some(last));
    assert_eq!(pages.len(), 2, "1000 + 300");
    assert_eq!(read(&resumed.path), all);

    // Nothing new: a no-op.
    let again = fetch_klines(&client, &btc(), "1m", from, last, dir.path(), |_| {})
        .await
        .unwrap();
    assert_eq!(again.written, 0);

    // The exchange now disagrees with the file's last candle: refuse, leave the file alone.
    let mut changed = all.clone();
    changed[2_499] = candle(last.as_millis(), dec!(7));
    fake.set_klines(&btc(), "1m", changed);
    let before = std::fs::read(&resumed.path).unwrap();
    let err = fetch_klines(&client, &btc(), "1m", from, last, dir.path(), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchKlinesError::DifferentData { .. }),
        "{err}"
    );
    assert_eq!(std::fs::read(&resumed.path).unwrap(), before);
}

#[tokio::test]
async fn the_still_open_candle_is_not_written() {
    let fake = fake().await;
    let now = SystemClock.now().as_millis() / MINUTE * MINUTE;
    fake.set_klines(&btc(), "1m", series(now - 3 * MINUTE, 4));
    let client = client(&fake).await;
    let dir = tempfile::tempdir().unwrap();
    let summary = fetch_klines(
        &client,
        &btc(),
        "1m",
        Timestamp::from_millis(now - 3 * MINUTE),
        Timestamp::from_millis(now + MINUTE),
        dir.path(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(summary.written, 3);
    assert_eq!(
        summary.last_open_time,
        Some(Timestamp::from_millis(now - MINUTE))
    );
}
