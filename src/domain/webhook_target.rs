//! Where a department webhook may point: a public http(s) address. Loopback, private,
//! link-local (cloud metadata at 169.254.169.254), shared (CGNAT), multicast and other
//! special ranges are refused, unless the operator allows private targets on purpose
//! (`OBSERVER_DESK_WEBHOOK_ALLOW_PRIVATE=1`, for a bot inside the county's network).
//! Pure rules on text and addresses: the sending side resolves names and applies
//! [`is_public`] to every address it would connect to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The host of a webhook URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

/// Scheme, host and port of an http(s) URL, or `None` when it is not one (or carries
/// credentials, which a webhook never needs and which would end up in logs).
pub fn split(url: &str) -> Option<(bool, Host, u16)> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        (false, url.strip_prefix("http://")?)
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inner, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        (Host::Ip(IpAddr::V6(inner.parse().ok()?)), port)
    } else {
        let (h, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if h.is_empty() {
            return None;
        }
        let host = match h.parse::<Ipv4Addr>() {
            Ok(ip) => Host::Ip(IpAddr::V4(ip)),
            Err(_) => Host::Name(h.trim_end_matches('.').to_ascii_lowercase()),
        };
        (host, port)
    };
    let port = match port {
        Some(p) => p.parse().ok().filter(|p| *p != 0)?,
        None if https => 443,
        None => 80,
    };
    Some((https, host, port))
}

/// Whether an address is on the public internet (not this machine, not a private or
/// special-purpose network).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let v4 =
                    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return is_public_v4(v4);
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1)
                || (s[0..6] == [0, 0, 0, 0, 0, 0])) // IPv4-compatible (deprecated)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224) // multicast, reserved, broadcast
}

/// Why a target is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an http(s) URL with a host (or with credentials in it).
    NotAUrl,
    /// It names this machine or a private or special network.
    NotPublic,
}

/// The check made when a department saves its webhook: the URL's form, and its host when
/// that is an address or a name that always means this machine. (Names are resolved, and
/// every address checked, when a call is made.)
pub fn check_url(url: &str, allow_private: bool) -> Result<(), Refusal> {
    let (_, host, _) = split(url).ok_or(Refusal::NotAUrl)?;
    if allow_private {
        return Ok(());
    }
    match host {
        Host::Ip(ip) if !is_public(ip) => Err(Refusal::NotPublic),
        Host::Name(n) if n == "localhost" || n.ends_with(".localhost") => Err(Refusal::NotPublic),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn special_purpose_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.10",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "ff02::1",
            "2001:db8::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip(a)), "{a} counted as public");
        }
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "172.15.0.1",
            "172.32.0.1",
            "100.63.0.1",
            "100.128.0.1",
            "169.253.0.1",
            "2400:3200::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip(a)), "{a} refused");
        }
    }

    #[test]
    fn urls_are_split_into_scheme_host_and_port() {
        assert_eq!(
            split("https://bot.example.cn/hook?key=1"),
            Some((true, Host::Name("bot.example.cn".into()), 443))
        );
        assert_eq!(
            split("http://127.0.0.1:8080/x"),
            Some((false, Host::Ip(ip("127.0.0.1")), 8080))
        );
        assert_eq!(
            split("http://[::1]:9/x"),
            Some((false, Host::Ip(ip("::1")), 9))
        );
        assert_eq!(
            split("http://[::1]/"),
            Some((false, Host::Ip(ip("::1")), 80))
        );
        assert_eq!(split("http://user:pw@example.com/"), None);
        assert_eq!(split("ftp://example.com/"), None);
        assert_eq!(split("http://:80/"), None);
        assert_eq!(split("http://example.com:0/"), None);
        assert_eq!(split("http://example.com:99999/"), None);
        assert_eq!(split("http://[::1]x/"), None);
    }

    #[test]
    fn saving_refuses_this_machine_and_private_networks_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://LOCALHOST./hook",
            "http://api.localhost/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.5/hook",
            "http://[::1]/hook",
            "http://[::ffff:192.168.0.1]/hook",
        ] {
            assert_eq!(check_url(url, false), Err(Refusal::NotPublic), "{url}");
            assert_eq!(check_url(url, true), Ok(()), "{url}");
        }
        assert_eq!(check_url("https://bot.example.cn/hook", false), Ok(()));
        assert_eq!(check_url("https://8.8.8.8/hook", false), Ok(()));
        assert_eq!(check_url("gopher://x/", true), Err(Refusal::NotAUrl));
    }
}
