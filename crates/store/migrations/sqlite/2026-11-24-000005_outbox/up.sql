-- The notification outbox: every Telegram notification is written here first (by the engine,
-- the scheduler or the watchdog) and sent later by the `telegram` process, so a Telegram
-- outage never blocks trading and nothing queued is lost across restarts. Rows are delivered
-- in id order; `parts_sent` records how many parts of a split message already went out, so a
-- retry never repeats one. No foreign key on cohort_id: a notification must never fail to
-- queue because of the row it talks about.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at BIGINT NOT NULL,
    cohort_id BIGINT,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('routine', 'important', 'critical')),
    text TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'suppressed', 'abandoned')),
    attempts BIGINT NOT NULL DEFAULT 0,
    parts_sent BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    finished_at BIGINT
);
CREATE INDEX outbox_pending ON outbox (status, id);
