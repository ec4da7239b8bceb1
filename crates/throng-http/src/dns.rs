//! Name resolution with a per-VU cache, as k6's `dns` option: answers are kept for a TTL,
//! one address family can be preferred or required, and the address tried first is picked
//! from the answer (`first`, `random` or `roundRobin`). The other addresses stay behind it as
//! fall-backs for happy eyeballs.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// k6's `dns` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsOptions {
    /// How long an answer is kept: `None` forever (`inf`), zero never.
    pub ttl: Option<Duration>,
    /// Which address of an answer is tried first.
    pub select: Select,
    /// Which address families are used, and in what order.
    pub policy: Policy,
}

impl Default for DnsOptions {
    /// k6's defaults: `ttl=5m,select=random,policy=preferIPv4`.
    fn default() -> Self {
        DnsOptions {
            ttl: Some(Duration::from_secs(300)),
            select: Select::Random,
            policy: Policy::PreferIpv4,
        }
    }
}

/// Which address of an answer a new connection tries first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// Always the first.
    First,
    /// A random one each time.
    Random,
    /// Each in turn.
    RoundRobin,
}

/// Which address families are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// IPv4 first, IPv6 as the fall-back.
    PreferIpv4,
    /// IPv6 first, IPv4 as the fall-back.
    PreferIpv6,
    /// Only IPv4 addresses.
    OnlyIpv4,
    /// Only IPv6 addresses.
    OnlyIpv6,
    /// In the order the resolver answered.
    Any,
}

/// One cached answer.
#[derive(Debug)]
struct Entry {
    addrs: Vec<SocketAddr>,
    /// None: kept forever.
    expires: Option<Instant>,
}

/// A VU's resolver: answers cached by host and port for the TTL.
#[derive(Debug)]
pub(crate) struct DnsCache {
    opts: DnsOptions,
    entries: HashMap<(String, u16), Entry>,
    /// Turns for `roundRobin`, and the state of `random`'s generator.
    turn: u64,
    /// Lookups that went to the resolver (for tests and debugging).
    pub lookups: u64,
}

impl DnsCache {
    pub(crate) fn new(opts: DnsOptions, seed: u64) -> DnsCache {
        DnsCache {
            opts,
            entries: HashMap::new(),
            turn: seed | 1,
            lookups: 0,
        }
    }

    /// The addresses to try for `host:port`, in order; `None` when the name does not
    /// resolve or no address is left after the policy.
    pub(crate) async fn resolve(&mut self, host: &str, port: u16) -> Option<Vec<SocketAddr>> {
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
            return Some(vec![SocketAddr::new(ip, port)]);
        }
        self.resolve_with(host, port, Instant::now(), |h, p| async move {
            tokio::net::lookup_host((h.as_str(), p))
                .await
                .ok()
                .map(|a| a.collect())
        })
        .await
    }

    /// [`DnsCache::resolve`] with the clock and the resolver given.
    pub(crate) async fn resolve_with<F, Fut>(
        &mut self,
        host: &str,
        port: u16,
        now: Instant,
        lookup: F,
    ) -> Option<Vec<SocketAddr>>
    where
        F: FnOnce(String, u16) -> Fut,
        Fut: std::future::Future<Output = Option<Vec<SocketAddr>>>,
    {
        let key = (host.to_string(), port);
        let fresh = self
            .entries
            .get(&key)
            .is_some_and(|e| e.expires.is_none_or(|t| now < t));
        if !fresh {
            self.entries.remove(&key);
            self.lookups += 1;
            let addrs = filter(lookup(host.to_string(), port).await?, self.opts.policy);
            if addrs.is_empty() {
                return None;
            }
            let keep = self.opts.ttl != Some(Duration::ZERO);
            if !keep {
                return Some(self.order(addrs));
            }
            let expires = self.opts.ttl.map(|t| now + t);
            self.entries.insert(key.clone(), Entry { addrs, expires });
        }
        let addrs = self.entries.get(&key)?.addrs.clone();
        Some(self.order(addrs))
    }

    /// The answer with the selected address first (within the preferred family).
    fn order(&mut self, mut addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
        let lead_family = addrs.first().map(SocketAddr::is_ipv6);
        let lead = addrs
            .iter()
            .take_while(|a| Some(a.is_ipv6()) == lead_family)
            .count();
        if lead > 1 {
            let k = match self.opts.select {
                Select::First => 0,
                Select::RoundRobin => {
                    self.turn = self.turn.wrapping_add(1);
                    (self.turn % lead as u64) as usize
                }
                Select::Random => (self.next_random() % lead as u64) as usize,
            };
            addrs[..lead].rotate_left(k);
        }
        addrs
    }

    /// xorshift64: enough to spread connections over addresses.
    fn next_random(&mut self) -> u64 {
        let mut x = self.turn;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.turn = x;
        x
    }
}

