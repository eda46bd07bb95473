//! Argon2id password hashing with a configurable cost.

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng},
};

use crate::error::{AppError, AppResult};

/// Hashes and verifies passwords with Argon2id off the async runtime's worker threads.
///
/// Verification of an unknown username runs against a dummy hash made with the
/// same parameters, so that a login costs the same whether or not the account exists.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    argon2: Argon2<'static>,
    dummy_hash: String,
}

impl PasswordHasher {
    /// Builds a hasher with the given Argon2id cost (memory in KiB, iterations, lanes).
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> AppResult<Self> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|error| AppError::internal(anyhow::anyhow!("invalid Argon2 parameters: {error}")))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(b"dummy password for unknown usernames", &salt)
            .map_err(|error| AppError::internal(anyhow::anyhow!("hashing the dummy password failed: {error}")))?
            .to_string();
        Ok(Self { inner: Arc::new(Inner { argon2, dummy_hash }) })
    }

    /// Hashes a password into a PHC string.
    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let inner = self.inner.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            inner
                .argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|error| AppError::internal(anyhow::anyhow!("password hashing failed: {error}")))
        })
        .await
        .map_err(AppError::internal)?
    }

    /// Verifies a password against a stored hash, or against the dummy hash when
    /// `stored` is `None`, in which case the answer is always `false`.
    ///
    /// A stored hash made with other parameters is verified with the parameters it records.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> AppResult<bool> {
        let inner = self.inner.clone();
        let password = password.to_owned();
        let known = stored.is_some();
        let stored = stored.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let hash_text = stored.as_deref().unwrap_or(&inner.dummy_hash);
            let hash = PasswordHash::new(hash_text)
                .map_err(|error| AppError::internal(anyhow::anyhow!("stored password hash is malformed: {error}")))?;
            let matches = inner.argon2.verify_password(password.as_bytes(), &hash).is_ok();
            Ok(known && matches)
        })
        .await
        .map_err(AppError::internal)?
    }
}
