// Trade-pair queries (FIFO matching); included into each backend module by `sql/mod.rs`.
// The arithmetic is described in `pairs.rs` at the crate root.

/// The stored spellings of the statuses a sell can close.
const OPEN_PAIR_STATUSES: [&str; 2] = ["open", "partial"];

/// `cohort`'s pairs of `symbol` that are open or partial. A `None` cohort matches only rows
/// without a cohort (`IS NULL`), never another cohort's rows.
fn open_pairs_query(
    cohort: Option<CohortId>,
    symbol: &Symbol,
) -> trade_pairs::BoxedQuery<'static, Db> {
    let query = trade_pairs::table
        .filter(trade_pairs::symbol.eq(symbol.to_string()))
        .filter(trade_pairs::status.eq_any(OPEN_PAIR_STATUSES))
        .into_boxed::<Db>();
    match cohort {
        Some(cohort) => query.filter(trade_pairs::cohort_id.eq(cohort_key(cohort))),
        None => query.filter(trade_pairs::cohort_id.is_null()),
    }
}

pub(crate) fn open_trade_pair(
    conn: &mut Conn,
    cohort: Option<CohortId>,
    symbol: &Symbol,
    entry: &PairEntry,
) -> Result<TradePair, StoreError> {
    let quantity = money_text(entry.quantity.value());
    let row = NewPairRow {
        cohort_id: cohort.map(cohort_key),
        symbol: symbol.to_string(),
        entry_client_order_id: entry.client_order_id.as_ref().map(ToString::to_string),
        entry_trade_id: entry.trade_id,
        entry_time: entry.time.as_millis(),
        entry_price: money_text(entry.price.value()),
        entry_quantity: quantity.clone(),
        entry_fee: money_text(entry.fee.value()),
        remaining_quantity: quantity,
        status: PairStatus::Open.code().to_owned(),
        updated_at: entry.time.as_millis(),
        ..NewPairRow::default()
    };
    diesel::insert_into(trade_pairs::table)
        .values(row)
        .returning(PairRow::as_returning())
        .get_result(conn)
        .map_err(missing_cohort(cohort))?
        .into_pair()
}

pub(crate) fn open_trade_pairs(
    conn: &mut Conn,
    cohort: Option<CohortId>,
    symbol: &Symbol,
) -> Result<Vec<TradePair>, StoreError> {
    open_pairs_query(cohort, symbol)
        .order((trade_pairs::entry_time.asc(), trade_pairs::id.asc()))
        .select(PairRow::as_select())
        .load(conn)?
        .into_iter()
        .map(PairRow::into_pair)
        .collect()
}

pub(crate) fn closed_trade_pairs(
    conn: &mut Conn,
    cohort: Option<CohortId>,
    limit: u32,
) -> Result<Vec<TradePair>, StoreError> {
    let query = trade_pairs::table
        .filter(trade_pairs::status.eq(PairStatus::Closed.code()))
        .into_boxed::<Db>();
    let query = match cohort {
        Some(cohort) => query.filter(trade_pairs::cohort_id.eq(cohort_key(cohort))),
        None => query.filter(trade_pairs::cohort_id.is_null()),
    };
    query
        .order((trade_pairs::exit_time.desc(), trade_pairs::id.desc()))
        .limit(i64::from(limit))
        .select(PairRow::as_select())
        .load(conn)?
        .into_iter()
        .map(PairRow::into_pair)
        .collect()
}

pub(crate) fn close_trade_pairs_fifo(
    conn: &mut Conn,
    cohort: Option<CohortId>,
    symbol: &Symbol,
    exit: &PairExit,
) -> Result<FifoClose, StoreError> {
    if exit.quantity.is_zero() {
        return Ok(FifoClose {
            closed: Vec::new(),
            unmatched_quantity: Quantity::ZERO,
        });
    }
    write_transaction(conn, |conn| {
        // Touch the candidate rows first so this transaction holds their write locks before it
        // reads them: two sells of the same lot cannot both close it.
        let touched: Vec<i64> = open_pairs_query(cohort, symbol)
            .select(trade_pairs::id)
            .load(conn)?;
        diesel::update(trade_pairs::table.filter(trade_pairs::id.eq_any(&touched)))
            .set(trade_pairs::updated_at.eq(trade_pairs::updated_at))
            .execute(conn)?;
        let lots = open_trade_pairs(conn, cohort, symbol)?;
        let mut left = exit.quantity.value();
        let mut exit_fee_left = exit.fee.value();
        let mut closed = Vec::new();
        for lot in lots {
            if left.is_zero() {
                break;
            }
            let slice = left.min(lot.entry_quantity.value());
            left -= slice;
            // The last slice of the sell takes what is left of its fee, so the shares add up
            // exactly; with unmatched quantity every slice takes its proportional share.
            let exit_fee = if left.is_zero() {
                exit_fee_left
            } else {
                prorate(exit.fee.value(), slice, exit.quantity.value())?
            };
            exit_fee_left -= exit_fee;
            closed.push(close_slice(conn, &lot, slice, exit_fee, exit)?);
        }
        Ok(FifoClose {
            closed,
            unmatched_quantity: Quantity::new(left)?,
        })
    })
}

