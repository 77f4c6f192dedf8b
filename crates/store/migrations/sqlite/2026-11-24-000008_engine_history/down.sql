DROP TABLE equity_snapshots;
DROP TABLE trading_mode_history;
