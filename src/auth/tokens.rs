//! Access tokens (JWT, HS256 pinned, 15 minutes) and opaque refresh tokens (only their
//! SHA-256 is stored).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::bounded::Bounded;
use crate::auth::callers::CallerKey;
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
    verified: Verified,
}

/// Access tokens verified lately, by their exact text, with what the caller's lookup needs
/// and when each expires. A client sends the same token with every request for its 15
/// minutes: its signature (HMAC-SHA-256 over base64) and claims (JSON, six strings) are
/// checked once, not on each request. Only a token that passed [`TokenService::verify`] gets
/// an entry, so a stranger cannot fill it; it is bounded all the same. A token that differs
/// in one character is another key and is verified in full. Expiry is checked on every use.
struct Verified(Bounded<Box<str>, (CallerKey, i64)>);

impl Verified {
    /// Some 4 MB of tokens at the most.
    const CAPACITY: usize = 10_000;

    fn get(&self, token: &str, now: i64) -> Option<CallerKey> {
        self.0
            .get(token, |(_, exp)| unexpired(*exp, now))
            .map(|(key, _)| key)
    }

    fn put(&self, token: &str, key: CallerKey, exp: i64, now: i64) {
        self.0
            .put(token.into(), (key, exp), |(_, exp)| unexpired(*exp, now));
    }
}

/// Whether a token that expires at `exp` is still good at `now`, as the JWT check counts it
/// (`exp` plus the leeway).
fn unexpired(exp: i64, now: i64) -> bool {
    exp >= now - LEEWAY_SECS as i64
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
            verified: Verified(Bounded::new(Verified::CAPACITY)),
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

    /// Whose token this is (user, session, password stamp), for a token that `verify`
    /// accepts: checked in full the first time it is seen, from then on until it expires
    /// looked up by its text.
    pub fn caller(&self, token: &str) -> Result<CallerKey, AppError> {
        self.caller_at(token, chrono::Utc::now().timestamp())
    }

    fn caller_at(&self, token: &str, now: i64) -> Result<CallerKey, AppError> {
        if let Some(key) = self.verified.get(token, now) {
            return Ok(key);
        }
        let claims = self.verify(token)?;
        let key = CallerKey {
            user_id: claims
                .sub
                .parse()
                .map_err(|_| AppError::new(ErrorCode::InvalidToken))?,
            session: claims.sid,
            password_stamp: claims.pwd,
        };
        self.verified.put(token, key.clone(), claims.exp, now);
        Ok(key)
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
    fn a_token_seen_before_names_its_caller_until_it_expires_and_no_altered_copy_does()
    -> Result<(), AppError> {
        let s = service();
        let t = s.issue(42, "observer", 7, "session")?;
        let now = chrono::Utc::now().timestamp();
        let first = s.caller_at(&t, now)?;
        assert_eq!((first.user_id, first.password_stamp), (42, 7));
        assert_eq!(first.session, "session");
        assert_eq!(s.verified.0.len(), 1);
        assert_eq!(s.caller_at(&t, now)?, first);
        // Once its 15 minutes and the leeway are over, its entry no longer answers (and the
        // full check refuses it).
        let last = s.verify(&t)?.exp + LEEWAY_SECS as i64;
        assert_eq!(s.verified.get(&t, last), Some(first.clone()));
        assert_eq!(s.verified.get(&t, last + 2), None);
        // A copy with one character of its signature changed is checked in full.
        let mut altered = t.clone().into_bytes();
        if let Some(last) = altered.last_mut() {
            *last = if *last == b'A' { b'B' } else { b'A' };
        }
        let altered = String::from_utf8(altered).map_err(AppError::internal)?;
        assert_eq!(
            s.caller_at(&altered, now).err().map(|e| e.code),
            Some(ErrorCode::InvalidToken)
        );
        // Nor does another key's token with the same claims get in.
        let other = TokenService::new(&Secret::new("y".repeat(40)), Duration::from_secs(900));
        let forged = other.issue(42, "observer", 7, "session")?;
        assert!(s.caller_at(&forged, now).is_err());
        assert_eq!(s.verified.0.len(), 1);
        Ok(())
    }

    #[test]
    fn the_tokens_seen_never_pass_their_capacity() -> Result<(), AppError> {
        let mut s = service();
        s.verified = Verified(Bounded::new(3));
        let now = chrono::Utc::now().timestamp();
        for id in 0..10 {
            let t = s.issue(id, "observer", 0, "session")?;
            assert_eq!(s.caller_at(&t, now)?.user_id, id);
            let held = s.verified.0.len();
            assert!(held <= 3, "{held} tokens held");
        }
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
