//! Repository tests. Every check runs twice: on an in-memory SQLite database and on a fresh
//! schema of the PostgreSQL test server (`HYBRID_TEST_DATABASE_URL`, see `hybrid_testkit::pg`).
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on an unexpected error"
)]

use hybrid_core::{
    Asset, ClientOrderId, CohortId, Fill, Notional, Order, OrderKind, OrderStatus, Price, Quantity,
    Side, Symbol, TimeInForce, Timestamp,
};
use hybrid_store::{
    Backend, ExitReason, NewCohort, NewEvent, PairEntry, PairExit, PairStatus, Store, StoreError,
};
use hybrid_testkit::pg::{pg_test_schema, PgTestSchema};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// Generates `sqlite::<check>` and `postgres::<check>` tests that run `check(&store)` on a fresh,
/// not yet migrated store of each backend.
macro_rules! on_both_backends {
    ($($check:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $check() {
                    super::$check(&super::sqlite_store());
                }
            )+
        }
        mod postgres {
            $(
                #[test]
                fn $check() {
                    let Some((schema, store)) = super::pg_store(stringify!($check)) else {
                        return;
                    };
                    super::$check(&store);
                    // Close the connection before the guard drops the schema.
                    drop(store);
                    drop(schema);
                }
            )+
        }
    };
}

on_both_backends!(
    state_documents_are_replaced_whole,
    migrating_twice_is_a_no_op,
    money_round_trips_exactly,
    orders_are_recorded_once_and_read_back,
    status_changes_follow_the_transition_table,
    illegal_transition_is_refused_and_nothing_is_written,
    open_orders_are_the_non_terminal_ones,
    client_order_ids_come_from_a_persistent_sequence,
    fills_update_their_order_and_are_booked_once,
    bad_fills_are_refused_and_nothing_is_written,
    fifo_close_splits_lots_and_prorates_fees,
    pairs_of_other_cohorts_never_match,
    cohorts_upsert_by_name_and_keep_their_capital,
    events_are_appended_and_read_newest_first,
);

fn sqlite_store() -> Store {
    let store = Store::open("sqlite::memory:").unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store
}

fn pg_store(test: &str) -> Option<(PgTestSchema, Store)> {
    let schema = pg_test_schema(test)?;
    let store = Store::open(schema.url()).unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    Some((schema, store))
}

// ---- fixtures ---------------------------------------------------------------------------------

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn price(value: Decimal) -> Price {
    Price::new(value).unwrap()
}

fn qty(value: Decimal) -> Quantity {
    Quantity::new(value).unwrap()
}

/// Migrates and creates the cohort `name`; returns its id.
fn migrated_with_cohort(store: &Store, name: &str) -> CohortId {
    store.run_migrations().unwrap();
    add_cohort(store, name)
}

fn add_cohort(store: &Store, name: &str) -> CohortId {
    let cohort = NewCohort {
        name: name.to_owned(),
        description: format!("{name} test cohort"),
        config: serde_json::json!({ "grid_spacing_pct": "2", "risk": "low" }),
        starting_capital: dec!(1000),
        is_active: true,
    };
    store.upsert_cohort(&cohort, at(1)).unwrap().id
}

fn limit_buy(store: &Store, cohort: CohortId, price_value: Decimal, quantity: Decimal) -> Order {
    let symbol = btc();
    Order {
        client_order_id: store.next_client_order_id(cohort, &symbol).unwrap(),
        exchange_order_id: None,
        cohort,
        symbol,
        side: Side::Buy,
        kind: OrderKind::Limit,
        time_in_force: Some(TimeInForce::GoodTillCancel),
        price: Some(price(price_value)),
        quantity: qty(quantity),
        filled_quantity: Quantity::ZERO,
        filled_quote: Notional::ZERO,
        status: OrderStatus::PendingNew,
        created_at: at(1_000),
        updated_at: at(1_000),
    }
}

