//! The candle CSV format: `open_time_ms,open,high,low,close,volume`, one file per symbol and
//! interval (e.g. `BTCUSDT-1h.csv`).
//!
//! The reader streams (one line in memory at a time), parses numbers as exact decimals and
//! refuses a file at the first problem with its name, line, column and the reason. Times must
//! strictly increase: a duplicate or a step backwards means the file is corrupt, and silently
//! reordering it could hide lost data.
//!
//! A reader that knows the file's interval (from its name, `SYMBOL-5m.csv`, or
//! [`CandleCsvReader::expect_interval`]) also checks that the rows are candles of that length:
//! open times on the interval's boundaries (for intervals that divide a day), gaps (missing
//! candles) a whole number of intervals, and at least one of the first
//! [`GAPS_BEFORE_INTERVAL_SEEN`] gaps exactly one interval. Five-minute candles in a file named
//! `-1m.csv` are refused instead of being traded as one-minute candles (issue 15, D8).

use std::{
    fmt,
    fs::File,
    io::{self, BufRead, BufReader, Write},
    path::Path,
    str::FromStr,
};

use rust_decimal::Decimal;

use crate::{
    candle::Candle,
    money::{Price, Quantity},
    time::Timestamp,
};

/// The header line every candle CSV file starts with.
pub const CANDLE_CSV_HEADER: &str = "open_time_ms,open,high,low,close,volume";

const COLUMNS: [&str; 6] = ["open_time_ms", "open", "high", "low", "close", "volume"];

/// How many gaps between consecutive rows may all be longer than the interval before the
/// file is refused as holding candles of another interval. Real files miss candles now and
/// then (the shared 1h files have gaps of up to 33 hours), never at every step.
pub const GAPS_BEFORE_INTERVAL_SEEN: u32 = 8;

/// The interval a reader checks rows against.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Interval {
    /// Binance's name, e.g. `5m`, for messages.
    name: String,
    /// Its length in milliseconds.
    ms: i64,
    /// Gaps seen so far, while none was exactly one interval.
    longer_gaps: u32,
    /// A gap of exactly one interval was seen: the interval is confirmed.
    confirmed: bool,
}

/// A candle file that cannot be read, with its location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CsvError {
    /// The file (or other source) name.
    pub source_name: String,
    /// 1-based line number (0 when the file could not be opened at all).
    pub line: u64,
    /// The column, by header name, when the problem is in one field.
    pub column: Option<&'static str>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source_name)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(column) = self.column {
            write!(f, ": column {column}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Streams candles from a CSV source; yields `Err` once at the first problem, then stops.
#[derive(Debug)]
pub struct CandleCsvReader<R> {
    reader: R,
    source_name: String,
    line_number: u64,
    buffer: String,
    previous_open_time: Option<Timestamp>,
    state: ReadState,
    interval: Option<Interval>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadState {
    ExpectHeader,
    Rows,
    Done,
}

impl CandleCsvReader<BufReader<File>> {
    /// Opens a candle file.
    ///
    /// # Errors
    /// [`CsvError`] with line 0 when the file cannot be opened.
    pub fn open(path: &Path) -> Result<Self, CsvError> {
        let source_name = path.display().to_string();
        let file = File::open(path).map_err(|e| CsvError {
            source_name: source_name.clone(),
            line: 0,
            column: None,
            reason: format!("cannot open: {e}"),
        })?;
        let reader = Self::new(BufReader::with_capacity(1 << 16, file), source_name);
        Ok(match interval_in_name(path) {
            Some(interval) => reader.expect_interval(interval),
            None => reader,
        })
    }
}

/// The interval a file's name gives, `BTCUSDT-5m.csv` → `5m`, when it is a Binance interval.
fn interval_in_name(path: &Path) -> Option<&str> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".csv")?;
    let (_, interval) = stem.rsplit_once('-')?;
    crate::kline_interval_ms(interval).map(|_| interval)
}

