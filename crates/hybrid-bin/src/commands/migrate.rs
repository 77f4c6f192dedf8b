//! `main_hybrid migrate`: create or upgrade the database schema.

use anyhow::Context as _;

use hybrid_store::Store;

use crate::config::LoadedConfig;

/// Applies pending migrations and says what happened.
pub(crate) fn run(loaded: &LoadedConfig) -> anyhow::Result<()> {
    let url = &loaded.config.database.url;
    let shown = crate::config::load_mask_url(url);
    let store = Store::open(url).with_context(|| format!("cannot open the database {shown}"))?;
    let applied = store
        .run_migrations()
        .with_context(|| format!("migrating {shown} failed"))?;
    if applied.is_empty() {
        println!(
            "database {shown} ({}) is up to date: no migration to apply",
            store.backend()
        );
    } else {
        println!(
            "database {shown} ({}): applied {} migration(s):",
            store.backend(),
            applied.len()
        );
        for version in &applied {
            println!("  {version}");
        }
    }
    Ok(())
}
