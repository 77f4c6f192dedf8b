//! Hybrid's read-only web dashboard, its JSON API and the Prometheus `/metrics` page.
//!
//! - [`serve`]: serves the dashboard on a bound listener until a shutdown future completes.
//!   `main_hybrid serve` calls it over a database; `main_hybrid run` can call it beside the
//!   trading loop with the same [`Dashboard`].
//! - [`Dashboard`]: what every request reads: the cockpit's read model ([`Cockpit`], the one
//!   query layer Telegram uses as well), the clock, the live [`Metrics`] and the
//!   [`DashboardSettings`].
//! - Pages (`/`, `/coin/{cohort}/{symbol}`, `/cohorts`, `/validator`, `/health`) are one HTML
//!   shell whose script polls the JSON API under `/api/` every few seconds; charts are PNGs
//!   drawn by `hybrid-charts` under `/charts/`. The API is documented in `openapi.yaml`
//!   (served at `/api/openapi.yaml`).
//! - [`Metrics`]: the Prometheus recorder the engine's `hybrid_core::telemetry` calls feed,
//!   plus gauges read from the store at scrape time.
//!
//! Security: binding to anything but a loopback address requires a token
//! ([`DashboardSettings::token`], from `HYBRID_DASHBOARD_TOKEN`); with a token set, every
//! request without it (`Authorization: Bearer …` or `?token=…`) gets 401. Nothing here writes
//! to the database.

mod api;
mod auth;
mod metrics;
mod pages;

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::Router;
use hybrid_cockpit::Cockpit;
use hybrid_core::Clock;

pub use crate::metrics::Metrics;

/// The default listen address of the dashboard.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The environment variable holding the access token.
pub const TOKEN_VAR: &str = "HYBRID_DASHBOARD_TOKEN";

/// Why the dashboard cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The listener is bound to a non-loopback address and no token is configured.
    #[error(
        "the dashboard listens on {0}, which is not a loopback address: set {TOKEN_VAR} so that \
         every request must carry the token, or listen on 127.0.0.1"
    )]
    TokenRequired(SocketAddr),
    /// The socket failed (its address could not be read, or serving stopped on an I/O error).
    #[error("dashboard socket: {0}")]
    Io(#[from] std::io::Error),
    /// The Prometheus recorder could not be installed (another one is installed).
    #[error("metrics recorder: {0}")]
    Metrics(String),
}

/// How the system is deployed, for the validator page's deployment phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deployment {
    /// Trading on the paper exchange.
    pub paper: bool,
    /// Trading on Binance's testnet (or demo).
    pub testnet: bool,
    /// The three-tier portfolio manager runs.
    pub portfolio_manager: bool,
}

/// Settings of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSettings {
    /// The access token; required (and checked on every request) when set.
    pub token: Option<String>,
    /// The control cohort the ranking compares against.
    pub baseline: String,
    /// How much history the charts cover, days.
    pub history_days: u32,
    /// How often the pages poll the API, milliseconds.
    pub refresh_ms: u32,
    /// For the deployment phase.
    pub deployment: Deployment,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        Self {
            token: None,
            baseline: "baseline".to_owned(),
            history_days: 90,
            refresh_ms: 5_000,
            deployment: Deployment::default(),
        }
    }
}

/// What the dashboard reads.
#[derive(Clone)]
pub struct Dashboard {
    /// The read model (the same as Telegram's).
    pub cockpit: Arc<dyn Cockpit>,
    /// The clock "now" is read from.
    pub clock: Arc<dyn Clock>,
    /// The live metrics.
    pub metrics: Metrics,
    /// The settings.
    pub settings: Arc<DashboardSettings>,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The whole application: pages, charts, API and `/metrics`, behind the token check.
pub fn router(dashboard: Dashboard) -> Router {
    let token = dashboard.settings.token.clone();
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(metrics::routes())
        .with_state(dashboard)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(token),
            auth::require_token,
        ))
}

/// Serves `dashboard` on `listener` until `shutdown` completes.
///
/// # Errors
/// [`DashboardError::TokenRequired`] when the listener is not on a loopback address and no
/// token is set (checked before anything is served); [`DashboardError::Io`] when serving
/// fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    dashboard: Dashboard,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DashboardError> {
    let address = listener.local_addr()?;
    auth::check_bind(address, dashboard.settings.token.as_deref())?;
    tracing::info!(%address, "dashboard listening");
    axum::serve(listener, router(dashboard))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
