-- Hybrid's first schema (SQLite). Keep in step with ../../postgres/2026-11-24-000001_initial.
-- Money is canonical decimal TEXT (exact on both backends), times are BIGINT UTC milliseconds,
-- JSON is TEXT. Every row that belongs to a cohort carries cohort_id.

-- A strategy variant with its own capital (A/B testing).
CREATE TABLE cohorts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    config TEXT NOT NULL DEFAULT '{}',
    starting_capital TEXT NOT NULL,
    current_capital TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Every order, recorded before it is sent (status PENDING_NEW), then updated with its outcome.
CREATE TABLE orders (
    client_order_id TEXT PRIMARY KEY NOT NULL,
    exchange_order_id BIGINT,
    cohort_id BIGINT NOT NULL REFERENCES cohorts (id),
    symbol TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    kind TEXT NOT NULL,
    time_in_force TEXT,
    price TEXT,
    quantity TEXT NOT NULL,
    filled_quantity TEXT NOT NULL,
    filled_quote TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_cohort_status ON orders (cohort_id, status);
CREATE INDEX orders_symbol_exchange_id ON orders (symbol, exchange_order_id);

-- Every status change of an order (from_status is NULL for the row written on insert).
CREATE TABLE order_status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    at BIGINT NOT NULL,
    note TEXT
);
CREATE INDEX order_status_history_order ON order_status_history (client_order_id, id);

-- The next client order id sequence number per cohort and symbol; never goes back.
CREATE TABLE order_sequences (
    cohort_id BIGINT NOT NULL REFERENCES cohorts (id),
    symbol TEXT NOT NULL,
    next_sequence BIGINT NOT NULL,
    PRIMARY KEY (cohort_id, symbol)
);

-- Executions; one row per exchange trade, so a fill is never booked twice.
CREATE TABLE fills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cohort_id BIGINT NOT NULL REFERENCES cohorts (id),
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    exchange_order_id BIGINT NOT NULL,
    trade_id BIGINT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    price TEXT NOT NULL,
    quantity TEXT NOT NULL,
    commission TEXT NOT NULL,
    commission_asset TEXT NOT NULL,
    is_maker BOOLEAN NOT NULL,
    executed_at BIGINT NOT NULL,
    UNIQUE (symbol, trade_id)
);
CREATE INDEX fills_order ON fills (client_order_id);
CREATE INDEX fills_cohort_time ON fills (cohort_id, executed_at);

-- Buy lots matched FIFO against sells: realised P&L net of fees (fees in quote units).
CREATE TABLE trade_pairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cohort_id BIGINT REFERENCES cohorts (id),
    symbol TEXT NOT NULL,
    parent_pair_id BIGINT REFERENCES trade_pairs (id),
    entry_client_order_id TEXT,
    entry_trade_id BIGINT,
    entry_time BIGINT NOT NULL,
    entry_price TEXT NOT NULL,
    entry_quantity TEXT NOT NULL,
    entry_fee TEXT NOT NULL,
    remaining_quantity TEXT NOT NULL,
    exit_client_order_id TEXT,
    exit_time BIGINT,
    exit_price TEXT,
    exit_quantity TEXT,
    exit_fee TEXT,
    gross_pnl TEXT,
    net_pnl TEXT,
    pnl_pct TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'partial', 'closed')),
    exit_reason TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX trade_pairs_open ON trade_pairs (symbol, cohort_id, status, entry_time, id);
CREATE INDEX trade_pairs_cohort_exit ON trade_pairs (cohort_id, exit_time);

-- Append-only audit log; the triggers refuse changes to history.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    cohort_id BIGINT REFERENCES cohorts (id),
    symbol TEXT,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT
);
CREATE INDEX events_at ON events (at, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events is append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events is append-only');
END;
