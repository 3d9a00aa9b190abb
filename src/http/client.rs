//! Who the client is, for per-client limits and the audit trail: the socket's peer, unless the
//! peer is a proxy the operator trusts (`PROLO_TRUSTED_PROXIES`); then the right-most hop of
//! `Forwarded` (RFC 7239) or, without it, `X-Forwarded-For`, that is not itself trusted. Hops
//! left of it were written by the client and prove nothing. IPv6 clients are counted per /64,
//! the block a single subscriber is usually given.

use std::net::{IpAddr, Ipv6Addr};

use actix_web::HttpRequest;

use crate::config::Cidr;
use crate::config::cidr::canonical;

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// The blocks in `list` (as configured).
    pub fn new(list: Vec<Cidr>) -> Self {
        Self(list)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(ip))
    }

    /// The client's address: `peer`, or the right-most untrusted hop of the forwarding
    /// headers when `peer` is trusted. A hop that is not an address ends the walk at the
    /// trusted hop before it.
    pub fn client(
        &self,
        peer: IpAddr,
        forwarded: Option<&str>,
        x_forwarded_for: Option<&str>,
    ) -> IpAddr {
        if !self.trusts(peer) {
            return canonical(peer);
        }
        let hops: Vec<&str> = match (forwarded, x_forwarded_for) {
            (Some(forwarded), _) => forwarded_for(forwarded),
            (None, Some(list)) => list.split(',').map(str::trim).collect(),
            (None, None) => Vec::new(),
        };
        let mut client = canonical(peer);
        for hop in hops.into_iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.trusts(ip) => client = ip,
                Some(ip) => return ip,
                None => return client,
            }
        }
        client
    }
}

/// The `for=` values of a `Forwarded` header, in order (every element of every field value).
fn forwarded_for(header: &str) -> Vec<&str> {
    header
        .split(',')
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim().trim_matches('"'))
            })
        })
        .collect()
}

/// An address from a hop: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok().map(canonical);
    }
    let (address, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    address.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The key a client is counted under: an IPv4 address, or an IPv6 address's /64.
pub fn bucket(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{network}/64")
        }
    }
}

/// The bucket of the client of `req`, by `trusted` proxies.
pub fn of_request(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    let Some(peer) = req.peer_addr() else {
        return "unknown".to_owned();
    };
    let header = |name: &str| {
        let values: Vec<&str> = req
            .headers()
            .get_all(name)
            .filter_map(|value| value.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    let forwarded = header("forwarded");
    let x_forwarded_for = header("x-forwarded-for");
    bucket(trusted.client(peer.ip(), forwarded.as_deref(), x_forwarded_for.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|c| c.parse().unwrap()).collect())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let client = trusted.client(ip("203.0.113.7"), None, Some("198.51.100.1"));
        assert_eq!(client, ip("203.0.113.7"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.168.1.1"]);
        // The client forged the first hop; the proxies appended the rest.
        let xff = "1.2.3.4, 203.0.113.7, 192.168.1.1";
        assert_eq!(
            trusted.client(ip("10.0.0.2"), None, Some(xff)),
            ip("203.0.113.7")
        );
        // Every hop trusted: the left-most one.
        assert_eq!(
            trusted.client(ip("10.0.0.2"), None, Some("10.9.9.9")),
            ip("10.9.9.9")
        );
        // No header at all: the proxy itself.
        assert_eq!(trusted.client(ip("10.0.0.2"), None, None), ip("10.0.0.2"));
        // Garbage where an address should be stops at the last trusted hop.
        assert_eq!(
            trusted.client(ip("10.0.0.2"), None, Some("203.0.113.7, junk")),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_takes_ports_and_brackets() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let forwarded = r#"for=198.51.100.9;proto=https, for="[2001:db8:cafe::17]:4711";by=10.0.0.1, For=10.0.0.3:80"#;
        assert_eq!(
            trusted.client(ip("10.0.0.2"), Some(forwarded), Some("203.0.113.7")),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            trusted.client(ip("10.0.0.2"), Some("for=192.0.2.60:8080"), None),
            ip("192.0.2.60")
        );
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            bucket(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            bucket(ip("2001:db8:1:2::9"))
        );
        assert_ne!(bucket(ip("2001:db8:1:3::1")), bucket(ip("2001:db8:1:2::1")));
        assert_eq!(bucket(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(bucket(ip("192.0.2.1")), "192.0.2.1");
    }
}
