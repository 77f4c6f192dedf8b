//! The LLM client and advisor against the fake OpenAI-compatible server: valid answers are
//! used and recorded; wrong enums, confidence 7, contradictory fields, empty content and
//! timeouts are each refused with a reason and change nothing; a replay answers exactly as
//! recorded (spec §11 scenario 75 included).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hybrid_core::{Price, Regime, Symbol, Timestamp};
use hybrid_learning::{
    compose, trading_signal_request, AdvisorContext, LlmAdvisor, LlmClient, LlmError, LlmHealth,
    LlmSettings, RecordingAdvisor, ReplayAdvisor, SignalAdvisor, SignalInputs, SignalWeights,
};
use hybrid_store::Store;
use hybrid_testkit::llm::{spawn, valid_signal, FakeLlm, LlmReply};
use rust_decimal_macros::dec;

fn store() -> Store {
    let store = Store::open("sqlite::memory:").unwrap();
    store.run_migrations().unwrap();
    store
}

fn fake() -> (tokio::runtime::Runtime, FakeLlm) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(spawn());
    (runtime, fake)
}

fn settings(fake: &FakeLlm) -> LlmSettings {
    LlmSettings {
        base_url: fake.base_url().to_owned(),
        api_key: "test-key".to_owned(),
        timeout: Duration::from_millis(300),
        max_attempts: 1,
        backoff: Duration::from_millis(10),
        ..LlmSettings::default()
    }
}

fn context(hour: i64) -> AdvisorContext {
    AdvisorContext {
        symbol: Symbol::new("BTCUSDT").unwrap(),
        time: Timestamp::from_millis(hour * 3_600_000),
        regime: Regime::Bull,
        price: Price::new(dec!(50000)).unwrap(),
        rsi: Some(42.5),
        math_composite: 0.12,
    }
}

#[test]
fn a_valid_answer_is_used_and_recorded_with_the_prompt() {
    let (_runtime, fake) = fake();
    let store = store();
    fake.push(LlmReply::Content(valid_signal("BULLISH", 0.8, "BUY")));
    let llm = LlmAdvisor::new(LlmClient::new(settings(&fake)).unwrap()).unwrap();
    let mut advisor = RecordingAdvisor::new(llm, &store);
    let ai = advisor.advise(&context(1)).unwrap();
    assert_eq!(ai.direction, 1);
    assert!((ai.confidence - 0.8).abs() < 1e-12);
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer test-key")
    );
    assert_eq!(requests[0].body["response_format"]["type"], "json_object");
    assert_eq!(requests[0].body["model"], "deepseek-chat");
    let recorded = store.conversations().unwrap();
    assert_eq!(recorded.len(), 1);
    let c = &recorded[0].conversation;
    assert_eq!(c.verdict, "accepted");
    assert_eq!(c.tokens_used, Some(70));
    assert!(c.prompt.contains("BTCUSDT"));
    assert_eq!(
        c.request_key,
        trading_signal_request(&context(1)).key("deepseek-chat")
    );
}

/// The acceptance test: each invalid answer is refused with its reason, recorded, and the
/// decision's signals are exactly those without an AI signal.
#[test]
fn invalid_answers_are_each_refused_with_a_reason_and_change_nothing() {
    let (_runtime, fake) = fake();
    let store = store();
    let cases = [
        (
            LlmReply::Content(valid_signal("SIDEWAYS", 0.8, "BUY")),
            "refused",
            "direction \"SIDEWAYS\" is not one of",
        ),
        (
            LlmReply::Content(valid_signal("BULLISH", 7.0, "BUY")),
            "refused",
            "confidence 7 is outside 0..1",
        ),
        (
            LlmReply::Content(valid_signal("BEARISH", 0.9, "BUY")),
            "refused",
            "contradictory fields",
        ),
        (LlmReply::Empty, "refused", "empty answer"),
        (
            LlmReply::Slow(Duration::from_secs(2)),
            "failed",
            "timed out",
        ),
    ];
    let llm = LlmAdvisor::new(LlmClient::new(settings(&fake)).unwrap()).unwrap();
    let mut advisor = RecordingAdvisor::new(llm, &store);
    let without_ai = compose(&SignalInputs::default(), &SignalWeights::default());
    for (i, (reply, verdict, reason)) in cases.into_iter().enumerate() {
        fake.push(reply);
        let ai = advisor.advise(&context(i64::try_from(i).unwrap()));
        assert_eq!(ai, None, "{reason}");
        let inputs = SignalInputs {
            ai,
            ..SignalInputs::default()
        };
        assert_eq!(compose(&inputs, &SignalWeights::default()), without_ai);
        let recorded = store.conversations().unwrap();
        let last = &recorded.last().unwrap().conversation;
        assert_eq!(last.verdict, verdict, "{reason}");
        assert!(
            last.reason.as_deref().unwrap_or_default().contains(reason),
            "{reason}: {:?}",
            last.reason
        );
    }
    assert_eq!(advisor.rejected.len(), 5);
}

#[test]
fn server_errors_are_retried_and_client_errors_are_not() {
    let (runtime, fake) = fake();
    let retrying = LlmClient::new(LlmSettings {
        max_attempts: 3,
        ..settings(&fake)
    })
    .unwrap();
    let request = trading_signal_request(&context(0));
    fake.push(LlmReply::Status(503));
    fake.push(LlmReply::Status(500));
    let answer = runtime.block_on(retrying.chat(&request)).unwrap();
    assert!(answer.content.contains("direction"));
    assert_eq!(fake.requests().len(), 3);
    fake.push(LlmReply::Status(400));
    let error = runtime.block_on(retrying.chat(&request)).unwrap_err();
    assert!(
        matches!(error, LlmError::Http { status: 400, .. }),
        "{error}"
    );
    assert_eq!(fake.requests().len(), 4);
    let unconfigured = LlmClient::new(LlmSettings {
        api_key: String::new(),
        ..settings(&fake)
    })
    .unwrap();
    assert_eq!(
        runtime.block_on(unconfigured.chat(&request)).unwrap_err(),
        LlmError::NotConfigured
    );
    assert_eq!(fake.requests().len(), 4);
}

