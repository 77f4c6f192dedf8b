ALTER TABLE equity_snapshots DROP COLUMN prices;