fn fill_of(order: &Order, trade_id: i64, quantity: Decimal, time: i64) -> Fill {
    Fill {
        client_order_id: order.client_order_id.clone(),
        exchange_order_id: 7_000,
        trade_id,
        symbol: order.symbol.clone(),
        side: order.side,
        price: order.price.unwrap(),
        quantity: qty(quantity),
        commission: dec!(0.00000001),
        commission_asset: Asset::new("BNB").unwrap(),
        is_maker: true,
        time: at(time),
    }
}

fn entry(price_value: Decimal, quantity: Decimal, fee: Decimal, time: i64) -> PairEntry {
    PairEntry {
        client_order_id: None,
        trade_id: Some(time),
        time: at(time),
        price: price(price_value),
        quantity: qty(quantity),
        fee: Notional::new(fee),
    }
}

fn exit(price_value: Decimal, quantity: Decimal, fee: Decimal, time: i64) -> PairExit {
    PairExit {
        client_order_id: None,
        time: at(time),
        price: price(price_value),
        quantity: qty(quantity),
        fee: Notional::new(fee),
        reason: ExitReason::GridFill,
    }
}

// ---- checks -----------------------------------------------------------------------------------

fn migrating_twice_is_a_no_op(store: &Store) {
    // Every migration folder, oldest first, so a new store area adds its own without editing
    // this list.
    let mut initial: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    initial.sort();
    assert_eq!(
        initial[..2],
        [
            "2026-11-24-000001_initial",
            "2026-11-24-000002_state_documents"
        ]
    );
    assert_eq!(store.pending_migrations().unwrap(), initial);
    assert_eq!(store.run_migrations().unwrap(), initial);
    assert!(store.pending_migrations().unwrap().is_empty());
    assert!(store.run_migrations().unwrap().is_empty());
    assert!(store.list_cohorts().unwrap().is_empty());
}

fn money_round_trips_exactly(store: &Store) {
    let cohort = migrated_with_cohort(store, "exact");
    let tiny = dec!(0.00000001);
    let big = dec!(123456789.123456789);

    let order = limit_buy(store, cohort, tiny, big);
    store.insert_order(&order).unwrap();
    let stored = store.get_order(&order.client_order_id).unwrap().unwrap();
    assert_eq!(stored, order);
    assert_eq!(stored.price.unwrap().to_string(), "0.00000001");
    assert_eq!(stored.quantity.to_string(), "123456789.123456789");

    let mut fill = fill_of(&order, 1, big, 2_000);
    fill.commission = big;
    assert!(store.record_fill(cohort, &fill).unwrap());
    assert_eq!(
        store.fills_for_order(&order.client_order_id).unwrap(),
        vec![fill]
    );
    let filled = store.get_order(&order.client_order_id).unwrap().unwrap();
    assert_eq!(filled.filled_quantity.value(), big);
    assert_eq!(filled.filled_quote.value(), dec!(1.23456789123456789));

    store.set_cohort_capital(cohort, big, at(3_000)).unwrap();
    assert_eq!(
        store.get_cohort(cohort).unwrap().unwrap().current_capital,
        big
    );
}

fn orders_are_recorded_once_and_read_back(store: &Store) {
    let cohort = migrated_with_cohort(store, "orders");
    let order = limit_buy(store, cohort, dec!(100), dec!(2));
    assert_eq!(store.get_order(&order.client_order_id).unwrap(), None);
    store.insert_order(&order).unwrap();
    assert_eq!(
        store.get_order(&order.client_order_id).unwrap(),
        Some(order.clone())
    );

    let mut again = order.clone();
    again.quantity = qty(dec!(5));
    let err = store.insert_order(&again).unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { what: "order", .. }),
        "{err}"
    );
    assert_eq!(
        store.get_order(&order.client_order_id).unwrap(),
        Some(order.clone())
    );

    let mut orphan = limit_buy(store, cohort, dec!(100), dec!(1));
    orphan.cohort = CohortId::new(999);
    let err = store.insert_order(&orphan).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "cohort", .. }),
        "{err}"
    );

    let history = store.order_status_history(&order.client_order_id).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].from, history[0].to),
        (None, OrderStatus::PendingNew)
    );
}

