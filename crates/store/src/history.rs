//! The engine's history: every mode decision that mattered (`trading_mode_history`) and the
//! hourly equity snapshots (`equity_snapshots`), so that the Telegram `/mode` and `/report`
//! answers, the validator and a post-mortem read what happened from the database.
//!
//! Written with plain SQL on both backends (two small tables, no joins); money is canonical
//! decimal text and times are UTC milliseconds, as everywhere in the store.

use std::collections::BTreeMap;

use diesel::{
    sql_types::{BigInt, Bool, Nullable, Text},
    QueryableByName, RunQueryDsl,
};
use hybrid_core::{CohortId, Notional, Price, Regime, Symbol, Timestamp, TradingMode};
use rust_decimal::Decimal;

use crate::{error::StoreError, raw::run_sql, store::Store};

/// One mode decision of one symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeRecord {
    /// When it was taken.
    pub at: Timestamp,
    /// The orchestrator's cohort.
    pub cohort: CohortId,
    /// The symbol.
    pub symbol: Symbol,
    /// The mode before.
    pub from: TradingMode,
    /// The mode after (the same as `from` when the switch was held back).
    pub to: TradingMode,
    /// Whether the mode changed.
    pub switched: bool,
    /// The manager's reason, as JSON (`{"kind": "cooldown", …}`).
    pub reason: String,
    /// The regime the detector reported.
    pub regime: Option<Regime>,
    /// Its probability.
    pub probability: Option<Decimal>,
    /// How many days it had lasted.
    pub duration_days: Option<u32>,
}

/// One hourly snapshot of an orchestrator's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquityRecord {
    /// When (a candle's close).
    pub at: Timestamp,
    /// The orchestrator's cohort.
    pub cohort: CohortId,
    /// Quote balance, free and locked.
    pub cash: Notional,
    /// Coins at their last prices.
    pub holdings: Notional,
    /// `cash + holdings`.
    pub equity: Notional,
    /// Value held per symbol, in quote.
    pub positions: BTreeMap<Symbol, Notional>,
    /// Last price of every traded symbol (held or not), in quote; empty in rows written
    /// before prices were recorded.
    pub prices: BTreeMap<Symbol, Price>,
}

#[derive(QueryableByName)]
struct ModeRow {
    #[diesel(sql_type = BigInt)]
    at: i64,
    #[diesel(sql_type = BigInt)]
    cohort_id: i64,
    #[diesel(sql_type = Text)]
    symbol: String,
    #[diesel(sql_type = Text)]
    from_mode: String,
    #[diesel(sql_type = Text)]
    to_mode: String,
    #[diesel(sql_type = Bool)]
    switched: bool,
    #[diesel(sql_type = Text)]
    reason: String,
    #[diesel(sql_type = Nullable<Text>)]
    regime: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    probability: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    duration_days: Option<i64>,
}

#[derive(QueryableByName)]
struct EquityRow {
    #[diesel(sql_type = BigInt)]
    at: i64,
    #[diesel(sql_type = BigInt)]
    cohort_id: i64,
    #[diesel(sql_type = Text)]
    cash: String,
    #[diesel(sql_type = Text)]
    holdings: String,
    #[diesel(sql_type = Text)]
    equity: String,
    #[diesel(sql_type = Text)]
    positions: String,
    #[diesel(sql_type = Text)]
    prices: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    cohort_id: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn corrupt(table: &'static str, column: &'static str, value: &str, reason: String) -> StoreError {
    StoreError::Corrupt {
        table,
        column,
        value: value.chars().take(80).collect(),
        reason,
    }
}

fn decimal(table: &'static str, column: &'static str, text: &str) -> Result<Decimal, StoreError> {
    text.parse::<Decimal>()
        .map_err(|e| corrupt(table, column, text, e.to_string()))
}

impl Store {
    /// Appends one mode decision.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure (e.g. an unknown cohort).
    pub fn record_mode_decision(&self, record: &ModeRecord) -> Result<(), StoreError> {
        let mut guard = self.lock()?;
        run_sql!(
            guard,
            "INSERT INTO trading_mode_history (at, cohort_id, symbol, from_mode, to_mode, \
             switched, reason, regime, probability, duration_days) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            |q| q
                .bind::<BigInt, _>(record.at.as_millis())
                .bind::<BigInt, _>(i64::from(record.cohort.get()))
                .bind::<Text, _>(record.symbol.as_str())
                .bind::<Text, _>(record.from.as_str())
                .bind::<Text, _>(record.to.as_str())
                .bind::<Bool, _>(record.switched)
                .bind::<Text, _>(&record.reason)
                .bind::<Nullable<Text>, _>(record.regime.map(Regime::as_str))
                .bind::<Nullable<Text>, _>(record.probability.map(|p| p.normalize().to_string()))
                .bind::<Nullable<BigInt>, _>(record.duration_days.map(i64::from)),
            execute
        )?;
        Ok(())
    }

