//! Market-data feeds: where prices and candles come from, live or replayed.
//!
//! [`MarketFeed`] is the seam: the engine pulls [`MarketEvent`]s from it and does not know
//! whether they come from Binance (a polling feed, implemented with the Binance client) or from
//! candle files ([`CandleFeed`], the one type that merges candle files by open time).

use std::{
    future::Future,
    iter::Peekable,
    path::{Path, PathBuf},
    time::Duration,
};

use hybrid_core::{Candle, CandleCsvReader, CsvError, Price, Symbol, Timestamp};

use crate::error::ExchangeError;

/// One piece of market data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketEvent {
    /// A closed candle.
    Candle {
        /// The market.
        symbol: Symbol,
        /// The candle.
        candle: Candle,
    },
    /// A last-trade price observed at `time` (a polled ticker).
    Price {
        /// The market.
        symbol: Symbol,
        /// The price in quote per base.
        price: Price,
        /// When it was observed (UTC).
        time: Timestamp,
    },
}

/// A source of market events, pulled a batch at a time.
///
/// Written with `impl Future + Send` (native async in traits): the engine is generic over its
/// feed.
pub trait MarketFeed: Send {
    /// The next batch of events, waiting as long as the feed's pace requires; `None` when the
    /// feed has ended (a replay ran out of candles). A replay's batch is every candle sharing
    /// the next open time; a live feed's batch is what one poll brought (prices first, then the
    /// candles that closed, oldest first). Never an empty batch.
    ///
    /// # Errors
    /// [`ExchangeError::CandleFile`] for unreadable candle files (the file and line named);
    /// connectivity errors for live feeds.
    fn next_batch(
        &mut self,
    ) -> impl Future<Output = Result<Option<Vec<MarketEvent>>, ExchangeError>> + Send;
}

/// How fast a [`CandleFeed`] plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplaySpeed {
    /// No waiting at all (backtests, tests).
    Fast,
    /// Real time divided by the factor: `60.0` plays an hour of candles in a minute. The wait
    /// between two candles is the gap between their open times divided by the factor.
    Factor(f64),
}

/// One symbol's candles, oldest first, from anywhere: a CSV file or memory (benchmarks of the
/// loop without the parsing).
pub type CandleSource = Box<dyn Iterator<Item = Result<Candle, CsvError>> + Send>;

/// Candles of several symbols sharing one open time.
pub type CandleGroup = (Timestamp, Vec<(Symbol, Candle)>);

/// The one candle feed: several symbols' candle streams merged by open time, streamed and
/// never loaded whole. Every command that replays candles (backtests of every kind, `run
/// --market replay:DIR`) reads them through it, so they all see the same groups in the same
/// order: every candle sharing an open time, in the order the symbols were given.
pub struct CandleFeed {
    streams: Vec<(Symbol, Peekable<CandleSource>)>,
    speed: ReplaySpeed,
    last_time: Option<Timestamp>,
}

impl std::fmt::Debug for CandleFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let symbols: Vec<&str> = self.streams.iter().map(|(s, _)| s.as_str()).collect();
        f.debug_struct("CandleFeed")
            .field("symbols", &symbols)
            .field("speed", &self.speed)
            .finish_non_exhaustive()
    }
}

/// `DIR/SYMBOL-INTERVAL.csv`: the layout of `fetch-klines` and `../shared/data/klines`.
#[must_use]
pub fn candle_file_path(dir: &Path, symbol: &Symbol, interval: &str) -> PathBuf {
    dir.join(format!("{symbol}-{interval}.csv"))
}

impl CandleFeed {
    /// Opens `DIR/SYMBOL-INTERVAL.csv` for each symbol.
    ///
    /// # Errors
    /// [`ExchangeError::CandleFile`] naming a file that cannot be opened.
    pub fn open_dir(
        dir: &Path,
        symbols: &[Symbol],
        interval: &str,
        speed: ReplaySpeed,
    ) -> Result<Self, ExchangeError> {
        let mut sources = Vec::with_capacity(symbols.len());
        for symbol in symbols {
            let reader = CandleCsvReader::open(&candle_file_path(dir, symbol, interval))
                .map_err(ExchangeError::from)?;
            let source: CandleSource = Box::new(reader);
            sources.push((symbol.clone(), source));
        }
        Self::from_sources(sources, speed)
    }

