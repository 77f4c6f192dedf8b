//! A three-state Gaussian hidden Markov model with diagonal covariances, fitted by Baum-Welch.
//!
//! Why diagonal: with two features and a year of daily rows, a full covariance adds a
//! correlation parameter per state that the data barely constrain, and makes degenerate fits
//! (a state collapsing onto a line) more likely. Why scaled forward-backward: raw probabilities
//! underflow after a few hundred days. Each step's emission densities are computed in log space
//! and divided by their maximum, then the forward variables are normalised per step (Rabiner's
//! scaling); the log-likelihood is the sum of the logs of those factors.
//!
//! Initialisation is deterministic: the rows are sorted by their first feature (the return) and
//! split into three equal quantile groups whose means and variances seed the states, with a
//! sticky transition matrix (0.9 on the diagonal). The same data therefore always give the same
//! model, with no random seed to carry around.

use hybrid_core::Regime;

use crate::error::MarketError;

/// Hidden states: one per regime the model can tell apart (bear, sideways, bull).
pub const N_STATES: usize = 3;
/// Features per observation: 7-day return and 7-day volatility, in percent.
pub const N_FEATURES: usize = 2;
/// One day's feature row.
pub type Observation = [f64; N_FEATURES];

/// Probability of staying in a state at initialisation; states of a market regime persist.
const INITIAL_STAY: f64 = 0.9;
/// Variance floor as a share of the overall variance of the feature, so a state cannot collapse
/// onto a single point and send the likelihood to infinity.
const VARIANCE_FLOOR_SHARE: f64 = 1e-3;
/// Absolute variance floor for constant features.
const VARIANCE_FLOOR_ABS: f64 = 1e-9;
/// Fewest rows per state for a meaningful fit.
const MIN_ROWS_PER_STATE: usize = 5;

/// How long Baum-Welch may run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitConfig {
    /// Upper bound on EM iterations.
    pub max_iterations: usize,
    /// Stop when the log-likelihood improves by less than this (absolute, in nats).
    pub tolerance: f64,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            max_iterations: 200,
            tolerance: 1e-6,
        }
    }
}

/// How a fit went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitReport {
    /// EM iterations run.
    pub iterations: usize,
    /// Log-likelihood of the data under the final model.
    pub log_likelihood: f64,
    /// Whether the tolerance was met before `max_iterations`.
    pub converged: bool,
}

/// A fitted (or freshly initialised) model. States are kept in the order of their mean return,
/// lowest first, so state 0 is BEAR, 1 SIDEWAYS and 2 BULL: labels follow meaning, not the
/// accident of initialisation (the label-switching bug of spec §4.2).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianHmm {
    start: [f64; N_STATES],
    transition: [[f64; N_STATES]; N_STATES],
    means: [Observation; N_STATES],
    variances: [Observation; N_STATES],
}

/// The E-step's results.
struct Posteriors {
    gamma: Vec<[f64; N_STATES]>,
    xi_sum: [[f64; N_STATES]; N_STATES],
    log_likelihood: f64,
}

impl GaussianHmm {
    /// Fits a model to `observations` (oldest first).
    ///
    /// # Errors
    /// [`MarketError::InsufficientData`] with fewer than 15 rows; [`MarketError::NonFinite`]
    /// for a NaN or infinite feature.
    pub fn fit(
        observations: &[Observation],
        config: &FitConfig,
    ) -> Result<(Self, FitReport), MarketError> {
        let mut model = Self::initial(observations)?;
        let mut previous = f64::NEG_INFINITY;
        let mut report = FitReport {
            iterations: 0,
            log_likelihood: previous,
            converged: false,
        };
        let floor = variance_floor(observations);
        while report.iterations < config.max_iterations {
            let posteriors = model.e_step(observations);
            report.iterations += 1;
            report.log_likelihood = posteriors.log_likelihood;
            model = Self::m_step(observations, &posteriors, &floor);
            if (posteriors.log_likelihood - previous).abs() < config.tolerance {
                report.converged = true;
                break;
            }
            previous = posteriors.log_likelihood;
        }
        model.sort_states_by_return();
        report.log_likelihood = model.log_likelihood(observations);
        Ok((model, report))
    }

