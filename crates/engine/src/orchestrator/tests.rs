//! Orchestrator unit tests on a simulated exchange with synthetic candles.

use std::sync::Arc;

use hybrid_core::{Asset, Candle, Price, Quantity, SimClock, Symbol, Timestamp, TradingMode};
use hybrid_exchange::{Balance, MatchingConfig, MatchingEngine, SimConfig, SimExchange};
use hybrid_store::Store;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::{HybridOrchestrator, OrchestratorConfig};
use crate::replay_filters;

fn candle(hour: i64, open: Decimal, close: Decimal) -> Candle {
    let (low, high) = (open.min(close) * dec!(0.995), open.max(close) * dec!(1.005));
    Candle::new(
        Timestamp::from_millis(hour * Timestamp::HOUR_MS),
        Price::new(open).unwrap(),
        Price::new(high).unwrap(),
        Price::new(low).unwrap(),
        Price::new(close).unwrap(),
        Quantity::new(dec!(10)).unwrap(),
    )
    .unwrap()
}

fn orchestrator(clock: &Arc<SimClock>) -> HybridOrchestrator<SimExchange> {
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let filters = vec![replay_filters(symbol, Price::new(dec!(30000)).unwrap())];
    let engine = MatchingEngine::new(
        MatchingConfig::default(),
        filters.clone(),
        &[Balance {
            asset: Asset::new("USDT").unwrap(),
            free: dec!(1000),
            locked: Decimal::ZERO,
        }],
    );
    let exchange = SimExchange::new(engine, Arc::clone(clock), SimConfig::default());
    let store = Store::open("sqlite::memory:").unwrap();
    let now = clock.now_millis();
    HybridOrchestrator::new(
        exchange,
        store,
        OrchestratorConfig::backtest_defaults(),
        filters,
        now,
    )
    .unwrap()
}

trait NowMillis {
    fn now_millis(&self) -> Timestamp;
}

impl NowMillis for Arc<SimClock> {
    fn now_millis(&self) -> Timestamp {
        hybrid_core::Clock::now(self.as_ref())
    }
}

/// Replays `closes` one hour apart through exchange and orchestrator; returns the snapshots.
fn replay(
    orchestrator: &mut HybridOrchestrator<SimExchange>,
    clock: &Arc<SimClock>,
    closes: &[Decimal],
) -> Vec<super::EquitySnapshot> {
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let mut snapshots = Vec::new();
    let mut open = closes[0];
    for (hour, close) in closes.iter().enumerate() {
        let hour = i64::try_from(hour).unwrap();
        let candle = candle(hour, open, *close);
        let now = Timestamp::from_millis((hour + 1) * Timestamp::HOUR_MS);
        clock.advance_to(now).unwrap();
        let fills = orchestrator.exchange().on_candle(&symbol, &candle);
        poll(orchestrator.on_candle(&symbol, &candle, fills, now)).unwrap();
        if hour == 0 {
            poll(orchestrator.start(now)).unwrap();
        } else {
            snapshots.push(poll(orchestrator.on_hour(now)).unwrap());
        }
        open = *close;
    }
    snapshots
}

fn poll<F: std::future::Future>(future: F) -> F::Output {
    crate::driver::block_on(future).unwrap()
}

#[test]
fn starts_in_grid_with_recorded_orders_and_books_the_fills() {
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
    let mut orchestrator = orchestrator(&clock);
    // Up and down around 30 000 by ±4 %: the ±5 % grid's levels trade.
    let closes: Vec<Decimal> = (0..48)
        .map(|h| if h % 6 < 3 { dec!(30000) } else { dec!(28800) })
        .collect();
    let snapshots = replay(&mut orchestrator, &clock, &closes);
    let symbol = Symbol::new("BTCUSDT").unwrap();
    assert_eq!(orchestrator.modes()[&symbol], TradingMode::Grid);
    let journal = orchestrator.journal();
    assert!(journal.n_orders > 0, "{journal:?}");
    assert!(journal.n_fills > 0, "{journal:?}");
    for snapshot in &snapshots {
        assert_eq!(snapshot.equity, snapshot.cash + snapshot.holdings);
    }
    // Every order the exchange holds open was recorded first.
    let open_in_store = orchestrator.store().open_orders(None).unwrap().len();
    let open_on_venue = orchestrator
        .exchange()
        .with_engine(|engine| engine.open_orders(None).len());
    assert_eq!(open_in_store, open_on_venue);
    // Fees in the journal are the venue's commissions.
    let venue_fees: Decimal = orchestrator.exchange().with_engine(|engine| {
        engine
            .state()
            .trades
            .iter()
            .map(|f| {
                if f.commission_asset == f.symbol.base() {
                    f.commission * f.price.value()
                } else {
                    f.commission
                }
            })
            .sum()
    });
    assert_eq!(journal.fees.value(), venue_fees);
}

/// The base balance (free, total) of BTC on the venue.
fn btc(orchestrator: &HybridOrchestrator<SimExchange>) -> (Decimal, Decimal) {
    poll(orchestrator.base_balance(&Symbol::new("BTCUSDT").unwrap())).unwrap()
}

