-- The last price of every traded symbol at each hourly snapshot (JSON object of decimal
-- strings), so the cockpit can draw prices and buy-and-hold from the database alone.
ALTER TABLE equity_snapshots ADD COLUMN prices TEXT NOT NULL DEFAULT '{}';