    /// The deterministic starting model: quantile split on the return feature.
    ///
    /// # Errors
    /// As [`GaussianHmm::fit`].
    pub fn initial(observations: &[Observation]) -> Result<Self, MarketError> {
        check_observations(observations)?;
        let mut sorted = observations.to_vec();
        sorted.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let floor = variance_floor(observations);
        let group = sorted.len() / N_STATES;
        let mut means = [[0.0; N_FEATURES]; N_STATES];
        let mut variances = [[0.0; N_FEATURES]; N_STATES];
        for state in 0..N_STATES {
            let end = if state + 1 == N_STATES {
                sorted.len()
            } else {
                (state + 1) * group
            };
            let rows = &sorted[state * group..end];
            let weights = vec![1.0; rows.len()];
            (means[state], variances[state]) = weighted_moments(rows, &weights, &floor);
        }
        let off = (1.0 - INITIAL_STAY) / (N_STATES as f64 - 1.0);
        let mut transition = [[off; N_STATES]; N_STATES];
        for (i, row) in transition.iter_mut().enumerate() {
            row[i] = INITIAL_STAY;
        }
        Ok(Self {
            start: [1.0 / N_STATES as f64; N_STATES],
            transition,
            means,
            variances,
        })
    }

    /// Filtered state probabilities: for each day, P(state | observations up to that day).
    /// Each row sums to 1. The last row is the posterior of the last observation (smoothing
    /// and filtering agree there).
    #[must_use]
    pub fn filter(&self, observations: &[Observation]) -> Vec<[f64; N_STATES]> {
        self.forward(observations).0
    }

    /// Log-likelihood of `observations` under this model, in nats.
    #[must_use]
    pub fn log_likelihood(&self, observations: &[Observation]) -> f64 {
        self.forward(observations).1
    }

    /// The regime each state stands for, by state index (BEAR, SIDEWAYS, BULL).
    #[must_use]
    pub const fn regime_of_state(state: usize) -> Regime {
        match state {
            0 => Regime::Bear,
            1 => Regime::Sideways,
            _ => Regime::Bull,
        }
    }

    /// Per-state feature means (return %, volatility %), lowest return first.
    #[must_use]
    pub const fn means(&self) -> &[Observation; N_STATES] {
        &self.means
    }

    /// The transition matrix: row = from, column = to.
    #[must_use]
    pub const fn transition(&self) -> &[[f64; N_STATES]; N_STATES] {
        &self.transition
    }

    /// `ln(2π σ²)` per state and feature: the Gaussian's normalising term, the same for every
    /// row, so it is computed once per pass instead of once per row (speed; same floats).
    fn log_norms(&self) -> [Observation; N_STATES] {
        self.variances
            .map(|variance| variance.map(|v| (2.0 * std::f64::consts::PI * v).ln()))
    }

    /// Emission densities of one row, divided by their maximum, and the log of that maximum.
    /// `log_norms` comes from [`Self::log_norms`].
    fn scaled_emissions(
        &self,
        x: &Observation,
        log_norms: &[Observation; N_STATES],
    ) -> ([f64; N_STATES], f64) {
        let mut log_b = [0.0; N_STATES];
        for (state, lb) in log_b.iter_mut().enumerate() {
            *lb = log_gaussian(
                x,
                &self.means[state],
                &self.variances[state],
                &log_norms[state],
            );
        }
        let max = log_b.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (log_b.map(|lb| (lb - max).exp()), max)
    }

    /// Normalised forward variables, the per-step normalisers, the emissions and the
    /// log-likelihood.
    fn forward(&self, obs: &[Observation]) -> (Vec<[f64; N_STATES]>, f64) {
        let (alphas, _, _, ll) = self.forward_full(obs);
        (alphas, ll)
    }

