//! `main_hybrid serve`: the read-only web dashboard over the configured database, until
//! SIGINT/SIGTERM. [`dashboard`] builds the same [`Dashboard`] for `run`, which can serve it
//! beside the trading loop with `hybrid_dashboard::serve` (its live metrics then come from the
//! engine in the same process).

use std::{path::Path, sync::Arc};

use anyhow::Context as _;
use hybrid_cockpit::StoreCockpit;
use hybrid_core::SystemClock;
use hybrid_dashboard::{Dashboard, DashboardSettings, Deployment, Metrics, TOKEN_VAR};
use hybrid_store::Store;

use super::UsageError;
use crate::{
    cli::ServeArgs,
    config::{ExchangeBackend, LoadedConfig},
};

/// Serves the dashboard until SIGINT/SIGTERM.
pub(crate) fn run(loaded: &LoadedConfig, args: &ServeArgs) -> anyhow::Result<()> {
    let store = super::telegram::open_store(loaded)?;
    let dashboard = dashboard(
        loaded,
        store,
        &args.heartbeat,
        &args.baseline,
        args.history_days,
    )?;
    if !args.listen.ip().is_loopback() && dashboard.settings.token.is_none() {
        return Err(UsageError(format!(
            "--listen {} is not a loopback address: set {TOKEN_VAR} (every request must then carry it) or listen on 127.0.0.1",
            args.listen
        ))
        .into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        println!("dashboard: http://{address}/ (metrics at /metrics, API at /api/)");
        let mut stop = super::shutdown_signal()?;
        hybrid_dashboard::serve(listener, dashboard, async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
        .context("the dashboard stopped")?;
        println!("dashboard: stopped");
        Ok(())
    })
}

/// The dashboard over `store`: the cockpit read model (heartbeat file at `heartbeat`), the
/// process-wide metrics recorder, the token from the environment and the deployment from the
/// configuration. `run` calls this too.
pub(crate) fn dashboard(
    loaded: &LoadedConfig,
    store: Arc<Store>,
    heartbeat: &Path,
    baseline: &str,
    history_days: u32,
) -> anyhow::Result<Dashboard> {
    let token = loaded
        .secrets
        .get(TOKEN_VAR)
        .filter(|t| !t.trim().is_empty())
        .cloned();
    let backend = loaded.config.exchange.backend;
    Ok(Dashboard {
        cockpit: Arc::new(StoreCockpit::new(store, Some(heartbeat.to_owned()))),
        clock: Arc::new(SystemClock),
        metrics: Metrics::install().context("cannot install the metrics recorder")?,
        settings: Arc::new(DashboardSettings {
            token,
            baseline: baseline.to_owned(),
            history_days,
            deployment: Deployment {
                paper: backend == ExchangeBackend::Paper,
                testnet: backend == ExchangeBackend::Testnet,
                portfolio_manager: loaded.config.portfolio.enabled,
            },
            ..DashboardSettings::default()
        }),
    })
}
