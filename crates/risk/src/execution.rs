//! The stop-loss sell policy (spec §3.5) as a pure state machine.
//!
//! The engine starts an execution when the book fires a [`MarketSell`], sends each
//! [`ExecutionStep::Sell`] at its time, and reports every outcome back:
//!
//! ```text
//! start --(rounds to 0, or below min notional)--> GaveUp (critical alert, nothing sent)
//! start ------------------------->  AwaitingSell, Sell now
//! AwaitingSell --filled--------------------------> Sold     (confirm the stop)
//! AwaitingSell --failed, attempts left-----------> AwaitingSell, Sell after 2 s, 5 s, …
//! AwaitingSell --insufficient, attempts left-----> AwaitingSell, Sell min(intended, free) after the wait
//! AwaitingSell --insufficient, nothing sellable--> GaveUp   (critical alert)
//! AwaitingSell --failed, no attempts left--------> GaveUp   (critical alert "Manual sell needed")
//! ```
//!
//! Deliberate change: after "insufficient balance" the original retried with the *whole*
//! free balance, which could sell coins belonging to another cohort's position. Here the retry
//! sells `min(intended, free)`: never more than this stop owns.

use hybrid_core::{
    CohortId, FilterViolation, Price, Quantity, Side, Symbol, SymbolFilters, Timestamp,
};
use serde::{Deserialize, Serialize};

use crate::{
    config::ExecutionConfig,
    error::RiskError,
    intent::{Alert, AlertSeverity, MarketSell},
};

/// The validated retry policy; starts one [`StopExecution`] per stop-loss sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopExecutionPolicy {
    config: ExecutionConfig,
}

/// What the exchange answered to one market-sell attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SellOutcome {
    /// The sale filled.
    Filled,
    /// The exchange refused for insufficient balance; `free` is the base balance re-read
    /// right after that answer.
    InsufficientBalance {
        /// The free base balance now.
        free: Quantity,
    },
    /// Any other failure (timeout, 5xx, rejection).
    Failed {
        /// The error text, for the alert.
        reason: String,
    },
}

/// What the engine must do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionStep {
    /// Send a market sell of `quantity` at (or after) `at`.
    Sell {
        /// When to send it.
        at: Timestamp,
        /// Base quantity, on the lot step.
        quantity: Quantity,
        /// 1-based attempt number.
        attempt: u32,
    },
    /// The sale filled: confirm the stop ([`crate::StopLossBook::confirm_sold`]).
    Sold,
    /// Give up: reactivate the stop ([`crate::StopLossBook::sell_failed`]) and send the
    /// critical alert.
    GiveUp(Alert),
}

/// Where one stop-loss sale is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionPhase {
    /// A sell is out or scheduled; its outcome is awaited.
    AwaitingSell,
    /// The sale filled (terminal).
    Sold,
    /// The policy gave up (terminal).
    GaveUp,
}

/// One stop-loss sale in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopExecution {
    config: ExecutionConfig,
    filters: SymbolFilters,
    cohort: CohortId,
    symbol: Symbol,
    intended: Quantity,
    /// The trigger price, to value the sale against the minimum notional.
    reference_price: Price,
    quantity: Quantity,
    attempt: u32,
    phase: ExecutionPhase,
}

/// An outcome reduced to what the transition table needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Filled,
    /// A failure after which there is still something to sell.
    Retryable,
    /// Insufficient balance, and what is free rounds to nothing (or to a sale below the
    /// minimum notional).
    NothingLeft,
}

impl StopExecutionPolicy {
    /// A policy from a validated config.
    ///
    /// # Errors
    /// [`RiskError::InvalidConfig`] if `config` does not validate.
    pub fn new(config: ExecutionConfig) -> Result<Self, RiskError> {
        config.validate()?;
        Ok(Self { config })
    }

