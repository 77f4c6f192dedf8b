# Hybrid recipes. `just ci` runs what CI runs.

# Build everything (debug).
build:
    cargo build --workspace

# Run every test: the README's test command (PostgreSQL tests skip with a notice outside CI
# when no server answers on HYBRID_TEST_DATABASE_URL).
test:
    cargo test --workspace

# Lints, warnings as errors.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# Benchmarks (criterion, then the throughput targets of issue #5, one case per process so
# each peak RSS is its own); figures go into docs/PERFORMANCE.md.
bench:
    cargo bench --workspace --bench matching --bench backtest
    cargo bench -p hybrid-engine --bench throughput -- single-grid
    cargo bench -p hybrid-engine --bench throughput -- ten-symbols-1h
    cargo bench -p hybrid-engine --bench throughput -- ten-symbols-1m-year

# Exactly what CI runs: fmt check, clippy, tests (starts PostgreSQL if needed).
ci:
    bash .ci/run

# Validate and print the configuration.
check-config *ARGS:
    cargo run --release --bin main_hybrid -- check-config {{ARGS}}

# The crash campaign of issue 15 (tests/e2e/crash.rs): a 3-symbol replay with grids, stops and
# mode switches, run once uninterrupted and then crashed -- at every 10th database write on
# SQLite paper and every 50th on PostgreSQL and testnet (HYBRID_FAILPOINT=write:N), and by
# 70 random SIGKILLs per setup -- each campaign compared with the uninterrupted run. Fails
# unless every campaign is identical. The report is also written to target/crash-report.txt.
# `just crash 1` sweeps every write index (hours); `just crash 10 20` for a shorter run.
crash STRIDE="" KILLS="70":
    cargo build -p hybrid-bin
    HYBRID_CRASH=full HYBRID_CRASH_STRICT=1 HYBRID_CRASH_STRIDE={{STRIDE}} HYBRID_CRASH_KILLS={{KILLS}} \
    HYBRID_CRASH_REPORT=target/crash-report.txt \
    cargo test -p hybrid-bin --test e2e crash:: -- --nocapture

# Every fuzz target (candle CSV, config loader, Binance JSON, Telegram updates, LLM output) for
# SECS seconds each; executions per target are printed and written to target/fuzz-report.txt.
fuzz SECS="60":
    rm -f target/fuzz-report.txt
    HYBRID_FUZZ_SECS={{SECS}} HYBRID_FUZZ_REPORT=$PWD/target/fuzz-report.txt \
    cargo test -p hybrid-bin fuzz_ -- --nocapture --test-threads=1
    cat target/fuzz-report.txt
