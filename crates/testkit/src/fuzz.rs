//! Fuzzing inside the normal test suite: [`fuzz`] feeds a target random inputs from a proptest
//! strategy (arbitrary bytes, or structured inputs built from the format's own vocabulary to
//! get past the first check) and fails on the first panic, with the smallest input proptest
//! can shrink it to.
//!
//! Without `HYBRID_FUZZ_SECS` a target gets [`SUITE_CASES`] inputs (a few milliseconds, part of
//! every `cargo test`); with it (`just fuzz` sets it) each target runs for that many seconds.
//! Each target prints `fuzz TARGET: N executions in S s, 0 crashes` on stderr, and appends the
//! line to the file `HYBRID_FUZZ_REPORT` when set.

use std::{fmt::Debug, io::Write as _};

use proptest::{
    strategy::Strategy,
    test_runner::{Config, TestCaseError, TestRunner},
};

/// Inputs per target in the normal suite.
pub const SUITE_CASES: u32 = 256;

/// Runs `target` on inputs from `strategy` for the configured time or number of cases.
///
/// # Panics
/// When `target` panics on some input: the message names the target and the (shrunk) input.
pub fn fuzz<S>(name: &str, strategy: S, target: impl Fn(S::Value))
where
    S: Strategy,
    S::Value: Debug,
{
    let seconds = std::env::var("HYBRID_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0);
    let started = std::time::Instant::now();
    let mut executions: u64 = 0;
    let batch = if seconds.is_some() {
        2_048
    } else {
        SUITE_CASES
    };
    loop {
        let mut runner = TestRunner::new(Config {
            cases: batch,
            failure_persistence: None,
            // Shrinking a long input can take many steps; keep the report prompt.
            max_shrink_iters: 2_048,
            ..Config::default()
        });
        let result = runner.run(&strategy, |input| {
            target(input);
            Ok::<(), TestCaseError>(())
        });
        if let Err(failure) = result {
            panic!("fuzz target {name} panicked: {failure}");
        }
        executions += u64::from(batch);
        match seconds {
            Some(limit) if started.elapsed().as_secs_f64() < limit => {}
            _ => break,
        }
    }
    let line = format!(
        "fuzz {name}: {executions} executions in {:.1} s, 0 crashes",
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Ok(path) = std::env::var("HYBRID_FUZZ_REPORT") {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// Arbitrary bytes up to `max` long.
pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..max)
}

/// Text assembled from `pieces` (the format's vocabulary) and arbitrary characters, up to
/// `max` pieces: deeper than bytes, since most of it passes the first checks.
pub fn text_of(pieces: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    use proptest::prelude::*;
    let piece = prop_oneof![
        4 => proptest::sample::select(pieces).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "[0-9]{1,20}",
    ];
    proptest::collection::vec(piece, 0..max).prop_map(|parts| parts.concat())
}

/// JSON values whose object keys come from `keys` and whose leaves are numbers (huge,
/// negative, fractional), strings (numeric or not) and the other JSON types.
pub fn json_of(keys: &'static [&'static str]) -> impl Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "-?[0-9]{0,30}(\\.[0-9]{0,30})?(e[+-]?[0-9]{1,4})?".prop_map(Value::String),
        proptest::sample::select(keys).prop_map(|k| Value::String(k.to_owned())),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 12, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(keys), inner), 0..12).prop_map(
                |pairs| {
                    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }
            ),
        ]
    })
}