    /// The latest `limit` mode decisions, newest first, of one cohort or all.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn mode_history(
        &self,
        cohort: Option<CohortId>,
        limit: u32,
    ) -> Result<Vec<ModeRecord>, StoreError> {
        let mut guard = self.lock()?;
        let rows: Vec<ModeRow> = run_sql!(
            guard,
            "SELECT at, cohort_id, symbol, from_mode, to_mode, switched, reason, regime, \
             probability, duration_days FROM trading_mode_history \
             WHERE (? < 0 OR cohort_id = ?) ORDER BY at DESC, id DESC LIMIT ?",
            |q| q
                .bind::<BigInt, _>(cohort.map_or(-1, |c| i64::from(c.get())))
                .bind::<BigInt, _>(cohort.map_or(-1, |c| i64::from(c.get())))
                .bind::<BigInt, _>(i64::from(limit)),
            load
        )?;
        drop(guard);
        rows.into_iter().map(mode_record).collect()
    }

    /// Writes the hourly snapshot (replacing one already written for the same time).
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure.
    pub fn record_equity_snapshot(&self, record: &EquityRecord) -> Result<(), StoreError> {
        let positions: BTreeMap<&str, String> = record
            .positions
            .iter()
            .map(|(symbol, value)| (symbol.as_str(), value.value().normalize().to_string()))
            .collect();
        let positions = serde_json::to_string(&positions).map_err(|e| {
            corrupt(
                "equity_snapshots",
                "positions",
                "",
                format!("cannot serialise: {e}"),
            )
        })?;
        let prices: BTreeMap<&str, String> = record
            .prices
            .iter()
            .map(|(symbol, price)| (symbol.as_str(), price.value().normalize().to_string()))
            .collect();
        let prices = serde_json::to_string(&prices).map_err(|e| {
            corrupt(
                "equity_snapshots",
                "prices",
                "",
                format!("cannot serialise: {e}"),
            )
        })?;
        let mut guard = self.lock()?;
        run_sql!(
            guard,
            "DELETE FROM equity_snapshots WHERE cohort_id = ? AND at = ?",
            |q| q
                .bind::<BigInt, _>(i64::from(record.cohort.get()))
                .bind::<BigInt, _>(record.at.as_millis()),
            execute
        )?;
        run_sql!(
            guard,
            "INSERT INTO equity_snapshots (at, cohort_id, cash, holdings, equity, positions, \
             prices) VALUES (?, ?, ?, ?, ?, ?, ?)",
            |q| q
                .bind::<BigInt, _>(record.at.as_millis())
                .bind::<BigInt, _>(i64::from(record.cohort.get()))
                .bind::<Text, _>(record.cash.value().normalize().to_string())
                .bind::<Text, _>(record.holdings.value().normalize().to_string())
                .bind::<Text, _>(record.equity.value().normalize().to_string())
                .bind::<Text, _>(&positions)
                .bind::<Text, _>(&prices),
            execute
        )?;
        Ok(())
    }