fn status_changes_follow_the_transition_table(store: &Store) {
    let cohort = migrated_with_cohort(store, "status");
    let order = limit_buy(store, cohort, dec!(100), dec!(2));
    let id = &order.client_order_id;
    store.insert_order(&order).unwrap();

    let acked = store
        .update_order_status(id, OrderStatus::New, Some(42), at(2_000), Some("placed"))
        .unwrap();
    assert_eq!(
        (acked.status, acked.exchange_order_id),
        (OrderStatus::New, Some(42))
    );
    // A repeated report is accepted and adds no history row.
    store
        .update_order_status(id, OrderStatus::New, None, at(2_500), None)
        .unwrap();
    let err = store
        .update_order_status(id, OrderStatus::Canceled, Some(43), at(3_000), None)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let canceled = store
        .update_order_status(
            id,
            OrderStatus::Canceled,
            Some(42),
            at(3_000),
            Some("by grid"),
        )
        .unwrap();
    assert_eq!(store.get_order(id).unwrap(), Some(canceled));

    let history = store.order_status_history(id).unwrap();
    let steps: Vec<_> = history
        .iter()
        .map(|c| (c.from, c.to, c.at.as_millis()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (None, OrderStatus::PendingNew, 1_000),
            (Some(OrderStatus::PendingNew), OrderStatus::New, 2_000),
            (Some(OrderStatus::New), OrderStatus::Canceled, 3_000),
        ]
    );
    assert_eq!(history[1].note.as_deref(), Some("placed"));

    let unknown = ClientOrderId::parse("hy1-BTCUSDT-zzz").unwrap();
    let err = store
        .update_order_status(&unknown, OrderStatus::New, None, at(1), None)
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "order", .. }),
        "{err}"
    );
}

fn illegal_transition_is_refused_and_nothing_is_written(store: &Store) {
    let cohort = migrated_with_cohort(store, "illegal");
    let order = limit_buy(store, cohort, dec!(100), dec!(2));
    let id = &order.client_order_id;
    store.insert_order(&order).unwrap();
    store
        .update_order_status(id, OrderStatus::Filled, Some(9), at(2_000), None)
        .unwrap();
    let before = store.get_order(id).unwrap();
    let history_before = store.order_status_history(id).unwrap();

    let err = store
        .update_order_status(id, OrderStatus::New, None, at(3_000), Some("late ack"))
        .unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err}");
    assert!(
        err.to_string().contains("illegal order status transition"),
        "{err}"
    );
    assert_eq!(store.get_order(id).unwrap(), before);
    assert_eq!(store.order_status_history(id).unwrap(), history_before);
}

fn open_orders_are_the_non_terminal_ones(store: &Store) {
    let first = migrated_with_cohort(store, "first");
    let second = add_cohort(store, "second");
    let pending = limit_buy(store, first, dec!(100), dec!(1));
    let live = limit_buy(store, first, dec!(101), dec!(1));
    let done = limit_buy(store, first, dec!(102), dec!(1));
    let other = limit_buy(store, second, dec!(103), dec!(1));
    for order in [&pending, &live, &done, &other] {
        store.insert_order(order).unwrap();
    }
    store
        .update_order_status(
            &live.client_order_id,
            OrderStatus::New,
            Some(1),
            at(2),
            None,
        )
        .unwrap();
    store
        .update_order_status(
            &done.client_order_id,
            OrderStatus::Rejected,
            None,
            at(2),
            None,
        )
        .unwrap();

    let ids = |orders: Vec<Order>| -> Vec<ClientOrderId> {
        orders.into_iter().map(|o| o.client_order_id).collect()
    };
    assert_eq!(
        ids(store.open_orders(Some(first)).unwrap()),
        vec![
            pending.client_order_id.clone(),
            live.client_order_id.clone()
        ]
    );
    assert_eq!(store.open_orders(None).unwrap().len(), 3);
    assert_eq!(
        ids(store.open_orders(Some(second)).unwrap()),
        vec![other.client_order_id]
    );
}

