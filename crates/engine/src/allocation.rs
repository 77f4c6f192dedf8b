//! The allocator (spec §7.3): how many USDT of the capital each scanned coin gets.
//!
//! The steps, in order, for candidates ranked by score (highest first, ties by symbol):
//! 1. **Screen**: score ≥ 0.3, confidence ≥ the cohort minimum (0.2), category allowed.
//! 2. **Pre-feasibility**: a coin's minimum position is `max(min_position_usd, exchange min
//!    notional)`; if its largest possible position (per-coin cap, `max_position_usd`, the room
//!    left after the cash reserve) is smaller, it is skipped with
//!    [`SkipReason::CannotFundMinimum`].
//! 3. **Max positions**: at most `min(max_open_positions, policy.max_positions)` coins.
//! 4. **Weights**: `room × score/Σscores × risk multiplier` (LOW 1.2, MEDIUM 1.0, HIGH 0.7),
//!    capped at the per-coin cap and `max_position_usd`, then × `0.5 + 0.5·h` where `h` is the
//!    half-Kelly fraction of [`hybrid_risk::kelly_fraction`].
//! 5. **Correlation penalty**: for pairs with |ρ| ≥ `correlation_threshold` (0.7), strongest
//!    first, the weaker coin is halved, at most once per coin.
//! 6. **Category caps**: a category over its limit is scaled down pro rata.
//! 7. **Room**: if the sum exceeds the room left after the cash reserve, everything is scaled
//!    down pro rata.
//! 8. **Cents**: amounts are rounded *down* to the cent, so no cap is ever exceeded by
//!    rounding; a coin then below its minimum position is skipped with
//!    [`SkipReason::PositionTooSmall`].
//!
//! Fixes against the Python allocator:
//! - categories come from the candidate (the old validation treated every new coin as
//!   MID_CAP, spec §7.1), and an over-full category is scaled by exactly the needed factor
//!   instead of ×0.9 up to ten times;
//! - the plan is the *target portfolio* for the whole capital, so coins already held are not
//!   excluded (spec §5.5 gap: a second scan dropped every held symbol); the difference to
//!   what is held is [`crate::rebalance_orders`];
//! - no shared singleton: constraints are an argument, so a regime preset never leaks into
//!   another cohort (spec §7.2 bug);
//! - an unknown category ([`Category::Unknown`]) gets the tightest per-coin and per-category
//!   cap any known category has, instead of a guessed MID_CAP.

use std::collections::{BTreeMap, BTreeSet};

use hybrid_core::{Notional, Price, Symbol};
use hybrid_market::{Category, CorrelationMatrix, Opportunity, RiskLevel, Tier};
use hybrid_modes::{AllocationConstraints, CoinCategory};
use hybrid_risk::kelly_fraction;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The weaker coin of a correlated pair keeps this share of its allocation (spec §7.3 step 8).
pub const CORRELATION_PENALTY_FACTOR: Decimal = Decimal::from_parts(5, 0, 0, false, 1);

/// A coin the scanner proposes, with what the allocator needs to size it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationCandidate {
    /// The coin.
    pub symbol: Symbol,
    /// Its category; [`Category::Unknown`] gets the tightest caps.
    pub category: Category,
    /// Its tier; the spec uses 1 for LARGE_CAP and 2 otherwise (see [`Self::scored`]).
    pub tier: Tier,
    /// Scanner total score in [0, 1].
    pub score: Decimal,
    /// Scanner confidence in [0, 1].
    pub confidence: Decimal,
    /// Risk level; sets the weight multiplier ([`risk_multiplier`]).
    pub risk_level: RiskLevel,
    /// Where the Kelly inputs come from.
    pub edge: Edge,
    /// Last price in USDT per coin; carried for the caller's order sizing.
    pub price: Price,
    /// The exchange's minimum order value in USDT (NOTIONAL filter); zero if none.
    pub min_notional: Notional,
}

/// The inputs of the Kelly factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Edge {
    /// Spec §7.3 step 7: win probability = confidence, payoff ratio `b = 1 + 0.5·score`.
    FromScore,
    /// Measured from closed trades: win rate in [0, 1], average win and average loss (USDT or
    /// percent, as long as both use the same unit).
    TrackRecord {
        /// Share of winning trades in [0, 1].
        win_rate: Decimal,
        /// Mean gain of a winning trade (> 0).
        avg_win: Decimal,
        /// Mean loss of a losing trade as a positive number (> 0).
        avg_loss: Decimal,
    },
}

/// Cohort-level filters that are not part of the constraints (spec §7.3 inputs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationPolicy {
    /// Lowest score that is considered; spec 0.3.
    pub min_score: Decimal,
    /// Lowest confidence that is considered; spec default 0.2.
    pub min_confidence: Decimal,
    /// Categories the cohort trades; `None` means all.
    pub allowed_categories: Option<Vec<Category>>,
    /// Most coins for this cohort (its `max_symbols`); 0 means only the constraints' limit.
    pub max_positions: usize,
}

/// The allocator's answer: target amounts, and every coin left out with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationPlan {
    /// Coins to hold, highest score first; every amount ≥ the coin's minimum position.
    pub allocations: Vec<Allocation>,
    /// Coins that get nothing, in ranking order, each with why.
    pub skipped: Vec<(Symbol, SkipReason)>,
    /// Σ allocations, USDT.
    pub total_allocated: Notional,
    /// Capital − Σ allocations, USDT: the cash reserve plus whatever could not be placed.
    pub cash_reserve: Notional,
}

