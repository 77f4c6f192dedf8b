//! The access rule: a non-loopback bind needs a token, and with a token set every request
//! must carry it (`Authorization: Bearer TOKEN` or `?token=TOKEN`, so a browser can open the
//! pages by link), else 401.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::DashboardError;

/// Refuses a non-loopback `address` without a token.
pub(crate) fn check_bind(address: SocketAddr, token: Option<&str>) -> Result<(), DashboardError> {
    if address.ip().is_loopback() || token.is_some_and(|t| !t.is_empty()) {
        Ok(())
    } else {
        Err(DashboardError::TokenRequired(address))
    }
}

/// Whether `candidate` equals `token`, comparing every byte (no early exit on the first
/// difference, so the time taken does not reveal how much of a guess was right).
fn same(candidate: &str, token: &str) -> bool {
    let (a, b) = (candidate.as_bytes(), token.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token a request carries, if any.
fn presented(request: &Request) -> Option<String> {
    if let Some(value) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return value.strip_prefix("Bearer ").map(str::to_owned);
    }
    request.uri().query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("token=").map(percent_decode))
    })
}

/// `%XX` and `+` decoding of a query value (tokens are usually plain, but a browser may
/// encode).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The middleware: passes everything when no token is set, else only requests carrying it.
pub(crate) async fn require_token(
    State(token): State<Arc<Option<String>>>,
    request: Request,
    next: Next,
) -> Response {
    match token.as_deref() {
        None | Some("") => next.run(request).await,
        Some(token) => match presented(&request) {
            Some(candidate) if same(&candidate, token) => next.run(request).await,
            _ => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "401 Unauthorized: this dashboard needs its token (Authorization: Bearer TOKEN or ?token=TOKEN)\n",
            )
                .into_response(),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_public_bind_needs_a_token_and_loopback_does_not() {
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(matches!(
            check_bind(public, None),
            Err(DashboardError::TokenRequired(_))
        ));
        assert!(check_bind(public, Some("")).is_err());
        assert!(check_bind(public, Some("s3cret")).is_ok());
        assert!(check_bind(local, None).is_ok());
    }

    #[test]
    fn tokens_compare_whole_and_decode_from_the_query() {
        assert!(same("abc", "abc"));
        assert!(!same("abd", "abc"));
        assert!(!same("ab", "abc"));
        assert_eq!(percent_decode("a%2Bb+c"), "a+b c");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