fn client_order_ids_come_from_a_persistent_sequence(store: &Store) {
    let cohort = migrated_with_cohort(store, "sequence");
    let eth = Symbol::new("ETHUSDT").unwrap();
    let sequence = |symbol: &Symbol| {
        let id = store.next_client_order_id(cohort, symbol).unwrap();
        let (decoded_cohort, decoded_symbol, n) = id.decode().unwrap();
        assert_eq!((decoded_cohort, &decoded_symbol), (cohort, symbol));
        n
    };
    assert_eq!(sequence(&btc()), 1);
    assert_eq!(sequence(&btc()), 2);
    assert_eq!(sequence(&eth), 1);
    assert_eq!(sequence(&btc()), 3);
    let other = add_cohort(store, "other");
    assert_eq!(
        store
            .next_client_order_id(other, &btc())
            .unwrap()
            .decode()
            .unwrap()
            .2,
        1
    );

    let err = store
        .next_client_order_id(CohortId::new(999), &btc())
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "cohort", .. }),
        "{err}"
    );
}

fn fills_update_their_order_and_are_booked_once(store: &Store) {
    let cohort = migrated_with_cohort(store, "fills");
    let order = limit_buy(store, cohort, dec!(100), dec!(2));
    let id = &order.client_order_id;
    store.insert_order(&order).unwrap();
    store
        .update_order_status(id, OrderStatus::New, Some(7_000), at(1_500), None)
        .unwrap();

    let first = fill_of(&order, 11, dec!(0.5), 2_000);
    assert!(store.record_fill(cohort, &first).unwrap());
    let partial = store.get_order(id).unwrap().unwrap();
    assert_eq!(partial.status, OrderStatus::PartiallyFilled);
    assert_eq!(partial.filled_quantity, qty(dec!(0.5)));
    assert_eq!(partial.filled_quote.value(), dec!(50));

    // The same trade reported again (reconciliation) is a no-op, not a double booking.
    assert!(!store.record_fill(cohort, &first).unwrap());
    assert_eq!(store.get_order(id).unwrap().unwrap(), partial);

    let second = fill_of(&order, 12, dec!(1.5), 3_000);
    assert!(store.record_fill(cohort, &second).unwrap());
    let filled = store.get_order(id).unwrap().unwrap();
    assert_eq!(filled.status, OrderStatus::Filled);
    assert_eq!(filled.filled_quantity, qty(dec!(2)));
    assert_eq!(filled.filled_quote.value(), dec!(200));
    assert_eq!(filled.updated_at, at(3_000));
    assert_eq!(store.fills_for_order(id).unwrap(), vec![first, second]);
    assert!(store.open_orders(Some(cohort)).unwrap().is_empty());

    let statuses: Vec<_> = store
        .order_status_history(id)
        .unwrap()
        .into_iter()
        .map(|c| c.to)
        .collect();
    assert_eq!(
        statuses,
        vec![
            OrderStatus::PendingNew,
            OrderStatus::New,
            OrderStatus::PartiallyFilled,
            OrderStatus::Filled
        ]
    );
}

fn bad_fills_are_refused_and_nothing_is_written(store: &Store) {
    let cohort = migrated_with_cohort(store, "bad-fills");
    let other = add_cohort(store, "someone-else");
    let order = limit_buy(store, cohort, dec!(100), dec!(1));
    let id = &order.client_order_id;
    store.insert_order(&order).unwrap();

    let overfill = fill_of(&order, 21, dec!(1.5), 2_000);
    let err = store.record_fill(cohort, &overfill).unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err}");

    let err = store
        .record_fill(other, &fill_of(&order, 22, dec!(0.5), 2_000))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { what: "fill", .. }),
        "{err}"
    );

    let mut unknown = fill_of(&order, 23, dec!(0.5), 2_000);
    unknown.client_order_id = ClientOrderId::parse("web_foreign_1").unwrap();
    let err = store.record_fill(cohort, &unknown).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "order", .. }),
        "{err}"
    );

    assert!(store.fills_for_order(id).unwrap().is_empty());
    assert_eq!(store.get_order(id).unwrap(), Some(order.clone()));
    // The refused overfill left no trace: the same trade id can still be booked correctly.
    assert!(store
        .record_fill(cohort, &fill_of(&order, 21, dec!(1), 2_000))
        .unwrap());
}