/// One coin's target amount and how it came about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The coin.
    pub symbol: Symbol,
    /// Target position value, USDT, rounded down to the cent.
    pub amount: Notional,
    /// Why this amount.
    pub basis: AllocationBasis,
}

/// The trail of an allocation, for logs and Telegram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationBasis {
    /// `room × score/Σscores × risk multiplier`, USDT, before any cap.
    pub score_weight: Notional,
    /// The last cap that cut the amount, if any.
    pub binding_cap: Option<BindingCap>,
    /// `0.5 + 0.5·half-Kelly`, in [0.5, 0.625].
    pub kelly_factor: Decimal,
    /// The stronger coin of a correlated pair this one was halved for.
    pub correlated_with: Option<Symbol>,
}

/// Which limit cut an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BindingCap {
    /// `max_for_coin(category, tier)` % of the capital.
    PerCoin,
    /// `max_position_usd`.
    MaxPosition,
    /// The category's limit, shared pro rata with the other coins of the category.
    Category,
    /// The room left after the cash reserve and exposure limit, shared pro rata.
    Room,
}

/// Why a candidate gets nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SkipReason {
    /// Score or confidence outside [0, 1], or the symbol listed twice.
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
    /// Score below the policy minimum.
    ScoreBelowMinimum {
        /// The coin's score.
        score: Decimal,
        /// The minimum.
        minimum: Decimal,
    },
    /// Confidence below the policy minimum.
    ConfidenceBelowMinimum {
        /// The coin's confidence.
        confidence: Decimal,
        /// The minimum.
        minimum: Decimal,
    },
    /// The cohort does not trade this category.
    CategoryNotAllowed {
        /// The coin's category.
        category: Category,
    },
    /// Pre-feasibility: even the largest position the caps allow is below the minimum one.
    CannotFundMinimum {
        /// `max(min_position_usd, exchange min notional)`, USDT.
        minimum: Notional,
        /// `min(per-coin cap, max_position_usd, room)`, USDT.
        affordable: Notional,
    },
    /// The position count limit was reached by higher-scored coins.
    MaxPositionsReached {
        /// The limit.
        limit: usize,
    },
    /// After Kelly, penalties and scaling the amount fell below the minimum position
    /// (the spec's "Position too small").
    PositionTooSmall {
        /// The amount it would have had, USDT.
        amount: Notional,
        /// Its minimum position, USDT.
        minimum: Notional,
    },
}

impl AllocationCandidate {
    /// A candidate sized from its scanner scores ([`Edge::FromScore`]), with the spec's tier
    /// (1 for LARGE_CAP, 2 otherwise) and no exchange minimum.
    #[must_use]
    pub fn scored(
        symbol: Symbol,
        category: Category,
        score: Decimal,
        confidence: Decimal,
        risk_level: RiskLevel,
        price: Price,
    ) -> Self {
        let tier = if category == Category::LargeCap {
            Tier::Primary
        } else {
            Tier::Secondary
        };
        Self {
            symbol,
            category,
            tier,
            score,
            confidence,
            risk_level,
            edge: Edge::FromScore,
            price,
            min_notional: Notional::ZERO,
        }
    }

    /// A candidate from a scanner [`Opportunity`], its price and the exchange minimum.
    #[must_use]
    pub fn from_opportunity(
        opportunity: &Opportunity,
        price: Price,
        min_notional: Notional,
    ) -> Self {
        let mut candidate = Self::scored(
            opportunity.symbol.clone(),
            opportunity.category,
            opportunity.total_score,
            opportunity.confidence,
            opportunity.risk_level,
            price,
        );
        candidate.min_notional = min_notional;
        candidate
    }

    /// The half-Kelly fraction in [0, 0.25] from [`hybrid_risk::kelly_fraction`].
    fn half_kelly(&self) -> Decimal {
        match self.edge {
            Edge::FromScore => {
                let payoff = Decimal::ONE + self.score / Decimal::TWO;
                kelly_fraction(self.confidence, payoff, Decimal::ONE)
            }
            Edge::TrackRecord {
                win_rate,
                avg_win,
                avg_loss,
            } => kelly_fraction(win_rate, avg_win, avg_loss),
        }
    }

    /// The smallest position worth opening: `max(min_position_usd, min_notional)`, USDT.
    fn minimum_position(&self, constraints: &AllocationConstraints) -> Decimal {
        constraints
            .min_position_usd
            .value()
            .max(self.min_notional.value())
    }
}

impl AllocationPlan {
    /// The target book `(symbol, amount)` in plan order, as [`crate::rebalance_orders`] and
    /// [`crate::needs_rebalance`] take it.
    #[must_use]
    pub fn targets(&self) -> Vec<(Symbol, Notional)> {
        self.allocations
            .iter()
            .map(|a| (a.symbol.clone(), a.amount))
            .collect()
    }
}

impl Default for AllocationPolicy {
    fn default() -> Self {
        Self {
            min_score: Decimal::new(3, 1),
            min_confidence: Decimal::new(2, 1),
            allowed_categories: None,
            max_positions: 0,
        }
    }
}

/// The weight multiplier of a risk level (spec §7.3 step 6): LOW 1.2, MEDIUM 1.0, HIGH 0.7.
#[must_use]
pub fn risk_multiplier(risk_level: RiskLevel) -> Decimal {
    match risk_level {
        RiskLevel::Low => Decimal::new(12, 1),
        RiskLevel::Medium => Decimal::ONE,
        RiskLevel::High => Decimal::new(7, 1),
    }
}

