//! What the orchestrator keeps per symbol (spec §5.1): the mode, the mode manager and regime
//! detector, the daily candles, and the mode's position (a grid, a held position, a CASH
//! exit deadline).

use hybrid_core::{Asset, Candle, Notional, Price, SymbolFilters, Timestamp, TradingMode};
use hybrid_grid::GridBot;
use hybrid_market::{
    DailyCandleAggregator, DetectionMethod, RegimeConfig, RegimeDetector, RegimeReport,
};
use hybrid_modes::ModeManager;
use hybrid_store::ExitReason;

use super::OrchestratorError;

/// Daily candles kept per symbol: a year and a half, more than the detector's training window.
const MAX_DAILY_CANDLES: usize = 550;

/// Days of history one daily feature row looks back on (`hybrid_market`'s feature window):
/// the HMM's last `n` feature rows depend only on the last `n + FEATURE_LOOKBACK_DAYS` days.
const FEATURE_LOOKBACK_DAYS: usize = 7;

/// Who sent an order, so its fills go to the right place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderOwner {
    /// One of the grid's limit orders.
    Grid,
    /// A HOLD entry (market buy).
    HoldBuy,
    /// A market sell closing coins for this reason.
    Exit(ExitReason),
}

/// The coins a HOLD symbol holds under its trailing stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HoldPosition {
    /// Average entry price.
    pub(crate) entry: Price,
}

/// One symbol's state.
#[derive(Debug)]
pub(crate) struct SymbolState {
    pub(crate) filters: SymbolFilters,
    pub(crate) mode: TradingMode,
    pub(crate) manager: ModeManager,
    detector: RegimeDetector,
    /// Daily candles the HMM path of the detector reads: its training window plus the feature
    /// look-back (passing only these gives the same report, see [`Self::observe`]).
    hmm_days: usize,
    aggregator: DailyCandleAggregator,
    daily: Vec<Candle>,
    /// The detector's latest report, refreshed when a day closes.
    pub(crate) report: Option<RegimeReport>,
    pub(crate) grid: Option<GridBot>,
    /// Grids built so far: each gets its own range of client order sequences.
    pub(crate) grid_generation: u64,
    pub(crate) hold: Option<HoldPosition>,
    /// A stop sold the HOLD position at this time; buy back only after a new day closed.
    pub(crate) stopped_out_at: Option<Timestamp>,
    pub(crate) cash_exit_deadline: Option<Timestamp>,
    pub(crate) allocation: Notional,
    pub(crate) last_price: Option<Price>,
}

impl SymbolState {
    pub(crate) fn new(filters: SymbolFilters, manager: ModeManager, regime: RegimeConfig) -> Self {
        Self {
            filters,
            mode: manager.mode(),
            manager,
            detector: RegimeDetector::new(regime),
            hmm_days: regime.training_days.max(regime.min_training_days) + FEATURE_LOOKBACK_DAYS,
            aggregator: DailyCandleAggregator::default(),
            daily: Vec::new(),
            report: None,
            grid: None,
            grid_generation: 0,
            hold: None,
            stopped_out_at: None,
            cash_exit_deadline: None,
            allocation: Notional::ZERO,
            last_price: None,
        }
    }

    /// Takes a candle's close as the last price and aggregates it; when it closes a day, the
    /// regime is detected again on the closed days (at the new day's start).
    pub(crate) fn observe(&mut self, candle: &Candle) -> Result<(), OrchestratorError> {
        self.last_price = Some(candle.close());
        if let Some(day) = self.aggregator.push(candle)? {
            self.daily.push(day);
            if self.daily.len() > MAX_DAILY_CANDLES {
                self.daily.remove(0);
            }
            let now = day.open_time().plus_millis(Timestamp::DAY_MS);
            // Too few days is not an error: the manager keeps its mode without a report.
            // Speed (the detector's cost is linear in the days passed): the HMM reads only the
            // last `hmm_days`, so those alone give the same report; the rules (used when the
            // model cannot be fitted) read every day, so they get them all.
            let recent = &self.daily[self.daily.len().saturating_sub(self.hmm_days)..];
            self.report = match self.detector.detect(recent, now) {
                Ok(report)
                    if report.method == DetectionMethod::Hmm
                        || recent.len() == self.daily.len() =>
                {
                    Some(report)
                }
                _ => self.detector.detect(&self.daily, now).ok(),
            };
        }
        Ok(())
    }
}

/// The quote asset every symbol shares.
pub(crate) fn common_quote(symbols: &[SymbolFilters]) -> Result<Asset, OrchestratorError> {
    let mut quotes = symbols.iter().map(|f| f.symbol.quote());
    let first = quotes.next().ok_or_else(|| {
        OrchestratorError::Core(hybrid_core::CoreError::InvalidValue {
            what: "symbols",
            value: String::new(),
            reason: "at least one symbol is needed",
        })
    })?;
    if quotes.any(|quote| quote != first) {
        return Err(OrchestratorError::Core(
            hybrid_core::CoreError::InvalidValue {
                what: "symbols",
                value: first.to_string(),
                reason: "every symbol must share one quote asset",
            },
        ));
    }
    Ok(first)
}