/// The addresses the policy allows, the preferred family first (order kept within each).
fn filter(addrs: Vec<SocketAddr>, policy: Policy) -> Vec<SocketAddr> {
    let (v6, v4): (Vec<_>, Vec<_>) = addrs.iter().partition(|a| a.is_ipv6());
    match policy {
        Policy::Any => addrs,
        Policy::OnlyIpv4 => v4,
        Policy::OnlyIpv6 => v6,
        Policy::PreferIpv4 => v4.into_iter().chain(v6).collect(),
        Policy::PreferIpv6 => v6.into_iter().chain(v4).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn o(ttl: Option<u64>, select: Select, policy: Policy) -> DnsOptions {
        DnsOptions {
            ttl: ttl.map(Duration::from_secs),
            select,
            policy,
        }
    }

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|s| s.parse().expect("addr")).collect()
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    /// Resolves `host` at `now` through a counting fake resolver answering `answer`.
    fn at(
        cache: &mut DnsCache,
        now: Instant,
        calls: &Cell<u32>,
        answer: &[&str],
    ) -> Option<Vec<SocketAddr>> {
        let a = addrs(answer);
        block_on(cache.resolve_with("svc", 80, now, |_, _| {
            calls.set(calls.get() + 1);
            async move { Some(a) }
        }))
    }

    #[test]
    fn answers_are_kept_for_the_ttl_then_asked_again() {
        let opts = o(Some(10), Select::First, Policy::PreferIpv4);
        let mut c = DnsCache::new(opts, 7);
        let calls = Cell::new(0);
        let t0 = Instant::now();
        let ans = ["10.0.0.1:80"];
        at(&mut c, t0, &calls, &ans);
        at(&mut c, t0 + Duration::from_secs(9), &calls, &ans);
        assert_eq!(calls.get(), 1);
        at(&mut c, t0 + Duration::from_secs(10), &calls, &ans);
        assert_eq!(calls.get(), 2);
        assert_eq!(c.lookups, 2);
    }

    #[test]
    fn ttl_zero_never_caches_and_inf_always_does() {
        let calls = Cell::new(0);
        let t0 = Instant::now();
        let mut never = DnsCache::new(o(Some(0), Select::Random, Policy::Any), 1);
        for _ in 0..3 {
            at(&mut never, t0, &calls, &["10.0.0.1:80"]);
        }
        assert_eq!(calls.get(), 3);
        let calls = Cell::new(0);
        let mut always = DnsCache::new(o(None, Select::Random, Policy::Any), 1);
        at(&mut always, t0, &calls, &["10.0.0.1:80"]);
        at(
            &mut always,
            t0 + Duration::from_secs(86_400 * 365),
            &calls,
            &["10.0.0.1:80"],
        );
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn policies_filter_and_order_families() {
        let both = &["[::1]:80", "127.0.0.1:80"];
        let calls = Cell::new(0);
        let t = Instant::now();
        let first = |p: Policy| {
            let mut c = DnsCache::new(o(Some(300), Select::First, p), 1);
            at(&mut c, t, &calls, both)
        };
        assert_eq!(
            first(Policy::PreferIpv4),
            Some(addrs(&["127.0.0.1:80", "[::1]:80"]))
        );
        assert_eq!(
            first(Policy::PreferIpv6),
            Some(addrs(&["[::1]:80", "127.0.0.1:80"]))
        );
        assert_eq!(first(Policy::OnlyIpv4), Some(addrs(&["127.0.0.1:80"])));
        assert_eq!(first(Policy::OnlyIpv6), Some(addrs(&["[::1]:80"])));
        assert_eq!(first(Policy::Any), Some(addrs(both)));
        // nothing left after the policy: the name does not resolve for this run
        let mut c = DnsCache::new(o(Some(300), Select::Random, Policy::OnlyIpv6), 1);
        assert_eq!(at(&mut c, t, &calls, &["127.0.0.1:80"]), None);
    }

    #[test]
    fn round_robin_takes_each_address_in_turn_within_the_preferred_family() {
        let answer = &["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "[::1]:80"];
        let mut c = DnsCache::new(o(Some(300), Select::RoundRobin, Policy::PreferIpv4), 0);
        let calls = Cell::new(0);
        let t = Instant::now();
        let leads: Vec<SocketAddr> = (0..6)
            .filter_map(|_| at(&mut c, t, &calls, answer))
            .map(|a| {
                assert_eq!(a.len(), 4);
                assert_eq!(a[3], addrs(&["[::1]:80"])[0], "v6 stays the fall-back");
                a[0]
            })
            .collect();
        let distinct: std::collections::HashSet<_> = leads.iter().collect();
        assert_eq!(distinct.len(), 3);
        assert_eq!(leads[0], leads[3]);
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn random_reaches_every_address() {
        let answer = &["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"];
        let mut c = DnsCache::new(DnsOptions::default(), 42);
        let calls = Cell::new(0);
        let t = Instant::now();
        let seen: std::collections::HashSet<SocketAddr> = (0..60)
            .filter_map(|_| at(&mut c, t, &calls, answer))
            .map(|a| a[0])
            .collect();
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn literal_addresses_skip_the_resolver() {
        let mut c = DnsCache::new(DnsOptions::default(), 1);
        assert_eq!(
            block_on(c.resolve("127.0.0.1", 8080)),
            Some(addrs(&["127.0.0.1:8080"]))
        );
        assert_eq!(block_on(c.resolve("[::1]", 80)), Some(addrs(&["[::1]:80"])));
        assert_eq!(c.lookups, 0);
    }
}