    /// Starts selling what `sell` asks for. If the free balance is known and positive, sells
    /// at most that much (the fee or a manual sale may have taken some); the quantity is
    /// truncated to the lot step. Returns the execution and its first step: an immediate sell,
    /// or a give-up when nothing sellable is left or the sale would break a filter such as the
    /// minimum notional (nothing is sent then; the exchange would refuse it every time).
    #[must_use]
    pub fn start(
        &self,
        sell: &MarketSell,
        free_balance: Option<Quantity>,
        filters: &SymbolFilters,
        now: Timestamp,
    ) -> (StopExecution, ExecutionStep) {
        let available = free_balance.filter(|free| !free.is_zero());
        let mut execution = StopExecution {
            config: self.config.clone(),
            filters: filters.clone(),
            cohort: sell.cohort,
            symbol: sell.symbol.clone(),
            intended: sell.quantity,
            reference_price: sell.trigger_price,
            quantity: Quantity::ZERO,
            attempt: 0,
            phase: ExecutionPhase::AwaitingSell,
        };
        let step = match execution.sellable(available) {
            Ok(quantity) => execution.schedule(quantity, now),
            Err(violation) => execution.give_up(format!(
                "stop-loss sell of {} for cohort {} cannot be sent ({}): {violation}",
                sell.symbol,
                sell.cohort,
                unsellable_kind(&violation)
            )),
        };
        (execution, step)
    }
}

impl StopExecution {
    /// Reports the outcome of the last [`ExecutionStep::Sell`] and returns the next step.
    ///
    /// # Errors
    /// [`RiskError::ExecutionFinished`] once the sale was confirmed or given up.
    pub fn on_outcome(
        &mut self,
        outcome: SellOutcome,
        now: Timestamp,
    ) -> Result<ExecutionStep, RiskError> {
        let retry_quantity = match &outcome {
            SellOutcome::Filled => None,
            SellOutcome::InsufficientBalance { free } => self.sellable(Some(*free)).ok(),
            SellOutcome::Failed { .. } => Some(self.quantity),
        };
        let answer = match (&outcome, retry_quantity) {
            (SellOutcome::Filled, _) => Answer::Filled,
            (_, Some(_)) => Answer::Retryable,
            (_, None) => Answer::NothingLeft,
        };
        self.phase = self.transition(answer)?;
        Ok(match (self.phase, retry_quantity) {
            (ExecutionPhase::Sold, _) => ExecutionStep::Sold,
            (ExecutionPhase::AwaitingSell, Some(quantity)) => {
                let at = now.plus_millis(self.config.delay_after(self.attempt));
                self.schedule(quantity, at)
            }
            _ => self.give_up(self.failure_message(&outcome, answer)),
        })
    }

    /// The next phase; one rule per line.
    #[rustfmt::skip]
    fn transition(&self, answer: Answer) -> Result<ExecutionPhase, RiskError> {
        use ExecutionPhase as P;
        let attempts_left = self.attempt < self.config.max_attempts;
        match (self.phase, answer, attempts_left) {
            (P::AwaitingSell, Answer::Filled,      _)     => Ok(P::Sold),
            (P::AwaitingSell, Answer::Retryable,   true)  => Ok(P::AwaitingSell),
            (P::AwaitingSell, Answer::Retryable,   false) => Ok(P::GaveUp),
            // The coins are gone (sold by hand?): retrying cannot help.
            (P::AwaitingSell, Answer::NothingLeft, _)     => Ok(P::GaveUp),
            (P::Sold | P::GaveUp, _, _) => Err(RiskError::ExecutionFinished { symbol: self.symbol.clone() }),
        }
    }

    /// Where the sale is.
    #[must_use]
    pub const fn phase(&self) -> ExecutionPhase {
        self.phase
    }

    /// Attempts sent so far.
    #[must_use]
    pub const fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The quantity of the last scheduled sell.
    #[must_use]
    pub const fn quantity(&self) -> Quantity {
        self.quantity
    }

    /// `min(intended, free)` truncated to the lot step, checked against the symbol's
    /// quantity and notional rules (valued at the trigger price): the original sent sales
    /// below the minimum notional, which the exchange refuses every time.
    fn sellable(&self, free: Option<Quantity>) -> Result<Quantity, FilterViolation> {
        let wanted = free.map_or(self.intended, |free| free.min(self.intended));
        let quantity = self.filters.round_quantity(wanted.value())?;
        self.filters
            .check_market(Side::Sell, self.reference_price, quantity)
            .map(|order| order.quantity())
    }

    fn schedule(&mut self, quantity: Quantity, at: Timestamp) -> ExecutionStep {
        self.attempt += 1;
        self.quantity = quantity;
        ExecutionStep::Sell {
            at,
            quantity,
            attempt: self.attempt,
        }
    }

    fn give_up(&mut self, detail: String) -> ExecutionStep {
        self.phase = ExecutionPhase::GaveUp;
        ExecutionStep::GiveUp(Alert {
            severity: AlertSeverity::Critical,
            cohort: self.cohort,
            symbol: self.symbol.clone(),
            message: format!(
                "CRITICAL: {detail}. Manual sell needed: {} {} of cohort {}",
                self.intended,
                self.symbol.base(),
                self.cohort
            ),
        })
    }

