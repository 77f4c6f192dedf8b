//! End-to-end tests of the whole system, one binary with a module per area.
//!
//! - `architecture`: the invariants of `docs/ARCHITECTURE.md`, read from `cargo metadata`
//!   and the source tree;
//! - `cli`: the `main_hybrid` binary as a user runs it;
//! - `restart`: crash safety of `run` against the fake testnet (SIGKILL at random points);
//! - `crash`: the crash campaign: runs killed at every database write and at random,
//!   compared with the uninterrupted run (issue 15; `just crash` for the long one).
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

mod architecture;
mod bad_input;
mod cli;
mod cohorts;
mod crash;
mod fuzz;
mod instance;
mod learning;
mod portfolio;
mod restart;
mod scheduler;
mod scheduler_learning;
mod telegram;

use std::path::{Path, PathBuf};

/// The workspace root (this file lives in `tests/e2e`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}
