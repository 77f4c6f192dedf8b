//! [`PaperExchange`]: paper trading on real prices. It is an [`Account`] and a [`Venue`] only:
//! market data (filters, candles) comes from elsewhere (normally the Binance client without
//! keys); orders are matched locally by the shared [`MatchingEngine`] on the prices the run's
//! market events bring ([`Venue::on_market`]), and the account is persisted through a
//! [`PaperStateStore`] after every change, so a restart continues where it stopped.
//!
//! Compared with the old paper exchange (`trading-core.md` §1.7): fees are charged once, limit
//! orders fill at their limit price, filters (tick size included) are enforced with Binance's
//! errors, client order ids are kept, and each instance owns its own state file (one per
//! cohort, if cohorts trade separate accounts), so there is one writer per file.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use hybrid_core::{Candle, Clock, Fill, Order, Price, Symbol, SymbolFilters};

use crate::{
    error::ExchangeError,
    exchange::{Account, Balance, OrderAck, OrderRef, OrderRequest, TradesFrom},
    feed::MarketEvent,
    matching::{MatchingConfig, MatchingEngine, MatchingState},
    shared_engine::SharedEngine,
    venue::Venue,
};

/// Where a [`PaperExchange`] keeps its account between runs.
///
/// Implementations here: [`MemoryPaperStore`] (tests) and [`JsonFilePaperStore`] (a JSON file,
/// written atomically). A store backed by `hybrid-store` (SQLite/PostgreSQL) comes once that
/// crate has the paper-account tables; it will implement this trait.
pub trait PaperStateStore: Send + Sync {
    /// The saved state, or `None` on first start.
    ///
    /// # Errors
    /// [`ExchangeError::Storage`] when the state exists but cannot be read or parsed.
    fn load(&self) -> Result<Option<MatchingState>, ExchangeError>;

    /// Saves the whole state, replacing the previous one.
    ///
    /// # Errors
    /// [`ExchangeError::Storage`] when it cannot be written.
    fn save(&self, state: &MatchingState) -> Result<(), ExchangeError>;
}

/// A [`PaperStateStore`] in memory, for tests (a clone shares the same state).
#[derive(Debug, Clone, Default)]
pub struct MemoryPaperStore {
    state: Arc<Mutex<Option<MatchingState>>>,
}

impl PaperStateStore for MemoryPaperStore {
    fn load(&self) -> Result<Option<MatchingState>, ExchangeError> {
        Ok(self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone())
    }

    fn save(&self, state: &MatchingState) -> Result<(), ExchangeError> {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = Some(state.clone());
        Ok(())
    }
}

/// A [`PaperStateStore`] in one JSON file, replaced atomically (write `<file>.tmp`, then
/// rename) so a crash leaves either the old or the new state, never half of one.
///
/// The whole account is rewritten on every change, which is fine for the few orders a minute
/// of paper trading.
#[derive(Debug, Clone)]
pub struct JsonFilePaperStore {
    path: PathBuf,
}

impl JsonFilePaperStore {
    /// A store writing to `path` (its directory must exist).
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file the state lives in.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn storage_error(&self, what: &str, error: impl std::fmt::Display) -> ExchangeError {
        ExchangeError::Storage(format!("cannot {what} {}: {error}", self.path.display()))
    }
}

impl PaperStateStore for JsonFilePaperStore {
    fn load(&self) -> Result<Option<MatchingState>, ExchangeError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(self.storage_error("read", error)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| self.storage_error("parse", error))
    }

    fn save(&self, state: &MatchingState) -> Result<(), ExchangeError> {
        let json = serde_json::to_vec_pretty(state)
            .map_err(|error| self.storage_error("encode", error))?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        std::fs::write(&tmp, json).map_err(|error| self.storage_error("write", error))?;
        std::fs::rename(&tmp, &self.path).map_err(|error| self.storage_error("replace", error))
    }
}

/// Paper trading: orders matched locally on the market events' prices, account saved in `S`.
pub struct PaperExchange<S> {
    store: S,
    clock: Arc<dyn Clock>,
    venue: SharedEngine,
}

impl<S: std::fmt::Debug> std::fmt::Debug for PaperExchange<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaperExchange")
            .field("store", &self.store)
            .field("venue", &self.venue)
            .finish_non_exhaustive()
    }
}

