//! Tests that need the raw connection: what happens to rows changed behind the store's back,
//! and the shape of the migration folders.

use diesel::{connection::SimpleConnection, RunQueryDsl};
use hybrid_core::{
    ClientOrderId, CohortId, Notional, Order, OrderKind, OrderStatus, Quantity, Side, Symbol,
    Timestamp,
};
use rust_decimal_macros::dec;

use crate::{
    cohorts::NewCohort,
    events::NewEvent,
    store::{AnyConnection, Store},
    StoreError,
};

/// Runs `check` on a migrated in-memory SQLite store and, when the server is reachable, on a
/// migrated PostgreSQL test schema.
fn on_both_backends(test: &str, check: impl Fn(&Store)) {
    let sqlite = Store::open("sqlite::memory:").unwrap();
    sqlite.run_migrations().unwrap();
    check(&sqlite);
    if let Some(schema) = hybrid_testkit::pg::pg_test_schema(test) {
        let pg = Store::open(schema.url()).unwrap();
        pg.run_migrations().unwrap();
        check(&pg);
        drop(pg);
    }
}

/// Executes raw SQL on the store's connection.
fn raw_sql(store: &Store, sql: &str) -> Result<(), diesel::result::Error> {
    match &mut *store.lock().unwrap() {
        AnyConnection::Sqlite(conn) => conn.batch_execute(sql),
        AnyConnection::Pg(conn) => conn.batch_execute(sql),
    }
}

fn cohort(store: &Store) -> CohortId {
    let new = NewCohort {
        name: "raw".to_owned(),
        description: String::new(),
        config: serde_json::json!({}),
        starting_capital: dec!(1000),
        is_active: true,
    };
    store
        .upsert_cohort(&new, Timestamp::from_millis(0))
        .unwrap()
        .id
}

#[test]
fn a_value_that_no_longer_parses_is_reported_as_corrupt() {
    on_both_backends(
        "a_value_that_no_longer_parses_is_reported_as_corrupt",
        |store| {
            let cohort = cohort(store);
            let symbol = Symbol::new("BTCUSDT").unwrap();
            let order = Order {
                client_order_id: ClientOrderId::new(cohort, &symbol, 1).unwrap(),
                exchange_order_id: None,
                cohort,
                symbol,
                side: Side::Sell,
                kind: OrderKind::Market,
                time_in_force: None,
                price: None,
                quantity: Quantity::new(dec!(1)).unwrap(),
                filled_quantity: Quantity::ZERO,
                filled_quote: Notional::ZERO,
                status: OrderStatus::PendingNew,
                created_at: Timestamp::from_millis(1),
                updated_at: Timestamp::from_millis(1),
            };
            store.insert_order(&order).unwrap();
            assert_eq!(
                store.get_order(&order.client_order_id).unwrap(),
                Some(order.clone())
            );

            raw_sql(store, "UPDATE orders SET quantity = '1,5'").unwrap();
            let err = store.get_order(&order.client_order_id).unwrap_err();
            assert!(
                matches!(
                    err,
                    StoreError::Corrupt {
                        table: "orders",
                        column: "quantity",
                        ..
                    }
                ),
                "{err}"
            );
            assert!(err.to_string().contains("\"1,5\""), "{err}");

            raw_sql(store, "UPDATE orders SET quantity = '1', status = 'DONE'").unwrap();
            let err = store.get_order(&order.client_order_id).unwrap_err();
            assert!(err.to_string().contains("orders.status"), "{err}");
        },
    );
}

#[test]
fn the_event_log_refuses_updates_and_deletes() {
    on_both_backends("the_event_log_refuses_updates_and_deletes", |store| {
        let event = NewEvent {
            at: Timestamp::from_millis(5),
            cohort: None,
            symbol: None,
            kind: "startup".to_owned(),
            message: "started".to_owned(),
            data: None,
        };
        store.append_event(&event).unwrap();
        let update = raw_sql(store, "UPDATE events SET message = 'rewritten'").unwrap_err();
        assert!(update.to_string().contains("append-only"), "{update}");
        let delete = raw_sql(store, "DELETE FROM events").unwrap_err();
        assert!(delete.to_string().contains("append-only"), "{delete}");
        let events = store.recent_events(10).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].message, "started");
    });
}

#[derive(diesel::QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

#[derive(diesel::QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    timeout: i64,
}

#[test]
fn sqlite_files_use_wal_a_busy_timeout_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}/hybrid.db", dir.path().display())).unwrap();
    store.run_migrations().unwrap();
    let (mode, timeout) = match &mut *store.lock().unwrap() {
        AnyConnection::Sqlite(conn) => (
            diesel::sql_query("PRAGMA journal_mode")
                .get_result::<JournalMode>(conn)
                .unwrap()
                .journal_mode,
            diesel::sql_query("PRAGMA busy_timeout")
                .get_result::<BusyTimeout>(conn)
                .unwrap()
                .timeout,
        ),
        AnyConnection::Pg(_) => unreachable!("a sqlite:// url opens SQLite"),
    };
    assert_eq!(mode, "wal");
    assert_eq!(timeout, 5_000);
    let err = raw_sql(
        &store,
        "INSERT INTO order_sequences (cohort_id, symbol, next_sequence) VALUES (42, 'BTCUSDT', 1)",
    )
    .unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
}

#[test]
fn both_backends_have_the_same_migration_versions() {
    let versions = |backend: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let sqlite = versions("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, versions("postgres"));
}

#[test]
fn two_processes_migrating_one_fresh_sqlite_file_both_succeed() {
    // Issue 15, D7: each listed every migration as pending and the second failed on
    // "table task_runs already exists". Two stores on one file stand for two processes.
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (url, barrier) = (url.clone(), std::sync::Arc::clone(&barrier));
                std::thread::spawn(move || {
                    let store = Store::open(&url).unwrap();
                    barrier.wait();
                    store.run_migrations().map(|applied| applied.len())
                })
            })
            .collect();
        let applied: Vec<usize> = handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect();
        let total = Store::open("sqlite::memory:")
            .unwrap()
            .pending_migrations()
            .unwrap()
            .len();
        // One of them applied everything, the other found nothing left to do.
        assert_eq!(applied.iter().sum::<usize>(), total, "{applied:?}");
        assert!(applied.contains(&0), "{applied:?}");
    }
}
