//! `main_hybrid compare`: the cohorts in the database ranked by realised return, each against
//! the baseline with a bootstrap confidence interval. The logic is
//! `hybrid_cohorts::ranking_of_cohorts`; this file opens the store and prints. With
//! `[[cohorts]]` in the configuration only those cohorts are ranked (others the database may
//! hold from an earlier configuration are left out); without, every active stored cohort.

use anyhow::Context as _;
use hybrid_cohorts::ranking_of_cohorts;
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
    let configured: Option<Vec<String>> = loaded
        .config
        .cohorts
        .as_ref()
        .map(|cohorts| cohorts.iter().map(|c| c.name.clone()).collect());
    let ranking = ranking_of_cohorts(
        &store,
        configured.as_deref(),
        &args.baseline,
        args.seed,
        args.resamples,
    )
    .context("cannot rank the cohorts")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&ranking)?);
        return Ok(());
    }
    if let Some(names) = &configured {
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !ranking.entries.iter().any(|e| &e.performance.cohort == *n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            println!(
                "configured cohorts not (active) in the database {shown}: {}",
                missing.join(", ")
            );
        }
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