impl<S: PaperStateStore> PaperExchange<S> {
    /// Opens the paper account: continues the saved state if `store` has one, otherwise starts
    /// with `initial_balances` (e.g. 1,000 USDT free).
    ///
    /// # Errors
    /// [`ExchangeError::Storage`] when the saved state cannot be read.
    pub fn open(
        store: S,
        clock: Arc<dyn Clock>,
        config: MatchingConfig,
        filters: Vec<SymbolFilters>,
        initial_balances: &[Balance],
    ) -> Result<Self, ExchangeError> {
        let engine = match store.load()? {
            Some(state) => MatchingEngine::restore(config, filters, state),
            None => MatchingEngine::new(config, filters, initial_balances),
        };
        Ok(Self {
            store,
            clock,
            venue: SharedEngine::new(engine),
        })
    }

    /// A live price of `symbol` (from the price feed): fills the resting orders it trades
    /// through and saves the account if anything filled.
    ///
    /// # Errors
    /// [`ExchangeError::Storage`] when the fills cannot be saved (they happened in memory).
    pub fn on_price(&self, symbol: &Symbol, price: Price) -> Result<Vec<Fill>, ExchangeError> {
        let now = self.clock.now();
        self.mutate(|engine| Ok(engine.on_price(symbol, price, now)))
    }

    /// A closed candle of `symbol` (from a replay feed): fills along the intra-candle path and
    /// saves the account if anything filled.
    ///
    /// # Errors
    /// [`ExchangeError::Storage`] when the fills cannot be saved (they happened in memory).
    pub fn on_candle(&self, symbol: &Symbol, candle: &Candle) -> Result<Vec<Fill>, ExchangeError> {
        self.mutate(|engine| Ok(engine.on_candle(symbol, candle)))
    }

    /// Runs an engine operation and saves the state when it succeeded (and, for fills, when
    /// there were any). The lock is held while saving so saves happen in mutation order.
    fn mutate<R: Persisted>(
        &self,
        f: impl FnOnce(&mut MatchingEngine) -> Result<R, ExchangeError>,
    ) -> Result<R, ExchangeError> {
        self.venue.with(|engine| {
            let result = f(engine)?;
            if result.changed() {
                self.store.save(&engine.state())?;
            }
            Ok(result)
        })
    }
}

/// Whether an operation's result changed the account (and so must be saved).
trait Persisted {
    fn changed(&self) -> bool;
}

impl Persisted for Vec<Fill> {
    fn changed(&self) -> bool {
        !self.is_empty()
    }
}

impl Persisted for OrderAck {
    fn changed(&self) -> bool {
        true
    }
}

impl Persisted for Order {
    fn changed(&self) -> bool {
        true
    }
}

/// A candle fills the resting orders along its path, a price tick those it trades through; the
/// account is saved when anything filled.
impl<S: PaperStateStore> Venue for PaperExchange<S> {
    async fn on_market(&self, event: &MarketEvent) -> Result<Vec<Fill>, ExchangeError> {
        let (symbol, fills) = match event {
            MarketEvent::Candle { symbol, candle } => (symbol, self.on_candle(symbol, candle)?),
            MarketEvent::Price { symbol, price, .. } => (symbol, self.on_price(symbol, *price)?),
        };
        Ok(self.venue.with_catch_up(symbol, fills))
    }

    fn resume_trades(&self, symbol: &Symbol, from: TradesFrom) {
        self.venue.resume_trades(symbol, from);
    }
}

impl<S: PaperStateStore> Account for PaperExchange<S> {
    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        Ok(self.venue.with(|engine| engine.balances()))
    }

    async fn place_order(&self, request: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        let now = self.clock.now();
        self.mutate(|engine| engine.place(request, now))
    }

    async fn query_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<Order, ExchangeError> {
        self.venue.with(|engine| engine.query(symbol, order))
    }

    async fn cancel_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        let now = self.clock.now();
        self.mutate(|engine| engine.cancel(symbol, order, now))
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        Ok(self.venue.with(|engine| engine.open_orders(symbol)))
    }

    async fn my_trades(
        &self,
        symbol: &Symbol,
        from: TradesFrom,
    ) -> Result<Vec<Fill>, ExchangeError> {
        Ok(self.venue.with(|engine| engine.trades(symbol, from)))
    }
}

#[cfg(test)]
mod tests {
    use hybrid_core::{OrderKind, OrderStatus, Side, SimClock, Timestamp};
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::matching::tests as engine_tests;

    type Paper<S> = PaperExchange<S>;

    fn open<S: PaperStateStore>(store: S, clock: &Arc<SimClock>) -> Paper<S> {
        let clock: Arc<dyn Clock> = Arc::clone(clock) as Arc<dyn Clock>;
        PaperExchange::open(
            store,
            clock,
            MatchingConfig::default(),
            vec![engine_tests::filters()],
            &[engine_tests::balance("USDT", dec!(1000))],
        )
        .unwrap()
    }

    fn price(value: Decimal) -> Price {
        Price::new(value).unwrap()
    }

