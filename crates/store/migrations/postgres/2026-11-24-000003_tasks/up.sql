-- Scheduled task runs: one row per run, so that overlapping runs of a task would show.
CREATE TABLE task_runs (
    id BIGSERIAL PRIMARY KEY,
    task TEXT NOT NULL,
    owner TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    outcome TEXT
);
CREATE INDEX task_runs_task_started ON task_runs (task, started_at);
