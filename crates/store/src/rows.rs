//! The diesel row types and their conversion to and from domain values. Private to the crate:
//! callers only ever see `hybrid-core` types and the records defined next to the repositories.

use diesel::prelude::*;
use hybrid_core::{ClientOrderId, CohortId, Fill, Order, OrderStatus, Symbol, Timestamp};

use crate::{
    codec::{cohort_key, col, money_text, timestamp},
    cohorts::{CohortRecord, NewCohort},
    error::StoreError,
    events::{Event, NewEvent},
    orders::StatusChange,
    pairs::{PairClose, PairStatus, TradePair},
    schema::{cohorts, events, fills, order_status_history, orders, trade_pairs},
};

/// A `cohorts` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = cohorts)]
pub(crate) struct CohortRow {
    id: i64,
    name: String,
    description: String,
    config: String,
    starting_capital: String,
    current_capital: String,
    is_active: bool,
    created_at: i64,
    updated_at: i64,
}

impl CohortRow {
    pub(crate) fn into_record(self) -> Result<CohortRecord, StoreError> {
        let c = |column| col("cohorts", column);
        Ok(CohortRecord {
            id: c("id").cohort(self.id)?,
            name: self.name,
            description: self.description,
            config: c("config").json(&self.config)?,
            starting_capital: c("starting_capital").decimal(&self.starting_capital)?,
            current_capital: c("current_capital").decimal(&self.current_capital)?,
            is_active: self.is_active,
            created_at: timestamp(self.created_at),
            updated_at: timestamp(self.updated_at),
        })
    }
}

/// A new `cohorts` row (the id is assigned by the database).
#[derive(Debug, Insertable)]
#[diesel(table_name = cohorts)]
pub(crate) struct NewCohortRow<'a> {
    name: &'a str,
    description: &'a str,
    config: String,
    starting_capital: String,
    current_capital: String,
    is_active: bool,
    created_at: i64,
    updated_at: i64,
}

impl<'a> NewCohortRow<'a> {
    pub(crate) fn new(cohort: &'a NewCohort, at: Timestamp) -> Self {
        let capital = money_text(cohort.starting_capital);
        Self {
            name: &cohort.name,
            description: &cohort.description,
            config: cohort.config.to_string(),
            starting_capital: capital.clone(),
            current_capital: capital,
            is_active: cohort.is_active,
            created_at: at.as_millis(),
            updated_at: at.as_millis(),
        }
    }
}

/// An `orders` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
pub(crate) struct OrderRow {
    client_order_id: String,
    exchange_order_id: Option<i64>,
    cohort_id: i64,
    symbol: String,
    side: String,
    kind: String,
    time_in_force: Option<String>,
    price: Option<String>,
    quantity: String,
    filled_quantity: String,
    filled_quote: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

impl OrderRow {
    pub(crate) fn from_order(order: &Order) -> Self {
        Self {
            client_order_id: order.client_order_id.to_string(),
            exchange_order_id: order.exchange_order_id,
            cohort_id: cohort_key(order.cohort),
            symbol: order.symbol.to_string(),
            side: order.side.code().to_owned(),
            kind: order.kind.code().to_owned(),
            time_in_force: order.time_in_force.map(|tif| tif.code().to_owned()),
            price: order.price.map(|p| money_text(p.value())),
            quantity: money_text(order.quantity.value()),
            filled_quantity: money_text(order.filled_quantity.value()),
            filled_quote: money_text(order.filled_quote.value()),
            status: order.status.code().to_owned(),
            created_at: order.created_at.as_millis(),
            updated_at: order.updated_at.as_millis(),
        }
    }

    pub(crate) fn into_order(self) -> Result<Order, StoreError> {
        let c = |column| col("orders", column);
        Ok(Order {
            client_order_id: c("client_order_id").parse(&self.client_order_id)?,
            exchange_order_id: self.exchange_order_id,
            cohort: c("cohort_id").cohort(self.cohort_id)?,
            symbol: c("symbol").parse(&self.symbol)?,
            side: c("side").parse(&self.side)?,
            kind: c("kind").parse(&self.kind)?,
            time_in_force: c("time_in_force").parse_opt(self.time_in_force.as_deref())?,
            price: self
                .price
                .as_deref()
                .map(|p| c("price").price(p))
                .transpose()?,
            quantity: c("quantity").quantity(&self.quantity)?,
            filled_quantity: c("filled_quantity").quantity(&self.filled_quantity)?,
            filled_quote: c("filled_quote").notional(&self.filled_quote)?,
            status: c("status").parse(&self.status)?,
            created_at: timestamp(self.created_at),
            updated_at: timestamp(self.updated_at),
        })
    }
}

/// An `order_status_history` row as read.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = order_status_history)]
pub(crate) struct HistoryRow {
    from_status: Option<String>,
    to_status: String,
    at: i64,
    note: Option<String>,
}

impl HistoryRow {
    pub(crate) fn into_change(self) -> Result<StatusChange, StoreError> {
        let c = |column| col("order_status_history", column);
        Ok(StatusChange {
            from: c("from_status").parse_opt(self.from_status.as_deref())?,
            to: c("to_status").parse(&self.to_status)?,
            at: timestamp(self.at),
            note: self.note,
        })
    }
}

/// A new `order_status_history` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = order_status_history)]
pub(crate) struct NewHistoryRow<'a> {
    client_order_id: &'a str,
    from_status: Option<&'static str>,
    to_status: &'static str,
    at: i64,
    note: Option<&'a str>,
}

