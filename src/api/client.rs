//! Who is on the other end: the client address that throttles count against.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header;

/// The peer address, or, behind `hops` trusted proxies, the `X-Forwarded-For` entry that
/// the outermost trusted proxy appended. Answers `"unknown"` when there is neither.
pub fn address(req: &HttpRequest, hops: u8) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all(header::X_FORWARDED_FOR)
        .filter_map(|v| v.to_str().ok())
        .collect();
    match forwarded_client(&forwarded, hops).or(peer) {
        Some(ip) => ip.to_string(),
        None => "unknown".into(),
    }
}

/// The client address that the trusted proxies vouch for. Each proxy appends the address
/// it was reached from, so the last `hops` entries are theirs; everything to the left of
/// them was written by the client and could be anything. `None` when proxies are not
/// trusted (`hops == 0`) or their entry is missing or not an address.
pub fn forwarded_client(header_values: &[&str], hops: u8) -> Option<IpAddr> {
    if hops == 0 {
        return None;
    }
    let entries: Vec<&str> = header_values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let from_right = usize::from(hops).min(entries.len());
    let entry = entries.get(entries.len().checked_sub(from_right)?)?;
    entry.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(forwarded_client(&["203.0.113.7"], 0), None);
    }

    #[test]
    fn one_proxy_means_the_rightmost_entry_whatever_the_client_wrote_before_it() {
        assert_eq!(
            forwarded_client(&["1.1.1.1, 2.2.2.2, 198.51.100.4"], 1),
            ip("198.51.100.4")
        );
        assert_eq!(
            forwarded_client(&["spoofed", "198.51.100.4"], 1),
            ip("198.51.100.4")
        );
        assert_eq!(forwarded_client(&["198.51.100.4"], 1), ip("198.51.100.4"));
    }

    #[test]
    fn two_proxies_mean_the_second_entry_from_the_right() {
        assert_eq!(
            forwarded_client(&["9.9.9.9, 198.51.100.4, 10.0.0.2"], 2),
            ip("198.51.100.4")
        );
        // Fewer entries than hops: the leftmost is still one a proxy appended.
        assert_eq!(forwarded_client(&["198.51.100.4"], 2), ip("198.51.100.4"));
    }

    #[test]
    fn a_missing_or_malformed_entry_falls_back_to_nothing() {
        assert_eq!(forwarded_client(&[], 1), None);
        assert_eq!(forwarded_client(&[" , "], 1), None);
        assert_eq!(forwarded_client(&["1.1.1.1, not-an-ip"], 1), None);
        assert_eq!(forwarded_client(&["2001:db8::1"], 1), ip("2001:db8::1"));
    }
}
