//! `ModeManager`: which mode the orchestrator should be in, decided from regime estimates
//! with hysteresis, an emergency exit, a cooldown and a safety lock (spec §4.3, §4.4).
//!
//! Every call returns a [`ModeDecision`]: what was asked, what was decided, and why, so that
//! the engine can store and show each decision (switch or not). When a decision says
//! `switched`, the engine runs [`crate::plan_transition`] for every symbol.
//!
//! The checks of [`ModeManager::evaluate`] run in the spec's order; the first that applies
//! decides:
//!
//! | # | check | outcome |
//! |---|---|---|
//! | 1 | switching disabled | stay, [`DecisionReason::Disabled`] |
//! | 2 | safety lock active (it expires after `safety_lock_days`) | the locked mode, [`DecisionReason::SafetyLock`] |
//! | 3 | no regime, or TRANSITION | stay, [`DecisionReason::NoRegime`] |
//! | 4 | the regime's mode is the current one | stay, [`DecisionReason::AlreadyInMode`] |
//! | 5 | BEAR with p ≥ `emergency_bear_probability` | CASH now, [`DecisionReason::Emergency`] |
//! | 6 | p < `min_regime_probability` | stay, [`DecisionReason::ProbabilityBelowThreshold`] |
//! | 7 | regime younger than `min_regime_duration_days` | stay, [`DecisionReason::DurationTooShort`] |
//! | 8 | within `mode_cooldown_hours` of the last switch | stay, [`DecisionReason::Cooldown`] |
//! | 9 | otherwise | switch, [`DecisionReason::Switched`] |
//!
//! Steps 5 and 9 then pass the request gate (spec §4.4): if `safety_lock_max_transitions`
//! switches happened in the last `safety_lock_window_hours`, the request is refused, GRID is
//! locked for `safety_lock_days`, and the manager switches to GRID
//! ([`DecisionReason::SafetyLockEngaged`]).
//!
//! Deliberate differences from the original:
//! - The forced switch to GRID is a real switch (`switched = true`), so the engine runs the
//!   transition plans. The original returned false and left the symbols in HOLD/CASH state
//!   while the manager said GRID (spec §5.4 **Bug**).
//! - The lock always has a time; the original's "lock without a timestamp never expires"
//!   cannot happen.
//! - [`ModeManager::request_switch`] refuses while a lock is active; the original only
//!   counted recent switches, so a manual switch could leave the locked mode.
//! - The whole state (mode, history, lock) is persisted through [`ModeSnapshot`]; the
//!   original restarted at the initial mode (spec §4.4 **Gap**).
//!
//! Consequence kept from the spec's order: an active lock also holds GRID against an
//! emergency BEAR. Stops and the risk guard still protect positions during the lock.

use std::fmt;

use hybrid_core::{Regime, Timestamp, TradingMode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    config::HybridConfig, constraints::AllocationConstraints, error::ModesError,
    probability::Probability,
};

/// What the regime detector reports, once an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegimeInput {
    /// The regime, or `None` when the detector had no data.
    pub regime: Option<Regime>,
    /// How sure the detector is of `regime`.
    pub probability: Probability,
    /// Whole days the regime has lasted.
    pub duration_days: u32,
}

/// One decision of the manager, switch or not, with the reason: the explainable record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeDecision {
    /// The mode before the decision.
    pub from: TradingMode,
    /// The mode after the decision (equal to `from` unless `switched`).
    pub to: TradingMode,
    /// Whether the mode changed: the engine must then run the transition plans.
    pub switched: bool,
    /// Why.
    pub reason: DecisionReason,
    /// The regime estimate decided on; `None` for a manual request.
    pub input: Option<RegimeInput>,
    /// A safety lock that expired during this decision, if any.
    pub released_lock: Option<SafetyLock>,
    /// When the decision was made.
    pub at: Timestamp,
}

