//! The whole state of a [`GridBot`] as a serialisable value, so that a restart continues
//! *exactly* where the bot stopped: same live orders, same follow-up queue, same dust, same
//! next client order sequence and the same set of trades already booked.
//!
//! Why not just [`GridBot::restore`] from the exchange's open orders? Restoring from orders
//! re-derives the ledger and the follow-ups, which is right after a long downtime but cannot
//! tell whether a follow-up of a fill was already placed. With the snapshot the engine replays
//! the fills that arrived after it through [`GridBot::on_fill`]: the bot is deterministic, so
//! the same fills give the same intents with the same client order ids, and the engine
//! recognises the ones it already sent by their id instead of sending them twice.

use std::collections::{BTreeMap, BTreeSet};

use hybrid_core::{ClientOrderId, CohortId, Price, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{BotState, FollowUp, GridBot, LiveOrder};
use crate::{config::GridConfig, error::GridError, ledger::Ledger};

/// Everything a [`GridBot`] holds besides its configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridSnapshot {
    cohort: CohortId,
    next_sequence: u64,
    ledger: Ledger,
    start_cash: Decimal,
    start_inventory: Decimal,
    orders: Vec<(ClientOrderId, LiveOrder)>,
    cancelling: Vec<(ClientOrderId, LiveOrder)>,
    queue: Vec<FollowUp>,
    dust: Vec<(Decimal, Decimal)>,
    state: BotState,
    seeded: bool,
    breaker_last: Option<Price>,
    last_rebuild_check: Timestamp,
    /// `(exchange order id, trade id)` of every fill booked.
    seen_trades: Vec<(i64, i64)>,
}

impl GridSnapshot {
    /// The next client order sequence the bot will use.
    #[must_use]
    pub const fn next_sequence(&self) -> u64 {
        self.next_sequence
    }
}

impl GridBot {
    /// The bot's state, to save.
    #[must_use]
    pub fn snapshot(&self) -> GridSnapshot {
        GridSnapshot {
            cohort: self.cohort,
            next_sequence: self.next_sequence,
            ledger: self.ledger.clone(),
            start_cash: self.start_cash,
            start_inventory: self.start_inventory,
            orders: self
                .orders
                .iter()
                .map(|(id, o)| (id.clone(), o.clone()))
                .collect(),
            cancelling: self
                .cancelling
                .iter()
                .map(|(id, o)| (id.clone(), o.clone()))
                .collect(),
            queue: self.queue.clone(),
            dust: self.dust.clone(),
            state: self.state,
            seeded: self.seeded,
            breaker_last: self.breaker_last,
            last_rebuild_check: self.last_rebuild_check,
            seen_trades: self.seen_trades.iter().copied().collect(),
        }
    }