    #[expect(
        clippy::type_complexity,
        reason = "private plumbing between the two passes"
    )]
    fn forward_full(
        &self,
        obs: &[Observation],
    ) -> (Vec<[f64; N_STATES]>, Vec<f64>, Vec<[f64; N_STATES]>, f64) {
        let mut alphas: Vec<[f64; N_STATES]> = Vec::with_capacity(obs.len());
        let mut scales = Vec::with_capacity(obs.len());
        let mut emissions = Vec::with_capacity(obs.len());
        let mut log_likelihood = 0.0;
        let log_norms = self.log_norms();
        for (t, x) in obs.iter().enumerate() {
            let (b, log_max) = self.scaled_emissions(x, &log_norms);
            let mut alpha = [0.0; N_STATES];
            for j in 0..N_STATES {
                let prior = if t == 0 {
                    self.start[j]
                } else {
                    (0..N_STATES)
                        .map(|i| alphas[t - 1][i] * self.transition[i][j])
                        .sum()
                };
                alpha[j] = prior * b[j];
            }
            let scale = alpha.iter().sum::<f64>().max(f64::MIN_POSITIVE);
            alphas.push(alpha.map(|a| a / scale));
            scales.push(scale);
            emissions.push(b);
            log_likelihood += scale.ln() + log_max;
        }
        (alphas, scales, emissions, log_likelihood)
    }

    /// Forward-backward: state posteriors and expected transition counts.
    fn e_step(&self, obs: &[Observation]) -> Posteriors {
        let (alphas, scales, emissions, log_likelihood) = self.forward_full(obs);
        let n = obs.len();
        let mut betas = vec![[1.0; N_STATES]; n];
        let mut xi_sum = [[0.0; N_STATES]; N_STATES];
        for t in (0..n.saturating_sub(1)).rev() {
            for i in 0..N_STATES {
                let mut beta = 0.0;
                for j in 0..N_STATES {
                    let step = self.transition[i][j] * emissions[t + 1][j] * betas[t + 1][j]
                        / scales[t + 1];
                    beta += step;
                    xi_sum[i][j] += alphas[t][i] * step;
                }
                betas[t][i] = beta;
            }
        }
        let gamma = alphas
            .iter()
            .zip(&betas)
            .map(|(a, b)| normalised([a[0] * b[0], a[1] * b[1], a[2] * b[2]]))
            .collect();
        Posteriors {
            gamma,
            xi_sum,
            log_likelihood,
        }
    }

    /// Re-estimates every parameter from the posteriors.
    fn m_step(obs: &[Observation], post: &Posteriors, floor: &Observation) -> Self {
        let mut transition = [[0.0; N_STATES]; N_STATES];
        for (i, row) in transition.iter_mut().enumerate() {
            *row = normalised(post.xi_sum[i]);
        }
        let mut means = [[0.0; N_FEATURES]; N_STATES];
        let mut variances = [[0.0; N_FEATURES]; N_STATES];
        for state in 0..N_STATES {
            let weights: Vec<f64> = post.gamma.iter().map(|g| g[state]).collect();
            (means[state], variances[state]) = weighted_moments(obs, &weights, floor);
        }
        Self {
            start: post
                .gamma
                .first()
                .copied()
                .map_or([1.0 / 3.0; 3], normalised),
            transition,
            means,
            variances,
        }
    }

    /// Reorders the states so that state 0 has the lowest mean return and state 2 the highest.
    fn sort_states_by_return(&mut self) {
        let mut order: [usize; N_STATES] = [0, 1, 2];
        order.sort_by(|&a, &b| self.means[a][0].total_cmp(&self.means[b][0]));
        let old = self.clone();
        for (new, &from) in order.iter().enumerate() {
            self.start[new] = old.start[from];
            self.means[new] = old.means[from];
            self.variances[new] = old.variances[from];
            for (new_to, &to) in order.iter().enumerate() {
                self.transition[new][new_to] = old.transition[from][to];
            }
        }
    }
}

fn check_observations(observations: &[Observation]) -> Result<(), MarketError> {
    let needed = N_STATES * MIN_ROWS_PER_STATE;
    if observations.len() < needed {
        return Err(MarketError::InsufficientData {
            what: "hmm fit",
            needed,
            have: observations.len(),
        });
    }
    match observations
        .iter()
        .position(|row| row.iter().any(|v| !v.is_finite()))
    {
        Some(index) => Err(MarketError::NonFinite {
            what: "hmm observations",
            index,
        }),
        None => Ok(()),
    }
}

/// Log density of a diagonal Gaussian; `log_norm[d]` is `ln(2π variance[d])`.
fn log_gaussian(
    x: &Observation,
    mean: &Observation,
    variance: &Observation,
    log_norm: &Observation,
) -> f64 {
    let mut sum = 0.0;
    for d in 0..N_FEATURES {
        let diff = x[d] - mean[d];
        sum -= 0.5 * (log_norm[d] + diff * diff / variance[d]);
    }
    sum
}

/// Weighted mean and variance per feature, variances floored.
fn weighted_moments(
    rows: &[Observation],
    weights: &[f64],
    floor: &Observation,
) -> (Observation, Observation) {
    let total = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let mut mean = [0.0; N_FEATURES];
    let mut variance = [0.0; N_FEATURES];
    for d in 0..N_FEATURES {
        mean[d] = rows.iter().zip(weights).map(|(r, w)| w * r[d]).sum::<f64>() / total;
        let ss: f64 = rows
            .iter()
            .zip(weights)
            .map(|(r, w)| w * (r[d] - mean[d]).powi(2))
            .sum();
        variance[d] = (ss / total).max(floor[d]);
    }
    (mean, variance)
}