/// Why the manager decided as it did; `Display` gives the sentence shown to the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionReason {
    /// Mode switching is disabled in the configuration.
    Disabled,
    /// A safety lock holds `mode` until `until`.
    SafetyLock {
        /// The locked mode (GRID).
        mode: TradingMode,
        /// When the lock expires.
        until: Timestamp,
    },
    /// No regime, or TRANSITION: the detector is not sure, keep the current mode.
    NoRegime {
        /// `None` (no data) or TRANSITION.
        regime: Option<Regime>,
    },
    /// The regime calls for the mode already current.
    AlreadyInMode {
        /// The current mode.
        mode: TradingMode,
    },
    /// BEAR with a probability at or above the emergency threshold: CASH at once, without
    /// waiting for duration or cooldown.
    Emergency {
        /// The BEAR probability.
        probability: Probability,
        /// The emergency threshold.
        threshold: Decimal,
    },
    /// The regime is not certain enough to switch.
    ProbabilityBelowThreshold {
        /// The reported probability.
        probability: Probability,
        /// The configured minimum.
        min: Decimal,
    },
    /// The regime has not lasted long enough to switch.
    DurationTooShort {
        /// Whole days the regime has lasted.
        days: u32,
        /// The configured minimum.
        min: u32,
    },
    /// The last switch is too recent.
    Cooldown {
        /// When the cooldown ends.
        until: Timestamp,
    },
    /// The regime is certain and old enough: switch to its mode.
    Switched {
        /// The regime that called for the switch.
        regime: Regime,
    },
    /// An operator asked for the switch.
    Requested {
        /// The operator's note.
        note: String,
    },
    /// Too many recent switches: the request for `requested` was refused and GRID is locked.
    SafetyLockEngaged {
        /// The mode that was asked for.
        requested: TradingMode,
        /// Switches counted inside the window.
        recent_switches: u32,
        /// When the lock expires.
        until: Timestamp,
    },
}

/// The current mode and what is known about it (spec §4.1 `ModeState`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeState {
    /// The mode now.
    pub current_mode: TradingMode,
    /// The mode before the last switch.
    #[serde(default)]
    pub previous_mode: Option<TradingMode>,
    /// When the current mode began.
    pub mode_since: Timestamp,
    /// The regime that caused the last switch.
    #[serde(default)]
    pub regime_at_switch: Option<Regime>,
    /// The latest regime reported (tracking only).
    #[serde(default)]
    pub last_regime: Option<Regime>,
    /// The latest regime probability reported (tracking only).
    #[serde(default)]
    pub regime_probability: Probability,
    /// Switches in the 24 h up to and including the last switch.
    #[serde(default)]
    pub transition_count_24h: u32,
}

/// One executed switch (spec §4.1 `ModeTransitionEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeTransitionEvent {
    /// The mode left.
    pub from: TradingMode,
    /// The mode entered.
    pub to: TradingMode,
    /// When.
    pub at: Timestamp,
    /// The regime reported at the time, if any.
    #[serde(default)]
    pub regime: Option<Regime>,
    /// Its probability.
    #[serde(default)]
    pub probability: Probability,
    /// Why the switch happened.
    pub reason: DecisionReason,
}

/// GRID held against every regime until `until` (spec §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyLock {
    /// The locked mode (GRID: it neither chases a trend nor sells out).
    pub mode: TradingMode,
    /// When the lock was set.
    pub since: Timestamp,
    /// When it expires.
    pub until: Timestamp,
}

/// Everything the manager needs to continue after a restart; store it after each decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeSnapshot {
    /// The mode state.
    pub state: ModeState,
    /// The most recent switches, oldest first (at most [`HISTORY_LIMIT`]).
    #[serde(default)]
    pub history: Vec<ModeTransitionEvent>,
    /// The safety lock, if one is set.
    #[serde(default)]
    pub safety_lock: Option<SafetyLock>,
}

/// Switches kept in the history. The lock and cooldown need only the last few days; the
/// rest is for the operator, and the store keeps every decision anyway.
pub const HISTORY_LIMIT: usize = 256;

/// Decides the mode of one orchestrator. See the module docs for the order of checks.
#[derive(Debug, Clone)]
pub struct ModeManager {
    config: HybridConfig,
    state: ModeState,
    history: Vec<ModeTransitionEvent>,
    lock: Option<SafetyLock>,
}

/// What the checks concluded, before it is applied.
enum Verdict {
    Stay(DecisionReason),
    Switch(TradingMode, DecisionReason),
}

impl ModeManager {
    /// A manager in `config.initial_mode` since `now`, with no history.
    ///
    /// # Errors
    /// [`ModesError::InvalidConfig`] if the configuration does not validate.
    pub fn new(config: HybridConfig, now: Timestamp) -> Result<Self, ModesError> {
        let state = ModeState::new(config.initial_mode, now);
        Self::restore(
            config,
            ModeSnapshot {
                state,
                history: Vec::new(),
                safety_lock: None,
            },
        )
    }

