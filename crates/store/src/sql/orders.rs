// Order, sequence and fill queries; included into each backend module by `sql/mod.rs`.

/// The stored spellings of every status that is not terminal (the order may be on the book).
fn open_status_codes() -> Vec<&'static str> {
    OrderStatus::ALL
        .into_iter()
        .filter(|status| status.is_open())
        .map(OrderStatus::code)
        .collect()
}

pub(crate) fn next_client_order_id(
    conn: &mut Conn,
    cohort: CohortId,
    symbol: &Symbol,
) -> Result<ClientOrderId, StoreError> {
    write_transaction(conn, |conn| {
        // `next_sequence` is the number the next call hands out: a new row hands out 1 and
        // stores 2; an existing row is advanced in place (row-locked until commit).
        let stored: i64 = diesel::insert_into(order_sequences::table)
            .values((
                order_sequences::cohort_id.eq(cohort_key(cohort)),
                order_sequences::symbol.eq(symbol.as_str()),
                order_sequences::next_sequence.eq(2_i64),
            ))
            .on_conflict((order_sequences::cohort_id, order_sequences::symbol))
            .do_update()
            .set(order_sequences::next_sequence.eq(order_sequences::next_sequence + 1))
            .returning(order_sequences::next_sequence)
            .get_result(conn)
            .map_err(missing_cohort(Some(cohort)))?;
        let sequence = col("order_sequences", "next_sequence").sequence(stored - 1)?;
        Ok(ClientOrderId::new(cohort, symbol, sequence)?)
    })
}

pub(crate) fn insert_order(conn: &mut Conn, order: &Order) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        diesel::insert_into(orders::table)
            .values(OrderRow::from_order(order))
            .execute(conn)
            .map_err(|error| {
                if unique_violation(&error) {
                    StoreError::Conflict {
                        what: "order",
                        key: order.client_order_id.to_string(),
                        reason: "client order id already recorded".to_owned(),
                    }
                } else {
                    missing_cohort(Some(order.cohort))(error)
                }
            })?;
        diesel::insert_into(order_status_history::table)
            .values(NewHistoryRow::new(
                &order.client_order_id,
                None,
                order.status,
                order.created_at,
                Some("recorded"),
            ))
            .execute(conn)?;
        Ok(())
    })
}

pub(crate) fn get_order(conn: &mut Conn, id: &ClientOrderId) -> Result<Option<Order>, StoreError> {
    orders::table
        .find(id.as_str())
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?
        .map(OrderRow::into_order)
        .transpose()
}

/// Loads an order for a change, after touching its row so a PostgreSQL transaction holds the
/// row's write lock before reading (SQLite's immediate transaction already holds the database's):
/// a concurrent change waits instead of being lost.
fn lock_order(conn: &mut Conn, id: &ClientOrderId) -> Result<Order, StoreError> {
    let touched = diesel::update(orders::table.find(id.as_str()))
        .set(orders::updated_at.eq(orders::updated_at))
        .execute(conn)?;
    let not_found = || StoreError::NotFound {
        what: "order",
        key: id.to_string(),
    };
    if touched == 0 {
        return Err(not_found());
    }
    get_order(conn, id)?.ok_or_else(not_found)
}