/// The smallest variance a state may have, per feature.
fn variance_floor(rows: &[Observation]) -> Observation {
    let weights = vec![1.0; rows.len()];
    let (_, variance) = weighted_moments(rows, &weights, &[0.0; N_FEATURES]);
    variance.map(|v| v * VARIANCE_FLOOR_SHARE + VARIANCE_FLOOR_ABS)
}

/// The vector divided by its sum; uniform when the sum is zero.
fn normalised(v: [f64; N_STATES]) -> [f64; N_STATES] {
    let sum: f64 = v.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        v.map(|x| x / sum)
    } else {
        [1.0 / N_STATES as f64; N_STATES]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three clearly separated regimes, each 40 days long, with a small deterministic wobble.
    fn synthetic() -> Vec<Observation> {
        let mut rows = Vec::new();
        for (block, (ret, vol)) in [(8.0, 2.0), (-9.0, 5.0), (0.0, 1.0), (8.0, 2.0)]
            .into_iter()
            .enumerate()
        {
            for i in 0..40 {
                let wobble = ((i * 7 + block * 3) % 5) as f64 - 2.0;
                rows.push([ret + wobble, vol + wobble * 0.1]);
            }
        }
        rows
    }

    #[test]
    fn separated_regimes_are_recovered_and_labelled_by_return() {
        let rows = synthetic();
        let (model, report) = GaussianHmm::fit(&rows, &FitConfig::default()).unwrap();
        assert!(report.converged, "{report:?}");
        assert!(
            (model.means()[0][0] + 9.0).abs() < 0.5,
            "{:?}",
            model.means()
        );
        assert!(model.means()[1][0].abs() < 0.5);
        assert!((model.means()[2][0] - 8.0).abs() < 0.5);
        let filtered = model.filter(&rows);
        let argmax = |p: &[f64; 3]| (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(argmax(&filtered[20]), 2);
        assert_eq!(argmax(&filtered[60]), 0);
        assert_eq!(argmax(&filtered[100]), 1);
        assert_eq!(GaussianHmm::regime_of_state(0), Regime::Bear);
        assert_eq!(GaussianHmm::regime_of_state(2), Regime::Bull);
    }

    #[test]
    fn fitting_is_deterministic_and_improves_the_likelihood() {
        let rows = synthetic();
        let initial = GaussianHmm::initial(&rows).unwrap().log_likelihood(&rows);
        let (a, ra) = GaussianHmm::fit(&rows, &FitConfig::default()).unwrap();
        let (b, rb) = GaussianHmm::fit(&rows, &FitConfig::default()).unwrap();
        assert_eq!(a, b);
        assert_eq!(ra, rb);
        assert!(ra.log_likelihood >= initial - 1e-9);
    }

    #[test]
    fn transition_rows_and_posteriors_sum_to_one() {
        let rows = synthetic();
        let (model, _) = GaussianHmm::fit(&rows, &FitConfig::default()).unwrap();
        for row in model.transition() {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        for p in model.filter(&rows) {
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn bad_input_is_refused() {
        let short = vec![[0.0, 1.0]; 10];
        assert!(matches!(
            GaussianHmm::fit(&short, &FitConfig::default()),
            Err(MarketError::InsufficientData { .. })
        ));
        let mut rows = synthetic();
        rows[3][1] = f64::NAN;
        assert_eq!(
            GaussianHmm::fit(&rows, &FitConfig::default()).unwrap_err(),
            MarketError::NonFinite {
                what: "hmm observations",
                index: 3
            }
        );
    }

    #[test]
    fn constant_features_do_not_break_the_fit() {
        let rows = vec![[1.0, 2.0]; 30];
        let (model, report) = GaussianHmm::fit(&rows, &FitConfig::default()).unwrap();
        assert!(report.log_likelihood.is_finite());
        assert!(model
            .filter(&rows)
            .iter()
            .all(|p| p.iter().all(|x| x.is_finite())));
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn prop_fit_gives_probability_rows_and_ordered_states(
            rows in proptest::collection::vec((-30.0f64..30.0, 0.1f64..10.0), 15..80),
        ) {
            let rows: Vec<Observation> = rows.into_iter().map(|(a, b)| [a, b]).collect();
            let config = FitConfig { max_iterations: 30, tolerance: 1e-6 };
            let (model, report) = GaussianHmm::fit(&rows, &config).unwrap();
            prop_assert!(report.log_likelihood.is_finite());
            prop_assert!(model.means()[0][0] <= model.means()[1][0]);
            prop_assert!(model.means()[1][0] <= model.means()[2][0]);
            for p in model.filter(&rows) {
                prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
                prop_assert!(p.iter().all(|x| (0.0..=1.0 + 1e-12).contains(x)));
            }
        }
    }
}