    /// How many fills each cohort has booked (cohorts without a fill are left out), for the
    /// `/metrics` page.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad id.
    pub fn fill_counts(&self) -> Result<BTreeMap<CohortId, u64>, StoreError> {
        let mut guard = self.lock()?;
        let rows: Vec<CountRow> = run_sql!(
            guard,
            "SELECT cohort_id, COUNT(*) AS n FROM fills GROUP BY cohort_id",
            |q| q,
            load
        )?;
        drop(guard);
        rows.into_iter()
            .map(|r| {
                Ok((
                    cohort_id("fills", r.cohort_id)?,
                    u64::try_from(r.n).unwrap_or(0),
                ))
            })
            .collect()
    }

    /// The snapshots at or after `since`, oldest first, of one cohort or all.
    ///
    /// # Errors
    /// [`StoreError::Query`] on a database failure; [`StoreError::Corrupt`] for a bad row.
    pub fn equity_snapshots(
        &self,
        cohort: Option<CohortId>,
        since: Timestamp,
    ) -> Result<Vec<EquityRecord>, StoreError> {
        let mut guard = self.lock()?;
        let rows: Vec<EquityRow> = run_sql!(
            guard,
            "SELECT at, cohort_id, cash, holdings, equity, positions, prices FROM equity_snapshots \
             WHERE at >= ? AND (? < 0 OR cohort_id = ?) ORDER BY at, cohort_id",
            |q| q
                .bind::<BigInt, _>(since.as_millis())
                .bind::<BigInt, _>(cohort.map_or(-1, |c| i64::from(c.get())))
                .bind::<BigInt, _>(cohort.map_or(-1, |c| i64::from(c.get()))),
            load
        )?;
        drop(guard);
        rows.into_iter().map(equity_record).collect()
    }
}

fn cohort_id(table: &'static str, id: i64) -> Result<CohortId, StoreError> {
    u32::try_from(id)
        .map(CohortId::new)
        .map_err(|e| corrupt(table, "cohort_id", &id.to_string(), e.to_string()))
}

fn mode_record(row: ModeRow) -> Result<ModeRecord, StoreError> {
    let table = "trading_mode_history";
    let mode = |column: &'static str, text: &str| {
        text.parse::<TradingMode>()
            .map_err(|e| corrupt(table, column, text, e.to_string()))
    };
    Ok(ModeRecord {
        at: Timestamp::from_millis(row.at),
        cohort: cohort_id(table, row.cohort_id)?,
        symbol: Symbol::new(&row.symbol)
            .map_err(|e| corrupt(table, "symbol", &row.symbol, e.to_string()))?,
        from: mode("from_mode", &row.from_mode)?,
        to: mode("to_mode", &row.to_mode)?,
        switched: row.switched,
        reason: row.reason,
        regime: row
            .regime
            .map(|text| {
                text.parse::<Regime>()
                    .map_err(|e| corrupt(table, "regime", &text, e.to_string()))
            })
            .transpose()?,
        probability: row
            .probability
            .map(|text| decimal(table, "probability", &text))
            .transpose()?,
        duration_days: row
            .duration_days
            .map(|d| u32::try_from(d).unwrap_or(u32::MAX)),
    })
}