/// [`allocate_with_policy`] with the default policy (score ≥ 0.3, confidence ≥ 0.2, every
/// category, no cohort position limit).
#[must_use]
pub fn allocate(
    candidates: &[AllocationCandidate],
    available_capital: Notional,
    constraints: &AllocationConstraints,
    correlations: Option<&CorrelationMatrix>,
) -> AllocationPlan {
    allocate_with_policy(
        candidates,
        available_capital,
        constraints,
        correlations,
        &AllocationPolicy::default(),
    )
}

/// Target amounts for `candidates` out of `available_capital` USDT (the cohort's whole
/// capital; a negative value counts as zero), following the steps in the module doc.
///
/// Deterministic and independent of the order of `candidates`: ties in score are broken by
/// symbol. Only a symbol listed twice with the same score depends on order (the first listing
/// is used, the second skipped as invalid input).
#[must_use]
pub fn allocate_with_policy(
    candidates: &[AllocationCandidate],
    available_capital: Notional,
    constraints: &AllocationConstraints,
    correlations: Option<&CorrelationMatrix>,
    policy: &AllocationPolicy,
) -> AllocationPlan {
    let capital = available_capital.value().max(Decimal::ZERO);
    let room = constraints
        .available(Notional::new(capital), Notional::ZERO)
        .value();
    let limits = Limits {
        constraints,
        capital,
        room,
    };
    let mut skipped = Vec::new();
    let eligible = screen(&rank(candidates), &limits, policy, &mut skipped);
    let mut drafts = weigh(&eligible, &limits);
    if let Some(matrix) = correlations {
        penalise_correlated(&mut drafts, matrix, constraints.correlation_threshold);
    }
    cap_categories(&mut drafts, &limits);
    fit_within(&mut drafts, room);
    finish(drafts, capital, skipped)
}

/// The constraints together with the capital they apply to.
struct Limits<'a> {
    constraints: &'a AllocationConstraints,
    /// The capital, USDT, ≥ 0.
    capital: Decimal,
    /// What may be invested after the cash reserve and the exposure limit, USDT.
    room: Decimal,
}

/// A candidate on its way to an allocation; amounts in USDT at full precision.
struct Draft<'a> {
    candidate: &'a AllocationCandidate,
    amount: Decimal,
    minimum: Decimal,
    basis: AllocationBasis,
}

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// USDT amounts are kept to the cent.
const QUOTE_DP: u32 = 2;

impl Limits<'_> {
    /// The per-coin cap, USDT: `capital × max_for_coin/100`, and `max_position_usd`.
    fn coin_cap(&self, candidate: &AllocationCandidate) -> (Decimal, BindingCap) {
        let pct_cap = self.capital * coin_cap_pct(self.constraints, candidate) / HUNDRED;
        let position_cap = self.constraints.max_position_usd.value();
        if position_cap < pct_cap {
            (position_cap, BindingCap::MaxPosition)
        } else {
            (pct_cap, BindingCap::PerCoin)
        }
    }

    /// The category cap, USDT.
    fn category_cap(&self, category: Category) -> Decimal {
        self.capital * category_cap_pct(self.constraints, category) / HUNDRED
    }

    /// Most coins in the plan.
    fn max_positions(&self, policy: &AllocationPolicy) -> usize {
        let limit = usize::try_from(self.constraints.max_open_positions).unwrap_or(usize::MAX);
        match policy.max_positions {
            0 => limit,
            cohort => cohort.min(limit),
        }
    }
}

/// `max_for_coin` of the coin's category and tier; the tightest of all categories if unknown.
fn coin_cap_pct(constraints: &AllocationConstraints, candidate: &AllocationCandidate) -> Decimal {
    let tier = candidate.tier.number();
    match coin_category(candidate.category) {
        Some(category) => constraints.max_for_coin(category, tier),
        None => CoinCategory::ALL
            .into_iter()
            .map(|category| constraints.max_for_coin(category, tier))
            .min()
            .unwrap_or(Decimal::ZERO),
    }
}

/// The category's limit; the tightest of all categories if unknown.
fn category_cap_pct(constraints: &AllocationConstraints, category: Category) -> Decimal {
    match coin_category(category) {
        Some(category) => constraints.category_cap(category),
        None => CoinCategory::ALL
            .into_iter()
            .map(|category| constraints.category_cap(category))
            .min()
            .unwrap_or(Decimal::ZERO),
    }
}

/// The constraints' category for a watchlist category; `None` for [`Category::Unknown`].
fn coin_category(category: Category) -> Option<CoinCategory> {
    match category {
        Category::LargeCap => Some(CoinCategory::LargeCap),
        Category::MidCap => Some(CoinCategory::MidCap),
        Category::L2 => Some(CoinCategory::L2),
        Category::Defi => Some(CoinCategory::Defi),
        Category::Ai => Some(CoinCategory::Ai),
        Category::Gaming => Some(CoinCategory::Gaming),
        Category::Meme => Some(CoinCategory::Meme),
        Category::Unknown => None,
    }
}

/// Highest score first; ties by symbol so the plan does not depend on input order.
fn rank(candidates: &[AllocationCandidate]) -> Vec<&AllocationCandidate> {
    let mut ranked: Vec<&AllocationCandidate> = candidates.iter().collect();
    ranked.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.symbol.cmp(&b.symbol)));
    ranked
}