impl<'a> NewHistoryRow<'a> {
    pub(crate) fn new(
        id: &'a ClientOrderId,
        from: Option<OrderStatus>,
        to: OrderStatus,
        at: Timestamp,
        note: Option<&'a str>,
    ) -> Self {
        Self {
            client_order_id: id.as_str(),
            from_status: from.map(OrderStatus::code),
            to_status: to.code(),
            at: at.as_millis(),
            note,
        }
    }
}

/// A `fills` row (without the surrogate id, which nothing reads).
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = fills)]
pub(crate) struct FillRow {
    cohort_id: i64,
    client_order_id: String,
    exchange_order_id: i64,
    trade_id: i64,
    symbol: String,
    side: String,
    price: String,
    quantity: String,
    commission: String,
    commission_asset: String,
    is_maker: bool,
    executed_at: i64,
}

impl FillRow {
    pub(crate) fn new(cohort: CohortId, fill: &Fill) -> Self {
        Self {
            cohort_id: cohort_key(cohort),
            client_order_id: fill.client_order_id.to_string(),
            exchange_order_id: fill.exchange_order_id,
            trade_id: fill.trade_id,
            symbol: fill.symbol.to_string(),
            side: fill.side.code().to_owned(),
            price: money_text(fill.price.value()),
            quantity: money_text(fill.quantity.value()),
            commission: money_text(fill.commission),
            commission_asset: fill.commission_asset.to_string(),
            is_maker: fill.is_maker,
            executed_at: fill.time.as_millis(),
        }
    }

    pub(crate) fn into_fill(self) -> Result<Fill, StoreError> {
        let c = |column| col("fills", column);
        Ok(Fill {
            client_order_id: c("client_order_id").parse(&self.client_order_id)?,
            exchange_order_id: self.exchange_order_id,
            trade_id: self.trade_id,
            symbol: c("symbol").parse(&self.symbol)?,
            side: c("side").parse(&self.side)?,
            price: c("price").price(&self.price)?,
            quantity: c("quantity").quantity(&self.quantity)?,
            commission: c("commission").decimal(&self.commission)?,
            commission_asset: c("commission_asset").parse(&self.commission_asset)?,
            is_maker: self.is_maker,
            time: timestamp(self.executed_at),
        })
    }
}

/// A `trade_pairs` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = trade_pairs)]
pub(crate) struct PairRow {
    pub(crate) id: i64,
    cohort_id: Option<i64>,
    symbol: String,
    parent_pair_id: Option<i64>,
    entry_client_order_id: Option<String>,
    entry_trade_id: Option<i64>,
    entry_time: i64,
    entry_price: String,
    entry_quantity: String,
    entry_fee: String,
    remaining_quantity: String,
    exit_client_order_id: Option<String>,
    exit_time: Option<i64>,
    exit_price: Option<String>,
    exit_quantity: Option<String>,
    exit_fee: Option<String>,
    gross_pnl: Option<String>,
    net_pnl: Option<String>,
    pnl_pct: Option<String>,
    status: String,
    exit_reason: Option<String>,
    updated_at: i64,
}

impl PairRow {
    pub(crate) fn into_pair(self) -> Result<TradePair, StoreError> {
        let c = |column| col("trade_pairs", column);
        let status: PairStatus = c("status").parse(&self.status)?;
        let close = match status {
            PairStatus::Closed => Some(self.close()?),
            PairStatus::Open | PairStatus::Partial => None,
        };
        Ok(TradePair {
            id: self.id,
            cohort: self
                .cohort_id
                .map(|k| c("cohort_id").cohort(k))
                .transpose()?,
            symbol: c("symbol").parse(&self.symbol)?,
            parent_id: self.parent_pair_id,
            entry_client_order_id: c("entry_client_order_id")
                .parse_opt(self.entry_client_order_id.as_deref())?,
            entry_trade_id: self.entry_trade_id,
            entry_time: timestamp(self.entry_time),
            entry_price: c("entry_price").price(&self.entry_price)?,
            entry_quantity: c("entry_quantity").quantity(&self.entry_quantity)?,
            entry_fee: c("entry_fee").notional(&self.entry_fee)?,
            remaining_quantity: c("remaining_quantity").quantity(&self.remaining_quantity)?,
            status,
            close,
            updated_at: timestamp(self.updated_at),
        })
    }