    fn failure_message(&self, outcome: &SellOutcome, answer: Answer) -> String {
        let last_error = match outcome {
            SellOutcome::InsufficientBalance { free } => {
                format!("insufficient balance (free {free})")
            }
            SellOutcome::Failed { reason } => reason.clone(),
            SellOutcome::Filled => String::new(),
        };
        if answer == Answer::NothingLeft {
            return format!(
                "stop-loss sell of {} has nothing sellable left: {last_error}",
                self.symbol
            );
        }
        format!(
            "Stop-loss sell FAILED after {} attempts on {}: {last_error}",
            self.attempt, self.symbol
        )
    }
}

/// A short label for why a sale cannot be sent; "zero quantity" is what operators grep for.
fn unsellable_kind(violation: &FilterViolation) -> &'static str {
    match violation {
        FilterViolation::NotPositive { .. } => "zero quantity",
        FilterViolation::NotionalBelowMin { .. } => "below the minimum notional",
        _ => "filter failure",
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::*;

    fn btc() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    fn q(v: Decimal) -> Quantity {
        Quantity::new(v).unwrap()
    }

    fn sell(quantity: Decimal) -> MarketSell {
        MarketSell {
            cohort: CohortId::new(1),
            symbol: btc(),
            quantity: q(quantity),
            stop_price: Price::new(dec!(47500)).unwrap(),
            trigger_price: Price::new(dec!(47000)).unwrap(),
        }
    }

    fn start(intended: Decimal, free: Option<Decimal>) -> (StopExecution, ExecutionStep) {
        let policy = StopExecutionPolicy::new(ExecutionConfig::default()).unwrap();
        let filters = SymbolFilters::with_steps(btc(), dec!(0.01), dec!(0.001));
        policy.start(
            &sell(intended),
            free.map(q),
            &filters,
            Timestamp::from_millis(0),
        )
    }

    fn failed() -> SellOutcome {
        SellOutcome::Failed {
            reason: "timeout".to_owned(),
        }
    }

    #[test]
    fn first_sell_is_immediate() {
        let (_, step) = start(dec!(0.5), Some(dec!(0.5)));
        assert_eq!(
            step,
            ExecutionStep::Sell {
                at: Timestamp::from_millis(0),
                quantity: q(dec!(0.5)),
                attempt: 1
            }
        );
    }

    #[test]
    fn retries_wait_two_then_five_seconds() {
        let (mut ex, _) = start(dec!(0.5), None);
        let t = Timestamp::from_millis(100);
        let step = ex.on_outcome(failed(), t).unwrap();
        assert!(
            matches!(step, ExecutionStep::Sell { at, attempt: 2, .. } if at.as_millis() == 2_100)
        );
        let step = ex.on_outcome(failed(), t).unwrap();
        assert!(
            matches!(step, ExecutionStep::Sell { at, attempt: 3, .. } if at.as_millis() == 5_100)
        );
        let ExecutionStep::GiveUp(alert) = ex.on_outcome(failed(), t).unwrap() else {
            panic!("expected a give-up");
        };
        assert_eq!(alert.severity, AlertSeverity::Critical);
        assert!(ex.on_outcome(SellOutcome::Filled, t).is_err());
    }

    #[test]
    fn insufficient_balance_retries_with_the_free_balance_never_more() {
        let (mut ex, _) = start(dec!(0.5), None);
        let t = Timestamp::from_millis(0);
        let step = ex
            .on_outcome(
                SellOutcome::InsufficientBalance {
                    free: q(dec!(0.4567)),
                },
                t,
            )
            .unwrap();
        assert!(matches!(step, ExecutionStep::Sell { quantity, .. } if quantity == q(dec!(0.456))));
        let step = ex
            .on_outcome(SellOutcome::InsufficientBalance { free: q(dec!(9)) }, t)
            .unwrap();
        assert!(matches!(step, ExecutionStep::Sell { quantity, .. } if quantity == q(dec!(0.5))));
    }

    #[test]
    fn insufficient_with_nothing_left_gives_up_at_once() {
        let (mut ex, _) = start(dec!(0.5), None);
        let step = ex
            .on_outcome(
                SellOutcome::InsufficientBalance {
                    free: q(dec!(0.0001)),
                },
                Timestamp::from_millis(0),
            )
            .unwrap();
        assert!(matches!(step, ExecutionStep::GiveUp(_)));
        assert_eq!(ex.phase(), ExecutionPhase::GaveUp);
        assert_eq!(ex.attempts(), 1);
    }

    #[test]
    fn below_min_notional_is_never_sent() {
        let policy = StopExecutionPolicy::new(ExecutionConfig::default()).unwrap();
        let mut filters = SymbolFilters::with_steps(btc(), dec!(0.01), dec!(0.00001));
        filters.min_notional = dec!(10);
        // 0.0002 × 47000 = 9.4 < 10.
        let (ex, step) = policy.start(
            &sell(dec!(0.0002)),
            None,
            &filters,
            Timestamp::from_millis(0),
        );
        let ExecutionStep::GiveUp(alert) = step else {
            panic!("expected a give-up");
        };
        assert!(
            alert.message.contains("minimum notional"),
            "{}",
            alert.message
        );
        assert_eq!(ex.attempts(), 0);
    }

    #[test]
    fn insufficient_on_the_last_attempt_reports_the_attempts() {
        let (mut ex, _) = start(dec!(0.5), None);
        let t = Timestamp::from_millis(0);
        ex.on_outcome(failed(), t).unwrap();
        ex.on_outcome(failed(), t).unwrap();
        let step = ex
            .on_outcome(SellOutcome::InsufficientBalance { free: q(dec!(0.4)) }, t)
            .unwrap();
        let ExecutionStep::GiveUp(alert) = step else {
            panic!("expected a give-up");
        };
        assert!(
            alert.message.contains("FAILED after 3 attempts"),
            "{}",
            alert.message
        );
        assert!(
            alert.message.contains("insufficient balance"),
            "{}",
            alert.message
        );
    }

    #[test]
    fn filled_is_sold() {
        let (mut ex, _) = start(dec!(0.5), None);
        let step = ex
            .on_outcome(SellOutcome::Filled, Timestamp::from_millis(0))
            .unwrap();
        assert_eq!(step, ExecutionStep::Sold);
        assert_eq!(ex.phase(), ExecutionPhase::Sold);
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;

    fn outcome() -> impl Strategy<Value = SellOutcome> {
        prop_oneof![
            Just(SellOutcome::Filled),
            (0i64..2_000_000).prop_map(|units| SellOutcome::InsufficientBalance {
                free: Quantity::new(Decimal::new(units, 6)).unwrap()
            }),
            Just(SellOutcome::Failed {
                reason: "5xx".to_owned()
            }),
        ]
    }

    proptest! {
        /// Never more than `max_attempts` sells, never more than the stop's quantity, always
        /// on the step, and every run ends in Sold or GaveUp.
        #[test]
        fn prop_bounded_and_never_oversells(
            intended in 1i64..1_000_000,
            outcomes in prop::collection::vec(outcome(), 1..10),
        ) {
            let symbol = Symbol::new("ETHUSDT").unwrap();
            let step_size = Decimal::new(1, 4);
            let filters = SymbolFilters::with_steps(symbol.clone(), Decimal::new(1, 2), step_size);
            let sell = MarketSell {
                cohort: CohortId::new(3),
                symbol,
                quantity: Quantity::new(Decimal::new(intended, 4)).unwrap(),
                stop_price: Price::new(Decimal::ONE).unwrap(),
                trigger_price: Price::new(Decimal::ONE).unwrap(),
            };
            let policy = StopExecutionPolicy::new(ExecutionConfig::default()).unwrap();
            let (mut ex, mut step) = policy.start(&sell, None, &filters, Timestamp::from_millis(0));
            let mut sells = 0;
            for outcome in outcomes {
                match step {
                    ExecutionStep::Sell { quantity, .. } => {
                        sells += 1;
                        prop_assert!(quantity <= sell.quantity);
                        prop_assert!(!quantity.is_zero());
                        prop_assert!((quantity.value() % step_size).is_zero());
                    }
                    ExecutionStep::Sold | ExecutionStep::GiveUp(_) => break,
                }
                step = ex.on_outcome(outcome, Timestamp::from_millis(0)).unwrap();
            }
            prop_assert!(sells <= 3);
            if sells == 3 && !matches!(step, ExecutionStep::Sell { .. }) {
                prop_assert!(ex.phase() != ExecutionPhase::AwaitingSell);
            }
        }
    }
}
