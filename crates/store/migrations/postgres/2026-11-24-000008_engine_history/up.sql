-- Every mode decision that mattered (a switch, or a switch the hysteresis held back), with the
-- manager's reason as JSON: the explainable record of spec §4.3.
CREATE TABLE trading_mode_history (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    cohort_id BIGINT NOT NULL REFERENCES cohorts (id),
    symbol TEXT NOT NULL,
    from_mode TEXT NOT NULL CHECK (from_mode IN ('HOLD', 'GRID', 'CASH')),
    to_mode TEXT NOT NULL CHECK (to_mode IN ('HOLD', 'GRID', 'CASH')),
    switched BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    regime TEXT,
    probability TEXT,
    duration_days BIGINT
);
CREATE INDEX trading_mode_history_at ON trading_mode_history (cohort_id, at);

-- The hourly portfolio snapshot of one orchestrator: equity = cash + holdings exactly, and the
-- value held per symbol (JSON object of decimal strings).
CREATE TABLE equity_snapshots (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    cohort_id BIGINT NOT NULL REFERENCES cohorts (id),
    cash TEXT NOT NULL,
    holdings TEXT NOT NULL,
    equity TEXT NOT NULL,
    positions TEXT NOT NULL,
    UNIQUE (cohort_id, at)
);
