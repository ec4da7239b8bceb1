//! `redis:` a Redis server's `INFO` and custom commands, over one connection kept between
//! samples (reopened after a failure):
//! - `memory` (`used_memory`, bytes), `memory_rss` (`used_memory_rss`), `clients`
//!   (`connected_clients` less the monitor's own connection), `keys` (summed over the
//!   keyspace's databases);
//! - `ops:rate` commands per second from `total_commands_processed` (the monitor's own
//!   commands taken out), `hit_rate` (keyspace hits ÷ lookups over the interval, 0–1; none
//!   in an interval without lookups), `evicted_keys` and `expired_keys` (increase since the
//!   first sample, so `delta` works) and `evicted_keys:rate`;
//! - each custom command of `keys:` (`queue: "LLEN mutt:queue"`) as a series of its numeric
//!   answer. A custom command reading a key counts as a keyspace hit or miss.
use crate::{Monitor, MonitorError, SampleCx, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
pub use throng_metrics::monitor::split_command;

/// How long connecting and each command may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The counters of `INFO` that become rates and increases.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    commands: f64,
    hits: f64,
    misses: f64,
    evicted: f64,
    expired: f64,
}

/// The Redis monitor.
pub struct RedisMonitor {
    url: String,
    keys: Vec<(String, Vec<String>)>,
    conn: Option<::redis::Connection>,
    first: Option<Counters>,
    last: Option<(Instant, Counters)>,
    /// Commands the monitor sent since the last `INFO` (INFO counts itself after answering).
    own: f64,
}

impl RedisMonitor {
    /// A monitor of the server at `url` with custom commands `keys` (name, command line;
    /// the plan has checked that each splits into words).
    pub fn new(url: &str, keys: &[(String, String)]) -> RedisMonitor {
        RedisMonitor {
            url: url.to_string(),
            keys: keys
                .iter()
                .map(|(n, c)| (n.clone(), split_command(c).unwrap_or_default()))
                .collect(),
            conn: None,
            first: None,
            last: None,
            own: 0.0,
        }
    }

    fn connect(&self) -> Result<::redis::Connection, MonitorError> {
        let client = ::redis::Client::open(self.url.as_str())
            .map_err(|e| MonitorError(format!("bad redis URL: {e}")))?;
        let c = client
            .get_connection_with_timeout(TIMEOUT)
            .map_err(MonitorError::new)?;
        c.set_read_timeout(Some(TIMEOUT))
            .map_err(MonitorError::new)?;
        c.set_write_timeout(Some(TIMEOUT))
            .map_err(MonitorError::new)?;
        Ok(c)
    }
}

/// `INFO`'s `key:value` lines.
fn parse_info(text: &str) -> HashMap<&str, &str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.trim_end().split_once(':'))
        .collect()
}

/// The number in a reply (`:42`, `"42"`, a double, nil as 0).
fn number(v: &::redis::Value) -> Option<f64> {
    match v {
        ::redis::Value::Int(i) => Some(*i as f64),
        ::redis::Value::Double(d) => Some(*d),
        ::redis::Value::Nil => Some(0.0),
        ::redis::Value::BulkString(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        ::redis::Value::SimpleString(s) => s.trim().parse().ok(),
        ::redis::Value::Boolean(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

impl Monitor for RedisMonitor {
    fn sample(&mut self, _cx: &SampleCx) -> Result<Vec<Value>, MonitorError> {
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => {
                self.own = 0.0;
                self.connect()?
            }
        };
        let text: String = ::redis::cmd("INFO")
            .arg("everything")
            .query(&mut conn)
            .map_err(MonitorError::new)?;
        let now = Instant::now();
        let info = parse_info(&text);
        let get = |k: &str| {
            info.get(k)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let mut out = vec![
            Value::new("memory", get("used_memory")),
            Value::new("memory_rss", get("used_memory_rss")),
            Value::new("clients", (get("connected_clients") - 1.0).max(0.0)),
        ];
        let keys: f64 = info
            .iter()
            .filter(|(k, _)| k.starts_with("db") && k[2..].parse::<u32>().is_ok())
            .filter_map(|(_, v)| {
                v.split(',')
                    .find_map(|kv| kv.strip_prefix("keys="))
                    .and_then(|n| n.parse::<f64>().ok())
            })
            .sum();
        out.push(Value::new("keys", keys));
        let c = Counters {
            commands: get("total_commands_processed"),
            hits: get("keyspace_hits"),
            misses: get("keyspace_misses"),
            evicted: get("evicted_keys"),
            expired: get("expired_keys"),
        };
        let first = *self.first.get_or_insert(c);
        out.push(Value::new(
            "evicted_keys",
            (c.evicted - first.evicted).max(0.0),
        ));
        out.push(Value::new(
            "expired_keys",
            (c.expired - first.expired).max(0.0),
        ));
        if let Some((at, prev)) = self.last {
            let dt = (now - at).as_secs_f64();
            // INFO is counted once it has answered: the previous INFO and the custom
            // commands since are the monitor's own
            let ops = (c.commands - prev.commands - self.own).max(0.0);
            if dt > 0.0 {
                out.push(Value::new("ops:rate", ops / dt));
                out.push(Value::new(
                    "evicted_keys:rate",
                    (c.evicted - prev.evicted).max(0.0) / dt,
                ));
            }
            let lookups = (c.hits - prev.hits) + (c.misses - prev.misses);
            if lookups > 0.0 {
                out.push(Value::new("hit_rate", (c.hits - prev.hits) / lookups));
            }
        }
        self.last = Some((now, c));
        self.own = 1.0;
        let mut errors = Vec::new();
        for (name, words) in &self.keys {
            let Some((cmd, args)) = words.split_first() else {
                continue;
            };
            self.own += 1.0;
            match ::redis::cmd(cmd)
                .arg(args)
                .query::<::redis::Value>(&mut conn)
            {
                Ok(v) => match number(&v) {
                    Some(n) => out.push(Value::new(name.clone(), n)),
                    None => errors.push(format!(
                        "{name} ({}): the answer is not a number: {v:?}",
                        words.join(" ")
                    )),
                },
                Err(e) if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() => {
                    return Err(MonitorError::new(e));
                }
                Err(e) => errors.push(format!("{name} ({}): {e}", words.join(" "))),
            }
        }
        self.conn = Some(conn);
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(MonitorError(errors.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_commands() {
        assert_eq!(
            split_command("LLEN mutt:queue").expect("ok"),
            ["LLEN", "mutt:queue"]
        );
        assert_eq!(
            split_command(r#"HGET "a key" 'f 1'"#).expect("ok"),
            ["HGET", "a key", "f 1"]
        );
        assert_eq!(split_command("GET \"\"").expect("ok"), ["GET", ""]);
        assert!(split_command("  ").is_err());
        assert!(split_command("GET \"x").is_err());
    }

    #[test]
    fn reads_info() {
        let info = parse_info(
            "# Memory\r\nused_memory:1024\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=0\r\n",
        );
        assert_eq!(info["used_memory"], "1024");
        assert_eq!(info["db0"], "keys=3,expires=0");
        assert_eq!(number(&::redis::Value::Int(42)), Some(42.0));
        assert_eq!(
            number(&::redis::Value::BulkString(b"4.5".to_vec())),
            Some(4.5)
        );
        assert_eq!(number(&::redis::Value::BulkString(b"x".to_vec())), None);
    }
}
