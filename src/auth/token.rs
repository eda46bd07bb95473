//! Session tokens: 256 random bits, stored only as their SHA-256 hash.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly issued bearer token and the hash stored in its place.
pub struct SessionToken {
    /// The token handed to the client once; never stored or logged.
    pub token: String,
    pub hash: String,
}

impl SessionToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_token(&token);
        Self { token, hash }
    }
}

/// Returns the lower-case hex SHA-256 of a token, the form sessions are looked up by.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("SessionToken").field("token", &"<redacted>").finish()
    }
}