    /// The exit fields, which a closed row must have.
    fn close(&self) -> Result<PairClose, StoreError> {
        let c = |column| col("trade_pairs", column);
        let closed = "the pair is closed";
        let text = |column, value: &Option<String>| -> Result<String, StoreError> {
            c(column).required(value.clone(), closed)
        };
        Ok(PairClose {
            client_order_id: c("exit_client_order_id")
                .parse_opt(self.exit_client_order_id.as_deref())?,
            time: timestamp(c("exit_time").required(self.exit_time, closed)?),
            price: c("exit_price").price(&text("exit_price", &self.exit_price)?)?,
            quantity: c("exit_quantity").quantity(&text("exit_quantity", &self.exit_quantity)?)?,
            fee: c("exit_fee").notional(&text("exit_fee", &self.exit_fee)?)?,
            gross_pnl: c("gross_pnl").notional(&text("gross_pnl", &self.gross_pnl)?)?,
            net_pnl: c("net_pnl").notional(&text("net_pnl", &self.net_pnl)?)?,
            pnl_pct: c("pnl_pct").decimal(&text("pnl_pct", &self.pnl_pct)?)?,
            reason: c("exit_reason").parse(&text("exit_reason", &self.exit_reason)?)?,
        })
    }
}

/// A new `trade_pairs` row: an opened lot, or the closed part split off a lot.
#[derive(Debug, Default, Insertable)]
#[diesel(table_name = trade_pairs)]
pub(crate) struct NewPairRow {
    pub(crate) cohort_id: Option<i64>,
    pub(crate) symbol: String,
    pub(crate) parent_pair_id: Option<i64>,
    pub(crate) entry_client_order_id: Option<String>,
    pub(crate) entry_trade_id: Option<i64>,
    pub(crate) entry_time: i64,
    pub(crate) entry_price: String,
    pub(crate) entry_quantity: String,
    pub(crate) entry_fee: String,
    pub(crate) remaining_quantity: String,
    pub(crate) exit_client_order_id: Option<String>,
    pub(crate) exit_time: Option<i64>,
    pub(crate) exit_price: Option<String>,
    pub(crate) exit_quantity: Option<String>,
    pub(crate) exit_fee: Option<String>,
    pub(crate) gross_pnl: Option<String>,
    pub(crate) net_pnl: Option<String>,
    pub(crate) pnl_pct: Option<String>,
    pub(crate) status: String,
    pub(crate) exit_reason: Option<String>,
    pub(crate) updated_at: i64,
}

/// The exit columns of a row being closed, for an update of a whole lot.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = trade_pairs)]
pub(crate) struct PairCloseChanges {
    pub(crate) remaining_quantity: String,
    pub(crate) exit_client_order_id: Option<String>,
    pub(crate) exit_time: Option<i64>,
    pub(crate) exit_price: Option<String>,
    pub(crate) exit_quantity: Option<String>,
    pub(crate) exit_fee: Option<String>,
    pub(crate) gross_pnl: Option<String>,
    pub(crate) net_pnl: Option<String>,
    pub(crate) pnl_pct: Option<String>,
    pub(crate) status: String,
    pub(crate) exit_reason: Option<String>,
    pub(crate) updated_at: i64,
}

/// An `events` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = events)]
pub(crate) struct EventRow {
    id: i64,
    at: i64,
    cohort_id: Option<i64>,
    symbol: Option<String>,
    kind: String,
    message: String,
    data: Option<String>,
}

impl EventRow {
    pub(crate) fn into_event(self) -> Result<Event, StoreError> {
        let c = |column| col("events", column);
        Ok(Event {
            id: self.id,
            at: timestamp(self.at),
            cohort: self
                .cohort_id
                .map(|k| c("cohort_id").cohort(k))
                .transpose()?,
            symbol: c("symbol").parse_opt::<Symbol>(self.symbol.as_deref())?,
            kind: self.kind,
            message: self.message,
            data: self
                .data
                .as_deref()
                .map(|d| c("data").json(d))
                .transpose()?,
        })
    }
}

/// A new `events` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = events)]
pub(crate) struct NewEventRow<'a> {
    at: i64,
    cohort_id: Option<i64>,
    symbol: Option<&'a str>,
    kind: &'a str,
    message: &'a str,
    data: Option<String>,
}

impl<'a> NewEventRow<'a> {
    pub(crate) fn new(event: &'a NewEvent) -> Self {
        Self {
            at: event.at.as_millis(),
            cohort_id: event.cohort.map(cohort_key),
            symbol: event.symbol.as_ref().map(Symbol::as_str),
            kind: &event.kind,
            message: &event.message,
            data: event.data.as_ref().map(ToString::to_string),
        }
    }
}
