//! The [`HybridOrchestrator`] as the [`Trader`] of a run: one cohort's symbols driven by the
//! one loop ([`crate::Driver`]).

use hybrid_core::{Candle, Fill, Symbol, Timestamp};
use hybrid_exchange::{Account, TradesFrom};

use super::{HybridOrchestrator, OrchestratorError, ReconcileReport};
use crate::driver::{Checkpoint, Timer, Trader};

impl<E: Account> Trader for HybridOrchestrator<E> {
    type Error = OrchestratorError;

    fn warm_up(&mut self, symbol: &Symbol, candle: &Candle) -> Result<(), OrchestratorError> {
        Self::warm_up(self, symbol, candle)
    }

    fn saved_checkpoint(&mut self) -> Result<Option<Checkpoint>, OrchestratorError> {
        self.saved_progress()
    }

    async fn restore(&mut self, now: Timestamp) -> Result<(), OrchestratorError> {
        self.restore_state(now).await.map(|_| ())
    }

    async fn start(&mut self, now: Timestamp) -> Result<(), OrchestratorError> {
        Self::start(self, now).await
    }

    async fn on_candle(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        fills: Vec<Fill>,
        now: Timestamp,
    ) -> Result<(), OrchestratorError> {
        Self::on_candle(self, symbol, candle, fills, now).await
    }

    async fn on_timer(&mut self, timer: Timer, now: Timestamp) -> Result<(), OrchestratorError> {
        match timer {
            Timer::Hourly => self.on_hour(now).await.map(|_| ()),
            Timer::Reconcile => self.reconcile(now).await.map(|_| ()),
        }
    }

    async fn reconcile(&mut self, now: Timestamp) -> Result<ReconcileReport, OrchestratorError> {
        Self::reconcile(self, now).await
    }

    fn save(&mut self, checkpoint: &Checkpoint, now: Timestamp) -> Result<(), OrchestratorError> {
        self.set_progress(checkpoint.clone());
        self.save_state(now)
    }

    fn set_paused(&mut self, paused: bool) {
        Self::set_paused(self, paused);
    }

    fn activity(&self) -> u64 {
        let journal = self.journal();
        journal.n_orders
            + journal.n_fills
            + journal.switches.len() as u64
            + journal.n_rejections
            + journal.n_stop_sales
    }

    fn trade_cursors(&self) -> Vec<(Symbol, TradesFrom)> {
        self.fill_cursors
            .iter()
            .map(|(symbol, last)| (symbol.clone(), TradesFrom::TradeId(last + 1)))
            .collect()
    }
}

impl<E: Account> crate::live::StatusLine for HybridOrchestrator<E> {
    fn status_line(&self) -> String {
        let journal = self.journal();
        let equity = self.last_equity().map_or_else(
            || "n/a".to_owned(),
            |e| e.equity.value().round_dp(2).to_string(),
        );
        let modes: Vec<String> = self
            .modes()
            .iter()
            .map(|(symbol, mode)| format!("{symbol}={mode:?}"))
            .collect();
        format!(
            "equity {equity}, {} orders, {} fills, {}",
            journal.n_orders,
            journal.n_fills,
            modes.join(" ")
        )
    }
}
