//! Request signing: HMAC-SHA256 (hex) or Ed25519 (base64, percent-encoded), over the exact
//! percent-encoded bytes that go on the wire (apis.md §1.3).
//!
//! Why one type with two variants and not a trait object: the set is closed (Binance also has
//! RSA, which we do not use) and an enum keeps `Debug` masking in one place.

use std::fmt;

use base64::Engine as _;
use ed25519_dalek::{pkcs8::DecodePrivateKey as _, Signer as _};
use hmac::{Hmac, Mac as _};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

/// Characters left as they are in a query value: RFC 3986 "unreserved". Everything else,
/// including non-ASCII UTF-8, becomes `%XX` (mandatory since 2026-01-15).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one parameter name or value.
pub(crate) fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// Joins `name=value` pairs (both percent-encoded) with `&`, in the given order.
pub(crate) fn encode_query(params: &[(&str, String)]) -> String {
    params
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A key that signs requests. Its `Debug` output never shows key material.
#[derive(Clone)]
pub enum RequestSigner {
    /// HMAC-SHA256 with the API secret; the signature is lowercase hex.
    Hmac(Vec<u8>),
    /// Ed25519 with a private key; the signature is base64, then percent-encoded.
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// A private key that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ed25519 private key: {0}")]
pub struct KeyError(String);

impl RequestSigner {
    /// An HMAC signer from the API secret as Binance shows it.
    #[must_use]
    pub fn hmac(secret: &str) -> Self {
        Self::Hmac(secret.as_bytes().to_vec())
    }

    /// An Ed25519 signer from a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    ///
    /// # Errors
    /// [`KeyError`] when the text is not base64 PKCS#8 holding an Ed25519 key. The message never
    /// contains the key itself.
    pub fn ed25519_pem(pem: &str) -> Result<Self, KeyError> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| KeyError("the PEM body is not base64".to_owned()))?;
        let key = ed25519_dalek::SigningKey::from_pkcs8_der(&der)
            .map_err(|_| KeyError("not a PKCS#8 Ed25519 private key".to_owned()))?;
        Ok(Self::Ed25519(Box::new(key)))
    }

    /// The value of the `signature` parameter for `payload` (query string concatenated with the
    /// body), already percent-encoded and ready to append.
    #[must_use]
    pub fn sign(&self, payload: &str) -> String {
        match self {
            Self::Hmac(secret) => hmac_hex(secret, payload),
            Self::Ed25519(key) => {
                let signature = key.sign(payload.as_bytes());
                encode(&base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()))
            }
        }
    }
}

fn hmac_hex(secret: &[u8], payload: &str) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(payload.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

impl fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hmac(_) => f.write_str("RequestSigner::Hmac(***)"),
            Self::Ed25519(_) => f.write_str("RequestSigner::Ed25519(***)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of the Binance docs (apis.md §1.3).
    #[test]
    fn hmac_matches_the_binance_test_vector() {
        let signer =
            RequestSigner::hmac("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j");
        let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            signer.sign(payload),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    #[test]
    fn query_is_built_in_order_and_percent_encoded() {
        let query = encode_query(&[
            ("symbol", "LTCBTC".to_owned()),
            ("newClientOrderId", "hy1-LTC_BTC.~".to_owned()),
            ("note", "a b/é".to_owned()),
        ]);
        assert_eq!(
            query,
            "symbol=LTCBTC&newClientOrderId=hy1-LTC_BTC.~&note=a%20b%2F%C3%A9"
        );
    }

    #[test]
    fn ed25519_signs_and_verifies() {
        use ed25519_dalek::{pkcs8::EncodePrivateKey as _, Verifier as _};
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let der = key.to_pkcs8_der().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der.as_bytes())
        );
        let signer = RequestSigner::ed25519_pem(&pem).unwrap();
        let encoded = signer.sign("symbol=BTCUSDT&timestamp=1");
        let decoded = percent_encoding::percent_decode_str(&encoded)
            .decode_utf8()
            .unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(decoded.as_bytes())
            .unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&bytes).unwrap();
        key.verifying_key()
            .verify(b"symbol=BTCUSDT&timestamp=1", &signature)
            .unwrap();
        assert!(!encoded.contains('+') && !encoded.contains('/') && !encoded.contains('='));
    }

    #[test]
    fn bad_pem_is_refused_without_echoing_it() {
        let err = RequestSigner::ed25519_pem("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END")
            .unwrap_err();
        assert!(!err.to_string().contains("c2VjcmV0"));
    }

    #[test]
    fn debug_masks_key_material() {
        let text = format!("{:?}", RequestSigner::hmac("supersecret"));
        assert!(!text.contains("supersecret"), "{text}");
    }
}
