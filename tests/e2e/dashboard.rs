//! The web dashboard in a real browser: `main_hybrid run` replays real BTC and ETH candles
//! into a SQLite file, `main_hybrid serve` serves it, and headless Chromium (driven through
//! chromedriver's WebDriver protocol) opens the overview, a coin page and the health page.
//! The figures the page shows must equal those in the database, no page may show an error and
//! no chart may be empty. Screenshots go to `target/test-output/dashboard/` (not committed).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test says so and passes, except under `CI=true`, where it fails.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::Engine as _;
use hybrid_core::Timestamp;
use hybrid_store::Store;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};

use super::{workspace_root, write_candles};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Kills the child when dropped, so a failed assertion leaves no process behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let dir = target.join("test-output/dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The page's rounding of a money figure: two places, half away from zero.
fn shown(value: Decimal) -> String {
    format!(
        "{:.2}",
        value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    )
}

/// A minimal WebDriver client (W3C protocol over HTTP).
struct Browser {
    http: reqwest::Client,
    session: String,
    _driver: Running,
}

impl Browser {
    async fn start(profile: &Path) -> Self {
        let port = free_port();
        let driver = Running(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()),
                    "--window-size=1300,2200",
                ],
            },
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_owned();
        Self {
            http,
            session: format!("{base}/session/{session}"),
            _driver: driver,
        }
    }

    async fn command(&self, path: &str, body: Value) -> Value {
        let answer: Value = self
            .http
            .post(format!("{}/{path}", self.session))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(answer["value"]["error"].is_null(), "{path}: {answer}");
        answer["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.command("url", json!({ "url": url })).await;
    }

    async fn eval(&self, script: &str) -> Value {
        self.command("execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// Waits until the page rendered and every chart image loaded or was refused.
    async fn wait_until_drawn(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state = self
                .eval(
                    "const imgs = [...document.querySelectorAll('img.chart-img')];
                     return { ready: document.body.dataset.ready || null,
                              imgs: imgs.length,
                              settled: imgs.every(i => (i.complete && i.naturalWidth > 0) || i.hidden) };",
                )
                .await;
            if state["ready"].is_string()
                && state["imgs"].as_u64() > Some(0)
                && state["settled"] == true
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the page never finished drawing: {state}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Fails on an error banner, an empty chart or a "No chart yet" note.
    async fn assert_no_error_and_no_empty_chart(&self, page: &str) {
        let state = self
            .eval(
                "const error = document.getElementById('error');
                 const imgs = [...document.querySelectorAll('img.chart-img')];
                 return { ready: document.body.dataset.ready,
                          error: error.hidden ? null : error.textContent,
                          empty: imgs.filter(i => !(i.naturalWidth > 0)).map(i => i.id),
                          sizes: imgs.map(i => [i.id, i.naturalWidth, i.naturalHeight]),
                          notes: [...document.querySelectorAll('.nodata')].map(n => n.textContent) };",
            )
            .await;
        assert_eq!(state["ready"], "true", "{page}: {state}");
        assert!(state["error"].is_null(), "{page} shows an error: {state}");
        assert_eq!(
            state["empty"],
            json!([]),
            "{page} has an empty chart: {state}"
        );
        assert_eq!(
            state["notes"],
            json!([]),
            "{page} has a chart without data: {state}"
        );
    }

    async fn text(&self, selector: &str) -> String {
        let script = format!(
            "const e = document.querySelector({}); return e ? e.textContent.trim() : null;",
            serde_json::to_string(selector).unwrap()
        );
        self.eval(&script)
            .await
            .as_str()
            .unwrap_or_else(|| panic!("{selector} not on the page"))
            .to_owned()
    }

    async fn screenshot(&self, path: &Path) {
        let answer: Value = self
            .http
            .get(format!("{}/screenshot", self.session))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(answer["value"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(path, png).unwrap();
    }

    async fn close(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

fn main_hybrid(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_main_hybrid"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_chromium_shows_the_databases_figures_and_its_charts() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs chromium and chromium-driver (.ci/run installs them)"
        );
        eprintln!("skipped: {CHROMIUM} or {CHROMEDRIVER} is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let candles = dir.path().join("candles");
    // 16 hours of BTC and ETH one-minute candles: 16 hourly snapshots per chart.
    write_candles(&candles, "BTCUSDT", 960);
    write_candles(&candles, "ETHUSDT", 960);
    let replay = main_hybrid(
        dir.path(),
        &[
            "run",
            "--market",
            "replay:candles",
            "--speed",
            "fast",
            "--symbols",
            "BTCUSDT,ETHUSDT",
            "--database",
            "sqlite://x.db",
        ],
    )
    .output()
    .unwrap();
    assert!(
        replay.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&replay.stderr)
    );

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Running(
        main_hybrid(
            dir.path(),
            &[
                "serve",
                "--database",
                "sqlite://x.db",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ],
        )
        .spawn()
        .unwrap(),
    );
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.get(format!("{base}/api/health")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the dashboard did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // What the database holds.
    let store = Store::open(&format!("sqlite://{}", dir.path().join("x.db").display())).unwrap();
    let cohorts = store.list_cohorts().unwrap();
    assert!(!cohorts.is_empty());
    let mut total = Decimal::ZERO;
    let mut per_cohort = Vec::new();
    for cohort in &cohorts {
        let snapshots = store
            .equity_snapshots(Some(cohort.id), Timestamp::from_millis(0))
            .unwrap();
        assert!(
            snapshots.len() >= 2,
            "{} has {} snapshots",
            cohort.name,
            snapshots.len()
        );
        let last = snapshots.last().unwrap().equity.value();
        total += last;
        let open = store.open_orders(Some(cohort.id)).unwrap().len();
        per_cohort.push((cohort.name.clone(), last, open));
    }

    let profile = dir.path().join("chromium-profile");
    let browser = Browser::start(&profile).await;
    let out = output_dir();

    browser.open(&format!("{base}/")).await;
    browser.wait_until_drawn().await;
    browser.assert_no_error_and_no_empty_chart("overview").await;
    assert_eq!(browser.text("#total-equity").await, shown(total));
    for (name, equity, open) in &per_cohort {
        let row = format!("tr[data-cohort=\"{name}\"]");
        assert_eq!(
            browser.text(&format!("{row} td[data-field=equity]")).await,
            shown(*equity),
            "{name}"
        );
        assert_eq!(
            browser
                .text(&format!("{row} td[data-field=open-orders]"))
                .await,
            open.to_string(),
            "{name}"
        );
    }
    browser.screenshot(&out.join("overview.png")).await;

    let (cohort, _, _) = &per_cohort[0];
    browser.open(&format!("{base}/coin/{cohort}/BTCUSDT")).await;
    browser.wait_until_drawn().await;
    browser.assert_no_error_and_no_empty_chart("coin").await;
    let state = store
        .load_state(&format!("hybrid_state/{cohort}"))
        .unwrap()
        .unwrap();
    let mode = state.body["symbols"]["BTCUSDT"]["mode"].as_str().unwrap();
    assert_eq!(browser.text("#coin-mode").await, mode);
    let orders_shown = browser
        .eval("return document.querySelectorAll('#orders-table tbody tr:not(:has(td.muted))').length;")
        .await;
    let orders_stored = store
        .open_orders(Some(cohorts[0].id))
        .unwrap()
        .iter()
        .filter(|o| o.symbol.as_str() == "BTCUSDT")
        .count();
    assert_eq!(orders_shown, json!(orders_stored));
    browser.screenshot(&out.join("coin.png")).await;

    browser.open(&format!("{base}/health")).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser
        .eval("return document.body.dataset.ready || null;")
        .await
        .is_null()
    {
        assert!(Instant::now() < deadline, "health page did not render");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let outbox = store.outbox_summary().unwrap();
    assert_eq!(
        browser.text("#outbox-backlog").await,
        outbox.pending.to_string()
    );
    assert!(
        browser
            .eval("return document.getElementById('error').hidden;")
            .await
            == true
    );
    browser.screenshot(&out.join("health.png")).await;
    browser.close().await;
}

#[test]
fn serving_beyond_loopback_without_a_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = main_hybrid(
        dir.path(),
        &[
            "serve",
            "--database",
            "sqlite://x.db",
            "--listen",
            "0.0.0.0:0",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("HYBRID_DASHBOARD_TOKEN"), "{stderr}");
}
