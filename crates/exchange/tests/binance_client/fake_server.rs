//! The fake's own checks, exercised with raw HTTP: a signature over query string + form body,
//! tampering, `recvWindow` bounds and the API key.

use hybrid_core::{Clock, SystemClock};
use hybrid_exchange::binance::RequestSigner;

use crate::support::{fake, API_KEY, SECRET};

async fn post(base_url: &str, key: &str, query: &str, body: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{base_url}/api/v3/order?{query}"))
        .header("X-MBX-APIKEY", key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn signatures_cover_query_and_body_exactly_as_sent() {
    let fake = fake().await;
    let signer = RequestSigner::hmac(SECRET);
    let now = SystemClock.now().as_millis();
    let query = format!("symbol=BTCUSDT&side=BUY&type=MARKET&timestamp={now}");
    let body = "quantity=0.1&newClientOrderId=raw-1";
    let signature = signer.sign(&format!("{query}{body}"));
    let signed_query = format!("{query}&signature={signature}");

    let (status, text) = post(
        fake.base_url(),
        API_KEY,
        &signed_query,
        "quantity=0.2&newClientOrderId=raw-1",
    )
    .await;
    assert_eq!(
        (status, text.contains("-1022")),
        (400, true),
        "tampered body: {text}"
    );
    let (status, text) = post(fake.base_url(), "wrong-key", &signed_query, body).await;
    assert_eq!((status, text.contains("-2015")), (401, true), "{text}");
    let (status, text) = post(fake.base_url(), API_KEY, &signed_query, body).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"clientOrderId\":\"raw-1\""), "{text}");
    assert_eq!(fake.orders().len(), 1);
}

#[tokio::test]
async fn recv_window_over_a_minute_and_stale_timestamps_are_refused() {
    let fake = fake().await;
    let signer = RequestSigner::hmac(SECRET);
    let now = SystemClock.now().as_millis();
    for (query, code) in [
        (
            format!("symbol=BTCUSDT&recvWindow=60001&timestamp={now}"),
            "-1131",
        ),
        (
            format!("symbol=BTCUSDT&recvWindow=1000&timestamp={}", now - 5_000),
            "-1021",
        ),
        (format!("symbol=BTCUSDT&timestamp={}", now + 5_000), "-1021"),
    ] {
        let signed = format!("{query}&signature={}", signer.sign(&query));
        let (status, text) = post(fake.base_url(), API_KEY, &signed, "").await;
        assert_eq!(status, 400, "{query}: {text}");
        assert!(text.contains(code), "{query}: {text}");
    }
    assert!(fake.orders().is_empty());
}
