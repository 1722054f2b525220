//! `Idempotency-Key`: a creating POST sent again with the same key and the same request
//! gets the first answer back (same status, body and id) without the work being done
//! twice; with another request, 422 `idempotency_key_reused`. The key is held and the
//! answer stored in the same write transaction as the work, so a failed request leaves no
//! trace and may be retried, and two requests with one key at one moment do the work once.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::idempotency::{self, Reservation};
use crate::db::{self, DbConn};
use crate::error::{AppError, ErrorCode};

pub const HEADER: &str = "Idempotency-Key";
/// Set on an answer that is a replay of the first one.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
const MAX_KEY_LEN: usize = 255;

/// An answer as it is stored for replay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    /// JSON text.
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Answer {
    pub fn json(status: StatusCode, value: &impl Serialize) -> Result<Answer, AppError> {
        Ok(Answer {
            status: status.as_u16(),
            body: serde_json::to_string(value).map_err(AppError::internal)?,
            headers: Vec::new(),
        })
    }

    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Answer {
        self.headers.push((name.as_str().to_string(), value.into()));
        self
    }

    pub fn into_response(self, replayed: bool) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut r = HttpResponse::build(status);
        r.content_type("application/json");
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(value),
            ) {
                r.insert_header((n, v));
            }
        }
        if replayed {
            r.insert_header((REPLAYED_HEADER, "true"));
        }
        r.body(self.body)
    }
}

/// One request that may carry an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct Once {
    key: Option<String>,
    hash: String,
    ttl: Duration,
}

impl Once {
    /// For a JSON request: what counts as "the same request" is the method, the path and
    /// the parsed body (so spacing and key order do not matter).
    pub fn json(req: &HttpRequest, ttl: Duration, body: &impl Serialize) -> Result<Once, AppError> {
        let body = serde_json::to_vec(body).map_err(AppError::internal)?;
        Once::with_content(req, ttl, &body)
    }

    /// For any request: `content` is what must be equal for a retry to be the same request.
    pub fn with_content(
        req: &HttpRequest,
        ttl: Duration,
        content: &[u8],
    ) -> Result<Once, AppError> {
        let key = match req.headers().get(HEADER) {
            // An empty value is no key (some clients cannot tell the two apart).
            Some(v) if v.is_empty() => None,
            None => None,
            Some(v) => {
                let raw = v.as_bytes();
                if raw.len() > MAX_KEY_LEN {
                    return Err(AppError::with_detail(
                        ErrorCode::InvalidHeader,
                        format!("{HEADER} must be at most {MAX_KEY_LEN} bytes"),
                    ));
                }
                // Any header value is a key; one that is not plain ASCII is kept by its bytes
                // in hex, so that two different keys never become one.
                Some(match v.to_str() {
                    Ok(k) => k.to_string(),
                    Err(_) => format!("hex:{}", crate::encoding::hex(raw)),
                })
            }
        };
        let mut h = Sha256::new();
        h.update(req.method().as_str().as_bytes());
        h.update(b" ");
        h.update(req.path().as_bytes());
        h.update(b"\n");
        h.update(content);
        Ok(Once {
            key,
            hash: crate::encoding::hex(&h.finalize()),
            ttl,
        })
    }

    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// Inside the caller's write transaction: the stored answer if this key was used for
    /// this request, else `work`'s answer, stored under the key. The flag says "replayed".
    pub fn run(
        &self,
        c: &mut DbConn,
        user_id: i64,
        now: NaiveDateTime,
        work: impl FnOnce(&mut DbConn) -> Result<Answer, AppError>,
    ) -> Result<(Answer, bool), AppError> {
        let Some(key) = &self.key else {
            return Ok((work(c)?, false));
        };
        let ttl = chrono::Duration::from_std(self.ttl).map_err(AppError::internal)?;
        match idempotency::reserve(c, user_id, key, &self.hash, now, db::truncate(now - ttl))? {
            Reservation::Used(row) => {
                if row.request_hash != self.hash {
                    return Err(AppError::new(ErrorCode::IdempotencyKeyReused));
                }
                let headers = serde_json::from_str(&row.headers).map_err(AppError::internal)?;
                Ok((
                    Answer {
                        status: u16::try_from(row.status).map_err(AppError::internal)?,
                        body: row.body,
                        headers,
                    },
                    true,
                ))
            }
            Reservation::Fresh => {
                let answer = work(c)?;
                let headers = serde_json::to_string(&answer.headers).map_err(AppError::internal)?;
                idempotency::complete(
                    c,
                    user_id,
                    key,
                    i32::from(answer.status),
                    &answer.body,
                    &headers,
                )?;
                Ok((answer, false))
            }
        }
    }
}
