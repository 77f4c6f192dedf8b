//! `fetch-klines`: download candles from the public API into the candle CSV format
//! (`SYMBOL-INTERVAL.csv`, header `open_time_ms,open,high,low,close,volume`).
//!
//! Pages of 1000 candles (the API maximum, weight 2 each) are appended and flushed one by one,
//! so an interrupted download resumes from the file's last open time. Before appending, the
//! last candle in the file is fetched again and compared: if the exchange disagrees, the file
//! holds different data (another symbol, interval or a corrupted copy) and is left untouched.
//! Candles that have not closed yet are never written.

use std::{
    fs::{File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
};

use hybrid_core::{Candle, CandleCsvReader, CandleCsvWriter, CsvError, Symbol, Timestamp};

use crate::{binance::client::BinanceClient, ExchangeError, MarketData};

/// Candles per request (the API maximum).
const PAGE: u32 = 1000;

/// Progress of a download, reported after every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlineProgress {
    /// Candles written to the file by this call so far.
    pub written: u64,
    /// Open time of the last candle in the file.
    pub last_open_time: Option<Timestamp>,
    /// Pages requested so far.
    pub pages: u32,
}

/// What a download did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSummary {
    /// The CSV file.
    pub path: PathBuf,
    /// Candles appended by this call.
    pub written: u64,
    /// Open time of the file's last candle before this call, when it resumed a download.
    pub resumed_after: Option<Timestamp>,
    /// Open time of the last candle in the file now.
    pub last_open_time: Option<Timestamp>,
}

/// Why a download failed. The file is never left with partial rows: each page is written whole.
#[derive(Debug, thiserror::Error)]
pub enum FetchKlinesError {
    /// The exchange refused or could not be reached.
    #[error("fetching klines: {0}")]
    Exchange(#[from] ExchangeError),
    /// The existing file cannot be read as candle CSV.
    #[error("existing candle file is unreadable: {0}")]
    Csv(#[from] CsvError),
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file's data disagrees with the exchange, so appending would mix two series.
    #[error("{path} holds different data: at open time {open_time_ms} the file has {in_file} but the exchange returns {from_exchange}; refusing to append (move the file away to download afresh)")]
    DifferentData {
        /// The file.
        path: PathBuf,
        /// Open time of the disagreeing candle, ms.
        open_time_ms: i64,
        /// The candle in the file, as text.
        in_file: String,
        /// The candle from the exchange, as text (`missing` when it returned none).
        from_exchange: String,
    },
}

/// Downloads `symbol` candles of `interval` with open times in `[from, to]` into
/// `out_dir/SYMBOL-INTERVAL.csv`, resuming an existing file. `progress` is called after each page.
///
/// # Errors
/// [`FetchKlinesError`]: exchange errors, an unreadable or different existing file, I/O errors.
pub async fn fetch_klines(
    client: &BinanceClient,
    symbol: &Symbol,
    interval: &str,
    from: Timestamp,
    to: Timestamp,
    out_dir: &Path,
    mut progress: impl FnMut(KlineProgress),
) -> Result<FetchSummary, FetchKlinesError> {
    let path = out_dir.join(format!("{symbol}-{interval}.csv"));
    let last_in_file = last_candle(&path)?;
    if let Some(last) = &last_in_file {
        check_same_data(client, symbol, interval, &path, last).await?;
    }
    let resumed_after = last_in_file.map(|c| c.open_time());
    let mut writer = open_writer(&path, resumed_after.is_some())?;
    let closed_before = client.clock.now();
    let mut state = KlineProgress {
        written: 0,
        last_open_time: resumed_after,
        pages: 0,
    };
    let mut start = resumed_after.map_or(from, |t| t.plus_millis(1)).max(from);
    while start <= to {
        let page = client
            .klines(symbol, interval, Some(start), Some(to), Some(PAGE))
            .await?;
        state.pages += 1;
        let full_page = page.len() >= PAGE as usize;
        let closed: Vec<&Candle> = page
            .iter()
            .filter(|c| c.open_time() >= start && is_closed(c, interval, closed_before))
            .collect();
        write_page(&mut writer, &closed, &path)?;
        if let Some(last) = closed.last() {
            state.written += closed.len() as u64;
            state.last_open_time = Some(last.open_time());
            start = last.open_time().plus_millis(1);
        }
        progress(state);
        if !full_page || closed.len() < page.len() {
            break;
        }
    }
    writer.finish().map_err(|source| io_error(&path, source))?;
    Ok(FetchSummary {
        path,
        written: state.written,
        resumed_after,
        last_open_time: state.last_open_time,
    })
}

/// The last candle of an existing file (validating every row), or `None` if there is no file.
fn last_candle(path: &Path) -> Result<Option<Candle>, FetchKlinesError> {
    if !path.exists() {
        return Ok(None);
    }
    let mut last = None;
    for candle in CandleCsvReader::open(path)? {
        last = Some(candle?);
    }
    Ok(last)
}

async fn check_same_data(
    client: &BinanceClient,
    symbol: &Symbol,
    interval: &str,
    path: &Path,
    last: &Candle,
) -> Result<(), FetchKlinesError> {
    let open_time = last.open_time();
    let again = client
        .klines(symbol, interval, Some(open_time), Some(open_time), Some(1))
        .await?;
    match again.first() {
        Some(candle) if candle == last => Ok(()),
        other => Err(FetchKlinesError::DifferentData {
            path: path.to_owned(),
            open_time_ms: open_time.as_millis(),
            in_file: format!("{last:?}"),
            from_exchange: other.map_or_else(|| "missing".to_owned(), |c| format!("{c:?}")),
        }),
    }
}

/// Whether a candle's interval has ended by `now` (its close time is before `now`).
fn is_closed(candle: &Candle, interval: &str, now: Timestamp) -> bool {
    hybrid_core::kline_interval_ms(interval)
        .is_none_or(|ms| candle.open_time().plus_millis(ms) <= now)
}

fn open_writer(
    path: &Path,
    append: bool,
) -> Result<CandleCsvWriter<SkipHeader<File>>, FetchKlinesError> {
    let file = if append {
        OpenOptions::new().append(true).open(path)
    } else {
        File::create_new(path)
    }
    .map_err(|source| io_error(path, source))?;
    CandleCsvWriter::new(SkipHeader {
        inner: file,
        skipping: append,
    })
    .map_err(|source| io_error(path, source))
}

fn write_page(
    writer: &mut CandleCsvWriter<SkipHeader<File>>,
    candles: &[&Candle],
    path: &Path,
) -> Result<(), FetchKlinesError> {
    for candle in candles {
        writer
            .write(candle)
            .map_err(|source| io_error(path, source))?;
    }
    Ok(())
}

fn io_error(path: &Path, source: io::Error) -> FetchKlinesError {
    FetchKlinesError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A writer that drops everything up to and including the first newline when `skipping`: the
/// CSV writer always starts with the header, which an appended file already has.
#[derive(Debug)]
struct SkipHeader<W> {
    inner: W,
    skipping: bool,
}

impl<W: Write> Write for SkipHeader<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.skipping {
            return self.inner.write(buf);
        }
        if let Some(end) = buf.iter().position(|&b| b == b'\n') {
            self.skipping = false;
            self.inner.write_all(&buf[end + 1..])?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_header_drops_only_the_first_line() {
        let mut sink = SkipHeader {
            inner: Vec::new(),
            skipping: true,
        };
        sink.write_all(b"header\nrow1\n").unwrap();
        sink.write_all(b"row2\n").unwrap();
        assert_eq!(sink.inner, b"row1\nrow2\n");
    }
}
