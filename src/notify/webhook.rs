//! Department webhooks: a JSON body signed with HMAC-SHA256 over `timestamp.body` with the
//! department's secret, so that a group bot or another system can check that the call is
//! ours and recent (see the README for a receiver's check).

use std::net::SocketAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::webhook_target::{Host, is_public, split};

pub const SIGNATURE_HEADER: &str = "X-Observer-Desk-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Observer-Desk-Timestamp";

/// `sha256=` and the hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes a key of any length; this cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("sha256={}", crate::encoding::hex(&digest))
}

/// Why a call failed, in words that are safe to show an admin: never the connection
/// error's own text, which would tell open ports from closed ones on any host.
pub const REFUSED_TARGET: &str = "the webhook points at an address that is not allowed";
pub const UNREACHABLE: &str = "the receiver could not be reached";

/// The address to connect to for `url`: its host resolved, and every address it resolves
/// to checked, so that a name cannot lead to this machine or a private network. The call
/// is then pinned to the checked address (no second lookup can differ).
pub async fn resolve_target(url: &str, allow_private: bool) -> Result<SocketAddr, &'static str> {
    let (_, host, port) = split(url).ok_or(REFUSED_TARGET)?;
    let addresses: Vec<SocketAddr> = match host {
        Host::Ip(ip) => vec![SocketAddr::new(ip, port)],
        Host::Name(name) => tokio::net::lookup_host((name.as_str(), port))
            .await
            .map_err(|_| UNREACHABLE)?
            .collect(),
    };
    if addresses.is_empty() {
        return Err(UNREACHABLE);
    }
    if !allow_private && addresses.iter().any(|a| !is_public(a.ip())) {
        return Err(REFUSED_TARGET);
    }
    Ok(addresses[0])
}

/// POSTs the body; any answer but 2xx is a failure to retry. Redirects are not followed
/// (a 3xx is a failure): a receiver cannot send the signed body somewhere else.
pub async fn post(
    url: &str,
    secret: Option<&str>,
    body: &str,
    allow_private: bool,
) -> Result<(), String> {
    let address = resolve_target(url, allow_private).await?;
    let timestamp = chrono::Utc::now().timestamp();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(15))
        .disable_redirects()
        .finish();
    let mut request = client
        .post(url)
        .address(address)
        .insert_header(("Content-Type", "application/json"))
        .insert_header((TIMESTAMP_HEADER, timestamp.to_string()));
    if let Some(secret) = secret {
        request = request.insert_header((SIGNATURE_HEADER, sign(secret, timestamp, body)));
    }
    let response = request.send_body(body.to_string()).await.map_err(|e| {
        tracing::debug!(error = %e, "webhook call failed");
        UNREACHABLE.to_string()
    })?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "the receiver answered HTTP {}",
            response.status().as_u16()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_and_body() {
        // Checked against Python: hmac.new(b"secret", b"1700000000.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            sign("secret", 1_700_000_000, "{}"),
            "sha256=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
        assert_ne!(
            sign("secret", 1_700_000_000, "{}"),
            sign("secret", 1_700_000_001, "{}")
        );
        assert_ne!(
            sign("secret", 1_700_000_000, "{}"),
            sign("other", 1_700_000_000, "{}")
        );
    }
}
