//! Every real candle file in the shared data folder loads, and corrupted copies are refused with
//! the file, line and reason.
//!
//! The folder comes from `HYBRID_KLINES_DIR`, default `../shared/data/klines` beside the
//! workspace (the data is never copied into the repository).
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use hybrid_core::{CandleCsvReader, CsvError};

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/klines"),
        PathBuf::from,
    )
}

fn csv_files() -> Vec<PathBuf> {
    let dir = klines_dir();
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "cannot read the klines folder {} (set HYBRID_KLINES_DIR): {e}",
                dir.display()
            )
        })
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "csv"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shared_kline_file_loads() {
    let files = csv_files();
    assert!(
        files.len() >= 16,
        "expected the 16 shared kline files, found {}",
        files.len()
    );
    let mut total = 0usize;
    for path in &files {
        let lines = fs::read_to_string(path).unwrap().lines().count();
        let candles = CandleCsvReader::open(path)
            .unwrap()
            .collect::<Result<Vec<_>, CsvError>>()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(candles.len(), lines - 1, "{}", path.display());
        assert!(candles
            .windows(2)
            .all(|w| w[0].open_time() < w[1].open_time()));
        total += candles.len();
    }
    println!("loaded {total} candles from {} files", files.len());
}

/// Copies a real file into a temporary one with line `line` (1-based) replaced by `replace(line)`.
fn corrupted_copy(
    source: &Path,
    line_number: usize,
    replace: impl Fn(&str) -> String,
) -> tempfile_path::TempCsv {
    let text = fs::read_to_string(source).unwrap();
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.lines().enumerate() {
        if index + 1 == line_number {
            out.push_str(&replace(line));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    tempfile_path::TempCsv::new(&out)
}

#[test]
fn corrupted_copies_are_refused_with_file_line_and_reason() {
    let source = klines_dir().join("ETHUSDT-1h.csv");
    type Corruption = Box<dyn Fn(&str) -> String>;
    let cases: [(&str, usize, Corruption, &str); 3] = [
        (
            "bad number",
            500,
            Box::new(|l: &str| l.replacen('.', ".x", 1)),
            ":500: column open: ",
        ),
        (
            "missing column",
            1_000,
            Box::new(|l: &str| l.rsplit_once(',').unwrap().0.to_owned()),
            ":1000: column volume: missing",
        ),
        (
            "time going backwards",
            2_000,
            Box::new(|l: &str| format!("1{}", &l[l.find(',').unwrap()..])),
            ":2000: column open_time_ms: time goes backwards",
        ),
    ];
    for (what, line, replace, expected) in cases {
        let file = corrupted_copy(&source, line, replace);
        let err = CandleCsvReader::open(file.path())
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(&file.path().display().to_string()),
            "{what}: {message}"
        );
        assert!(message.contains(expected), "{what}: {message}");
        assert_eq!(err.line, line as u64, "{what}");
    }
}

/// A tiny temporary-file helper, so the core crate needs no extra dependency for one test.
mod tempfile_path {
    use super::*;

    pub(crate) struct TempCsv(PathBuf);

    impl TempCsv {
        pub(crate) fn new(text: &str) -> Self {
            static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("hybrid-core-{}-{n}.csv", std::process::id()));
            fs::File::create(&path)
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            Self(path)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempCsv {
        fn drop(&mut self) {
            let _ = fs::remove_file(&self.0);
        }
    }
}
