//! One entry point for fuzzing Binance answers: [`decode_answer`] runs a body through every
//! decoder the client uses (orders with their fills, trades, account balances, exchange
//! information with its filters, tickers, klines, server time, error bodies and their
//! mapping to [`ExchangeError`]), as the client would on a body it received. Used by the
//! fuzz targets (`tests/e2e/fuzz.rs`, `fuzz/`); a panic on any body is a bug.

use hybrid_core::ClientOrderId;

use super::wire::{
    WireAccount, WireError, WireExchangeInfo, WireKline, WireOrder, WireTicker24h, WireTickerPrice,
    WireTime, WireTrade,
};
use crate::ExchangeError;

/// How many of the decoders accepted `body` (0 for garbage); each result is converted to the
/// domain type exactly as the client does, so its checks run too.
#[must_use]
pub fn decode_answer(body: &str) -> usize {
    let mut accepted = 0;
    let mut count = |ok: bool| accepted += usize::from(ok);
    if let Ok(order) = serde_json::from_str::<WireOrder>(body) {
        let converted = order.to_order();
        count(converted.is_ok());
        if let Ok(order_value) = converted {
            let _ = order.to_fills(&order_value);
        }
        let _ = order.own_client_order_id();
    }
    if let Ok(trades) = serde_json::from_str::<Vec<WireTrade>>(body) {
        count(true);
        if let Ok(id) = ClientOrderId::parse("hy1-BTCUSDT-1") {
            for trade in &trades {
                let _ = trade.to_fill(id.clone());
            }
        }
    }
    if let Ok(account) = serde_json::from_str::<WireAccount>(body) {
        count(account.balances.iter().all(|b| b.to_balance().is_ok()));
    }
    if let Ok(info) = serde_json::from_str::<WireExchangeInfo>(body) {
        let _ = info.weight_per_minute();
        count(info.symbols.iter().all(|s| s.to_filters().is_ok()));
    }
    if let Ok(tickers) = serde_json::from_str::<Vec<WireTickerPrice>>(body) {
        count(tickers.iter().all(|t| t.to_ticker().is_ok()));
    }
    if let Ok(ticker) = serde_json::from_str::<WireTicker24h>(body) {
        count(ticker.to_ticker().is_ok());
    }
    if let Ok(klines) = serde_json::from_str::<Vec<WireKline>>(body) {
        count(klines.iter().all(|k| k.to_candle().is_ok()));
    }
    if let Ok(time) = serde_json::from_str::<WireTime>(body) {
        count(time.server_time != i64::MIN);
    }
    if let Ok(error) = serde_json::from_str::<WireError>(body) {
        let mapped = ExchangeError::from_binance_code(error.code, &error.msg);
        count(mapped.binance_code().is_some() || mapped.binance_msg().is_some());
        let _ = mapped.to_string();
    }
    accepted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_answers_are_accepted_and_garbage_is_not() {
        let order = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"hy1-BTCUSDT-1",
            "price":"0.00000000","origQty":"0.01","executedQty":"0.01","cummulativeQuoteQty":"971.23",
            "status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"BUY","time":1,"updateTime":1,
            "fills":[{"price":"97123.4","qty":"0.01","commission":"0.00001","commissionAsset":"BTC","tradeId":56}]}"#;
        assert!(decode_answer(order) >= 1);
        assert_eq!(
            decode_answer(r#"{"code":-2013,"msg":"Order does not exist."}"#),
            1
        );
        assert_eq!(decode_answer("<html>502</html>"), 0);
        assert_eq!(decode_answer(""), 0);
    }
}