fn fifo_close_splits_lots_and_prorates_fees(store: &Store) {
    let cohort = Some(migrated_with_cohort(store, "fifo"));
    let symbol = btc();
    let lot_a = store
        .open_trade_pair(
            cohort,
            &symbol,
            &entry(dec!(100), dec!(1), dec!(0.1), 1_000),
        )
        .unwrap();
    let lot_b = store
        .open_trade_pair(
            cohort,
            &symbol,
            &entry(dec!(80), dec!(2), dec!(0.22), 2_000),
        )
        .unwrap();
    assert_eq!(
        (lot_a.status, lot_a.remaining_quantity),
        (PairStatus::Open, qty(dec!(1)))
    );

    // Sell 1.5 @ 120 with a 0.18 fee: all of lot A, then 0.5 of lot B.
    let first = store
        .close_trade_pairs_fifo(
            cohort,
            &symbol,
            &exit(dec!(120), dec!(1.5), dec!(0.18), 5_000),
        )
        .unwrap();
    assert_eq!(first.unmatched_quantity, Quantity::ZERO);
    assert_eq!(first.closed.len(), 2);
    // Lot A, closed in place: gross (120-100)*1 = 20; exit fee share 0.18*1/1.5 = 0.12;
    // net 20 - 0.1 - 0.12 = 19.78; 19.78 / 100 * 100 = 19.78 %.
    let a = &first.closed[0];
    let a_close = a.close.as_ref().unwrap();
    assert_eq!(
        (a.id, a.status, a.parent_id),
        (lot_a.id, PairStatus::Closed, None)
    );
    assert_eq!(a.remaining_quantity, Quantity::ZERO);
    assert_eq!(a_close.quantity, qty(dec!(1)));
    assert_eq!(a_close.fee.value(), dec!(0.12));
    assert_eq!(a_close.gross_pnl.value(), dec!(20));
    assert_eq!(a_close.net_pnl.value(), dec!(19.78));
    assert_eq!(a_close.pnl_pct, dec!(19.78));
    assert_eq!(a.hold_millis(), Some(4_000));
    // 0.5 split off lot B: gross (120-80)*0.5 = 20; entry fee share 0.22*0.5/2 = 0.055;
    // exit fee = what is left of 0.18 = 0.06; net 20 - 0.055 - 0.06 = 19.885;
    // 19.885 / 40 * 100 = 49.7125 %.
    let b_part = &first.closed[1];
    let b_close = b_part.close.as_ref().unwrap();
    assert_eq!(b_part.parent_id, Some(lot_b.id));
    assert_ne!(b_part.id, lot_b.id);
    assert_eq!(b_part.entry_quantity, qty(dec!(0.5)));
    assert_eq!(b_part.entry_fee.value(), dec!(0.055));
    assert_eq!(b_part.entry_price, price(dec!(80)));
    assert_eq!(b_close.fee.value(), dec!(0.06));
    assert_eq!(b_close.gross_pnl.value(), dec!(20));
    assert_eq!(b_close.net_pnl.value(), dec!(19.885));
    assert_eq!(b_close.pnl_pct, dec!(49.7125));
    assert_eq!(first.net_pnl().value(), dec!(39.665));

    // Lot B keeps the rest: 1.5 with the rest of its fee, status partial.
    let open = store.open_trade_pairs(cohort, &symbol).unwrap();
    assert_eq!(open.len(), 1);
    let rest = &open[0];
    assert_eq!((rest.id, rest.status), (lot_b.id, PairStatus::Partial));
    assert_eq!(rest.entry_quantity, qty(dec!(1.5)));
    assert_eq!(rest.remaining_quantity, qty(dec!(1.5)));
    assert_eq!(rest.entry_fee.value(), dec!(0.165));
    assert_eq!(rest.entry_time, at(2_000));

    // Sell 2 @ 90 with a 0.09 fee, stop-loss: closes the 1.5 left; 0.5 finds no lot.
    // Exit fee share 0.09*1.5/2 = 0.0675; gross (90-80)*1.5 = 15;
    // net 15 - 0.165 - 0.0675 = 14.7675; 14.7675 / 120 * 100 = 12.30625 %.
    let mut stop = exit(dec!(90), dec!(2), dec!(0.09), 6_000);
    stop.reason = ExitReason::StopLoss;
    let second = store
        .close_trade_pairs_fifo(cohort, &symbol, &stop)
        .unwrap();
    assert_eq!(second.unmatched_quantity, qty(dec!(0.5)));
    assert_eq!(second.closed.len(), 1);
    let b = &second.closed[0];
    let b_close = b.close.as_ref().unwrap();
    assert_eq!((b.id, b.status), (lot_b.id, PairStatus::Closed));
    assert_eq!(b_close.fee.value(), dec!(0.0675));
    assert_eq!(b_close.gross_pnl.value(), dec!(15));
    assert_eq!(b_close.net_pnl.value(), dec!(14.7675));
    assert_eq!(b_close.pnl_pct, dec!(12.30625));
    assert_eq!(b_close.reason, ExitReason::StopLoss);
    assert!(store.open_trade_pairs(cohort, &symbol).unwrap().is_empty());

    // Closed rows, most recent exit first; their net P&L adds up to the two sells' total.
    let closed = store.closed_trade_pairs(cohort, 10).unwrap();
    assert_eq!(closed.len(), 3);
    assert_eq!(closed[0].id, lot_b.id);
    let total: Notional = closed
        .iter()
        .map(|p| p.close.as_ref().unwrap().net_pnl)
        .sum();
    assert_eq!(total.value(), dec!(54.4325));
    let entry_fees: Notional = closed.iter().map(|p| p.entry_fee).sum();
    assert_eq!(entry_fees.value(), dec!(0.32));

    // Selling with nothing open books nothing.
    let nothing = store
        .close_trade_pairs_fifo(cohort, &symbol, &exit(dec!(90), dec!(1), dec!(0.01), 7_000))
        .unwrap();
    assert!(nothing.closed.is_empty());
    assert_eq!(nothing.unmatched_quantity, qty(dec!(1)));
}

