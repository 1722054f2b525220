//! Access tokens (JWT, HS256 pinned, 15 minutes) and opaque refresh tokens (only their
//! SHA-256 is stored).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::Secret;
pub use crate::secret::random_token;

pub const ISSUER: &str = "observer-desk";
pub const AUDIENCE: &str = "observer-desk-api";
use crate::error::{AppError, ErrorCode};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub role: String,
    /// When the user's password last changed (microseconds since the epoch): a token
    /// minted before a change no longer matches and is refused.
    pub pwd: i64,
    /// A unique id, so that no two tokens are alike even when minted in the same second.
    pub jti: String,
    /// The session (refresh-token family) the token was minted for: once the session ends
    /// (logout, reuse detected, password change), its access tokens are refused too.
    pub sid: String,
}

pub struct TokenService {
    /// Keys the derivation of a refresh token's successor (see [`TokenService::successor`]).
    successor_key: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

/// Tolerated clock difference, in seconds.
const LEEWAY_SECS: u64 = 5;

impl TokenService {
    pub fn new(secret: &Secret, ttl: Duration) -> TokenService {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        TokenService {
            successor_key: Sha256::digest(format!("refresh-successor:{}", secret.expose()))
                .to_vec(),
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The refresh token that follows `token` in its session: derived from it with a
    /// server-side key rather than drawn at random, so that a refresh whose answer was lost
    /// can be answered again with the same pair although only hashes are stored. Nobody
    /// without the key can compute it.
    pub fn successor(&self, token: &str) -> String {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.successor_key) else {
            return random_token(32);
        };
        mac.update(token.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A signed access token for the user, within session `sid`.
    pub fn issue(
        &self,
        user_id: i64,
        role: &str,
        password_changed_at: i64,
        sid: &str,
    ) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            role: role.into(),
            pwd: password_changed_at,
            jti: random_token(12),
            sid: sid.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    /// The claims of a valid token: signature, algorithm, `exp`, `iss`, `aud`, `sub` checked,
    /// and an `iat` that is not in the future.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AppError::new(ErrorCode::InvalidToken))?;
        let now = chrono::Utc::now().timestamp();
        if data.claims.iat > now + LEEWAY_SECS as i64 {
            return Err(AppError::new(ErrorCode::InvalidToken));
        }
        Ok(data.claims)
    }
}

/// What is stored for a refresh token: its SHA-256, hex. The token has 256 bits of
/// entropy, so a fast hash is enough (no dictionary to attack).
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    crate::encoding::hex(&digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        TokenService::new(&Secret::new("x".repeat(40)), Duration::from_secs(900))
    }

    #[test]
    fn a_token_it_issued_verifies() -> Result<(), AppError> {
        let s = service();
        let t = s.issue(42, "observer", 0, "session")?;
        let c = s.verify(&t)?;
        assert_eq!(c.sub, "42");
        assert_eq!(c.aud, AUDIENCE);
        Ok(())
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() -> Result<(), AppError> {
        let other = TokenService::new(&Secret::new("y".repeat(40)), Duration::from_secs(900));
        let t = other.issue(42, "admin", 0, "session")?;
        assert_eq!(
            service().verify(&t).err().map(|e| e.code),
            Some(ErrorCode::InvalidToken)
        );
        Ok(())
    }

    #[test]
    fn successors_are_stable_per_token_and_key_and_unguessable_without_the_key() {
        let s = service();
        let other = TokenService::new(&Secret::new("y".repeat(40)), Duration::from_secs(900));
        let t = random_token(32);
        assert_eq!(s.successor(&t), s.successor(&t));
        assert_ne!(s.successor(&t), s.successor(&random_token(32)));
        assert_ne!(s.successor(&t), other.successor(&t));
        assert_eq!(s.successor(&t).len(), 43);
    }

    #[test]
    fn refresh_token_hashes_are_stable_and_distinct() {
        let a = random_token(32);
        let b = random_token(32);
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a), hash_refresh_token(&a));
        assert_eq!(hash_refresh_token(&a).len(), 64);
    }
}
