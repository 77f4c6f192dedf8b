DROP TABLE regime_history;
DROP TABLE profit_redistributions;
DROP TABLE index_holdings;
DROP TABLE portfolio_snapshots;
DROP TABLE portfolio_tiers;