fn pairs_of_other_cohorts_never_match(store: &Store) {
    let mine = Some(migrated_with_cohort(store, "mine"));
    let theirs = Some(add_cohort(store, "theirs"));
    let symbol = btc();
    let eth = Symbol::new("ETHUSDT").unwrap();
    let no_cohort = store
        .open_trade_pair(None, &symbol, &entry(dec!(10), dec!(1), dec!(0), 1))
        .unwrap();
    let their_lot = store
        .open_trade_pair(theirs, &symbol, &entry(dec!(10), dec!(1), dec!(0), 2))
        .unwrap();
    let my_eth = store
        .open_trade_pair(mine, &eth, &entry(dec!(10), dec!(1), dec!(0), 3))
        .unwrap();
    let my_lot = store
        .open_trade_pair(mine, &symbol, &entry(dec!(10), dec!(1), dec!(0), 4))
        .unwrap();

    let closed = store
        .close_trade_pairs_fifo(mine, &symbol, &exit(dec!(11), dec!(5), dec!(0), 10))
        .unwrap();
    let ids: Vec<i64> = closed.closed.iter().map(|p| p.id).collect();
    assert_eq!(ids, vec![my_lot.id]);
    assert_eq!(closed.unmatched_quantity, qty(dec!(4)));

    let closed = store
        .close_trade_pairs_fifo(None, &symbol, &exit(dec!(11), dec!(5), dec!(0), 11))
        .unwrap();
    let ids: Vec<i64> = closed.closed.iter().map(|p| p.id).collect();
    assert_eq!(ids, vec![no_cohort.id]);
    assert_eq!(closed.closed[0].cohort, None);

    assert_eq!(
        store.open_trade_pairs(theirs, &symbol).unwrap(),
        vec![their_lot]
    );
    assert_eq!(store.open_trade_pairs(mine, &eth).unwrap(), vec![my_eth]);
    assert!(store.open_trade_pairs(None, &symbol).unwrap().is_empty());

    let err = store
        .open_trade_pair(
            Some(CohortId::new(999)),
            &symbol,
            &entry(dec!(1), dec!(1), dec!(0), 1),
        )
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "cohort", .. }),
        "{err}"
    );
}

