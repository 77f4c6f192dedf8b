//! Fuzz targets for every parser of outside input (issue 15): candle CSV files, Binance
//! answers, Telegram updates and commands, LLM answers. Each gets arbitrary bytes and inputs
//! built from its format's vocabulary; none may panic. The configuration loader's target is
//! a unit test beside it (`config/load.rs`), the binary's internals being out of reach here.
//! `just fuzz` runs each target for a set time (`HYBRID_FUZZ_SECS`); see `hybrid_testkit::fuzz`.

use hybrid_testkit::fuzz::{bytes, fuzz, json_of, text_of};
use proptest::prelude::*;

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The candle reader over arbitrary bytes and over CSV-like text, with and without an
/// interval to check: every input ends in candles or one error, never a panic.
#[test]
fn fuzz_candle_csv_reader() {
    const PIECES: &[&str] = &[
        "open_time_ms,open,high,low,close,volume\n",
        "\n",
        "\r\n",
        ",",
        "1722000000000",
        "60000",
        "-1",
        "0.00000123",
        "1e-30",
        "9999999999999999999999999999",
        "NaN",
        ".",
        "\u{feff}",
    ];
    let input = prop_oneof![
        bytes(4_096),
        text_of(PIECES, 200).prop_map(String::into_bytes)
    ];
    fuzz("candle_csv", (input, 0_usize..4), |(data, interval)| {
        let reader = hybrid_core::CandleCsvReader::new(data.as_slice(), "fuzz-1m.csv");
        let reader = match interval {
            1 => reader.expect_interval("1m"),
            2 => reader.expect_interval("1w"),
            3 => reader.expect_interval("1M"),
            _ => reader,
        };
        let mut errors = 0;
        for row in reader {
            errors += usize::from(row.is_err());
        }
        assert!(errors <= 1, "the reader stops at its first error");
    });
}

/// Binance answers: every decoder the client uses, on arbitrary bytes and on JSON built from
/// Binance's field names.
#[test]
fn fuzz_binance_json() {
    const KEYS: &[&str] = &[
        "symbol",
        "orderId",
        "clientOrderId",
        "origClientOrderId",
        "price",
        "origQty",
        "executedQty",
        "cummulativeQuoteQty",
        "status",
        "timeInForce",
        "type",
        "side",
        "time",
        "updateTime",
        "fills",
        "qty",
        "commission",
        "commissionAsset",
        "tradeId",
        "id",
        "isBuyer",
        "isMaker",
        "balances",
        "asset",
        "free",
        "locked",
        "symbols",
        "filters",
        "filterType",
        "tickSize",
        "stepSize",
        "minQty",
        "maxQty",
        "minPrice",
        "maxPrice",
        "minNotional",
        "maxNotional",
        "rateLimits",
        "rateLimitType",
        "interval",
        "intervalNum",
        "limit",
        "serverTime",
        "code",
        "msg",
        "lastPrice",
        "priceChange",
        "priceChangePercent",
        "highPrice",
        "lowPrice",
        "volume",
        "quoteVolume",
        "PRICE_FILTER",
        "LOT_SIZE",
        "NOTIONAL",
        "MIN_NOTIONAL",
        "FILLED",
        "NEW",
        "LIMIT",
        "BUY",
        "BTCUSDT",
        "hy1-BTCUSDT-1",
    ];
    let input = prop_oneof![
        bytes(2_048).prop_map(|b| lossy(&b)),
        json_of(KEYS).prop_map(|v| v.to_string()),
        proptest::collection::vec(json_of(KEYS), 0..4)
            .prop_map(|v| serde_json::Value::Array(v).to_string()),
    ];
    fuzz("binance_json", input, |body| {
        let _ = hybrid_exchange::binance::fuzzing::decode_answer(&body);
    });
}

/// Telegram: updates as the Bot API sends them (teloxide's decoding, which the bot uses)
/// and command texts through the bot's command parser.
#[test]
fn fuzz_telegram_updates() {
    use teloxide::utils::command::BotCommands as _;
    const KEYS: &[&str] = &[
        "update_id",
        "message",
        "message_id",
        "date",
        "chat",
        "id",
        "type",
        "private",
        "group",
        "from",
        "is_bot",
        "first_name",
        "username",
        "text",
        "entities",
        "offset",
        "length",
        "bot_command",
        "callback_query",
        "data",
        "edited_message",
        "reply_to_message",
        "/status",
        "/pause",
        "/stop_all@hybrid_bot",
        "/help",
    ];
    let input = prop_oneof![
        bytes(1_024).prop_map(|b| lossy(&b)),
        json_of(KEYS).prop_map(|v| v.to_string()),
        text_of(KEYS, 12),
    ];
    fuzz("telegram_updates", input, |text| {
        let _ = serde_json::from_str::<teloxide::types::Update>(&text);
        let _ = hybrid_telegram::Command::parse(&text, "hybrid_bot");
        let _ = hybrid_telegram::split_message(&text, 64);
        let _ = hybrid_telegram::escape_html(&text);
    });
}

/// LLM answers: the strict validation of a trading signal, the object extraction and the
/// discovery verdicts, on arbitrary text and on JSON with the expected keys.
#[test]
fn fuzz_llm_output_validation() {
    const KEYS: &[&str] = &[
        "direction",
        "action",
        "confidence",
        "risk_level",
        "risk",
        "reasoning",
        "key_factors",
        "BULLISH",
        "BEARISH",
        "NEUTRAL",
        "BUY",
        "SELL",
        "HOLD",
        "REDUCE",
        "LOW",
        "MEDIUM",
        "HIGH",
        "symbol",
        "verdict",
        "add",
        "reason",
        "score",
        "SOLUSDT",
        "```json",
        "```",
    ];
    let input = prop_oneof![
        bytes(1_024).prop_map(|b| lossy(&b)),
        json_of(KEYS).prop_map(|v| v.to_string()),
        (text_of(KEYS, 6), json_of(KEYS), text_of(KEYS, 6))
            .prop_map(|(a, v, b)| format!("{a}{v}{b}")),
    ];
    let candidates = vec![hybrid_learning::Candidate {
        symbol: "SOLUSDT".to_owned(),
        volume_24h: rust_decimal::Decimal::from(5_000_000),
    }];
    fuzz("llm_output", input, |text| {
        let _ = hybrid_learning::validate_trading_signal(&text);
        let _ = hybrid_learning::extract_object(&text);
        let _ = hybrid_learning::parse_verdicts(&text, &candidates);
    });
}
