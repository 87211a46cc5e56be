//! Who the client is, for per-address limits and the audit trail.
//!
//! `X-Forwarded-For` is believed only when the TCP peer is one of the
//! configured `trusted_proxies` (docs/security.md #14, #38): from anyone else it
//! is a value the client picked, and believing it would let a client choose
//! the address its requests are counted under.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::ssr::ClientAddr;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderMap;
use ipnet::IpNet;

#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Arc<[IpNet]>);

impl TrustedProxies {
    fn trust(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

pub async fn resolve(
    State(trusted): State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = client_of(peer, &forwarded_for(req.headers()), &trusted);
        req.extensions_mut().insert(ClientAddr(client));
    }
    next.run(req).await
}

/// Walks the chain from the nearest hop back: each trusted hop vouches for
/// the address before it, and the first hop nobody trusted is the client.
/// An entry that is not an address ends the walk at the last hop known.
fn client_of(peer: IpAddr, chain: &[&str], trusted: &TrustedProxies) -> IpAddr {
    // An IPv4 client reached over IPv6 (`::ffff:192.0.2.1`) is that IPv4
    // client, for trust and for counting.
    let mut client = peer.to_canonical();
    for hop in chain.iter().rev() {
        if !trusted.trust(client) {
            break;
        }
        match parse_hop(hop) {
            Some(ip) => client = ip,
            None => break,
        }
    }
    client
}

/// Every `X-Forwarded-For` entry, in order, over all header lines. Split
/// before decoding: a client's own garbage entry (bytes that are not
/// text) must not take the entries our proxies appended after it down
/// with it. Such an entry becomes "", which ends the walk there.
fn forwarded_for(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(|entry| std::str::from_utf8(entry).unwrap_or("").trim())
        .collect()
}

/// `192.0.2.1`, `2001:db8::1`, and the forms with a port some proxies
/// write (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies(nets.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        // docs/security.md #38: spoofed X-Forwarded-For from an untrusted peer is ignored.
        let none = proxies(&[]);
        assert_eq!(
            client_of(ip("198.51.100.9"), &["203.0.113.5"], &none),
            ip("198.51.100.9")
        );
        let other = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            client_of(ip("198.51.100.9"), &["203.0.113.5"], &other),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn trusted_hops_are_skipped_from_the_right() {
        let lb = proxies(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        // The client put a fake address first; the proxies appended the real one.
        let chain = ["1.1.1.1", "203.0.113.5", "10.1.2.3"];
        assert_eq!(client_of(ip("10.0.0.1"), &chain, &lb), ip("203.0.113.5"));
        assert_eq!(
            client_of(ip("2001:db8:ffff::1"), &["2001:db8::7"], &lb),
            ip("2001:db8::7")
        );
        // Every hop trusted: the farthest one known.
        assert_eq!(
            client_of(ip("10.0.0.1"), &["10.9.9.9"], &lb),
            ip("10.9.9.9")
        );
        // No header: the proxy itself.
        assert_eq!(client_of(ip("10.0.0.1"), &[], &lb), ip("10.0.0.1"));
    }

    #[test]
    fn garbage_ends_the_walk_and_ports_are_understood() {
        let lb = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            client_of(ip("10.0.0.1"), &["203.0.113.5", "unknown"], &lb),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_of(ip("10.0.0.1"), &["203.0.113.5:4711"], &lb),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_of(ip("10.0.0.1"), &["[2001:db8::7]:4711"], &lb),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_of(ip("::ffff:10.0.0.1"), &["::ffff:203.0.113.5"], &lb),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn every_header_line_counts_in_order() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "1.1.1.1, 203.0.113.5".parse().unwrap());
        h.append("x-forwarded-for", "10.1.2.3".parse().unwrap());
        assert_eq!(forwarded_for(&h), ["1.1.1.1", "203.0.113.5", "10.1.2.3"]);
    }

    #[test]
    fn a_garbage_entry_does_not_hide_the_ones_proxies_appended() {
        // The client sent bytes that are not text; nginx appended the real
        // address after them.
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            http::HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.5").unwrap(),
        );
        let lb = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            client_of(ip("10.0.0.1"), &forwarded_for(&h), &lb),
            ip("203.0.113.5")
        );
    }

    proptest::proptest! {
        /// docs/security.md #78: any header value is read without panic, and
        /// the client found is always the peer or an entry of the header.
        #[test]
        fn any_forwarded_for_yields_the_peer_or_one_of_its_entries(
            raw in proptest::collection::vec(proptest::num::u8::ANY, 0..120),
            peer in proptest::prop_oneof![proptest::strategy::Just("10.0.0.1"), proptest::strategy::Just("198.51.100.7")],
        ) {
            let mut h = HeaderMap::new();
            if let Ok(v) = http::HeaderValue::from_bytes(&raw) {
                h.append("x-forwarded-for", v);
            }
            let chain = forwarded_for(&h);
            let lb = proxies(&["10.0.0.0/8"]);
            let client = client_of(ip(peer), &chain, &lb);
            proptest::prop_assert!(
                client == ip(peer) || chain.iter().any(|e| parse_hop(e) == Some(client)),
                "{client} from {chain:?}"
            );
            // An untrusted peer is always the client, whatever it claims.
            proptest::prop_assert_eq!(client_of(ip("198.51.100.7"), &chain, &lb), ip("198.51.100.7"));
        }
    }
}
