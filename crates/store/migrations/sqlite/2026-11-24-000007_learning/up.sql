-- The learning loop (SQLite). Keep in step with ../../postgres/2026-11-24-000007_learning.
-- Money and price moves are canonical decimal TEXT, times BIGINT UTC milliseconds, JSON TEXT;
-- signal values and accuracies are statistics (DOUBLE PRECISION). NULL means "unknown", never 0.

-- Every decision the system made or declined: fills, mode switches, declined switches, grids
-- not built. Outcomes are percentages, side-adjusted (positive = the decision was right).
CREATE TABLE learning_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_key TEXT NOT NULL UNIQUE,
    at BIGINT NOT NULL,
    cohort TEXT NOT NULL,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('TRADE', 'MODE_SWITCH', 'DECLINED_SWITCH', 'GRID_NOT_BUILT')),
    action TEXT NOT NULL,
    stance BIGINT NOT NULL CHECK (stance IN (-1, 1)),
    taken BOOLEAN NOT NULL,
    price TEXT NOT NULL,
    quantity TEXT,
    regime TEXT NOT NULL,
    regime_probability TEXT,
    reason TEXT NOT NULL,
    outcome_1h TEXT,
    outcome_4h TEXT,
    outcome_24h TEXT,
    outcome_7d TEXT,
    raw_move_24h TEXT,
    was_good_decision BOOLEAN,
    judged_by TEXT,
    pair_net_pnl TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX learning_decisions_at ON learning_decisions (at, id);
CREATE INDEX learning_decisions_symbol_at ON learning_decisions (symbol, at);

-- The nine-signal breakdown of a decision (spec §3.2); one row per decision.
CREATE TABLE signal_components (
    decision_id BIGINT PRIMARY KEY NOT NULL REFERENCES learning_decisions (id) ON DELETE CASCADE,
    fear_greed DOUBLE PRECISION,
    rsi DOUBLE PRECISION,
    macd DOUBLE PRECISION,
    trend DOUBLE PRECISION,
    volume DOUBLE PRECISION,
    whale DOUBLE PRECISION,
    sentiment DOUBLE PRECISION,
    macro_signal DOUBLE PRECISION,
    ai DOUBLE PRECISION,
    ai_confidence DOUBLE PRECISION CHECK (ai_confidence IS NULL OR (ai_confidence >= 0 AND ai_confidence <= 1)),
    ai_risk_level TEXT,
    playbook_alignment DOUBLE PRECISION,
    weights TEXT NOT NULL,
    math_composite DOUBLE PRECISION NOT NULL,
    ai_composite DOUBLE PRECISION NOT NULL,
    final_score DOUBLE PRECISION NOT NULL,
    divergence_type TEXT,
    divergence_strength DOUBLE PRECISION,
    was_correct BOOLEAN,
    components_correct TEXT
);

-- Every generated playbook.
CREATE TABLE playbook_versions (
    version BIGINT PRIMARY KEY NOT NULL,
    generated_at BIGINT NOT NULL,
    content TEXT NOT NULL,
    trade_count BIGINT NOT NULL,
    success_rate DOUBLE PRECISION,
    changes_summary TEXT NOT NULL,
    metrics TEXT NOT NULL
);

-- Every prompt sent to the LLM and what came back, so a replay can answer exactly the same.
CREATE TABLE ai_conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    model TEXT NOT NULL,
    request_key TEXT NOT NULL,
    prompt TEXT NOT NULL,
    response TEXT,
    error TEXT,
    verdict TEXT NOT NULL CHECK (verdict IN ('accepted', 'refused', 'failed')),
    reason TEXT,
    tokens_used BIGINT,
    latency_ms BIGINT NOT NULL
);
CREATE INDEX ai_conversations_key ON ai_conversations (request_key, id);

-- Bayesian signal weights per scope ('global', 'regime:BULL', 'cohort:main'); one active row per scope.
CREATE TABLE signal_weights (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    scope TEXT NOT NULL,
    weights TEXT NOT NULL,
    alphas TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    sample_size BIGINT NOT NULL,
    is_active BOOLEAN NOT NULL
);
CREATE INDEX signal_weights_scope ON signal_weights (scope, is_active, id);

-- Coins the LLM was asked about, and how they did 7 days later.
CREATE TABLE coin_discoveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol TEXT NOT NULL,
    discovered_at BIGINT NOT NULL,
    ai_approved BOOLEAN NOT NULL,
    ai_category TEXT,
    ai_tier BIGINT,
    ai_risk TEXT,
    ai_reason TEXT NOT NULL,
    volume_24h TEXT,
    was_added BOOLEAN NOT NULL,
    was_deactivated BOOLEAN NOT NULL,
    deactivated_at BIGINT,
    deactivated_reason TEXT,
    trades_after_7d BIGINT,
    win_rate_after_7d DOUBLE PRECISION,
    avg_return_after_7d DOUBLE PRECISION,
    was_good_discovery BOOLEAN
);
CREATE INDEX coin_discoveries_at ON coin_discoveries (discovered_at, id);

-- Technical indicators per run and symbol (spec §3.13).
CREATE TABLE technical_indicators (
    timestamp BIGINT NOT NULL,
    symbol TEXT NOT NULL,
    price TEXT NOT NULL,
    sma_20 DOUBLE PRECISION,
    sma_50 DOUBLE PRECISION,
    sma_200 DOUBLE PRECISION,
    ema_12 DOUBLE PRECISION,
    ema_26 DOUBLE PRECISION,
    rsi_14 DOUBLE PRECISION,
    macd_line DOUBLE PRECISION,
    macd_signal DOUBLE PRECISION,
    macd_histogram DOUBLE PRECISION,
    bollinger_upper DOUBLE PRECISION,
    bollinger_middle DOUBLE PRECISION,
    bollinger_lower DOUBLE PRECISION,
    atr_14 DOUBLE PRECISION,
    trend TEXT NOT NULL,
    momentum TEXT NOT NULL,
    volatility TEXT NOT NULL,
    PRIMARY KEY (timestamp, symbol)
);

-- Economic calendar (spec §8); an existing actual value survives an upsert without one.
CREATE TABLE economic_events (
    event_date BIGINT NOT NULL,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    impact TEXT NOT NULL CHECK (impact IN ('LOW', 'MEDIUM', 'HIGH')),
    category TEXT NOT NULL,
    previous_value TEXT,
    forecast_value TEXT,
    actual_value TEXT,
    PRIMARY KEY (event_date, name, country)
);

-- Derived market signals from outside sources (funding rate, social sentiment composite).
CREATE TABLE market_signals (
    at BIGINT NOT NULL,
    source TEXT NOT NULL,
    symbol TEXT NOT NULL,
    value DOUBLE PRECISION,
    label TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (at, source, symbol)
);

-- The AI portfolio optimizer's accepted recommendations (spec §1.8).
CREATE TABLE ai_portfolio_recommendations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    recommended_allocations TEXT NOT NULL,
    current_allocations TEXT NOT NULL,
    reasoning TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    regime TEXT,
    was_applied BOOLEAN NOT NULL
);
