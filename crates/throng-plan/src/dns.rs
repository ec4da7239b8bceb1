//! k6's `dns` option as a plan holds it: `ttl=5m,select=random,policy=preferIPv4`, from
//! `defaults: { dns: … }` (that string, or a mapping of the same keys) or `--dns`.
use crate::duration::parse_duration;
use std::time::Duration;

/// How names are resolved (mapped onto the HTTP client's options by the run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsSettings {
    /// How long a VU keeps an answer: `None` forever (`inf`), zero never (`0`).
    pub ttl: Option<Duration>,
    /// Which address of an answer is tried first.
    pub select: DnsSelect,
    /// Which address families are used, in what order.
    pub policy: DnsPolicy,
}

impl Default for DnsSettings {
    /// k6's defaults: `ttl=5m,select=random,policy=preferIPv4`.
    fn default() -> Self {
        DnsSettings {
            ttl: Some(Duration::from_secs(300)),
            select: DnsSelect::Random,
            policy: DnsPolicy::PreferIpv4,
        }
    }
}

/// k6's `select`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsSelect {
    /// Always the first address.
    First,
    /// A random address for each new connection.
    Random,
    /// Each address in turn.
    RoundRobin,
}

/// k6's `policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsPolicy {
    /// IPv4 first, IPv6 as the fall-back.
    PreferIpv4,
    /// IPv6 first, IPv4 as the fall-back.
    PreferIpv6,
    /// IPv4 only.
    OnlyIpv4,
    /// IPv6 only.
    OnlyIpv6,
    /// As the resolver answered.
    Any,
}

/// Reads k6's `--dns` string: `ttl=1m,select=first,policy=onlyIPv4`, each part optional.
pub fn parse_dns(s: &str) -> Result<DnsSettings, String> {
    let mut d = DnsSettings::default();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!(
                "`{part}`: expected key=value, the keys being ttl, select and policy"
            ));
        };
        set_dns(&mut d, k.trim(), v.trim())?;
    }
    Ok(d)
}

/// Sets one key of the option.
pub(crate) fn set_dns(d: &mut DnsSettings, key: &str, v: &str) -> Result<(), String> {
    match key {
        "ttl" => d.ttl = parse_ttl(v)?,
        "select" => {
            d.select = match v {
                "first" => DnsSelect::First,
                "random" => DnsSelect::Random,
                "roundRobin" | "round-robin" => DnsSelect::RoundRobin,
                _ => {
                    return Err(format!(
                        "select `{v}`: expected first, random or roundRobin"
                    ))
                }
            }
        }
        "policy" => {
            d.policy = match v {
                "preferIPv4" => DnsPolicy::PreferIpv4,
                "preferIPv6" => DnsPolicy::PreferIpv6,
                "onlyIPv4" => DnsPolicy::OnlyIpv4,
                "onlyIPv6" => DnsPolicy::OnlyIpv6,
                "any" => DnsPolicy::Any,
                _ => {
                    return Err(format!(
                        "policy `{v}`: expected preferIPv4, preferIPv6, onlyIPv4, onlyIPv6 or any"
                    ))
                }
            }
        }
        other => {
            return Err(format!(
                "unknown dns option `{other}`: expected ttl, select or policy"
            ))
        }
    }
    Ok(())
}

/// `inf` (kept for the whole run), `0` (never kept) or a k6 duration.
fn parse_ttl(v: &str) -> Result<Option<Duration>, String> {
    if v == "inf" {
        return Ok(None);
    }
    parse_duration(v)
        .map(Some)
        .map_err(|e| format!("ttl `{v}`: {e} (or inf)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_k6s_form() {
        let d = parse_dns("ttl=1m,select=first,policy=onlyIPv4").expect("dns");
        assert_eq!(d.ttl, Some(Duration::from_secs(60)));
        assert_eq!(d.select, DnsSelect::First);
        assert_eq!(d.policy, DnsPolicy::OnlyIpv4);
        assert_eq!(parse_dns(""), Ok(DnsSettings::default()));
        assert_eq!(parse_dns("ttl=inf").map(|d| d.ttl), Ok(None));
        assert_eq!(parse_dns("ttl=0").map(|d| d.ttl), Ok(Some(Duration::ZERO)));
        assert_eq!(
            parse_dns("ttl=1m30s").map(|d| d.ttl),
            Ok(Some(Duration::from_secs(90)))
        );
        assert_eq!(
            parse_dns("select=roundRobin").map(|d| d.select),
            Ok(DnsSelect::RoundRobin)
        );
    }

    #[test]
    fn names_what_is_wrong() {
        for (bad, says) in [
            ("ttl=soon", "ttl `soon`"),
            (
                "select=best",
                "select `best`: expected first, random or roundRobin",
            ),
            ("policy=ipv4", "policy `ipv4`"),
            ("colour=red", "unknown dns option `colour`"),
            ("ttl", "`ttl`: expected key=value"),
        ] {
            let e = parse_dns(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