    /// A manager continuing from a stored snapshot.
    ///
    /// # Errors
    /// [`ModesError::InvalidConfig`] if the configuration does not validate.
    pub fn restore(config: HybridConfig, snapshot: ModeSnapshot) -> Result<Self, ModesError> {
        config.validate()?;
        Ok(Self {
            config,
            state: snapshot.state,
            history: snapshot.history,
            lock: snapshot.safety_lock,
        })
    }

    /// The state to store.
    #[must_use]
    pub fn snapshot(&self) -> ModeSnapshot {
        ModeSnapshot {
            state: self.state.clone(),
            history: self.history.clone(),
            safety_lock: self.lock,
        }
    }

    /// The current mode.
    #[must_use]
    pub fn mode(&self) -> TradingMode {
        self.state.current_mode
    }

    /// The mode state.
    #[must_use]
    pub fn state(&self) -> &ModeState {
        &self.state
    }

    /// The recent switches, oldest first.
    #[must_use]
    pub fn history(&self) -> &[ModeTransitionEvent] {
        &self.history
    }

    /// The safety lock, if set (it may have expired; the next decision clears it).
    #[must_use]
    pub fn safety_lock(&self) -> Option<SafetyLock> {
        self.lock
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &HybridConfig {
        &self.config
    }

    /// The allocation limits for the current mode (spec §4.5).
    #[must_use]
    pub fn constraints(&self) -> AllocationConstraints {
        self.config.constraints_for(self.mode())
    }

    /// Records the latest regime estimate on the state, for tracking only.
    pub fn update_regime_info(&mut self, regime: Option<Regime>, probability: Probability) {
        self.state.last_regime = regime;
        self.state.regime_probability = probability;
    }

    /// Decides on a regime estimate and, if the decision is a switch, switches.
    pub fn evaluate(&mut self, input: RegimeInput, now: Timestamp) -> ModeDecision {
        self.update_regime_info(input.regime, input.probability);
        let (verdict, released_lock) = match self.gate(now) {
            Ok(released) => (self.judge(&input, now), released),
            Err(stay) => (stay, None),
        };
        let mut decision = self.apply(verdict, Some(input), now);
        decision.released_lock = released_lock;
        decision
    }

    /// An operator's request to switch to `to`. It skips the regime checks and the cooldown
    /// but not the safety lock: an active lock refuses it, and too many recent switches
    /// engage the lock as for any other request.
    pub fn request_switch(&mut self, to: TradingMode, note: &str, now: Timestamp) -> ModeDecision {
        let released_lock = self.release_expired_lock(now);
        let verdict = if to == self.mode() {
            Verdict::Stay(DecisionReason::AlreadyInMode { mode: to })
        } else if let Some(lock) = self.lock {
            Verdict::Stay(lock.reason())
        } else {
            let reason = DecisionReason::Requested {
                note: note.to_owned(),
            };
            self.request(to, reason, now)
        };
        let mut decision = self.apply(verdict, None, now);
        decision.released_lock = released_lock;
        decision
    }

    /// Checks 1 and 2: disabled, or held by an active lock. `Ok` carries an expired lock.
    fn gate(&mut self, now: Timestamp) -> Result<Option<SafetyLock>, Verdict> {
        if !self.config.enable_mode_switching {
            return Err(Verdict::Stay(DecisionReason::Disabled));
        }
        let released = self.release_expired_lock(now);
        match self.lock {
            // A restored lock whose mode is not current puts the manager back in that mode.
            Some(lock) if lock.mode != self.mode() => {
                Err(Verdict::Switch(lock.mode, lock.reason()))
            }
            Some(lock) => Err(Verdict::Stay(lock.reason())),
            None => Ok(released),
        }
    }

    /// Checks 3 to 9.
    fn judge(&mut self, input: &RegimeInput, now: Timestamp) -> Verdict {
        let called_for = input.regime.and_then(|r| Some((r, r.preferred_mode()?)));
        let Some((regime, target)) = called_for else {
            return Verdict::Stay(DecisionReason::NoRegime {
                regime: input.regime,
            });
        };
        if target == self.mode() {
            return Verdict::Stay(DecisionReason::AlreadyInMode { mode: target });
        }
        if regime == Regime::Bear
            && input.probability.value() >= self.config.emergency_bear_probability
        {
            let reason = DecisionReason::Emergency {
                probability: input.probability,
                threshold: self.config.emergency_bear_probability,
            };
            return self.request(TradingMode::Cash, reason, now);
        }
        if let Some(stay) = self.hysteresis(input, now) {
            return Verdict::Stay(stay);
        }
        self.request(target, DecisionReason::Switched { regime }, now)
    }

    /// Checks 6 to 8: probability, duration, cooldown.
    fn hysteresis(&self, input: &RegimeInput, now: Timestamp) -> Option<DecisionReason> {
        let (min_p, min_days) = (
            self.config.min_regime_probability,
            self.config.min_regime_duration_days,
        );
        if input.probability.value() < min_p {
            return Some(DecisionReason::ProbabilityBelowThreshold {
                probability: input.probability,
                min: min_p,
            });
        }
        if input.duration_days < min_days {
            return Some(DecisionReason::DurationTooShort {
                days: input.duration_days,
                min: min_days,
            });
        }
        self.cooldown_until(now)
            .map(|until| DecisionReason::Cooldown { until })
    }

    /// The end of the cooldown after the last switch, if it is still running.
    fn cooldown_until(&self, now: Timestamp) -> Option<Timestamp> {
        let last = self.history.last()?;
        let until = last.at.plus_millis(self.config.cooldown_ms());
        (now < until).then_some(until)
    }

    /// The request gate (spec §4.4): switch, or engage the lock and go to GRID.
    fn request(&mut self, to: TradingMode, reason: DecisionReason, now: Timestamp) -> Verdict {
        let recent = self.switches_since(now.plus_millis(-self.config.lock_window_ms()));
        if recent < self.config.safety_lock_max_transitions {
            return Verdict::Switch(to, reason);
        }
        let lock = SafetyLock {
            mode: TradingMode::Grid,
            since: now,
            until: now.plus_millis(self.config.lock_duration_ms()),
        };
        self.lock = Some(lock);
        let engaged = DecisionReason::SafetyLockEngaged {
            requested: to,
            recent_switches: recent,
            until: lock.until,
        };
        if self.mode() == lock.mode {
            Verdict::Stay(engaged)
        } else {
            Verdict::Switch(lock.mode, engaged)
        }
    }

    /// Switches strictly after `start` (the spec counts `timestamp > now − window`).
    fn switches_since(&self, start: Timestamp) -> u32 {
        let n = self.history.iter().filter(|e| e.at > start).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Clears a lock that has lasted its full time; returns it.
    fn release_expired_lock(&mut self, now: Timestamp) -> Option<SafetyLock> {
        let lock = self.lock?;
        (now >= lock.until).then(|| {
            self.lock = None;
            lock
        })
    }

    /// Turns a verdict into a decision, switching if it says so.
    fn apply(
        &mut self,
        verdict: Verdict,
        input: Option<RegimeInput>,
        now: Timestamp,
    ) -> ModeDecision {
        let from = self.mode();
        let (to, reason) = match verdict {
            Verdict::Stay(reason) => (from, reason),
            Verdict::Switch(to, reason) => {
                self.switch(to, input, reason.clone(), now);
                (to, reason)
            }
        };
        ModeDecision {
            from,
            to,
            switched: to != from,
            reason,
            input,
            released_lock: None,
            at: now,
        }
    }

    /// Executes a switch: records the event and starts the new mode.
    fn switch(
        &mut self,
        to: TradingMode,
        input: Option<RegimeInput>,
        reason: DecisionReason,
        now: Timestamp,
    ) {
        let regime = input.and_then(|i| i.regime);
        let probability = input.map_or(Probability::ZERO, |i| i.probability);
        self.history.push(ModeTransitionEvent {
            from: self.mode(),
            to,
            at: now,
            regime,
            probability,
            reason,
        });
        if self.history.len() > HISTORY_LIMIT {
            self.history.remove(0);
        }
        let count_24h = self.switches_since(now.plus_millis(-Timestamp::DAY_MS));
        self.state = ModeState {
            current_mode: to,
            previous_mode: Some(self.state.current_mode),
            mode_since: now,
            regime_at_switch: regime,
            last_regime: self.state.last_regime,
            regime_probability: self.state.regime_probability,
            transition_count_24h: count_24h,
        };
    }
}

impl ModeState {
    /// A mode that began at `since`, with nothing else known.
    #[must_use]
    pub fn new(mode: TradingMode, since: Timestamp) -> Self {
        Self {
            current_mode: mode,
            previous_mode: None,
            mode_since: since,
            regime_at_switch: None,
            last_regime: None,
            regime_probability: Probability::ZERO,
            transition_count_24h: 0,
        }
    }

    /// Hours in the current mode at `now`, exact to the millisecond.
    #[must_use]
    pub fn mode_duration_hours(&self, now: Timestamp) -> Decimal {
        Decimal::from(now.millis_since(self.mode_since)) / Decimal::from(Timestamp::HOUR_MS)
    }
}

impl SafetyLock {
    fn reason(self) -> DecisionReason {
        DecisionReason::SafetyLock {
            mode: self.mode,
            until: self.until,
        }
    }
}

impl fmt::Display for ModeDecision {
    /// One line for logs and notifications, e.g.
    /// `2024-01-01T01:00:00.000Z GRID → HOLD: regime BULL is certain and old enough`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.switched {
            write!(
                f,
                "{} {} → {}: {}",
                self.at, self.from, self.to, self.reason
            )
        } else {
            write!(f, "{} stay in {}: {}", self.at, self.from, self.reason)
        }
    }
}