/// Scenario 75 (restated): a bullish answer is used, an HTTP error gives no AI signal, and
/// three failures in a row make the LLM unhealthy until a success.
#[test]
fn scenario_11_75_errors_fall_back_and_three_in_a_row_are_unhealthy() {
    let (_runtime, fake) = fake();
    let store = store();
    let llm = LlmAdvisor::new(LlmClient::new(settings(&fake)).unwrap()).unwrap();
    let mut advisor = RecordingAdvisor::new(llm, &store);
    assert!(advisor.health().is_healthy());
    fake.push(LlmReply::Content(valid_signal("BULLISH", 0.6, "BUY")));
    assert_eq!(advisor.advise(&context(0)).unwrap().direction, 1);
    for i in 1..=3 {
        fake.push(LlmReply::Status(500));
        assert_eq!(advisor.advise(&context(i)), None);
    }
    assert!(!advisor.health().is_healthy());
    assert!(advisor.advise(&context(9)).is_some());
    assert!(advisor.health().is_healthy());
    let mut health = LlmHealth::default();
    health.note(false);
    health.note(false);
    assert!(health.is_healthy());
}

#[test]
fn a_replay_answers_exactly_as_recorded_without_a_server() {
    let (_runtime, fake) = fake();
    let store = store();
    let llm = LlmAdvisor::new(LlmClient::new(settings(&fake)).unwrap()).unwrap();
    let mut recording = RecordingAdvisor::new(llm, &store);
    fake.push(LlmReply::Content(valid_signal("BULLISH", 7.0, "BUY")));
    let live: Vec<_> = (0..6).map(|h| recording.advise(&context(h))).collect();
    assert_eq!(live[0], None); // refused: confidence 7
    assert!(live[1..].iter().all(Option::is_some));
    let mut replay = ReplayAdvisor::new(&store, "deepseek-chat");
    let replayed: Vec<_> = (0..6).map(|h| replay.advise(&context(h))).collect();
    assert_eq!(replayed, live);
    assert_eq!(replay.misses, 0);
    assert_eq!(replay.advise(&context(99)), None);
    assert_eq!(replay.misses, 1);
    assert_eq!(fake.requests().len(), 6);
}

/// The optimizer: every exchange recorded; an accepted answer stored and applied only once
/// three are stored with confidence ≥ 0.8; an invalid one changes nothing.
#[test]
fn the_optimizer_records_stores_and_applies_under_its_guard_rails() {
    use hybrid_learning::{run_optimizer, ChatAnswer, OptimizerContext, OptimizerOutcome};

    let store = store();
    let context = OptimizerContext {
        regime: Some((Regime::Bear, 0.9)),
        regime_counts: vec![(Regime::Bear, 40), (Regime::Sideways, 50)],
        return_30d_pct: -4.0,
        max_drawdown_pct: 9.0,
        trades_30d: 30,
        win_rate_pct: 40.0,
        top_signals: vec![("rsi".to_owned(), 58.0, 40)],
        current: Some([10.0, 65.0, 25.0]),
    };
    let reply = |content: &str| {
        let content = content.to_owned();
        move |_: &hybrid_learning::ChatRequest| {
            Ok(ChatAnswer {
                content,
                tokens_used: Some(9),
                latency_ms: 3,
            })
        }
    };
    let good = r#"{"cash_reserve": 30, "index_holdings": 50, "trading": 20, "confidence": 0.9, "reasoning": "bear market: more cash"}"#;
    let mut applied = Vec::new();
    for day in 0..3 {
        let outcome = run_optimizer(
            &store,
            &context,
            "deepseek-chat",
            Timestamp::from_millis(day),
            reply(good),
        )
        .unwrap();
        let OptimizerOutcome::Recommended {
            recommendation,
            applied: now_applied,
        } = outcome
        else {
            panic!("refused: {outcome:?}");
        };
        // Cash capped at +5 pp; the remaining 5 pp spread over the tiers with room.
        assert_eq!(recommendation.allocation, [15.0, 62.5, 22.5]);
        applied.push(now_applied);
    }
    assert_eq!(applied, [false, false, true]);
    let refused = run_optimizer(
        &store,
        &context,
        "deepseek-chat",
        Timestamp::from_millis(9),
        reply("no idea"),
    )
    .unwrap();
    assert_eq!(
        refused,
        OptimizerOutcome::Unchanged("no JSON object in the answer".to_owned())
    );
    let failed = run_optimizer(
        &store,
        &context,
        "deepseek-chat",
        Timestamp::from_millis(10),
        |_| Err(LlmError::Timeout(3)),
    )
    .unwrap();
    assert!(matches!(failed, OptimizerOutcome::Unchanged(ref r) if r.contains("timed out")));
    assert_eq!(store.portfolio_recommendation_count().unwrap(), 3);
    let verdicts: Vec<String> = store
        .conversations()
        .unwrap()
        .into_iter()
        .map(|c| c.conversation.verdict)
        .collect();
    assert_eq!(
        verdicts,
        ["accepted", "accepted", "accepted", "refused", "failed"]
    );
}
