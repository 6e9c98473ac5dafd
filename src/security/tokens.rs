//! Opaque random tokens (refresh tokens) and their stored digests.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 256 random bits, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 digest (hex) stored in place of a token: a database leak gives no usable token.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The anti-forgery token of a browser secret (a session token, or the anonymous browser's
/// cookie before sign-in): HMAC-SHA256 keyed by that secret, so that it is bound to the one
/// browser that holds the cookie and needs no storage of its own (OWASP's HMAC-based
/// synchronizer token).
pub fn csrf_of(secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(b"motcua-csrf-v1");
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `given` is the anti-forgery token of `secret` (compared in constant time by
/// `hmac`'s own verification).
pub fn csrf_matches(secret: &str, given: &str) -> bool {
    use hmac::{Hmac, Mac};
    let Ok(given) = hex::decode(given.trim()) else {
        return false;
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(b"motcua-csrf-v1");
    mac.verify_slice(&given).is_ok()
}