/// Steps 1–3: the candidates that may get money, in ranking order; the others go to `skipped`.
fn screen<'a>(
    ranked: &[&'a AllocationCandidate],
    limits: &Limits<'_>,
    policy: &AllocationPolicy,
    skipped: &mut Vec<(Symbol, SkipReason)>,
) -> Vec<&'a AllocationCandidate> {
    let max_positions = limits.max_positions(policy);
    let mut seen = BTreeSet::new();
    let mut eligible = Vec::new();
    for &candidate in ranked {
        let verdict = if seen.insert(candidate.symbol.clone()) {
            screen_one(candidate, limits, policy)
        } else {
            Err(invalid("symbol listed twice"))
        };
        let reason = match verdict {
            Ok(()) if eligible.len() < max_positions => {
                eligible.push(candidate);
                continue;
            }
            Ok(()) => SkipReason::MaxPositionsReached {
                limit: max_positions,
            },
            Err(reason) => reason,
        };
        skipped.push((candidate.symbol.clone(), reason));
    }
    eligible
}

/// Steps 1–2 for one candidate.
fn screen_one(
    candidate: &AllocationCandidate,
    limits: &Limits<'_>,
    policy: &AllocationPolicy,
) -> Result<(), SkipReason> {
    let unit = Decimal::ZERO..=Decimal::ONE;
    if !unit.contains(&candidate.score) || !unit.contains(&candidate.confidence) {
        return Err(invalid("score and confidence must be in [0, 1]"));
    }
    if candidate.score < policy.min_score {
        return Err(SkipReason::ScoreBelowMinimum {
            score: candidate.score,
            minimum: policy.min_score,
        });
    }
    if candidate.confidence < policy.min_confidence {
        return Err(SkipReason::ConfidenceBelowMinimum {
            confidence: candidate.confidence,
            minimum: policy.min_confidence,
        });
    }
    if let Some(allowed) = &policy.allowed_categories {
        if !allowed.contains(&candidate.category) {
            return Err(SkipReason::CategoryNotAllowed {
                category: candidate.category,
            });
        }
    }
    check_fundable(candidate, limits)
}

/// Step 2, pre-feasibility: the largest allowed position must reach the minimum position.
fn check_fundable(candidate: &AllocationCandidate, limits: &Limits<'_>) -> Result<(), SkipReason> {
    let minimum = candidate.minimum_position(limits.constraints);
    let affordable = limits.coin_cap(candidate).0.min(limits.room);
    if affordable < minimum {
        return Err(SkipReason::CannotFundMinimum {
            minimum: Notional::new(minimum),
            affordable: Notional::new(affordable),
        });
    }
    Ok(())
}

fn invalid(reason: &str) -> SkipReason {
    SkipReason::InvalidInput {
        reason: reason.to_owned(),
    }
}

/// Step 4: score weight × risk multiplier, capped, then the Kelly factor.
fn weigh<'a>(eligible: &[&'a AllocationCandidate], limits: &Limits<'_>) -> Vec<Draft<'a>> {
    let score_sum: Decimal = eligible.iter().map(|c| c.score).sum();
    eligible
        .iter()
        .map(|&candidate| draft(candidate, score_sum, limits))
        .collect()
}

/// One coin's step 4, given the sum of the eligible scores.
fn draft<'a>(
    candidate: &'a AllocationCandidate,
    score_sum: Decimal,
    limits: &Limits<'_>,
) -> Draft<'a> {
    let weight = if score_sum.is_zero() {
        Decimal::ZERO
    } else {
        limits.room * candidate.score / score_sum * risk_multiplier(candidate.risk_level)
    };
    let (cap, cap_kind) = limits.coin_cap(candidate);
    let kelly_factor = (Decimal::ONE + candidate.half_kelly()) / Decimal::TWO;
    Draft {
        candidate,
        amount: weight.min(cap) * kelly_factor,
        minimum: candidate.minimum_position(limits.constraints),
        basis: AllocationBasis {
            score_weight: Notional::new(weight),
            binding_cap: (weight > cap).then_some(cap_kind),
            kelly_factor,
            correlated_with: None,
        },
    }
}