impl<R: BufRead> CandleCsvReader<R> {
    /// Reads candles from `reader`; `source_name` is used in error messages.
    pub fn new(reader: R, source_name: impl Into<String>) -> Self {
        Self {
            reader,
            source_name: source_name.into(),
            line_number: 0,
            buffer: String::with_capacity(128),
            previous_open_time: None,
            state: ReadState::ExpectHeader,
            interval: None,
        }
    }

    /// Checks every row against the Binance interval `interval` (e.g. `1m`, `1h`); an unknown
    /// interval name checks nothing (the caller validated it, or has none).
    #[must_use]
    pub fn expect_interval(mut self, interval: &str) -> Self {
        self.interval = crate::kline_interval_ms(interval).map(|ms| Interval {
            name: interval.to_owned(),
            ms,
            longer_gaps: 0,
            confirmed: false,
        });
        self
    }

    /// Refuses a row whose open time does not fit the interval (see the module docs).
    fn check_interval(&mut self, open_time: Timestamp) -> Result<(), CsvError> {
        let Some(mut interval) = self.interval.take() else {
            return Ok(());
        };
        let result = self.fits_interval(&mut interval, open_time);
        self.interval = Some(interval);
        result
    }

    fn fits_interval(
        &mut self,
        interval: &mut Interval,
        open_time: Timestamp,
    ) -> Result<(), CsvError> {
        let (name, ms) = (interval.name.clone(), interval.ms);
        let time = open_time.as_millis();
        // Weeks and months do not start on multiples of their length since the epoch.
        if Timestamp::DAY_MS % ms == 0 && time.rem_euclid(ms) != 0 {
            return Err(self.error(
                Some("open_time_ms"),
                format!("open time {time} ({open_time}) is not on a {name} boundary: is this really a {name} file?"),
            ));
        }
        let Some(previous) = self.previous_open_time else {
            return Ok(());
        };
        if name.ends_with('M') {
            return Ok(());
        }
        let gap = open_time.millis_since(previous);
        if gap % ms != 0 {
            return Err(self.error(
                Some("open_time_ms"),
                format!("{gap} ms after the previous candle ({previous}) is not a whole number of {name} candles: is this really a {name} file?"),
            ));
        }
        if gap == ms {
            interval.confirmed = true;
        } else if !interval.confirmed {
            interval.longer_gaps += 1;
            if interval.longer_gaps >= GAPS_BEFORE_INTERVAL_SEEN {
                return Err(self.error(
                    Some("open_time_ms"),
                    format!(
                        "the first {GAPS_BEFORE_INTERVAL_SEEN} candles are all more than {name} apart (the last gap is {gap} ms): these are not {name} candles"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// At the end of the file: refuses a short file none of whose (two or more) gaps was one
    /// interval.
    fn check_interval_at_end(&mut self) -> Result<(), CsvError> {
        match &self.interval {
            Some(interval) if !interval.confirmed && interval.longer_gaps >= 2 => {
                let name = interval.name.clone();
                Err(self.error(
                    Some("open_time_ms"),
                    format!("no two candles are {name} apart: these are not {name} candles"),
                ))
            }
            _ => Ok(()),
        }
    }

    fn error(&mut self, column: Option<&'static str>, reason: impl Into<String>) -> CsvError {
        self.state = ReadState::Done;
        CsvError {
            source_name: self.source_name.clone(),
            line: self.line_number,
            column,
            reason: reason.into(),
        }
    }

    /// Reads the next non-blank line into the buffer; `Ok(false)` at end of input.
    fn next_line(&mut self) -> Result<bool, CsvError> {
        loop {
            self.buffer.clear();
            self.line_number += 1;
            match self.reader.read_line(&mut self.buffer) {
                Ok(0) => return Ok(false),
                Ok(_) if self.buffer.trim().is_empty() => {}
                Ok(_) => return Ok(true),
                Err(e) => return Err(self.error(None, format!("read failed: {e}"))),
            }
        }
    }

    fn read_header(&mut self) -> Result<(), CsvError> {
        if !self.next_line()? {
            return Err(self.error(
                None,
                format!("empty file, expected the header {CANDLE_CSV_HEADER:?}"),
            ));
        }
        let header = self
            .buffer
            .trim_end_matches(['\r', '\n'])
            .trim_start_matches('\u{feff}')
            .to_owned();
        if header != CANDLE_CSV_HEADER {
            return Err(self.error(
                None,
                format!("expected the header {CANDLE_CSV_HEADER:?}, found {header:?}"),
            ));
        }
        self.state = ReadState::Rows;
        Ok(())
    }

    fn parse_row(&mut self) -> Result<Candle, CsvError> {
        let line = std::mem::take(&mut self.buffer);
        let result = self.parse_fields(line.trim_end_matches(['\r', '\n']));
        self.buffer = line;
        result
    }

    fn parse_fields(&mut self, line: &str) -> Result<Candle, CsvError> {
        let mut fields = line.split(',');
        let mut values: [&str; 6] = [""; 6];
        for (index, name) in COLUMNS.iter().enumerate() {
            values[index] = fields.next().ok_or_else(|| {
                self.error(
                    Some(name),
                    format!("missing: the row has {index} of 6 columns"),
                )
            })?;
        }
        if fields.next().is_some() {
            return Err(self.error(
                None,
                format!(
                    "too many columns: expected 6, found {}",
                    line.split(',').count()
                ),
            ));
        }
        let open_time_ms: i64 = values[0].trim().parse().map_err(|_| {
            self.error(
                Some("open_time_ms"),
                format!("{:?} is not a whole number of milliseconds", values[0]),
            )
        })?;
        let open_time = Timestamp::from_millis(open_time_ms);
        let open = self.price(values[1], "open")?;
        let high = self.price(values[2], "high")?;
        let low = self.price(values[3], "low")?;
        let close = self.price(values[4], "close")?;
        let volume = self.decimal(values[5], "volume")?;
        let volume = Quantity::new(volume)
            .map_err(|_| self.error(Some("volume"), format!("{volume} is negative")))?;
        if let Some(previous) = self.previous_open_time {
            if open_time == previous {
                return Err(self.error(
                    Some("open_time_ms"),
                    format!("duplicate open time {open_time_ms} ({open_time})"),
                ));
            }
            if open_time < previous {
                return Err(self.error(
                    Some("open_time_ms"),
                    format!(
                        "time goes backwards: {open_time_ms} ({open_time}) after {} ({previous})",
                        previous.as_millis()
                    ),
                ));
            }
        }
        self.check_interval(open_time)?;
        let candle = Candle::new(open_time, open, high, low, close, volume)
            .map_err(|e| self.error(None, e.to_string()))?;
        self.previous_open_time = Some(open_time);
        Ok(candle)
    }

    fn decimal(&mut self, text: &str, column: &'static str) -> Result<Decimal, CsvError> {
        let text = text.trim();
        Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map_err(|_| self.error(Some(column), format!("{text:?} is not a decimal number")))
    }

    fn price(&mut self, text: &str, column: &'static str) -> Result<Price, CsvError> {
        let value = self.decimal(text, column)?;
        Price::new(value)
            .map_err(|_| self.error(Some(column), format!("{value} is not a positive price")))
    }
}

impl<R: BufRead> Iterator for CandleCsvReader<R> {
    type Item = Result<Candle, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.state == ReadState::ExpectHeader {
            if let Err(e) = self.read_header() {
                return Some(Err(e));
            }
        }
        if self.state == ReadState::Done {
            return None;
        }
        match self.next_line() {
            Ok(true) => Some(self.parse_row()),
            Ok(false) => {
                let end = self.check_interval_at_end();
                self.state = ReadState::Done;
                end.err().map(Err)
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// Writes candles in the CSV format, header first.
#[derive(Debug)]
pub struct CandleCsvWriter<W: Write> {
    writer: W,
}

impl<W: Write> CandleCsvWriter<W> {
    /// Starts a file by writing the header.
    ///
    /// # Errors
    /// Any I/O error from the writer.
    pub fn new(mut writer: W) -> io::Result<Self> {
        writeln!(writer, "{CANDLE_CSV_HEADER}")?;
        Ok(Self { writer })
    }

    /// Appends one candle as a row, numbers in plain normalised notation.
    ///
    /// # Errors
    /// Any I/O error from the writer.
    pub fn write(&mut self, candle: &Candle) -> io::Result<()> {
        writeln!(
            self.writer,
            "{},{},{},{},{},{}",
            candle.open_time().as_millis(),
            candle.open(),
            candle.high(),
            candle.low(),
            candle.close(),
            candle.volume()
        )
    }

    /// Flushes and returns the underlying writer.
    ///
    /// # Errors
    /// Any I/O error from flushing.
    pub fn finish(mut self) -> io::Result<W> {
        self.writer.flush()?;
        Ok(self.writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Candle>, CsvError> {
        CandleCsvReader::new(text.as_bytes(), "test.csv").collect()
    }

    const GOOD: &str = "open_time_ms,open,high,low,close,volume\n\
        1502942400000,4261.48,4313.62,4261.32,4308.83,47.181009\n\
        1502946000000,4308.83,4328.69,4291.37,4315.32,23.234916\n";

    #[test]
    fn reads_exact_decimals() {
        let candles = read(GOOD).unwrap();
        assert_eq!(candles.len(), 2);
        assert_eq!(candles[0].close().to_string(), "4308.83");
        assert_eq!(candles[1].volume().to_string(), "23.234916");
    }

    #[test]
    fn write_then_read_round_trips() {
        let candles = read(GOOD).unwrap();
        let mut writer = CandleCsvWriter::new(Vec::new()).unwrap();
        for c in &candles {
            writer.write(c).unwrap();
        }
        let bytes = writer.finish().unwrap();
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), GOOD);
        assert_eq!(read(std::str::from_utf8(&bytes).unwrap()).unwrap(), candles);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let cases = [
            (
                "open_time_ms,open,high,low,close,volume\n1,1,2,1,x1.5,3\n",
                "test.csv:2: column close: \"x1.5\" is not a decimal number",
            ),
            (
                "open_time_ms,open,high,low,close,volume\n1,1,2,1,1.5\n",
                "test.csv:2: column volume: missing: the row has 5 of 6 columns",
            ),
            (
                "open_time_ms,open,high,low,close,volume\n2,1,2,1,1,1\n1,1,2,1,1,1\n",
                "test.csv:3: column open_time_ms: time goes backwards",
            ),
            (
                "open_time_ms,open,high,low,close,volume\n2,1,2,1,1,1\n2,1,2,1,1,1\n",
                "test.csv:3: column open_time_ms: duplicate open time 2",
            ),
            ("time,o,h,l,c,v\n", "test.csv:1: expected the header"),
            ("", "test.csv:1: empty file"),
            (
                "open_time_ms,open,high,low,close,volume\n1,1,2,1,1,-1\n",
                "test.csv:2: column volume: -1 is negative",
            ),
            (
                "open_time_ms,open,high,low,close,volume\n1,1,0.5,1,1,1\n",
                "test.csv:2: invalid candle at 1: high 0.5 is below",
            ),
            (
                "open_time_ms,open,high,low,close,volume\n1,1,2,1,1,1,9\n",
                "test.csv:2: too many columns",
            ),
            (
                "open_time_ms,open,high,low,close,volume\n1.5,1,2,1,1,1\n",
                "test.csv:2: column open_time_ms: \"1.5\" is not a whole number",
            ),
        ];
        for (text, expected) in cases {
            let err = read(text).unwrap_err().to_string();
            assert!(
                err.starts_with(expected),
                "got {err:?}, expected {expected:?}"
            );
        }
    }

    #[test]
    fn stops_after_the_first_error() {
        let text = "open_time_ms,open,high,low,close,volume\n1,x,2,1,1,1\n2,1,2,1,1,1\n";
        let items: Vec<_> = CandleCsvReader::new(text.as_bytes(), "t").collect();
        assert_eq!(items.len(), 1);
        assert!(items[0].is_err());
    }

    fn rows(times: impl IntoIterator<Item = i64>) -> String {
        let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
        for time in times {
            text.push_str(&format!("{time},1,2,1,1,1\n"));
        }
        text
    }

    fn read_as(text: &str, interval: &str) -> Result<Vec<Candle>, CsvError> {
        CandleCsvReader::new(text.as_bytes(), "X-1m.csv")
            .expect_interval(interval)
            .collect()
    }

    #[test]
    fn five_minute_candles_in_a_one_minute_file_are_refused() {
        let five = rows((0..50).map(|i| 1_722_000_000_000 + i * 300_000));
        let err = read_as(&five, "1m").unwrap_err().to_string();
        assert!(err.contains("not 1m candles"), "{err}");
        assert!(err.contains(":10:"), "refused at the eighth gap: {err}");
        assert_eq!(read_as(&five, "5m").unwrap().len(), 50);
        // Short files too.
        let short = rows([0, 300_000, 600_000]);
        assert!(read_as(&short, "1m")
            .unwrap_err()
            .to_string()
            .contains("not 1m"));
    }

    #[test]
    fn misaligned_times_and_gaps_are_refused_but_missing_candles_are_not() {
        let err = read_as(&rows([30_000, 90_000]), "1m")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not on a 1m boundary"), "{err}");
        // Weeks are not aligned to the epoch, but their gaps must still be whole weeks.
        let monday = 345_600_000;
        let err = read_as(
            &rows([monday, monday + 604_800_000, monday + 691_200_000]),
            "1w",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("not a whole number of 1w candles"), "{err}");
        // A real file misses candles now and then: gaps of whole intervals pass.
        let gappy = rows([0, 60_000, 120_000, 600_000, 660_000, 2_000 * 60_000]);
        assert_eq!(read_as(&gappy, "1m").unwrap().len(), 6);
        // Weekly candles open on Mondays, not on multiples of a week since the epoch.
        let weeks = rows((0..4).map(|i| monday + i * 604_800_000));
        assert_eq!(read_as(&weeks, "1w").unwrap().len(), 4);
    }

    #[test]
    fn the_interval_comes_from_the_file_name() {
        let dir = std::env::temp_dir().join(format!("hybrid-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("BTCUSDT-1m.csv");
        std::fs::write(&path, rows((0..20).map(|i| i * 300_000))).unwrap();
        let err = CandleCsvReader::open(&path)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap_err();
        assert!(err.to_string().contains("BTCUSDT-1m.csv"), "{err}");
        let renamed = dir.join("BTCUSDT-5m.csv");
        std::fs::rename(&path, &renamed).unwrap();
        assert_eq!(CandleCsvReader::open(&renamed).unwrap().count(), 20);
        assert_eq!(interval_in_name(Path::new("a/PEPEUSDT-1h.csv")), Some("1h"));
        assert_eq!(interval_in_name(Path::new("candles.csv")), None);
        assert_eq!(interval_in_name(Path::new("x-7q.csv")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tolerates_crlf_and_blank_lines() {
        let text = "open_time_ms,open,high,low,close,volume\r\n1,1,2,1,1,1\r\n\r\n2,1,2,1,1,1\r\n";
        assert_eq!(read(text).unwrap().len(), 2);
    }
}