#[test]
fn grid_to_hold_keeps_the_inventory_under_a_stop_then_cash_sells_and_hold_buys_back() {
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
    let mut orchestrator = orchestrator(&clock);
    let symbol = Symbol::new("BTCUSDT").unwrap();
    // A dip fills the grid's buys: the grid owns coins.
    let closes = [dec!(30000), dec!(29500), dec!(28700), dec!(28600)];
    replay(&mut orchestrator, &clock, &closes);
    let (_, inventory) = btc(&orchestrator);
    assert!(inventory > Decimal::ZERO, "the grid bought nothing");

    // GRID → HOLD: orders cancelled, the coins stay and a trailing stop covers them.
    let now = Timestamp::from_millis(5 * Timestamp::HOUR_MS);
    clock.advance_to(now).unwrap();
    poll(orchestrator.switch_mode(&symbol, TradingMode::Grid, TradingMode::Hold, now)).unwrap();
    let open = orchestrator
        .exchange()
        .with_engine(|engine| engine.open_orders(None).len());
    assert_eq!(open, 0);
    let (_, held) = btc(&orchestrator);
    assert!(held >= inventory, "inventory {inventory} lost: {held}");
    let stop = orchestrator
        .stops
        .get(orchestrator.cohort, &symbol)
        .unwrap();
    assert!(stop.quantity().value() > Decimal::ZERO);
    assert!(orchestrator.symbols[&symbol].hold.is_some());

    // HOLD → CASH: the stop tightens, the coins are sold once the 2 h timeout passed.
    poll(orchestrator.switch_mode(&symbol, TradingMode::Hold, TradingMode::Cash, now)).unwrap();
    assert!(orchestrator.symbols[&symbol].cash_exit_deadline.is_some());
    for hour in 5..8 {
        let candle = candle(hour, dec!(28600), dec!(28600));
        let close = Timestamp::from_millis((hour + 1) * Timestamp::HOUR_MS);
        clock.advance_to(close).unwrap();
        let fills = orchestrator.exchange().on_candle(&symbol, &candle);
        poll(orchestrator.on_candle(&symbol, &candle, fills, close)).unwrap();
    }
    let (_, left) = btc(&orchestrator);
    let filters = &orchestrator.symbols[&symbol].filters;
    assert!(
        left < filters.step_size,
        "{left} BTC left after the CASH exit"
    );
    assert!(orchestrator
        .stops
        .get(orchestrator.cohort, &symbol)
        .is_none());
    assert!(!orchestrator.journal().closed_trades.is_empty());

    // CASH → HOLD: buys the allocation again, under a stop.
    let now = Timestamp::from_millis(8 * Timestamp::HOUR_MS);
    poll(orchestrator.switch_mode(&symbol, TradingMode::Cash, TradingMode::Hold, now)).unwrap();
    let (_, bought) = btc(&orchestrator);
    let value = bought * dec!(28600);
    assert!(value > dec!(900), "bought only {value} USDT of BTC");
    assert!(orchestrator
        .stops
        .get(orchestrator.cohort, &symbol)
        .is_some());
    let snapshot = poll(orchestrator.equity(now)).unwrap();
    assert_eq!(snapshot.equity, snapshot.cash + snapshot.holdings);
}

#[test]
fn a_restart_restores_modes_positions_stops_and_the_grid_orders() {
    let clock = Arc::new(SimClock::new(Timestamp::from_millis(0)));
    let mut first = orchestrator(&clock);
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let closes = [dec!(30000), dec!(29500), dec!(28700), dec!(28600)];
    replay(&mut first, &clock, &closes);
    let now = Timestamp::from_millis(5 * Timestamp::HOUR_MS);
    clock.advance_to(now).unwrap();
    let grid_orders: Vec<_> = first.symbols[&symbol]
        .grid
        .as_ref()
        .unwrap()
        .live_orders()
        .keys()
        .cloned()
        .collect();
    assert!(!grid_orders.is_empty());
    first.save_state(now).unwrap();
    let stops_before: Vec<_> = first.stops.stops().cloned().collect();
    let (exchange, store) = first.into_parts();

    let filters = vec![replay_filters(
        symbol.clone(),
        Price::new(dec!(30000)).unwrap(),
    )];
    let config = OrchestratorConfig::backtest_defaults();
    let mut second = HybridOrchestrator::new(exchange, store, config, filters, now).unwrap();
    assert!(poll(second.restore_state(now)).unwrap());
    let state = &second.symbols[&symbol];
    assert_eq!(state.mode, TradingMode::Grid);
    let adopted: Vec<_> = state
        .grid
        .as_ref()
        .unwrap()
        .live_orders()
        .keys()
        .cloned()
        .collect();
    assert_eq!(adopted, grid_orders);
    let stops_after: Vec<_> = second.stops.stops().cloned().collect();
    assert_eq!(stops_after, stops_before);
    // Nothing was cancelled or placed twice on the venue.
    let open = second
        .exchange()
        .with_engine(|engine| engine.open_orders(None).len());
    assert_eq!(open, grid_orders.len());

    // In HOLD: the position and its trailing stop come back.
    poll(second.switch_mode(&symbol, TradingMode::Grid, TradingMode::Hold, now)).unwrap();
    second.save_state(now).unwrap();
    let stops_before: Vec<_> = second.stops.stops().cloned().collect();
    assert_eq!(stops_before.len(), 1);
    let hold_before = second.symbols[&symbol].hold;
    let (exchange, store) = second.into_parts();
    let filters = vec![replay_filters(
        symbol.clone(),
        Price::new(dec!(30000)).unwrap(),
    )];
    let config = OrchestratorConfig::backtest_defaults();
    let mut third = HybridOrchestrator::new(exchange, store, config, filters, now).unwrap();
    assert!(poll(third.restore_state(now)).unwrap());
    assert_eq!(third.symbols[&symbol].mode, TradingMode::Hold);
    assert_eq!(third.symbols[&symbol].hold, hold_before);
    assert_eq!(
        third.stops.stops().cloned().collect::<Vec<_>>(),
        stops_before
    );
    assert_eq!(third.symbols[&symbol].manager.mode(), TradingMode::Grid);
}
