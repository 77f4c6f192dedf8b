//! `main_hybrid learn` over real 1h candles: the backtest's decisions fill the outcome tables,
//! the report shows per-signal accuracy per regime with sample sizes and the playbook, and a
//! replay with the recorded LLM answers prints exactly the same.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use hybrid_store::{OutcomeWindow, Store};

use super::workspace_root;

fn klines_dir() -> PathBuf {
    std::env::var_os("HYBRID_KLINES_DIR").map_or_else(
        || workspace_root().join("../shared/data/klines"),
        PathBuf::from,
    )
}

fn learn(dir: &Path, database: &str, llm: &str) -> Output {
    let data = klines_dir();
    Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
        .current_dir(dir)
        .env_clear()
        .env("HYBRID_LLM_API_KEY", "test-key")
        .args([
            "--database",
            database,
            "learn",
            "--data",
            data.to_str().unwrap(),
            "--symbols",
            "BTCUSDT,ETHUSDT",
            "--from",
            "2021-01-01",
            "--to",
            "2021-03-01",
            "--llm",
            llm,
            "--llm-timeout-secs",
            "5",
        ])
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn learn_fills_the_outcome_tables_reports_accuracy_per_regime_and_replays_identically() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(hybrid_testkit::llm::spawn());
    let dir = tempfile::tempdir().unwrap();
    let recorded_db = format!("sqlite://{}", dir.path().join("recorded.db").display());
    let live = learn(dir.path(), &recorded_db, fake.base_url());
    let stdout = text(&live.stdout);
    assert_eq!(live.status.code(), Some(0), "{}", text(&live.stderr));
    for needle in [
        "per-signal accuracy per regime (n = evaluated samples)",
        "final score",
        "## SIGNAL ACCURACY",
        "### Most reliable signals per regime",
        "## Market-regime rules",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?}:\n{stdout}");
    }
    let asked = fake.requests().len();
    assert!(asked > 0);

    let store = Store::open(&recorded_db).unwrap();
    let rows = store.learning_rows().unwrap();
    assert!(rows.len() > 20, "{} decisions", rows.len());
    let with_24h = rows
        .iter()
        .filter(|r| r.decision.outcome(OutcomeWindow::H24).is_some())
        .count();
    assert!(
        with_24h * 10 >= rows.len() * 9,
        "{with_24h} of {}",
        rows.len()
    );
    assert!(rows.iter().all(|r| r.signals.is_some()));
    assert!(rows
        .iter()
        .filter(|r| r.decision.outcome(OutcomeWindow::H24).is_some())
        .all(|r| r.decision.was_good_decision.is_some()));
    // Offline sources are missing, not zero; the fake LLM's answers are in the AI signal.
    assert!(rows
        .iter()
        .all(|r| r.signals.as_ref().unwrap().values.fear_greed.is_none()));
    assert!(rows
        .iter()
        .any(|r| r.signals.as_ref().unwrap().values.ai.is_some()));
    assert_eq!(store.conversations().unwrap().len(), asked);
    assert!(store.latest_playbook().unwrap().is_some());
    drop(store);

    let replay_db = format!("sqlite://{}", dir.path().join("replay.db").display());
    let replay = learn(dir.path(), &replay_db, &format!("replay:{recorded_db}"));
    assert_eq!(replay.status.code(), Some(0), "{}", text(&replay.stderr));
    assert_eq!(text(&replay.stdout), stdout);
    assert_eq!(fake.requests().len(), asked, "the replay asked the LLM");
}
