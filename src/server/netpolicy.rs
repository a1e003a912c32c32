//! Where outgoing requests may go. Plan steps call URLs that people type, so the server would
//! otherwise be a way into every network it can reach — the cloud metadata service above all.
//! A [`NetPolicy`] (networks allowed, networks denied) is checked against every address a request
//! would connect to, after DNS resolution and on every request, and the request then connects to
//! exactly the addresses checked (no second lookup that a rebinding DNS server could answer
//! differently). This server's own listening address is refused besides, unless allowed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// Denied unless configured otherwise: link-local addresses (where cloud metadata services
/// answer: 169.254.169.254, fd00:ec2::254) and Alibaba Cloud's metadata address.
pub const DEFAULT_DENY: &str = "169.254.0.0/16, fe80::/10, fd00:ec2::254/128, 100.100.100.200/32";

/// Networks outgoing requests may reach: an address must be in `allow` (any address when it is
/// empty) and in no network of `deny`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPolicy {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
}

impl Default for NetPolicy {
    fn default() -> Self {
        Self::from_lists("", DEFAULT_DENY).expect("the default deny list parses")
    }
}

impl NetPolicy {
    /// A policy from two comma- or space-separated lists of networks (`10.0.0.0/8`, `::1/128`,
    /// or a single address).
    pub fn from_lists(allow: &str, deny: &str) -> Result<Self, String> {
        Ok(Self {
            allow: parse_networks(allow)?,
            deny: parse_networks(deny)?,
        })
    }

    /// Whether a connection to `ip` is allowed; the refusal says which setting stops it.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        let ip = canonical(ip);
        if let Some(net) = self.deny.iter().find(|n| n.contains(&ip)) {
            return Err(format!(
                "{ip} is in {net}, which Nightwatch may not call (NIGHTWATCH_STEP_DENY)"
            ));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|n| n.contains(&ip)) {
            return Err(format!(
                "{ip} is outside the networks Nightwatch may call (NIGHTWATCH_STEP_ALLOW)"
            ));
        }
        Ok(())
    }
}

fn parse_networks(list: &str) -> Result<Vec<IpNet>, String> {
    list.split([',', ' ', '\n', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is not a network like 10.0.0.0/8 or an address"))
        })
        .collect()
}

/// The address a connection to `ip` really reaches, for checking: an IPv4 address written as
/// IPv6 (mapped `::ffff:a.b.c.d`, the deprecated compatible `::a.b.c.d`, or NAT64's well-known
/// `64:ff9b::a.b.c.d`, which a NAT64 gateway forwards to the IPv4 address) is that IPv4 address,
/// and the unspecified address (`0.0.0.0`, `::`) reaches this host's loopback.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_loopback() => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = || Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32);
            if let Some(v4) = v6.to_ipv4_mapped() {
                canonical(IpAddr::V4(v4))
            } else if s[..6] == [0; 6] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                canonical(IpAddr::V4(embedded()))
            } else {
                ip
            }
        }
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(_) => ip,
    }
}

/// Whether `ip` is an address of this host: loopback, or one the kernel lets us bind to (an
/// interface's address). No packet is sent.
pub fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// Whether connecting to `target` reaches this server, which listens on `own`: the same port,
/// and the same address, or — while we listen on every address — any address of this host
/// (`local` says which are).
pub fn reaches_self(
    target: SocketAddr,
    own: &[SocketAddr],
    local: impl Fn(IpAddr) -> bool,
) -> bool {
    let ip = canonical(target.ip());
    // 0.0.0.0 as a destination reaches this machine, as the loopback does.
    let here = |a: IpAddr| a.is_loopback() || a.is_unspecified();
    own.iter().any(|o| {
        let mine = canonical(o.ip());
        target.port() == o.port()
            && (ip == mine || (here(ip) && here(mine)) || (o.ip().is_unspecified() && local(ip)))
    })
}

/// Where a request may connect, checked before every request.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// The networks allowed.
    pub policy: NetPolicy,
    /// This server's listening addresses.
    pub own: Vec<SocketAddr>,
    /// Whether requests may reach this server itself.
    pub allow_self: bool,
}

/// The address `url` names literally (`http://10.0.0.5/`, `http://[::1]/`), if its host is one
/// rather than a name.
pub fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

