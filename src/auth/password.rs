//! argon2id password hashing at the OWASP-recommended parameters (19 MiB, t=2, p=1).
//! Every function here is CPU-heavy and blocking: call it on the blocking pool.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AppError;

fn hasher() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(AppError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// Whether `password` matches the stored PHC string. A malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    match hasher() {
        Ok(h) => h.verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// The gate every password hash and check passes through: at most `permits` run at once
/// (each holds 19 MiB for tens of milliseconds), the rest wait their turn, so a storm of
/// logins costs bounded memory and leaves blocking threads for the database.
pub struct HashingPool {
    permits: tokio::sync::Semaphore,
}

impl HashingPool {
    pub fn new(permits: usize) -> HashingPool {
        HashingPool {
            permits: tokio::sync::Semaphore::new(permits.max(1)),
        }
    }

    /// One permit per core.
    pub fn per_core() -> HashingPool {
        HashingPool::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    pub async fn verify(&self, password: String, stored: String) -> Result<bool, AppError> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        crate::db::run_blocking(move || Ok(verify(&password, &stored))).await
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        crate::db::run_blocking(move || hash(&password)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() -> Result<(), AppError> {
        let h = hash("correct horse battery")?;
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterz", &h));
        assert!(!verify("correct horse battery", "not-a-hash"));
        Ok(())
    }
}
