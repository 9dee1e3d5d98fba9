//! What Herald may connect to. Outside debug mode: https only, and never an address on
//! loopback, private, link-local, CGNAT, multicast, documentation or unspecified ranges
//! (IPv4-mapped and NAT64 forms included). The check runs in the HTTP client's DNS
//! resolver, on the very addresses it connects to, so DNS rebinding cannot slip past a
//! check made earlier; IP-literal URLs (which skip the resolver) are checked by
//! [`check_url`]. Deliveries follow no redirect; fetches follow a few, each target checked
//! the same way ([`check_redirect`]) and resolved through the same resolver.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};
use url::Url;

/// Why Herald refuses to contact a URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only https URLs are allowed outside debug mode")]
    NotHttps,
    #[error("the address {0} is not public; only debug mode may contact it")]
    PrivateAddress(IpAddr),
    #[error("the host has no public address")]
    NoPublicAddress,
    #[error("the URL has no host")]
    NoHost,
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
}

/// The most redirects a fetch follows (Mastodon follows up to 3 too).
pub const MAX_REDIRECTS: usize = 3;

/// True for addresses on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // 0.0.0.0/8 "this network"
        || (a == 100 && (64..128).contains(&b)) // 100.64.0.0/10 CGNAT
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24 IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // 198.18.0.0/15 benchmarking
        || a >= 240) // 240.0.0.0/4 reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // 64:ff9b::/96 NAT64 carries an IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return is_public_v4(v4);
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (segments[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // 2001:db8::/32 documentation
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // ::/96 deprecated IPv4-compatible
}

/// Checks a URL before any connection: scheme, and the address when the host is an IP.
pub fn check_url(url: &Url, debug: bool) -> Result<(), Refusal> {
    if debug {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err(Refusal::NotHttps);
    }
    match url.host() {
        None => Err(Refusal::NoHost),
        Some(url::Host::Ipv4(ip)) if !is_public_v4(ip) => Err(Refusal::PrivateAddress(ip.into())),
        Some(url::Host::Ipv6(ip)) if !is_public_v6(ip) => Err(Refusal::PrivateAddress(ip.into())),
        Some(_) => Ok(()),
    }
}

/// Checks where a fetch is redirected (`hops`: redirects so far, this one included): as
/// [`check_url`], no `localhost` names outside debug mode, and at most [`MAX_REDIRECTS`].
/// Host names are checked again by the resolver when the redirect is followed.
pub fn check_redirect(url: &Url, hops: usize, debug: bool) -> Result<(), Refusal> {
    if hops > MAX_REDIRECTS {
        return Err(Refusal::TooManyRedirects);
    }
    check_url(url, debug)?;
    if !debug && url.host_str().is_some_and(is_localhost_name) {
        return Err(Refusal::NoPublicAddress);
    }
    Ok(())
}

/// A DNS resolver that drops non-public addresses (outside debug mode).
#[derive(Clone, Copy)]
struct GuardedResolver {
    debug: bool,
}

/// True for `localhost` and names under `.localhost`, which RFC 6761 (section 6.3)
/// reserves for the loopback address.
fn is_localhost_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let debug = self.debug;
        Box::pin(async move {
            let host = name.as_str().to_string();
            // Outside debug mode loopback is refused anyway; in debug mode every
            // `*.localhost` name is loopback (as RFC 6761 asks of resolvers), so tests and
            // benchmarks can run thousands of distinct servers on one machine.
            if is_localhost_name(&host) {
                if !debug {
                    return Err(Box::new(Refusal::NoPublicAddress)
                        as Box<dyn std::error::Error + Send + Sync>);
                }
                let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
                return Ok(Box::new(std::iter::once(loopback)) as Addrs);
            }
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| debug || is_public(addr.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(
                    Box::new(Refusal::NoPublicAddress) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// True when a request failed because the guard refused its target.
pub fn is_refusal(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if e.downcast_ref::<Refusal>().is_some() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Connecting takes at most this long; the rest of `timeout` is for the answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an idle kept-alive connection is kept for the next request to its server.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The HTTP client for outbound requests: guarded resolver, no redirects, timeouts,
/// Herald's User-Agent, and a keep-alive pool per host (`KEEP_ALIVE`, up to 4 idle
/// connections per server).
pub fn http_client(
    debug: bool,
    timeout: Duration,
    user_agent: &str,
) -> Result<reqwest::Client, reqwest::Error> {
    client_builder(debug, timeout, user_agent)
        .pool_idle_timeout(KEEP_ALIVE)
        .pool_max_idle_per_host(4)
        .build()
}

/// The same client without keep-alive: each connection closes after its request. For
/// servers that get one request now and the next in minutes, which is most servers in a
/// fan-out: keeping 10,000 idle connections open would cost about 170 MB here (measured
/// with `herald bench fanout`) and buy nothing.
pub fn one_shot_client(
    debug: bool,
    timeout: Duration,
    user_agent: &str,
) -> Result<reqwest::Client, reqwest::Error> {
    client_builder(debug, timeout, user_agent)
        .pool_max_idle_per_host(0)
        .build()
}

/// The client for fetches (actors, keys, WebFinger): as [`http_client`], but following up
/// to [`MAX_REDIRECTS`] redirects, each checked by [`check_redirect`].
pub fn fetch_client(
    debug: bool,
    timeout: Duration,
    user_agent: &str,
) -> Result<reqwest::Client, reqwest::Error> {
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        match check_redirect(attempt.url(), attempt.previous().len(), debug) {
            Ok(()) => attempt.follow(),
            Err(refusal) => attempt.error(refusal),
        }
    });
    client_builder(debug, timeout, user_agent)
        .redirect(policy)
        .pool_idle_timeout(KEEP_ALIVE)
        .pool_max_idle_per_host(4)
        .build()
}

fn client_builder(debug: bool, timeout: Duration, user_agent: &str) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver { debug }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn redirects_are_checked_and_counted() {
        let url = |s: &str| Url::parse(s).unwrap();
        for target in [
            "http://example.com/",
            "https://127.0.0.1/",
            "https://10.0.0.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://localhost/",
            "https://x.localhost/",
        ] {
            assert!(check_redirect(&url(target), 1, false).is_err(), "{target}");
            assert!(check_redirect(&url(target), 1, true).is_ok(), "{target}");
        }
        let public = url("https://example.com/users/a");
        assert_eq!(check_redirect(&public, 1, false), Ok(()));
        assert_eq!(check_redirect(&public, MAX_REDIRECTS, false), Ok(()));
        assert_eq!(
            check_redirect(&public, MAX_REDIRECTS + 1, false),
            Err(Refusal::TooManyRedirects)
        );
    }

    #[test]
    fn private_and_special_ranges_are_not_public() {
        for addr in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip(addr)), "{addr} must not be public");
        }
        for addr in [
            "93.184.216.34",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            assert!(is_public(ip(addr)), "{addr} is public");
        }
    }

    #[test]
    fn localhost_names() {
        for name in ["localhost", "i42.localhost", "A.LOCALHOST."] {
            assert!(is_localhost_name(name), "{name}");
        }
        for name in ["localhost.example", "notlocalhost", "example.com"] {
            assert!(!is_localhost_name(name), "{name}");
        }
    }

    #[tokio::test]
    async fn localhost_names_resolve_to_loopback_in_debug_mode_only() {
        let name = || "i7.localhost".parse::<Name>().unwrap();
        let addrs: Vec<_> = GuardedResolver { debug: true }
            .resolve(name())
            .await
            .unwrap()
            .collect();
        assert_eq!(addrs, [SocketAddr::from((Ipv4Addr::LOCALHOST, 0))]);
        assert!(GuardedResolver { debug: false }
            .resolve(name())
            .await
            .is_err());
    }

    #[test]
    fn production_refuses_http_and_private_literals() {
        let check = |s: &str, debug| check_url(&Url::parse(s).unwrap(), debug);
        assert_eq!(
            check("http://example.com/inbox", false),
            Err(Refusal::NotHttps)
        );
        assert!(matches!(
            check("https://127.0.0.1/inbox", false),
            Err(Refusal::PrivateAddress(_))
        ));
        assert!(matches!(
            check("https://[::ffff:10.0.0.1]/inbox", false),
            Err(Refusal::PrivateAddress(_))
        ));
        assert_eq!(check("https://example.com/inbox", false), Ok(()));
        assert_eq!(check("http://127.0.0.1:8080/inbox", true), Ok(()));
    }
}