    #[tokio::test]
    async fn a_restart_continues_from_the_json_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = JsonFilePaperStore::new(dir.path().join("paper.json"));
        let clock = Arc::new(SimClock::new(Timestamp::from_millis(1_000)));
        let symbol = engine_tests::btcusdt();
        let first = open(store.clone(), &clock);
        first.on_price(&symbol, price(dec!(50000))).unwrap();
        let buy = engine_tests::request(
            1,
            Side::Buy,
            OrderKind::Limit,
            Some(dec!(49000)),
            dec!(0.01),
        );
        first.place_order(&buy).await.unwrap();
        let sell = engine_tests::request(
            2,
            Side::Buy,
            OrderKind::Limit,
            Some(dec!(48000)),
            dec!(0.01),
        );
        first.place_order(&sell).await.unwrap();
        assert_eq!(
            first.on_price(&symbol, price(dec!(48500))).unwrap().len(),
            1
        );
        let before = (
            first.balances().await.unwrap(),
            first.open_orders(None).await.unwrap(),
        );
        drop(first);

        let second = open(store, &clock);
        let after = (
            second.balances().await.unwrap(),
            second.open_orders(None).await.unwrap(),
        );
        assert_eq!(after, before);
        assert_eq!(
            second
                .my_trades(&symbol, TradesFrom::Recent)
                .await
                .unwrap()
                .len(),
            1
        );
        let filled = second
            .query_order(&symbol, &OrderRef::Client(buy.client_order_id.clone()))
            .await
            .unwrap();
        assert_eq!(filled.status, OrderStatus::Filled);
        let third = engine_tests::request(
            3,
            Side::Buy,
            OrderKind::Limit,
            Some(dec!(47000)),
            dec!(0.0005),
        );
        assert_eq!(
            second
                .place_order(&third)
                .await
                .unwrap()
                .order
                .exchange_order_id,
            Some(3)
        );
    }

    #[tokio::test]
    async fn every_change_is_saved_and_rejections_are_not() {
        let store = MemoryPaperStore::default();
        let clock = Arc::new(SimClock::new(Timestamp::from_millis(1_000)));
        let symbol = engine_tests::btcusdt();
        let paper = open(store.clone(), &clock);
        assert!(paper
            .on_price(&symbol, price(dec!(50000)))
            .unwrap()
            .is_empty());
        assert_eq!(
            store.load().unwrap(),
            None,
            "a tick without fills is not saved"
        );
        let too_big =
            engine_tests::request(1, Side::Buy, OrderKind::Limit, Some(dec!(49000)), dec!(1));
        assert_eq!(
            paper.place_order(&too_big).await.unwrap_err(),
            ExchangeError::insufficient_balance()
        );
        assert_eq!(store.load().unwrap(), None);
        let ok = engine_tests::request(
            2,
            Side::Buy,
            OrderKind::Limit,
            Some(dec!(49000)),
            dec!(0.01),
        );
        let ack = paper.place_order(&ok).await.unwrap();
        assert_eq!(
            store.load().unwrap().unwrap().orders,
            vec![ack.order.clone()]
        );
        let id = OrderRef::Exchange(ack.order.exchange_order_id.unwrap());
        paper.cancel_order(&symbol, &id).await.unwrap();
        let saved = store.load().unwrap().unwrap();
        assert_eq!(saved.orders[0].status, OrderStatus::Canceled);
        assert_eq!(
            saved.balances,
            vec![engine_tests::balance("USDT", dec!(1000))]
        );
    }

    /// Callers are generic over `A: Account` and spawn its futures on a multi-threaded
    /// runtime; this only compiles if the trait's futures are `Send`.
    async fn place_via<A: Account + 'static>(exchange: Arc<A>, request: OrderRequest) -> OrderAck {
        tokio::spawn(async move { exchange.place_order(&request).await })
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn futures_are_send_for_generic_callers() {
        let clock = Arc::new(SimClock::new(Timestamp::from_millis(1_000)));
        let paper = Arc::new(open(MemoryPaperStore::default(), &clock));
        let request = engine_tests::request(
            1,
            Side::Buy,
            OrderKind::Limit,
            Some(dec!(49000)),
            dec!(0.01),
        );
        let ack = place_via(paper, request).await;
        assert_eq!(ack.order.status, OrderStatus::New);
    }

    #[test]
    fn a_corrupt_state_file_is_a_storage_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("paper.json");
        std::fs::write(&path, "{not json").unwrap();
        let error = JsonFilePaperStore::new(&path).load().unwrap_err();
        assert!(
            matches!(error, ExchangeError::Storage(ref m) if m.contains("cannot parse")),
            "{error}"
        );
    }
}
