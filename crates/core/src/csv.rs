//! The candle CSV format: `open_time_ms,open,high,low,close,volume`, one file per symbol and
//! interval (e.g. `BTCUSDT-1h.csv`).
//!
//! The reader streams (one line in memory at a time), parses numbers as exact decimals and
//! refuses a file at the first problem with its name, line, column and the reason. Times must
//! strictly increase: a duplicate or a step backwards means the file is corrupt, and silently
//! reordering it could hide lost data.

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
        Ok(Self::new(
            BufReader::with_capacity(1 << 16, file),
            source_name,
        ))
    }
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
                self.state = ReadState::Done;
                None
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

    #[test]
    fn tolerates_crlf_and_blank_lines() {
        let text = "open_time_ms,open,high,low,close,volume\r\n1,1,2,1,1,1\r\n\r\n2,1,2,1,1,1\r\n";
        assert_eq!(read(text).unwrap().len(), 2);
    }
}
