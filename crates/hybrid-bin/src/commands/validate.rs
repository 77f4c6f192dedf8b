//! `main_hybrid validate`: the production-readiness validator (spec §2.1) on the configured
//! database: each of the nine criteria with its value, threshold and pass/fail, then the
//! summary. The logic lives in `hybrid_portfolio::validate_store`.

use anyhow::Context as _;
use hybrid_core::{Clock, SystemClock};
use hybrid_portfolio::{validate_store, Criteria};
use hybrid_store::Store;

use crate::config::LoadedConfig;

/// Opens (and migrates) the database and prints the validator's report. The drawdown window
/// ends now.
pub(crate) fn run(loaded: &LoadedConfig) -> anyhow::Result<()> {
    let url = &loaded.config.database.url;
    let shown = crate::config::load_mask_url(url);
    let store = Store::open(url).with_context(|| format!("cannot open the database {shown}"))?;
    store
        .run_migrations()
        .with_context(|| format!("migrating {shown} failed"))?;
    let report = validate_store(&store, SystemClock.now(), &Criteria::default());
    println!("production readiness of {shown}");
    println!("{report}");
    Ok(())
}