/// Step 5: halve the weaker coin of each strongly correlated pair, at most once per coin.
fn penalise_correlated(drafts: &mut [Draft<'_>], matrix: &CorrelationMatrix, threshold: Decimal) {
    if drafts.len() < 2 {
        return;
    }
    let index: BTreeMap<Symbol, usize> = drafts
        .iter()
        .enumerate()
        .map(|(i, d)| (d.candidate.symbol.clone(), i))
        .collect();
    for pair in matrix.pairs_at_least(threshold) {
        let (Some(&first), Some(&second)) = (index.get(&pair.first), index.get(&pair.second))
        else {
            continue;
        };
        // The weaker coin is the lower score; on a tie, the second of the pair (spec).
        let (strong, weak) = if drafts[first].candidate.score < drafts[second].candidate.score {
            (second, first)
        } else {
            (first, second)
        };
        if drafts[weak].basis.correlated_with.is_none() {
            drafts[weak].amount *= CORRELATION_PENALTY_FACTOR;
            drafts[weak].basis.correlated_with = Some(drafts[strong].candidate.symbol.clone());
        }
    }
}

/// Step 6: scale each category down to its cap, pro rata.
fn cap_categories(drafts: &mut [Draft<'_>], limits: &Limits<'_>) {
    let mut sums: BTreeMap<Category, Decimal> = BTreeMap::new();
    for draft in drafts.iter() {
        *sums.entry(draft.candidate.category).or_default() += draft.amount;
    }
    for (category, sum) in sums {
        let cap = limits.category_cap(category);
        if sum > cap {
            let members = drafts
                .iter_mut()
                .filter(|d| d.candidate.category == category);
            scale(members, cap / sum, BindingCap::Category);
        }
    }
}

/// Step 7: scale everything down pro rata if the sum exceeds the room.
fn fit_within(drafts: &mut [Draft<'_>], room: Decimal) {
    let sum: Decimal = drafts.iter().map(|d| d.amount).sum();
    if sum > room {
        scale(drafts.iter_mut(), room / sum, BindingCap::Room);
    }
}

fn scale<'a, 'b: 'a>(
    drafts: impl Iterator<Item = &'a mut Draft<'b>>,
    factor: Decimal,
    cap: BindingCap,
) {
    for draft in drafts {
        draft.amount *= factor;
        draft.basis.binding_cap = Some(cap);
    }
}

/// Step 8: round down to the cent, drop what fell below the minimum, total up.
fn finish(
    drafts: Vec<Draft<'_>>,
    capital: Decimal,
    mut skipped: Vec<(Symbol, SkipReason)>,
) -> AllocationPlan {
    let mut allocations = Vec::new();
    for draft in drafts {
        let amount = draft
            .amount
            .round_dp_with_strategy(QUOTE_DP, RoundingStrategy::ToZero);
        let symbol = draft.candidate.symbol.clone();
        if amount < draft.minimum || amount.is_zero() {
            let reason = SkipReason::PositionTooSmall {
                amount: Notional::new(amount),
                minimum: Notional::new(draft.minimum),
            };
            skipped.push((symbol, reason));
        } else {
            let amount = Notional::new(amount);
            allocations.push(Allocation {
                symbol,
                amount,
                basis: draft.basis,
            });
        }
    }
    let total_allocated: Notional = allocations.iter().map(|a| a.amount).sum();
    AllocationPlan {
        allocations,
        skipped,
        total_allocated,
        cash_reserve: Notional::new(capital) - total_allocated,
    }
}

#[cfg(test)]
mod tests {
    use hybrid_core::{Candle, Quantity, Timestamp};
    use hybrid_market::CorrelationConfig;
    use hybrid_modes::ConstraintPreset;
    use rust_decimal_macros::dec;

    use super::*;

    fn candidate(
        code: &str,
        category: Category,
        score: Decimal,
        confidence: Decimal,
        risk: RiskLevel,
    ) -> AllocationCandidate {
        let price = Price::new(dec!(100)).unwrap();
        AllocationCandidate::scored(
            Symbol::new(code).unwrap(),
            category,
            score,
            confidence,
            risk,
            price,
        )
    }

    fn btc() -> AllocationCandidate {
        candidate(
            "BTCUSDT",
            Category::LargeCap,
            dec!(0.8),
            dec!(0.7),
            RiskLevel::Low,
        )
    }

    fn eth() -> AllocationCandidate {
        candidate(
            "ETHUSDT",
            Category::LargeCap,
            dec!(0.6),
            dec!(0.6),
            RiskLevel::Medium,
        )
    }

    fn usd(value: Decimal) -> Notional {
        Notional::new(value)
    }

    fn amounts(plan: &AllocationPlan) -> Vec<(&str, Decimal)> {
        plan.allocations
            .iter()
            .map(|a| (a.symbol.as_str(), a.amount.value()))
            .collect()
    }

    fn skips(plan: &AllocationPlan) -> Vec<(&str, &SkipReason)> {
        plan.skipped.iter().map(|(s, r)| (s.as_str(), r)).collect()
    }

    #[test]
    fn scenario_11_75_no_opportunities() {
        let plan = allocate(
            &[],
            usd(dec!(1000)),
            &AllocationConstraints::default(),
            None,
        );
        assert!(plan.allocations.is_empty() && plan.skipped.is_empty());
        assert_eq!(plan.total_allocated, Notional::ZERO);
        assert_eq!(plan.cash_reserve, usd(dec!(1000)));
    }

    /// Spec §7.3 worked example. Changed: amounts are rounded *down* to the cent, so ETH is
    /// 57.30 (57.3077 in full) where the spec rounds to 57.31; total 119.44, cash 880.56.
    #[test]
    fn scenario_11_75_balanced_btc_and_eth() {
        let constraints = ConstraintPreset::Balanced.constraints();
        let plan = allocate(&[eth(), btc()], usd(dec!(1000)), &constraints, None);
        assert_eq!(
            amounts(&plan),
            [("BTCUSDT", dec!(62.14)), ("ETHUSDT", dec!(57.30))]
        );
        assert_eq!(plan.total_allocated, usd(dec!(119.44)));
        let targets = plan.targets();
        assert_eq!(targets[1], (eth().symbol, usd(dec!(57.30))));
        assert_eq!(plan.cash_reserve, usd(dec!(880.56)));
        let basis = &plan.allocations[0].basis;
        assert_eq!(basis.binding_cap, Some(BindingCap::PerCoin));
        assert_eq!(basis.score_weight.value().round_dp(2), dec!(548.57));
    }

    /// Spec §7.3 SMALL example, changed on purpose:
    /// - categories are the coins' own (LARGE_CAP 50 %, MID_CAP 40 %, L2 40 %), so none is
    ///   over its limit and the buggy "all MID_CAP" ×0.9³ reduction does not happen;
    /// - the Kelly factor uses `hybrid_risk::kelly_fraction`, whose half-Kelly is capped at
    ///   0.25, so coin A gets 400 × 0.625 = 250.00 instead of 265.71 (uncapped h = 0.3286).
    ///
    /// B (162.37) and C (66.11) match the spec's post-Kelly figures.
    #[test]
    fn scenario_11_75_small_preset_uses_real_categories() {
        let candidates = [
            candidate(
                "AAAUSDT",
                Category::LargeCap,
                dec!(0.8),
                dec!(0.8),
                RiskLevel::Low,
            ),
            candidate(
                "BBBUSDT",
                Category::MidCap,
                dec!(0.6),
                dec!(0.6),
                RiskLevel::Medium,
            ),
            candidate(
                "CCCUSDT",
                Category::L2,
                dec!(0.4),
                dec!(0.4),
                RiskLevel::High,
            ),
        ];
        let constraints = ConstraintPreset::Small.constraints();
        let plan = allocate(&candidates, usd(dec!(1000)), &constraints, None);
        assert_eq!(
            amounts(&plan),
            [
                ("AAAUSDT", dec!(250.00)),
                ("BBBUSDT", dec!(162.37)),
                ("CCCUSDT", dec!(66.11))
            ]
        );
        assert_eq!(plan.cash_reserve, usd(dec!(521.52)));
    }

    #[test]
    fn scenario_11_75_min_confidence_filter() {
        let low = candidate(
            "LOWCONFUSDT",
            Category::MidCap,
            dec!(0.6),
            dec!(0.4),
            RiskLevel::Medium,
        );
        let mut high = btc();
        high.confidence = dec!(0.8);
        let policy = AllocationPolicy {
            min_confidence: dec!(0.7),
            ..AllocationPolicy::default()
        };
        let constraints = AllocationConstraints::default();
        let plan = allocate_with_policy(&[high, low], usd(dec!(1000)), &constraints, None, &policy);
        assert_eq!(plan.allocations[0].symbol.as_str(), "BTCUSDT");
        let reason = SkipReason::ConfidenceBelowMinimum {
            confidence: dec!(0.4),
            minimum: dec!(0.7),
        };
        assert_eq!(skips(&plan), [("LOWCONFUSDT", &reason)]);
    }

    #[test]
    fn scenario_11_75_category_filter() {
        let candidates = [
            btc(),
            candidate(
                "OPUSDT",
                Category::L2,
                dec!(0.7),
                dec!(0.6),
                RiskLevel::Medium,
            ),
            candidate(
                "AXSUSDT",
                Category::Gaming,
                dec!(0.5),
                dec!(0.6),
                RiskLevel::Medium,
            ),
        ];
        let policy = AllocationPolicy {
            allowed_categories: Some(vec![Category::LargeCap]),
            ..AllocationPolicy::default()
        };
        let constraints = AllocationConstraints::default();
        let plan = allocate_with_policy(&candidates, usd(dec!(1000)), &constraints, None, &policy);
        assert_eq!(amounts(&plan).len(), 1);
        let l2 = SkipReason::CategoryNotAllowed {
            category: Category::L2,
        };
        let gaming = SkipReason::CategoryNotAllowed {
            category: Category::Gaming,
        };
        assert_eq!(skips(&plan), [("OPUSDT", &l2), ("AXSUSDT", &gaming)]);
    }

    #[test]
    fn scenario_11_75_risk_multipliers() {
        let cases = [
            (RiskLevel::Low, dec!(1.2)),
            (RiskLevel::Medium, dec!(1.0)),
            (RiskLevel::High, dec!(0.7)),
        ];
        for (level, multiplier) in cases {
            assert_eq!(risk_multiplier(level), multiplier, "{level:?}");
        }
    }

    /// Kelly on a capped 100 with confidence 0.3 and score 0.5: b = 1.25, k < 0, h = 0, so
    /// the factor is 0.5 and the amount 50 (derived).
    #[test]
    fn scenario_11_75_kelly_with_no_edge_halves() {
        let weak = candidate(
            "XRPUSDT",
            Category::MidCap,
            dec!(0.5),
            dec!(0.3),
            RiskLevel::Medium,
        );
        let constraints = ConstraintPreset::Balanced.constraints();
        let plan = allocate(&[weak], usd(dec!(1000)), &constraints, None);
        assert_eq!(amounts(&plan), [("XRPUSDT", dec!(50))]);
        assert_eq!(plan.allocations[0].basis.kelly_factor, dec!(0.5));
    }

    #[test]
    fn track_record_edge_uses_win_rate_and_payoff() {
        let mut coin = eth();
        // p = 0.6, b = 2: f = (1.2 − 0.4)/2 = 0.4, half 0.2 → factor 0.6 on the capped 100.
        coin.edge = Edge::TrackRecord {
            win_rate: dec!(0.6),
            avg_win: dec!(2),
            avg_loss: dec!(1),
        };
        let plan = allocate(
            &[coin],
            usd(dec!(1000)),
            &AllocationConstraints::default(),
            None,
        );
        assert_eq!(amounts(&plan), [("ETHUSDT", dec!(60))]);
    }

    #[test]
    fn pre_feasibility_skips_coins_that_cannot_reach_their_minimum() {
        let constraints = ConstraintPreset::Balanced.constraints();
        let mut big_minimum = eth();
        big_minimum.min_notional = usd(dec!(150));
        let cases = [
            (
                "exchange minimum above the 10 % cap",
                big_minimum,
                dec!(1000),
                dec!(150),
                dec!(100),
            ),
            (
                "capital too small for min_position_usd",
                btc(),
                dec!(50),
                dec!(10),
                dec!(5),
            ),
        ];
        for (name, coin, capital, minimum, affordable) in cases {
            let plan = allocate(&[coin], usd(capital), &constraints, None);
            let reason = SkipReason::CannotFundMinimum {
                minimum: usd(minimum),
                affordable: usd(affordable),
            };
            assert_eq!(plan.skipped.len(), 1, "{name}");
            assert_eq!(plan.skipped[0].1, reason, "{name}");
            assert!(plan.allocations.is_empty(), "{name}");
        }
    }

    #[test]
    fn small_results_are_skipped_not_dropped() {
        // 110 of capital: cap 11, × 0.5 Kelly = 5.5 < 10 minimum.
        let weak = candidate(
            "XRPUSDT",
            Category::MidCap,
            dec!(0.5),
            dec!(0.3),
            RiskLevel::Medium,
        );
        let plan = allocate(
            &[weak],
            usd(dec!(110)),
            &AllocationConstraints::default(),
            None,
        );
        let reason = SkipReason::PositionTooSmall {
            amount: usd(dec!(5.5)),
            minimum: usd(dec!(10)),
        };
        assert_eq!(skips(&plan), [("XRPUSDT", &reason)]);
        assert_eq!(plan.cash_reserve, usd(dec!(110)));
    }

    #[test]
    fn scenario_11_68_max_symbols_2_of_5_keeps_the_best_scores() {
        let candidates: Vec<AllocationCandidate> =
            ["AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT", "EEEUSDT"]
                .into_iter()
                .zip([dec!(0.5), dec!(0.9), dec!(0.6), dec!(0.8), dec!(0.7)])
                .map(|(code, score)| {
                    candidate(code, Category::MidCap, score, dec!(0.5), RiskLevel::Medium)
                })
                .collect();
        let policy = AllocationPolicy {
            max_positions: 2,
            ..AllocationPolicy::default()
        };
        let constraints = ConstraintPreset::Small.constraints();
        let plan = allocate_with_policy(&candidates, usd(dec!(1000)), &constraints, None, &policy);
        let kept: Vec<&str> = plan.allocations.iter().map(|a| a.symbol.as_str()).collect();
        assert_eq!(kept, ["BBBUSDT", "DDDUSDT"]);
        let limit = SkipReason::MaxPositionsReached { limit: 2 };
        assert_eq!(
            skips(&plan),
            [
                ("EEEUSDT", &limit),
                ("CCCUSDT", &limit),
                ("AAAUSDT", &limit)
            ]
        );
    }

    #[test]
    fn an_over_full_category_is_scaled_to_its_limit() {
        // Defaults: the MEME category may hold 10 % of 1000 = 100 in all. Each coin (tier 2 via
        // `scored`) is capped at 10 % = 100, and × Kelly 0.5 gives 50, so three coins ask 150.
        let memes: Vec<AllocationCandidate> = ["DOGEUSDT", "SHIBUSDT", "PEPEUSDT"]
            .into_iter()
            .map(|code| {
                candidate(
                    code,
                    Category::Meme,
                    dec!(0.5),
                    dec!(0.3),
                    RiskLevel::Medium,
                )
            })
            .collect();
        let plan = allocate(
            &memes,
            usd(dec!(1000)),
            &AllocationConstraints::default(),
            None,
        );
        // 3 × 50 = 150 > 100: each scaled by 2/3 to 33.33.
        let got: Vec<Decimal> = plan.allocations.iter().map(|a| a.amount.value()).collect();
        assert_eq!(got, [dec!(33.33), dec!(33.33), dec!(33.33)]);
        assert!(plan
            .allocations
            .iter()
            .all(|a| a.basis.binding_cap == Some(BindingCap::Category)));
    }

    #[test]
    fn unknown_category_gets_the_tightest_caps() {
        let coin = candidate(
            "NEWUSDT",
            Category::Unknown,
            dec!(0.5),
            dec!(0.3),
            RiskLevel::Medium,
        );
        let plan = allocate(
            &[coin],
            usd(dec!(1000)),
            &AllocationConstraints::default(),
            None,
        );
        // Tightest default category cap is 10 %: 100 × 0.5 = 50.
        assert_eq!(amounts(&plan), [("NEWUSDT", dec!(50))]);
    }

    fn daily(closes: &[Decimal]) -> Vec<Candle> {
        closes
            .iter()
            .zip(0i64..)
            .map(|(&close, day)| {
                let price = Price::new(close).unwrap();
                let open_time = Timestamp::from_millis(day * Timestamp::DAY_MS);
                Candle::new(open_time, price, price, price, price, Quantity::ZERO).unwrap()
            })
            .collect()
    }

    /// ETH moves exactly like BTC (ρ = 1 ≥ 0.7), so ETH, the lower score, is halved once.
    #[test]
    fn correlated_pair_halves_the_weaker_coin() {
        let closes =
            [100, 103, 101, 106, 104, 108, 107, 111, 109, 114, 112, 117].map(Decimal::from);
        let btc_days = daily(&closes);
        let eth_days = daily(&closes.map(|c| c * dec!(0.05)));
        let series = [
            (btc().symbol, btc_days.as_slice()),
            (eth().symbol, eth_days.as_slice()),
        ];
        let matrix = CorrelationMatrix::from_daily(&series, &CorrelationConfig::default());
        let constraints = ConstraintPreset::Balanced.constraints();
        let plan = allocate(
            &[btc(), eth()],
            usd(dec!(1000)),
            &constraints,
            Some(&matrix),
        );
        assert_eq!(
            amounts(&plan),
            [("BTCUSDT", dec!(62.14)), ("ETHUSDT", dec!(28.65))]
        );
        assert_eq!(
            plan.allocations[1].basis.correlated_with,
            Some(btc().symbol)
        );
        assert_eq!(plan.allocations[0].basis.correlated_with, None);
    }

    #[test]
    fn invalid_and_duplicate_candidates_are_reported() {
        let mut wild = eth();
        wild.score = dec!(1.5);
        let plan = allocate(
            &[btc(), btc(), wild],
            usd(dec!(1000)),
            &AllocationConstraints::default(),
            None,
        );
        assert_eq!(plan.allocations.len(), 1);
        let reasons: Vec<&SkipReason> = plan.skipped.iter().map(|(_, r)| r).collect();
        assert!(reasons
            .iter()
            .all(|r| matches!(r, SkipReason::InvalidInput { .. })));
        assert_eq!(reasons.len(), 2);
    }
}

#[cfg(test)]
mod property_tests {
    use hybrid_modes::ConstraintPreset;
    use proptest::prelude::*;

    use super::*;

    const CODES: [&str; 8] = [
        "BTCUSDT", "ETHUSDT", "SOLUSDT", "DOTUSDT", "ARBUSDT", "UNIUSDT", "FETUSDT", "DOGEUSDT",
    ];

    fn candidate() -> impl Strategy<Value = AllocationCandidate> {
        (
            0..CODES.len(),
            0..8usize,
            0i64..=100,
            0i64..=100,
            0..3usize,
            0i64..5_000,
        )
            .prop_map(|(code, category, score, confidence, risk, min_notional)| {
                let categories = [Category::Unknown].into_iter().chain(Category::KNOWN);
                let category = categories
                    .clone()
                    .nth(category)
                    .unwrap_or(Category::Unknown);
                let risk = [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High][risk];
                let price = Price::new(Decimal::ONE).unwrap_or_else(|_| unreachable!());
                let mut candidate = AllocationCandidate::scored(
                    Symbol::new(CODES[code]).unwrap_or_else(|_| unreachable!()),
                    category,
                    Decimal::new(score, 2),
                    Decimal::new(confidence, 2),
                    risk,
                    price,
                );
                candidate.min_notional = Notional::new(Decimal::new(min_notional, 2));
                candidate
            })
    }

    /// One symbol per candidate (duplicates are a unit test of their own).
    fn unique(mut candidates: Vec<AllocationCandidate>) -> Vec<AllocationCandidate> {
        for (candidate, code) in candidates.iter_mut().zip(CODES) {
            candidate.symbol = Symbol::new(code).unwrap_or_else(|_| unreachable!());
        }
        candidates
    }

    proptest! {
        /// The plan depends on the candidates, not on the order they are listed in.
        #[test]
        fn prop_plan_does_not_depend_on_input_order(
            candidates in proptest::collection::vec(candidate(), 0..=CODES.len()).prop_map(unique),
            capital_cents in 0i64..10_000_000,
        ) {
            let constraints = ConstraintPreset::Small.constraints();
            let capital = Notional::new(Decimal::new(capital_cents, 2));
            let reversed: Vec<AllocationCandidate> = candidates.iter().rev().cloned().collect();
            prop_assert_eq!(
                allocate(&candidates, capital, &constraints, None),
                allocate(&reversed, capital, &constraints, None)
            );
        }

        /// Exact money: the plan never spends more than the capital or the room after the
        /// cash reserve, respects every per-coin, per-position and per-category cap, and
        /// accounts for every candidate exactly once.
        #[test]
        fn prop_plan_respects_capital_and_caps(
            candidates in proptest::collection::vec(candidate(), 0..=CODES.len()).prop_map(unique),
            capital_cents in 0i64..10_000_000,
            preset in 0..ConstraintPreset::ALL.len(),
        ) {
            let constraints = ConstraintPreset::ALL[preset].constraints();
            let capital = Decimal::new(capital_cents, 2);
            let plan = allocate(&candidates, Notional::new(capital), &constraints, None);
            let total: Decimal = plan.allocations.iter().map(|a| a.amount.value()).sum();
            prop_assert_eq!(plan.total_allocated.value(), total);
            prop_assert!(total <= capital);
            prop_assert!(total <= constraints.available(Notional::new(capital), Notional::ZERO).value());
            prop_assert_eq!(plan.cash_reserve.value(), capital - total);
            prop_assert_eq!(plan.allocations.len() + plan.skipped.len(), candidates.len());
            prop_assert!(plan.allocations.len() <= constraints.max_open_positions as usize);
            let limits = Limits { constraints: &constraints, capital, room: Decimal::ZERO };
            let mut per_category: BTreeMap<Category, Decimal> = BTreeMap::new();
            for allocation in &plan.allocations {
                let coin = candidates.iter().find(|c| c.symbol == allocation.symbol).unwrap_or_else(|| unreachable!());
                let amount = allocation.amount.value();
                prop_assert!(amount >= coin.minimum_position(&constraints));
                prop_assert!(amount <= limits.coin_cap(coin).0);
                *per_category.entry(coin.category).or_default() += amount;
            }
            for (category, sum) in per_category {
                prop_assert!(sum <= limits.category_cap(category));
            }
        }
    }
}