impl fmt::Display for DecisionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disabled => f.write_str("mode switching disabled"),
            Self::SafetyLock { mode, until } => write!(f, "Safety lock holds {mode} until {until}"),
            Self::NoRegime { regime: None } => f.write_str("regime None: keeping the current mode"),
            Self::NoRegime { regime: Some(r) } => write!(f, "regime {r}: keeping the current mode"),
            Self::AlreadyInMode { mode } => write!(f, "Already in {mode}"),
            Self::Emergency { probability, threshold } => {
                write!(f, "Emergency: BEAR probability {probability} ≥ {threshold}, going to CASH")
            }
            Self::ProbabilityBelowThreshold { probability, min } => {
                write!(f, "probability {probability} below threshold {min}")
            }
            Self::DurationTooShort { days, min } => {
                write!(f, "regime duration {days} d shorter than the {min} d required")
            }
            Self::Cooldown { until } => write!(f, "in cooldown until {until}"),
            Self::Switched { regime } => write!(f, "regime {regime} is certain and old enough"),
            Self::Requested { note } => write!(f, "requested: {note}"),
            Self::SafetyLockEngaged { requested, recent_switches, until } => write!(
                f,
                "Safety lock: {recent_switches} recent switches, refusing {requested}; GRID until {until}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    const H: i64 = Timestamp::HOUR_MS;

    fn at(hours: i64) -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000 + hours * H)
    }

    fn input(regime: Regime, p: Decimal, days: u32) -> RegimeInput {
        RegimeInput {
            regime: Some(regime),
            probability: Probability::new(p).unwrap(),
            duration_days: days,
        }
    }

    fn manager(cooldown_hours: u32) -> ModeManager {
        let config = HybridConfig {
            mode_cooldown_hours: cooldown_hours,
            ..HybridConfig::default()
        };
        ModeManager::new(config, at(0)).unwrap()
    }

    #[test]
    fn invalid_config_is_refused() {
        let config = HybridConfig {
            max_symbols: 0,
            ..HybridConfig::default()
        };
        assert!(matches!(
            ModeManager::new(config, at(0)),
            Err(ModesError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn switch_records_event_and_state() {
        let mut m = manager(24);
        let d = m.evaluate(input(Regime::Bull, dec!(0.8), 3), at(1));
        assert!(d.switched);
        assert_eq!((d.from, d.to), (TradingMode::Grid, TradingMode::Hold));
        assert_eq!(m.state().previous_mode, Some(TradingMode::Grid));
        assert_eq!(m.state().regime_at_switch, Some(Regime::Bull));
        assert_eq!(m.state().transition_count_24h, 1);
        assert_eq!(m.state().mode_since, at(1));
        assert_eq!(m.history().len(), 1);
        assert_eq!(m.history()[0].probability.value(), dec!(0.8));
    }

    #[test]
    fn cooldown_ends_exactly_after_the_configured_hours() {
        let mut m = manager(24);
        m.evaluate(input(Regime::Bull, dec!(0.8), 3), at(0));
        let during = m.evaluate(input(Regime::Sideways, dec!(0.8), 3), at(23));
        assert_eq!(during.reason, DecisionReason::Cooldown { until: at(24) });
        let after = m.evaluate(input(Regime::Sideways, dec!(0.8), 3), at(24));
        assert!(after.switched);
    }

    #[test]
    fn lock_engaged_while_in_grid_does_not_switch() {
        let mut m = manager(0);
        m.request_switch(TradingMode::Hold, "a", at(0));
        m.request_switch(TradingMode::Grid, "b", at(1));
        let d = m.request_switch(TradingMode::Cash, "c", at(2));
        assert!(!d.switched);
        assert_eq!(d.to, TradingMode::Grid);
        assert!(matches!(
            d.reason,
            DecisionReason::SafetyLockEngaged {
                requested: TradingMode::Cash,
                recent_switches: 2,
                ..
            }
        ));
        assert!(m.safety_lock().is_some());
    }

    #[test]
    fn manual_request_is_refused_under_a_lock_until_it_expires() {
        let mut m = manager(0);
        m.request_switch(TradingMode::Hold, "a", at(0));
        m.request_switch(TradingMode::Cash, "b", at(1));
        let forced = m.request_switch(TradingMode::Hold, "c", at(2));
        assert_eq!((forced.to, forced.switched), (TradingMode::Grid, true));
        let refused = m.request_switch(TradingMode::Hold, "d", at(100));
        assert!(matches!(refused.reason, DecisionReason::SafetyLock { .. }));
        let after = m.request_switch(TradingMode::Hold, "e", at(2 + 7 * 24));
        assert!(after.switched);
        assert!(after.released_lock.is_some());
    }

    #[test]
    fn restored_lock_in_another_mode_returns_to_grid() {
        let mut snapshot = manager(0).snapshot();
        snapshot.state.current_mode = TradingMode::Hold;
        snapshot.safety_lock = Some(SafetyLock {
            mode: TradingMode::Grid,
            since: at(0),
            until: at(7 * 24),
        });
        let mut m = ModeManager::restore(HybridConfig::default(), snapshot).unwrap();
        let d = m.evaluate(input(Regime::Bull, dec!(0.9), 5), at(1));
        assert_eq!(
            (d.from, d.to, d.switched),
            (TradingMode::Hold, TradingMode::Grid, true)
        );
    }

    #[test]
    fn history_is_bounded() {
        let mut m = manager(0);
        let config = HybridConfig {
            mode_cooldown_hours: 0,
            safety_lock_max_transitions: 10,
            safety_lock_window_hours: 1,
            ..HybridConfig::default()
        };
        m = ModeManager::restore(config, m.snapshot()).unwrap();
        for i in 0..(HISTORY_LIMIT as i64 + 10) {
            let to = if i % 2 == 0 {
                TradingMode::Hold
            } else {
                TradingMode::Grid
            };
            assert!(m.request_switch(to, "flip", at(i * 2)).switched);
        }
        assert_eq!(m.history().len(), HISTORY_LIMIT);
    }

    #[test]
    fn switches_exactly_one_window_old_are_not_counted() {
        let mut m = manager(0);
        m.request_switch(TradingMode::Hold, "a", at(0));
        m.request_switch(TradingMode::Grid, "b", at(1));
        // At hour 48 the first switch is exactly 48 h old: only one switch counts.
        let d = m.request_switch(TradingMode::Cash, "c", at(48));
        assert!(d.switched);
        assert!(m.safety_lock().is_none());
        // Hours 1 and 48 are inside the window of a request at hour 48: the lock engages.
        let d = m.request_switch(TradingMode::Hold, "d", at(48));
        assert!(matches!(
            d.reason,
            DecisionReason::SafetyLockEngaged {
                recent_switches: 2,
                ..
            }
        ));
    }

    #[test]
    fn decisions_read_as_one_line() {
        let mut m = manager(24);
        let d = m.evaluate(input(Regime::Bull, dec!(0.8), 3), at(0));
        assert!(
            d.to_string()
                .ends_with("GRID → HOLD: regime BULL is certain and old enough"),
            "{d}"
        );
        let d = m.evaluate(input(Regime::Bull, dec!(0.8), 3), at(1));
        assert!(
            d.to_string().ends_with("stay in HOLD: Already in HOLD"),
            "{d}"
        );
    }

    #[test]
    fn reasons_read_as_sentences() {
        let r = DecisionReason::ProbabilityBelowThreshold {
            probability: Probability::new(dec!(0.6)).unwrap(),
            min: dec!(0.75),
        };
        assert_eq!(r.to_string(), "probability 0.6 below threshold 0.75");
        assert_eq!(
            DecisionReason::NoRegime {
                regime: Some(Regime::Transition)
            }
            .to_string(),
            "regime TRANSITION: keeping the current mode"
        );
    }

    #[test]
    fn decision_serialises_with_a_kind_tag() {
        let mut m = manager(24);
        let d = m.evaluate(input(Regime::Bear, dec!(0.9), 0), at(0));
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("\"kind\":\"emergency\""), "{json}");
        let back: ModeDecision = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }
}
