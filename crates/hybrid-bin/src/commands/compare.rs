//! `main_hybrid compare`: the cohorts in the database ranked by realised return, each against
//! the baseline with a bootstrap confidence interval. The logic is
//! `hybrid_cohorts::ranking_from_store`; this file opens the store and prints.

use anyhow::Context as _;
use hybrid_cohorts::ranking_from_store;
use hybrid_store::Store;

use crate::{cli::CompareArgs, config::LoadedConfig};

/// Reads the cohorts and their closed trade pairs and prints the ranking.
pub(crate) fn run(loaded: &LoadedConfig, args: &CompareArgs) -> anyhow::Result<()> {
    let url = &loaded.config.database.url;
    let shown = crate::config::load_mask_url(url);
    let store = Store::open(url).with_context(|| format!("cannot open the database {shown}"))?;
    store
        .run_migrations()
        .with_context(|| format!("migrating {shown} failed"))?;
    let ranking = ranking_from_store(&store, &args.baseline, args.seed, args.resamples)
        .context("cannot rank the cohorts")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&ranking)?);
        return Ok(());
    }
    if ranking.entries.len() < 2 {
        println!(
            "compare needs at least 2 active cohorts; the database {shown} has {}",
            ranking.entries.len()
        );
        return Ok(());
    }
    println!(
        "cohorts by realised return (closed trade pairs; bootstrap seed {}, {} resamples)",
        ranking.seed, ranking.resamples
    );
    if ranking.baseline.is_none() {
        println!(
            "  no active cohort named {:?}: no interval can be computed",
            args.baseline
        );
    }
    print!("{ranking}");
    Ok(())
}
