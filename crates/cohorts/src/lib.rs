//! Cohorts: several strategy variants, each a `HybridOrchestrator` on its own capital and coins,
//! sharing one exchange client, one market-data cache and one request-weight budget.
