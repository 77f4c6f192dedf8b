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
    /// [`ExchangeError::InvalidResponse`] for unreadable data (a bad CSV line names its file
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
    /// [`ExchangeError::InvalidResponse`] naming a file that cannot be opened or read.
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
    /// [`ExchangeError::InvalidResponse`] when a source's header or first row is bad.
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
    /// [`ExchangeError::InvalidResponse`] for a bad row (file and line named).
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
    ExchangeError::InvalidResponse(error.to_string())
}
