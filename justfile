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