    /// A feed over already opened sources, one per symbol.
    ///
    /// # Errors
    /// [`ExchangeError::InvalidRequest`] with no source at all.
    pub fn from_sources(
        sources: Vec<(Symbol, CandleSource)>,
        speed: ReplaySpeed,
    ) -> Result<Self, ExchangeError> {
        if sources.is_empty() {
            return Err(ExchangeError::InvalidRequest(
                "no symbols to replay".to_owned(),
            ));
        }
        let streams = sources
            .into_iter()
            .map(|(symbol, source)| (symbol, source.peekable()))
            .collect();
        Ok(Self {
            streams,
            speed,
            last_time: None,
        })
    }

    /// Drops every candle opening before `start` (e.g. history before a backtest's warm-up).
    ///
    /// # Errors
    /// [`ExchangeError::CandleFile`] for a bad row among the dropped ones.
    pub fn skip_before(&mut self, start: Timestamp) -> Result<(), ExchangeError> {
        for (_, stream) in &mut self.streams {
            while let Some(next) = stream.peek() {
                match next {
                    Ok(candle) if candle.open_time() >= start => break,
                    Ok(_) => {
                        stream.next();
                    }
                    Err(_) => {
                        if let Some(Err(error)) = stream.next() {
                            return Err(error.into());
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Each symbol's next candle without consuming it (`None` for a symbol whose stream ended),
    /// in the order the symbols were given: a replay takes its filters from them.
    ///
    /// # Errors
    /// [`ExchangeError::CandleFile`] for a bad row.
    pub fn peek_firsts(&mut self) -> Result<Vec<(Symbol, Option<Candle>)>, ExchangeError> {
        let mut firsts = Vec::with_capacity(self.streams.len());
        for (symbol, stream) in &mut self.streams {
            if matches!(stream.peek(), Some(Err(_))) {
                if let Some(Err(error)) = stream.next() {
                    return Err(error.into());
                }
            }
            let first = stream.peek().and_then(|c| c.as_ref().ok()).copied();
            firsts.push((symbol.clone(), first));
        }
        Ok(firsts)
    }

    /// The next open time and every symbol's candle at it (symbols without one are absent),
    /// without waiting.
    ///
    /// # Errors
    /// [`ExchangeError::CandleFile`] for a bad row (file and line named).
    pub fn next_group(&mut self) -> Result<Option<CandleGroup>, ExchangeError> {
        let mut earliest: Option<Timestamp> = None;
        for (_, stream) in &mut self.streams {
            if matches!(stream.peek(), Some(Err(_))) {
                if let Some(Err(error)) = stream.next() {
                    return Err(error.into());
                }
            }
            if let Some(Ok(candle)) = stream.peek() {
                let t = candle.open_time();
                earliest = Some(earliest.map_or(t, |e| e.min(t)));
            }
        }
        let Some(time) = earliest else {
            return Ok(None);
        };
        let mut group = Vec::new();
        for (symbol, stream) in &mut self.streams {
            if let Some(Ok(candle)) =
                stream.next_if(|c| c.as_ref().is_ok_and(|c| c.open_time() == time))
            {
                group.push((symbol.clone(), candle));
            }
        }
        Ok(Some((time, group)))
    }

    /// How long to wait before delivering candles opening at `open_time`.
    fn delay_before(&mut self, open_time: Timestamp) -> Duration {
        let previous = self.last_time.replace(open_time);
        match (self.speed, previous) {
            (ReplaySpeed::Factor(factor), Some(previous)) if factor > 0.0 => {
                let gap_ms = open_time.millis_since(previous).max(0);
                #[expect(clippy::cast_precision_loss, reason = "a wait time, not money")]
                let seconds = gap_ms as f64 / 1000.0 / factor;
                Duration::try_from_secs_f64(seconds).unwrap_or(Duration::ZERO)
            }
            _ => Duration::ZERO,
        }
    }
}

impl MarketFeed for CandleFeed {
    async fn next_batch(&mut self) -> Result<Option<Vec<MarketEvent>>, ExchangeError> {
        let Some((open_time, group)) = self.next_group()? else {
            return Ok(None);
        };
        let delay = self.delay_before(open_time);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(Some(
            group
                .into_iter()
                .map(|(symbol, candle)| MarketEvent::Candle { symbol, candle })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn reader(rows: &[(i64, &str)]) -> CandleSource {
        let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
        for (time, price) in rows {
            text.push_str(&format!("{time},{price},{price},{price},{price},1\n"));
        }
        Box::new(CandleCsvReader::new(
            Cursor::new(text.into_bytes()),
            "test.csv",
        ))
    }

    fn symbol(code: &str) -> Symbol {
        Symbol::new(code).unwrap()
    }

    #[tokio::test]
    async fn symbols_are_merged_by_open_time() {
        let readers = vec![
            (symbol("BTCUSDT"), reader(&[(0, "100"), (120_000, "101")])),
            (
                symbol("ETHUSDT"),
                reader(&[(0, "10"), (60_000, "11"), (180_000, "12")]),
            ),
        ];
        let mut feed = CandleFeed::from_sources(readers, ReplaySpeed::Fast).unwrap();
        let mut order = Vec::new();
        let mut batches = 0;
        while let Some(batch) = feed.next_batch().await.unwrap() {
            batches += 1;
            for event in batch {
                let MarketEvent::Candle { symbol, candle } = event else {
                    panic!("a replay yields candles only");
                };
                order.push((symbol.to_string(), candle.open_time().as_millis()));
            }
        }
        assert_eq!(batches, 4, "one batch per open time");
        let expected = [
            ("BTCUSDT", 0),
            ("ETHUSDT", 0),
            ("ETHUSDT", 60_000),
            ("BTCUSDT", 120_000),
            ("ETHUSDT", 180_000),
        ];
        let expected: Vec<(String, i64)> = expected
            .iter()
            .map(|(s, t)| ((*s).to_owned(), *t))
            .collect();
        assert_eq!(order, expected);
    }

    #[test]
    fn speed_factor_scales_the_gap_between_candles() {
        let readers = vec![(symbol("BTCUSDT"), reader(&[]))];
        let mut feed = CandleFeed::from_sources(readers, ReplaySpeed::Factor(60.0)).unwrap();
        assert_eq!(feed.delay_before(Timestamp::from_millis(0)), Duration::ZERO);
        assert_eq!(
            feed.delay_before(Timestamp::from_millis(60_000)),
            Duration::from_secs(1)
        );
        assert_eq!(
            feed.delay_before(Timestamp::from_millis(3_660_000)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn a_bad_row_names_file_and_line() {
        let text = "open_time_ms,open,high,low,close,volume\n0,1,1,1,1,1\n60000,x,1,1,1,1\n";
        let source: CandleSource = Box::new(CandleCsvReader::new(
            Cursor::new(text.as_bytes().to_vec()),
            "btc.csv",
        ));
        let mut feed =
            CandleFeed::from_sources(vec![(symbol("BTCUSDT"), source)], ReplaySpeed::Fast).unwrap();
        feed.next_group().unwrap();
        let error = feed.next_group().unwrap_err().to_string();
        assert!(error.contains("btc.csv"), "{error}");
        assert!(
            !error.contains("exchange"),
            "a file problem, not the exchange's: {error}"
        );
    }

    #[tokio::test]
    async fn the_shared_klines_folder_replays() {
        let dir = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
            std::path::PathBuf::from,
        );
        let symbols = [symbol("BTCUSDT"), symbol("ETHUSDT")];
        let mut feed = CandleFeed::open_dir(&dir, &symbols, "1m", ReplaySpeed::Fast).unwrap();
        let mut previous = Timestamp::from_millis(0);
        for _ in 0..1000 {
            let Some((time, group)) = feed.next_group().unwrap() else {
                panic!("the files hold more than 1000 candles");
            };
            assert!(time > previous && !group.is_empty());
            assert!(group.iter().all(|(_, c)| c.open_time() == time));
            previous = time;
        }
    }
}
