//! Market-data feeds: where prices and candles come from, live or replayed.
//!
//! [`MarketFeed`] is the seam: the engine pulls [`MarketEvent`]s from it and does not know
//! whether they come from Binance (a polling feed, implemented with the Binance client) or from
//! candle files ([`CandleReplayFeed`]).

use std::{
    fs::File,
    future::Future,
    io::{BufRead, BufReader},
    path::Path,
    time::Duration,
};

use hybrid_core::{Candle, CandleCsvReader, Price, Symbol, Timestamp};

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

/// A source of market events, pulled one at a time.
///
/// Written with `impl Future + Send` (native async in traits): the engine is generic over its
/// feed.
pub trait MarketFeed: Send {
    /// The next event, waiting as long as the feed's pace requires; `None` when the feed has
    /// ended (a replay ran out of candles).
    ///
    /// # Errors
    /// [`ExchangeError::CandleFile`] for unreadable data (a bad CSV line names its file
    /// and line); connectivity errors for live feeds.
    fn next_event(
        &mut self,
    ) -> impl Future<Output = Result<Option<MarketEvent>, ExchangeError>> + Send;
}

/// How fast a [`CandleReplayFeed`] plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplaySpeed {
    /// No waiting at all (backtests, tests).
    Fast,
    /// Real time divided by the factor: `60.0` plays an hour of candles in a minute. The wait
    /// between two candles is the gap between their open times divided by the factor.
    Factor(f64),
}

/// One candle file being read.
#[derive(Debug)]
struct Source<R> {
    symbol: Symbol,
    reader: CandleCsvReader<R>,
    next: Option<Candle>,
}

/// Plays candle CSV files (`open_time_ms,open,high,low,close,volume`) as if live: several
/// symbols merged by open time (ties in the order the files were given), streamed, never
/// loaded whole.
#[derive(Debug)]
pub struct CandleReplayFeed<R = BufReader<File>> {
    sources: Vec<Source<R>>,
    speed: ReplaySpeed,
    last_time: Option<Timestamp>,
}

impl CandleReplayFeed<BufReader<File>> {
    /// Opens `<dir>/<SYMBOL>-<interval>.csv` for each symbol (the layout of `fetch-klines` and
    /// `../shared/data/klines`).
    ///
    /// # Errors
    /// [`ExchangeError::CandleFile`] naming a file that cannot be opened or read.
    pub fn open_dir(
        dir: &Path,
        symbols: &[Symbol],
        interval: &str,
        speed: ReplaySpeed,
    ) -> Result<Self, ExchangeError> {
        let readers = symbols
            .iter()
            .map(|symbol| {
                let path = dir.join(format!("{symbol}-{interval}.csv"));
                let reader = CandleCsvReader::open(&path).map_err(csv_error)?;
                Ok((symbol.clone(), reader))
            })
            .collect::<Result<Vec<_>, ExchangeError>>()?;
        Self::from_readers(readers, speed)
    }
}

impl<R: BufRead> CandleReplayFeed<R> {
    /// A feed over already opened readers, one per symbol.
    ///
    /// # Errors
    /// [`ExchangeError::CandleFile`] when a source's header or first row is bad.
    pub fn from_readers(
        readers: Vec<(Symbol, CandleCsvReader<R>)>,
        speed: ReplaySpeed,
    ) -> Result<Self, ExchangeError> {
        let mut sources = Vec::with_capacity(readers.len());
        for (symbol, mut reader) in readers {
            let next = reader.next().transpose().map_err(csv_error)?;
            sources.push(Source {
                symbol,
                reader,
                next,
            });
        }
        Ok(Self {
            sources,
            speed,
            last_time: None,
        })
    }

    /// The next candle of all sources by open time, without waiting.
    ///
    /// # Errors
    /// [`ExchangeError::CandleFile`] for a bad row (file and line named).
    pub fn next_candle(&mut self) -> Result<Option<(Symbol, Candle)>, ExchangeError> {
        let earliest = self
            .sources
            .iter()
            .enumerate()
            .filter_map(|(idx, s)| s.next.map(|c| (c.open_time(), idx)))
            .min();
        let Some((_, source_idx)) = earliest else {
            return Ok(None);
        };
        let source = &mut self.sources[source_idx];
        let candle = source.next.take();
        source.next = source.reader.next().transpose().map_err(csv_error)?;
        Ok(candle.map(|c| (source.symbol.clone(), c)))
    }

    /// How long to wait before delivering a candle opening at `open_time`.
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

impl<R: BufRead + Send> MarketFeed for CandleReplayFeed<R> {
    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        let Some((symbol, candle)) = self.next_candle()? else {
            return Ok(None);
        };
        let delay = self.delay_before(candle.open_time());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(Some(MarketEvent::Candle { symbol, candle }))
    }
}

fn csv_error(error: hybrid_core::CsvError) -> ExchangeError {
    ExchangeError::CandleFile(error.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn reader(rows: &[(i64, &str)]) -> CandleCsvReader<Cursor<Vec<u8>>> {
        let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
        for (time, price) in rows {
            text.push_str(&format!("{time},{price},{price},{price},{price},1\n"));
        }
        CandleCsvReader::new(Cursor::new(text.into_bytes()), "test.csv")
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
        let mut feed = CandleReplayFeed::from_readers(readers, ReplaySpeed::Fast).unwrap();
        let mut order = Vec::new();
        while let Some(event) = feed.next_event().await.unwrap() {
            let MarketEvent::Candle { symbol, candle } = event else {
                panic!("a replay yields candles only");
            };
            order.push((symbol.to_string(), candle.open_time().as_millis()));
        }
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
        let mut feed = CandleReplayFeed::from_readers(readers, ReplaySpeed::Factor(60.0)).unwrap();
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
        let readers = vec![(
            symbol("BTCUSDT"),
            CandleCsvReader::new(Cursor::new(text.as_bytes().to_vec()), "btc.csv"),
        )];
        let mut feed = CandleReplayFeed::from_readers(readers, ReplaySpeed::Fast).unwrap();
        let error = feed.next_candle().unwrap_err();
        assert!(error.to_string().contains("btc.csv"), "{error}");
    }

    #[tokio::test]
    async fn the_shared_klines_folder_replays() {
        let dir = std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
            std::path::PathBuf::from,
        );
        let symbols = [symbol("BTCUSDT"), symbol("ETHUSDT")];
        let mut feed = CandleReplayFeed::open_dir(&dir, &symbols, "1m", ReplaySpeed::Fast).unwrap();
        let mut previous = Timestamp::from_millis(0);
        for _ in 0..1000 {
            let Some(MarketEvent::Candle { candle, .. }) = feed.next_event().await.unwrap() else {
                panic!("the files hold more than 1000 candles");
            };
            assert!(candle.open_time() >= previous);
            previous = candle.open_time();
        }
    }
}