/// Writes the changeable columns of `order` back to its row.
fn save_order(conn: &mut Conn, order: &Order) -> Result<(), StoreError> {
    diesel::update(orders::table.find(order.client_order_id.as_str()))
        .set((
            orders::exchange_order_id.eq(order.exchange_order_id),
            orders::filled_quantity.eq(money_text(order.filled_quantity.value())),
            orders::filled_quote.eq(money_text(order.filled_quote.value())),
            orders::status.eq(order.status.code()),
            orders::updated_at.eq(order.updated_at.as_millis()),
        ))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn update_order_status(
    conn: &mut Conn,
    id: &ClientOrderId,
    next: OrderStatus,
    exchange_order_id: Option<i64>,
    at: Timestamp,
    note: Option<&str>,
) -> Result<Order, StoreError> {
    write_transaction(conn, |conn| {
        let mut order = lock_order(conn, id)?;
        let from = order.status;
        if let (Some(given), Some(stored)) = (exchange_order_id, order.exchange_order_id) {
            if given != stored {
                return Err(StoreError::Conflict {
                    what: "order",
                    key: id.to_string(),
                    reason: format!("exchange order id is {stored}, not {given}"),
                });
            }
        }
        order.set_status(next, at)?;
        order.exchange_order_id = exchange_order_id.or(order.exchange_order_id);
        save_order(conn, &order)?;
        if from != order.status {
            diesel::insert_into(order_status_history::table)
                .values(NewHistoryRow::new(id, Some(from), order.status, at, note))
                .execute(conn)?;
        }
        Ok(order)
    })
}

pub(crate) fn open_orders(
    conn: &mut Conn,
    cohort: Option<CohortId>,
) -> Result<Vec<Order>, StoreError> {
    let mut query = orders::table
        .filter(orders::status.eq_any(open_status_codes()))
        .into_boxed::<Db>();
    if let Some(cohort) = cohort {
        query = query.filter(orders::cohort_id.eq(cohort_key(cohort)));
    }
    query
        .order((orders::created_at.asc(), orders::client_order_id.asc()))
        .select(OrderRow::as_select())
        .load(conn)?
        .into_iter()
        .map(OrderRow::into_order)
        .collect()
}

pub(crate) fn orders_of(
    conn: &mut Conn,
    cohort: Option<CohortId>,
) -> Result<Vec<Order>, StoreError> {
    let mut query = orders::table.into_boxed::<Db>();
    if let Some(cohort) = cohort {
        query = query.filter(orders::cohort_id.eq(cohort_key(cohort)));
    }
    query
        .order((orders::created_at.asc(), orders::client_order_id.asc()))
        .select(OrderRow::as_select())
        .load(conn)?
        .into_iter()
        .map(OrderRow::into_order)
        .collect()
}

pub(crate) fn order_status_history(
    conn: &mut Conn,
    id: &ClientOrderId,
) -> Result<Vec<StatusChange>, StoreError> {
    order_status_history::table
        .filter(order_status_history::client_order_id.eq(id.as_str()))
        .order(order_status_history::id.asc())
        .select(HistoryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(HistoryRow::into_change)
        .collect()
}

pub(crate) fn record_fill(
    conn: &mut Conn,
    cohort: CohortId,
    fill: &Fill,
) -> Result<bool, StoreError> {
    write_transaction(conn, |conn| {
        let mut order = lock_order(conn, &fill.client_order_id)?;
        let conflict = |reason: String| StoreError::Conflict {
            what: "fill",
            key: format!("{} trade {}", fill.symbol, fill.trade_id),
            reason,
        };
        if order.cohort != cohort {
            return Err(conflict(format!(
                "order {} belongs to cohort {}, not {cohort}",
                order.client_order_id, order.cohort
            )));
        }
        if order.symbol != fill.symbol || order.side != fill.side {
            return Err(conflict(format!(
                "order {} is {} {}, the fill {} {}",
                order.client_order_id, order.side, order.symbol, fill.side, fill.symbol
            )));
        }
        let inserted = diesel::insert_into(fills::table)
            .values(FillRow::new(cohort, fill))
            .on_conflict((fills::symbol, fills::trade_id))
            .do_nothing()
            .execute(conn)?;
        if inserted == 0 {
            return Ok(false);
        }
        let from = order.status;
        order.apply_fill(fill)?;
        save_order(conn, &order)?;
        if from != order.status {
            let note = format!("fill {}", fill.trade_id);
            diesel::insert_into(order_status_history::table)
                .values(NewHistoryRow::new(
                    &order.client_order_id,
                    Some(from),
                    order.status,
                    fill.time,
                    Some(&note),
                ))
                .execute(conn)?;
        }
        Ok(true)
    })
}

pub(crate) fn fills_for_order(
    conn: &mut Conn,
    id: &ClientOrderId,
) -> Result<Vec<Fill>, StoreError> {
    fills::table
        .filter(fills::client_order_id.eq(id.as_str()))
        .order((fills::executed_at.asc(), fills::trade_id.asc()))
        .select(FillRow::as_select())
        .load(conn)?
        .into_iter()
        .map(FillRow::into_fill)
        .collect()
}

pub(crate) fn cohort_fills(conn: &mut Conn, cohort: CohortId) -> Result<Vec<Fill>, StoreError> {
    fills::table
        .filter(fills::cohort_id.eq(cohort_key(cohort)))
        .order((fills::executed_at.asc(), fills::trade_id.asc()))
        .select(FillRow::as_select())
        .load(conn)?
        .into_iter()
        .map(FillRow::into_fill)
        .collect()
}

pub(crate) fn recent_fills(
    conn: &mut Conn,
    cohort: Option<CohortId>,
    symbol: Option<&Symbol>,
    limit: u32,
) -> Result<Vec<Fill>, StoreError> {
    let mut query = fills::table.into_boxed();
    if let Some(cohort) = cohort {
        query = query.filter(fills::cohort_id.eq(i64::from(cohort.get())));
    }
    if let Some(symbol) = symbol {
        query = query.filter(fills::symbol.eq(symbol.as_str().to_owned()));
    }
    query
        .order((fills::executed_at.desc(), fills::id.desc()))
        .limit(i64::from(limit))
        .select(FillRow::as_select())
        .load(conn)?
        .into_iter()
        .map(FillRow::into_fill)
        .collect()
}