impl Reach {
    /// Resolves `url`'s host and checks every address it gives: the addresses to connect to, or
    /// why the request may not be made. The reasons name the host, never the whole URL (a
    /// hook's URL carries its token, and these reasons are stored and shown).
    pub async fn vet(&self, url: &url::Url) -> Result<Vec<SocketAddr>, String> {
        let host = url.host_str().unwrap_or("");
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("the address of {host} names no port"))?;
        let addrs: Vec<SocketAddr> = match (literal_ip(url), url.host()) {
            (Some(ip), _) => vec![SocketAddr::new(ip, port)],
            (None, Some(url::Host::Domain(name))) => tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| format!("cannot resolve {name}: {e}"))?
                .collect(),
            (None, _) => return Err("the address names no host".to_owned()),
        };
        if addrs.is_empty() {
            return Err(format!("{host} resolves to no address"));
        }
        for addr in &addrs {
            self.policy.check(addr.ip())?;
            if !self.allow_self && reaches_self(*addr, &self.own, is_local) {
                return Err(
                    "this calls the Nightwatch server itself, which is not allowed \
                     (set NIGHTWATCH_ALLOW_SELF_TARGET=true to allow it)"
                        .to_owned(),
                );
            }
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_metadata_service_and_link_local_addresses_are_denied_by_default() {
        let p = NetPolicy::default();
        for denied in [
            "169.254.169.254",
            "169.254.1.1",
            "fe80::1",
            "fd00:ec2::254",
            "100.100.100.200",
            "::ffff:169.254.169.254",
            "::169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(p.check(ip(denied)).is_err(), "{denied} passed");
        }
    }

    #[test]
    fn loopback_and_private_networks_are_allowed_by_default() {
        let p = NetPolicy::default();
        for allowed in ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.16.0.1", "::1"] {
            assert_eq!(p.check(ip(allowed)), Ok(()), "{allowed}");
        }
    }

    #[test]
    fn an_allow_list_admits_only_its_networks() {
        let p = NetPolicy::from_lists("10.0.0.0/8, 192.168.1.5", "").unwrap();
        assert_eq!(p.check(ip("10.9.9.9")), Ok(()));
        assert_eq!(p.check(ip("192.168.1.5")), Ok(()));
        assert!(p.check(ip("192.168.1.6")).is_err());
        assert!(p.check(ip("127.0.0.1")).is_err());
    }

    #[test]
    fn deny_wins_over_allow_and_reaches_mapped_and_unspecified_forms() {
        let p = NetPolicy::from_lists("0.0.0.0/0, ::/0", "127.0.0.0/8").unwrap();
        for denied in ["127.0.0.1", "0.0.0.0", "::ffff:127.0.0.1", "::ffff:7f00:1"] {
            assert!(p.check(ip(denied)).is_err(), "{denied} passed");
        }
    }

    #[test]
    fn a_malformed_network_is_refused_with_its_text() {
        let e = NetPolicy::from_lists("10.0.0.0/33", "").unwrap_err();
        assert!(e.contains("10.0.0.0/33"), "{e}");
    }

    #[test]
    fn every_spelling_of_this_servers_address_reaches_it() {
        let own = [SocketAddr::from(([0, 0, 0, 0], 3000))];
        let local = |ip: IpAddr| ip.is_loopback() || ip == "192.0.2.2".parse::<IpAddr>().unwrap();
        for target in [
            "127.0.0.1:3000",
            "0.0.0.0:3000",
            "[::ffff:127.0.0.1]:3000",
            "[0:0:0:0:0:ffff:7f00:1]:3000",
            "[::]:3000",
            "[::1]:3000",
            "127.0.0.2:3000",
            "192.0.2.2:3000",
            "[::ffff:192.0.2.2]:3000",
        ] {
            assert!(
                reaches_self(target.parse().unwrap(), &own, local),
                "{target}"
            );
        }
        assert!(!reaches_self(
            "127.0.0.1:3001".parse().unwrap(),
            &own,
            local
        ));
        assert!(
            !reaches_self("10.0.0.1:3000".parse().unwrap(), &own, local),
            "another host"
        );
        let on_loopback = [SocketAddr::from(([127, 0, 0, 1], 3000))];
        assert!(
            !reaches_self("192.0.2.2:3000".parse().unwrap(), &on_loopback, local),
            "we do not listen there"
        );
    }

    #[test]
    fn this_hosts_addresses_are_local_and_others_are_not() {
        assert!(is_local("127.0.0.1".parse().unwrap()));
        assert!(
            !is_local("192.0.2.77".parse().unwrap()),
            "TEST-NET-1 is on no interface"
        );
    }

    #[tokio::test]
    async fn vetting_reads_the_url_as_the_connection_will() {
        let reach = Reach {
            own: vec![SocketAddr::from(([0, 0, 0, 0], 3000))],
            ..Reach::default()
        };
        for url in [
            "http://0:3000/",
            "http://0.0.0.0:3000/",
            "http://[::ffff:127.0.0.1]:3000/",
            "http://127.1:3000/",
            "http://2130706433:3000/",
            "http://localhost:3000/",
            "http://169.254.169.254/latest/meta-data/",
        ] {
            let parsed = url::Url::parse(url).unwrap();
            assert!(reach.vet(&parsed).await.is_err(), "{url} passed");
        }
        let ok = url::Url::parse("http://127.0.0.1:3001/").unwrap();
        assert_eq!(
            reach.vet(&ok).await,
            Ok(vec!["127.0.0.1:3001".parse().unwrap()])
        );
    }
}
