//! The three-tier portfolio: cash reserve, index holdings and the trading tier (the cohorts),
//! profit redistribution between them, and the production-readiness gate.
