//! Two `main_hybrid scheduler` processes on one PostgreSQL database never run the same task
//! at once: every run is recorded with its start and end, and no two runs of a task overlap.

use std::process::{Command, Stdio};

#[test]
fn two_schedulers_on_one_postgres_never_run_a_task_at_the_same_time() {
    let Some(schema) = hybrid_testkit::pg::pg_test_schema("two_schedulers") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_main_hybrid"))
            .args([
                "scheduler",
                "--once",
                "--repeat",
                "12",
                "--hold-ms",
                "40",
                "--database",
                schema.url(),
            ])
            .current_dir(dir.path())
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let mut skipped = 0;
    for out in &outputs {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // "scheduler: N runs, F failed, S skipped (held elsewhere)"
        let numbers: Vec<u32> = stdout
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        assert_eq!(numbers.len(), 3, "{stdout}");
        assert_eq!(numbers[1], 0, "no task failed: {stdout}");
        skipped += numbers[2];
    }
    assert!(skipped > 0, "the two processes never met a held lock");

    let store = hybrid_store::Store::open(schema.url()).unwrap();
    let mut owners = std::collections::BTreeSet::new();
    for task in ["stale_orders", "retention", "daily_summary"] {
        let runs = store.task_runs(task).unwrap();
        assert!(!runs.is_empty(), "{task} never ran");
        let mut previous_end = None;
        for run in &runs {
            owners.insert(run.owner.clone());
            let end = run.finished_at.expect("every run finished");
            if let Some(previous) = previous_end {
                assert!(
                    run.started_at >= previous,
                    "{task}: a run by {} started at {} before the previous one ended at {previous}",
                    run.owner,
                    run.started_at
                );
            }
            previous_end = Some(end);
        }
    }
    assert_eq!(owners.len(), 2, "both processes ran tasks: {owners:?}");
}