/// Closes `slice` of `lot` at the exit: the whole lot in place, or a part split off into a new
/// closed row while the lot keeps the rest. Returns the closed row.
fn close_slice(
    conn: &mut Conn,
    lot: &TradePair,
    slice: Decimal,
    exit_fee: Decimal,
    exit: &PairExit,
) -> Result<TradePair, StoreError> {
    let lot_quantity = lot.entry_quantity.value();
    let lot_fee = lot.entry_fee.value();
    let entry_fee = if slice == lot_quantity {
        lot_fee
    } else {
        prorate(lot_fee, slice, lot_quantity)?
    };
    let changes = close_changes(lot, slice, entry_fee, exit_fee, exit)?;
    if slice == lot_quantity {
        return diesel::update(trade_pairs::table.find(lot.id))
            .set(&changes)
            .returning(PairRow::as_returning())
            .get_result(conn)?
            .into_pair();
    }
    let rest = lot_quantity - slice;
    diesel::update(trade_pairs::table.find(lot.id))
        .set((
            trade_pairs::entry_quantity.eq(money_text(rest)),
            trade_pairs::entry_fee.eq(money_text(lot_fee - entry_fee)),
            trade_pairs::remaining_quantity.eq(money_text(rest)),
            trade_pairs::status.eq(PairStatus::Partial.code()),
            trade_pairs::updated_at.eq(exit.time.as_millis()),
        ))
        .execute(conn)?;
    let part = NewPairRow {
        cohort_id: lot.cohort.map(cohort_key),
        symbol: lot.symbol.to_string(),
        parent_pair_id: Some(lot.id),
        entry_client_order_id: lot.entry_client_order_id.as_ref().map(ToString::to_string),
        entry_trade_id: lot.entry_trade_id,
        entry_time: lot.entry_time.as_millis(),
        entry_price: money_text(lot.entry_price.value()),
        entry_quantity: money_text(slice),
        entry_fee: money_text(entry_fee),
        remaining_quantity: changes.remaining_quantity,
        exit_client_order_id: changes.exit_client_order_id,
        exit_time: changes.exit_time,
        exit_price: changes.exit_price,
        exit_quantity: changes.exit_quantity,
        exit_fee: changes.exit_fee,
        gross_pnl: changes.gross_pnl,
        net_pnl: changes.net_pnl,
        pnl_pct: changes.pnl_pct,
        status: changes.status,
        exit_reason: changes.exit_reason,
        updated_at: changes.updated_at,
    };
    diesel::insert_into(trade_pairs::table)
        .values(part)
        .returning(PairRow::as_returning())
        .get_result(conn)?
        .into_pair()
}

/// The exit columns and P&L for closing `slice` of `lot` (fees already prorated).
fn close_changes(
    lot: &TradePair,
    slice: Decimal,
    entry_fee: Decimal,
    exit_fee: Decimal,
    exit: &PairExit,
) -> Result<PairCloseChanges, StoreError> {
    let overflow = |what: &'static str| {
        StoreError::Refused(hybrid_core::CoreError::InvalidValue {
            what,
            value: format!("{} × {slice}", exit.price),
            reason: "overflows the decimal range",
        })
    };
    let entry_value = lot
        .entry_price
        .value()
        .checked_mul(slice)
        .ok_or_else(|| overflow("entry value"))?;
    let exit_value = exit
        .price
        .value()
        .checked_mul(slice)
        .ok_or_else(|| overflow("exit value"))?;
    let gross = exit_value - entry_value;
    let net = gross - entry_fee - exit_fee;
    let pnl_pct = if entry_value.is_zero() {
        Decimal::ZERO
    } else {
        prorate(net, Decimal::ONE_HUNDRED, entry_value)?
    };
    Ok(PairCloseChanges {
        remaining_quantity: money_text(Decimal::ZERO),
        exit_client_order_id: exit.client_order_id.as_ref().map(ToString::to_string),
        exit_time: Some(exit.time.as_millis()),
        exit_price: Some(money_text(exit.price.value())),
        exit_quantity: Some(money_text(slice)),
        exit_fee: Some(money_text(exit_fee)),
        gross_pnl: Some(money_text(gross)),
        net_pnl: Some(money_text(net)),
        pnl_pct: Some(money_text(pnl_pct)),
        status: PairStatus::Closed.code().to_owned(),
        exit_reason: Some(exit.reason.code().to_owned()),
        updated_at: exit.time.as_millis(),
    })
}