    /// The bot `snapshot` was taken of, under `config` (the same parameters).
    ///
    /// # Errors
    /// [`GridError::InvalidField`] (field `snapshot`) when the snapshot does not fit the
    /// configuration: a different number of levels, or an order on a level that does not exist.
    pub fn from_snapshot(config: GridConfig, snapshot: GridSnapshot) -> Result<Self, GridError> {
        let n_levels = config.levels().len();
        let misfit = |reason: String| GridError::InvalidField {
            field: "snapshot",
            value: format!("{n_levels} levels"),
            reason,
        };
        if snapshot.dust.len() != n_levels {
            return Err(misfit(format!(
                "{} dust entries for {n_levels} levels",
                snapshot.dust.len()
            )));
        }
        let beyond = snapshot
            .orders
            .iter()
            .chain(&snapshot.cancelling)
            .map(|(_, o)| o.level)
            .chain(snapshot.queue.iter().map(|f| f.level))
            .find(|level| *level >= n_levels);
        if let Some(level) = beyond {
            return Err(misfit(format!("level {level} of {n_levels}")));
        }
        let symbol = &config.filters().symbol;
        let (base, quote) = (symbol.base(), symbol.quote());
        Ok(Self {
            config,
            cohort: snapshot.cohort,
            next_sequence: snapshot.next_sequence,
            base,
            quote,
            ledger: snapshot.ledger,
            start_cash: snapshot.start_cash,
            start_inventory: snapshot.start_inventory,
            orders: snapshot.orders.into_iter().collect::<BTreeMap<_, _>>(),
            cancelling: snapshot.cancelling.into_iter().collect::<BTreeMap<_, _>>(),
            queue: snapshot.queue,
            dust: snapshot.dust,
            state: snapshot.state,
            seeded: snapshot.seeded,
            breaker_last: snapshot.breaker_last,
            last_rebuild_check: snapshot.last_rebuild_check,
            seen_trades: snapshot.seen_trades.into_iter().collect::<BTreeSet<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use hybrid_core::{Fill, Quantity, Side, Symbol, SymbolFilters};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::{GridIntent, GridParams};

    fn config() -> GridConfig {
        let symbol = Symbol::new("BTCUSDT").unwrap();
        let mut filters = SymbolFilters::with_steps(symbol, dec!(0.01), dec!(0.00001));
        filters.min_notional = dec!(5);
        GridConfig::new(GridParams::new(dec!(90), dec!(110), 4, dec!(1000)), filters).unwrap()
    }

    fn placed(intents: &[GridIntent]) -> Vec<(ClientOrderId, Side, Decimal)> {
        intents
            .iter()
            .filter_map(|i| match i {
                GridIntent::Place {
                    client_order_id,
                    order,
                    ..
                } => Some((client_order_id.clone(), order.side(), order.price().value())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_bot_rebuilt_from_its_snapshot_answers_a_fill_exactly_as_the_original() {
        let now = Timestamp::from_millis(0);
        let mut original = GridBot::new(config(), CohortId::new(1), 10, now);
        let initial = original.on_price(Price::new(dec!(100)).unwrap(), now);
        // The highest buy: its follow-up sell goes to the free level above it.
        let (buy_id, _, buy_price) = placed(&initial)
            .into_iter()
            .filter(|(_, side, _)| *side == Side::Buy)
            .max_by_key(|(_, _, price)| *price)
            .unwrap();
        let json = serde_json::to_string(&original.snapshot()).unwrap();
        let snapshot: GridSnapshot = serde_json::from_str(&json).unwrap();
        let mut copy = GridBot::from_snapshot(config(), snapshot).unwrap();
        assert_eq!(copy.snapshot(), original.snapshot());

        let live = &original.live_orders()[&buy_id];
        let fill = Fill {
            client_order_id: buy_id.clone(),
            exchange_order_id: 7,
            trade_id: 70,
            symbol: Symbol::new("BTCUSDT").unwrap(),
            side: Side::Buy,
            price: Price::new(buy_price).unwrap(),
            quantity: Quantity::new(live.quantity.value()).unwrap(),
            commission: Decimal::ZERO,
            commission_asset: hybrid_core::Asset::new("BNB").unwrap(),
            is_maker: true,
            time: Timestamp::from_millis(1000),
        };
        let later = Timestamp::from_millis(1000);
        let a = placed(&original.on_fill(&fill, later));
        let b = placed(&copy.on_fill(&fill, later));
        assert!(!a.is_empty(), "the fill has a follow-up");
        assert_eq!(a, b, "same follow-ups with the same client order ids");
        // The fill is booked once: seen again, it does nothing.
        assert!(placed(&copy.on_fill(&fill, later)).is_empty());
    }

    #[test]
    fn a_snapshot_of_another_shape_is_refused() {
        let now = Timestamp::from_millis(0);
        let bot = GridBot::new(config(), CohortId::new(1), 10, now);
        let mut snapshot = bot.snapshot();
        snapshot.dust.pop();
        let error = GridBot::from_snapshot(config(), snapshot).unwrap_err();
        assert!(error.to_string().contains("dust entries"), "{error}");
    }
}