fn equity_record(row: EquityRow) -> Result<EquityRecord, StoreError> {
    let table = "equity_snapshots";
    let texts: BTreeMap<String, String> = serde_json::from_str(&row.positions)
        .map_err(|e| corrupt(table, "positions", &row.positions, e.to_string()))?;
    let mut positions = BTreeMap::new();
    for (symbol, value) in texts {
        let symbol = Symbol::new(&symbol)
            .map_err(|e| corrupt(table, "positions", &symbol, e.to_string()))?;
        positions.insert(symbol, Notional::new(decimal(table, "positions", &value)?));
    }
    let texts: BTreeMap<String, String> = serde_json::from_str(&row.prices)
        .map_err(|e| corrupt(table, "prices", &row.prices, e.to_string()))?;
    let mut prices = BTreeMap::new();
    for (symbol, value) in texts {
        let symbol =
            Symbol::new(&symbol).map_err(|e| corrupt(table, "prices", &symbol, e.to_string()))?;
        let price = Price::new(decimal(table, "prices", &value)?)
            .map_err(|e| corrupt(table, "prices", &value, e.to_string()))?;
        prices.insert(symbol, price);
    }
    Ok(EquityRecord {
        at: Timestamp::from_millis(row.at),
        cohort: cohort_id(table, row.cohort_id)?,
        cash: Notional::new(decimal(table, "cash", &row.cash)?),
        holdings: Notional::new(decimal(table, "holdings", &row.holdings)?),
        equity: Notional::new(decimal(table, "equity", &row.equity)?),
        positions,
        prices,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rust_decimal_macros::dec;

    use super::*;
    use crate::NewCohort;

    fn on_both_backends(test: &str, check: impl Fn(&Store)) {
        let sqlite = Store::open("sqlite::memory:").unwrap();
        sqlite.run_migrations().unwrap();
        check(&sqlite);
        if let Some(schema) = hybrid_testkit::pg::pg_test_schema(test) {
            let pg = Store::open(schema.url()).unwrap();
            pg.run_migrations().unwrap();
            check(&pg);
        }
    }

    fn cohort(store: &Store, name: &str) -> CohortId {
        store
            .upsert_cohort(
                &NewCohort {
                    name: name.to_owned(),
                    description: String::new(),
                    config: serde_json::Value::Null,
                    starting_capital: dec!(1000),
                    is_active: true,
                },
                Timestamp::from_millis(0),
            )
            .unwrap()
            .id
    }

    #[test]
    fn mode_decisions_and_equity_snapshots_round_trip_exactly() {
        on_both_backends("history_round_trip", |store| {
            let (a, b) = (cohort(store, "a"), cohort(store, "b"));
            let btc = Symbol::new("BTCUSDT").unwrap();
            let decision = |at: i64, cohort, switched| ModeRecord {
                at: Timestamp::from_millis(at),
                cohort,
                symbol: btc.clone(),
                from: TradingMode::Grid,
                to: if switched {
                    TradingMode::Hold
                } else {
                    TradingMode::Grid
                },
                switched,
                reason: r#"{"kind":"cooldown"}"#.to_owned(),
                regime: Some(Regime::Bull),
                probability: Some(dec!(0.91234)),
                duration_days: Some(3),
            };
            store.record_mode_decision(&decision(1, a, false)).unwrap();
            store.record_mode_decision(&decision(2, a, true)).unwrap();
            store.record_mode_decision(&decision(3, b, false)).unwrap();
            let of_a = store.mode_history(Some(a), 10).unwrap();
            assert_eq!(of_a, vec![decision(2, a, true), decision(1, a, false)]);
            assert_eq!(store.mode_history(None, 2).unwrap().len(), 2);

            let snapshot = |at: i64, equity| EquityRecord {
                at: Timestamp::from_millis(at),
                cohort: a,
                cash: Notional::new(dec!(400.123456789)),
                holdings: Notional::new(equity - dec!(400.123456789)),
                equity: Notional::new(equity),
                positions: [(btc.clone(), Notional::new(equity - dec!(400.123456789)))]
                    .into_iter()
                    .collect(),
                prices: [(btc.clone(), Price::new(dec!(42123.45)).unwrap())]
                    .into_iter()
                    .collect(),
            };
            store
                .record_equity_snapshot(&snapshot(10, dec!(1000)))
                .unwrap();
            // The same hour written again (a restart) replaces it.
            store
                .record_equity_snapshot(&snapshot(10, dec!(1001.5)))
                .unwrap();
            store
                .record_equity_snapshot(&snapshot(20, dec!(990)))
                .unwrap();
            let all = store
                .equity_snapshots(Some(a), Timestamp::from_millis(0))
                .unwrap();
            assert_eq!(
                all,
                vec![snapshot(10, dec!(1001.5)), snapshot(20, dec!(990))]
            );
            assert!(store
                .equity_snapshots(Some(b), Timestamp::from_millis(0))
                .unwrap()
                .is_empty());
        });
    }
}
