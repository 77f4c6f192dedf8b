//! Unknown order outcomes are resolved by client order id, never by a blind re-send
//! (apis.md §1.12).

use std::time::Duration;

use hybrid_core::{OrderStatus, Side};
use hybrid_exchange::{Account, ExchangeError};
use hybrid_testkit::binance::{FakeBinance, Fault, Route};
use rust_decimal_macros::dec;

use crate::support::{client_config, client_with, fake, id, limit, market, posts_of};

async fn fast_client(fake: &FakeBinance) -> hybrid_exchange::binance::BinanceClient {
    let mut config = client_config(fake);
    config.request_timeout = Duration::from_millis(300);
    client_with(config).await
}

/// Places order `sequence` with `fault` on the placement; it must end up placed exactly once.
async fn placed_once_despite(fault: Fault, expected_posts: usize) {
    let fake = fake().await;
    let client = fast_client(&fake).await;
    fake.inject(Route::PlaceOrder, fault.clone());
    let ack = client
        .place_order(&market(1, Side::Buy, dec!(0.2)))
        .await
        .unwrap();
    assert_eq!(ack.order.client_order_id, id(1), "{fault:?}");
    assert_eq!(ack.order.status, OrderStatus::Filled, "{fault:?}");
    let orders = fake.orders();
    assert_eq!(orders.len(), 1, "{fault:?}");
    assert_eq!(orders[0].exchange_order_id, ack.order.exchange_order_id);
    assert_eq!(posts_of(&fake, &id(1)), expected_posts, "{fault:?}");
}

#[tokio::test]
async fn a_timeout_after_accept_is_resolved_without_resending() {
    placed_once_despite(Fault::DelayAfterAccept(Duration::from_millis(800)), 1).await;
}

#[tokio::test]
async fn a_dropped_connection_after_accept_is_resolved_without_resending() {
    placed_once_despite(Fault::DropAfterAccept, 1).await;
}

#[tokio::test]
async fn a_5xx_after_accept_is_resolved_without_resending() {
    placed_once_despite(
        Fault::ServerErrorAfterAccept {
            status: 503,
            code: Some(-1007),
        },
        1,
    )
    .await;
    placed_once_despite(
        Fault::ServerErrorAfterAccept {
            status: 500,
            code: None,
        },
        1,
    )
    .await;
}

#[tokio::test]
async fn malformed_json_after_accept_is_resolved_without_resending() {
    placed_once_despite(Fault::MalformedJson, 1).await;
}

#[tokio::test]
async fn a_provably_absent_order_is_sent_again_with_the_same_id() {
    placed_once_despite(
        Fault::ServerError {
            status: 502,
            code: None,
        },
        2,
    )
    .await;
}

#[tokio::test]
async fn a_request_held_past_its_recv_window_is_never_applied_late() {
    // The fake holds the request for longer than recvWindow (400 ms), then rejects it as
    // Binance does; the client timed out meanwhile, finds nothing and re-sends once.
    placed_once_despite(Fault::DelayBeforeAccept(Duration::from_millis(700)), 2).await;
}

#[tokio::test]
async fn an_unresolvable_outcome_is_reported_with_the_order_id() {
    let fake = fake().await;
    let mut config = client_config(&fake);
    config.request_timeout = Duration::from_millis(300);
    config.resolve_timeout = Duration::from_millis(600);
    let client = client_with(config).await;
    fake.inject(
        Route::PlaceOrder,
        Fault::DelayAfterAccept(Duration::from_millis(500)),
    );
    fake.set_fault_fn(|route| {
        (route == Route::QueryOrder).then_some(Fault::ServerError {
            status: 503,
            code: Some(-1001),
        })
    });
    let err = client
        .place_order(&limit(2, Side::Buy, dec!(90), dec!(1)))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ExchangeError::UnknownOutcome {
            client_order_id: Some(id(2)),
            detail: match &err {
                ExchangeError::UnknownOutcome { detail, .. } => detail.clone(),
                _ => String::new(),
            }
        }
    );
    assert_eq!(posts_of(&fake, &id(2)), 1);
    assert_eq!(
        fake.orders().len(),
        1,
        "placed, and the caller will reconcile it"
    );
}

#[tokio::test]
async fn an_order_not_yet_visible_is_found_by_polling_before_the_deadline() {
    placed_once_despite(
        Fault::HiddenAfterAccept {
            visible_after: Duration::from_millis(250),
        },
        1,
    )
    .await;
}