fn cohorts_upsert_by_name_and_keep_their_capital(store: &Store) {
    store.run_migrations().unwrap();
    let mut config = NewCohort {
        name: "balanced".to_owned(),
        description: "medium risk".to_owned(),
        config: serde_json::json!({ "grid_spacing_pct": 5, "use_playbook": true }),
        starting_capital: dec!(1000),
        is_active: true,
    };
    let created = store.upsert_cohort(&config, at(10)).unwrap();
    assert_eq!(created.current_capital, dec!(1000));
    assert_eq!(created.config, config.config);
    assert_eq!((created.created_at, created.updated_at), (at(10), at(10)));

    store
        .set_cohort_capital(created.id, dec!(1012.5), at(20))
        .unwrap();
    config.description = "medium risk, tuned".to_owned();
    config.starting_capital = dec!(2000);
    config.is_active = false;
    let updated = store.upsert_cohort(&config, at(30)).unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.description, "medium risk, tuned");
    assert_eq!(updated.starting_capital, dec!(2000));
    assert_eq!(updated.current_capital, dec!(1012.5));
    assert!(!updated.is_active);
    assert_eq!((updated.created_at, updated.updated_at), (at(10), at(30)));

    let other = add_cohort(store, "aggressive");
    assert_eq!(store.get_cohort(created.id).unwrap(), Some(updated.clone()));
    assert_eq!(store.get_cohort_by_name("balanced").unwrap(), Some(updated));
    assert_eq!(store.get_cohort_by_name("missing").unwrap(), None);
    assert_eq!(store.get_cohort(CohortId::new(999)).unwrap(), None);
    let names: Vec<String> = store
        .list_cohorts()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["balanced", "aggressive"]);
    assert_ne!(other, created.id);

    let err = store
        .set_cohort_capital(CohortId::new(999), dec!(1), at(1))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "cohort", .. }),
        "{err}"
    );
}

fn events_are_appended_and_read_newest_first(store: &Store) {
    let cohort = migrated_with_cohort(store, "events");
    let event = |ms: i64, kind: &str| NewEvent {
        at: at(ms),
        cohort: Some(cohort),
        symbol: Some(btc()),
        kind: kind.to_owned(),
        message: format!("{kind} happened"),
        data: Some(serde_json::json!({ "from": "GRID", "to": "HOLD", "price": "43000.5" })),
    };
    let first = store.append_event(&event(1_000, "mode_switch")).unwrap();
    let second = store.append_event(&event(2_000, "order_rejected")).unwrap();
    let plain = NewEvent {
        at: at(2_000),
        cohort: None,
        symbol: None,
        kind: "startup".to_owned(),
        message: "started".to_owned(),
        data: None,
    };
    let third = store.append_event(&plain).unwrap();
    assert!(first < second && second < third);

    let recent = store.recent_events(2).unwrap();
    let ids: Vec<i64> = recent.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![third, second]);
    assert_eq!(
        (
            recent[0].cohort,
            recent[0].symbol.clone(),
            recent[0].data.clone()
        ),
        (None, None, None)
    );
    assert_eq!(recent[1].kind, "order_rejected");
    assert_eq!(recent[1].cohort, Some(cohort));
    assert_eq!(recent[1].data, event(0, "x").data);
    assert_eq!(store.recent_events(10).unwrap().len(), 3);

    let mut orphan = event(3_000, "bad");
    orphan.cohort = Some(CohortId::new(999));
    let err = store.append_event(&orphan).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "cohort", .. }),
        "{err}"
    );
}

// ---- tests that need their own setup ----------------------------------------------------------

