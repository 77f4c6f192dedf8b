-- The three-tier portfolio (SQLite). Keep in step with ../../postgres/2026-11-24-000006_portfolio.
-- Money and percentages are canonical decimal TEXT, times BIGINT UTC milliseconds, JSON TEXT;
-- the Sharpe ratio is a statistic (DOUBLE PRECISION).

-- Each tier's target and its value at the last snapshot (seeded with the spec's defaults).
CREATE TABLE portfolio_tiers (
    tier_name TEXT PRIMARY KEY NOT NULL CHECK (tier_name IN ('cash_reserve', 'index_holdings', 'trading')),
    target_pct TEXT NOT NULL,
    min_pct TEXT NOT NULL,
    max_pct TEXT NOT NULL,
    current_pct TEXT,
    current_value_usd TEXT NOT NULL DEFAULT '0',
    is_active BOOLEAN NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);
INSERT INTO portfolio_tiers (tier_name, target_pct, min_pct, max_pct, is_active, updated_at) VALUES
    ('cash_reserve', '10', '5', '20', 1, 0),
    ('index_holdings', '65', '40', '80', 1, 0),
    ('trading', '25', '10', '40', 1, 0);

-- The equity curve split into tiers; total = cash + index + trading at every row.
CREATE TABLE portfolio_snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    total_value_usd TEXT NOT NULL,
    cash_usd TEXT NOT NULL,
    index_usd TEXT NOT NULL,
    trading_usd TEXT NOT NULL,
    daily_pnl TEXT,
    daily_pnl_pct TEXT,
    max_drawdown TEXT,
    sharpe_ratio DOUBLE PRECISION
);
CREATE INDEX portfolio_snapshots_at ON portfolio_snapshots (at);

-- The index tier's coins.
CREATE TABLE index_holdings (
    symbol TEXT PRIMARY KEY NOT NULL,
    target_weight_pct TEXT NOT NULL,
    quantity TEXT NOT NULL,
    avg_entry_price TEXT NOT NULL,
    current_price TEXT NOT NULL,
    trailing_stop_pct TEXT NOT NULL,
    trailing_stop_price TEXT NOT NULL,
    highest_price TEXT NOT NULL,
    is_active BOOLEAN NOT NULL,
    last_rebalance_at BIGINT,
    updated_at BIGINT NOT NULL
);

-- Every redistribution between tiers, with its transfers and why.
CREATE TABLE profit_redistributions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    total_portfolio_value TEXT NOT NULL,
    total_moved TEXT NOT NULL,
    pre_allocation TEXT NOT NULL,
    post_allocation TEXT NOT NULL,
    transfers TEXT NOT NULL,
    trigger_reason TEXT NOT NULL
);
CREATE INDEX profit_redistributions_at ON profit_redistributions (at);

-- Detected market regimes; a row whose previous_regime differs from regime is a change.
CREATE TABLE regime_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    symbol TEXT,
    regime TEXT NOT NULL,
    regime_probability DOUBLE PRECISION CHECK (regime_probability IS NULL OR (regime_probability >= 0 AND regime_probability <= 1)),
    previous_regime TEXT
);
CREATE INDEX regime_history_at ON regime_history (at);