#[test]
fn sqlite_sequences_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // The parent directory does not exist yet: opening creates it.
    let url = format!("sqlite://{}/data/hybrid.db", dir.path().display());
    let cohort = {
        let store = Store::open(&url).unwrap();
        let cohort = migrated_with_cohort(&store, "restart");
        assert_eq!(
            store
                .next_client_order_id(cohort, &btc())
                .unwrap()
                .decode()
                .unwrap()
                .2,
            1
        );
        assert_eq!(
            store
                .next_client_order_id(cohort, &btc())
                .unwrap()
                .decode()
                .unwrap()
                .2,
            2
        );
        cohort
    };
    let store = Store::open(&url).unwrap();
    assert!(store.pending_migrations().unwrap().is_empty());
    assert_eq!(
        store
            .next_client_order_id(cohort, &btc())
            .unwrap()
            .decode()
            .unwrap()
            .2,
        3
    );
}

#[test]
fn postgres_sequences_survive_reconnecting() {
    let Some(schema) = pg_test_schema("postgres_sequences_survive_reconnecting") else {
        return;
    };
    let cohort = {
        let store = Store::open(schema.url()).unwrap();
        let cohort = migrated_with_cohort(&store, "restart");
        assert_eq!(
            store
                .next_client_order_id(cohort, &btc())
                .unwrap()
                .decode()
                .unwrap()
                .2,
            1
        );
        cohort
    };
    let store = Store::open(schema.url()).unwrap();
    assert!(store.pending_migrations().unwrap().is_empty());
    assert_eq!(
        store
            .next_client_order_id(cohort, &btc())
            .unwrap()
            .decode()
            .unwrap()
            .2,
        2
    );
    drop(store);
}

/// Two connections (as two processes would have) drawing ids at the same time never get the
/// same one.
fn concurrent_connections_never_share_an_id(url: &str) {
    let setup = Store::open(url).unwrap();
    let cohort = migrated_with_cohort(&setup, "concurrent");
    drop(setup);
    let draw = || {
        let store = Store::open(url).unwrap();
        (0..40)
            .map(|_| {
                store
                    .next_client_order_id(cohort, &btc())
                    .unwrap()
                    .decode()
                    .unwrap()
                    .2
            })
            .collect::<Vec<u64>>()
    };
    let (mut all, other) = std::thread::scope(|scope| {
        let first = scope.spawn(draw);
        let second = scope.spawn(draw);
        (first.join().unwrap(), second.join().unwrap())
    });
    all.extend(other);
    all.sort_unstable();
    assert_eq!(all, (1..=80).collect::<Vec<u64>>());
}

#[test]
fn sqlite_concurrent_connections_never_share_an_id() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_connections_never_share_an_id(&format!(
        "sqlite://{}/hybrid.db",
        dir.path().display()
    ));
}

#[test]
fn postgres_concurrent_connections_never_share_an_id() {
    let Some(schema) = pg_test_schema("postgres_concurrent_connections_never_share_an_id") else {
        return;
    };
    concurrent_connections_never_share_an_id(schema.url());
}

#[test]
fn unknown_url_scheme_is_a_clear_error() {
    let err = Store::open("mysql://root:secret@localhost/hybrid").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::InvalidUrl { .. }), "{text}");
    assert!(
        text.contains("mysql") && text.contains("postgres://"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

#[test]
fn unreachable_postgres_is_a_connection_error() {
    let err = Store::open("postgres://nobody@127.0.0.1:1/none?connect_timeout=2").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Connection {
                backend: Backend::Postgres,
                ..
            }
        ),
        "{err}"
    );
}

fn state_documents_are_replaced_whole(store: &Store) {
    store.run_migrations().unwrap();
    assert_eq!(store.load_state("paper_exchange/default").unwrap(), None);
    let first = serde_json::json!({"balances": [{"asset": "USDT", "free": "0.00000001"}]});
    store
        .save_state("paper_exchange/default", &first, Timestamp::from_millis(1))
        .unwrap();
    let second = serde_json::json!({"balances": [{"asset": "BTC", "free": "123456789.123456789"}]});
    store
        .save_state("paper_exchange/default", &second, Timestamp::from_millis(2))
        .unwrap();
    let loaded = store.load_state("paper_exchange/default").unwrap().unwrap();
    assert_eq!(loaded.body, second);
    assert_eq!(loaded.updated_at, Timestamp::from_millis(2));
    assert_eq!(store.load_state("other").unwrap(), None);
}
