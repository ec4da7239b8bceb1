//! One shared multiplexed connection per server; commands and pipelines, timed.
use crate::RedisError;
use redis::aio::MultiplexedConnection;
use redis::Value;
use std::time::{Duration, Instant};

/// What a command (or pipeline) returned.
#[derive(Debug, Clone, Default)]
pub struct RedisResponse {
    /// Why it failed, if it did.
    pub error: Option<RedisError>,
    /// The server's error text, when it answered with one.
    pub message: String,
    /// Time from sending to the (last) reply, ms.
    pub duration_ms: f64,
    /// The reply as JSON (an array of replies for a pipeline).
    pub body: Vec<u8>,
}

/// A client of one Redis server, shared by the VUs.
pub struct RedisClient {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

impl RedisClient {
    /// A client of the server at `url` (`redis://[:password@]host:port[/db]`); it
    /// connects on first use.
    pub fn new(url: &str) -> Result<RedisClient, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        Ok(RedisClient {
            client,
            conn: tokio::sync::Mutex::new(None),
        })
    }

    async fn connection(&self) -> Result<MultiplexedConnection, RedisError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&config())
            .await
            .map_err(|e| RedisError::from_redis(&e))?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Sends `cmds` (one command, or a pipeline of several: `[name, args...]` each).
    pub async fn execute(&self, cmds: &[Vec<String>], timeout: Duration) -> RedisResponse {
        let t0 = Instant::now();
        let mut out = RedisResponse::default();
        let r = tokio::time::timeout(timeout, self.send(cmds)).await;
        out.duration_ms = t0.elapsed().as_secs_f64() * 1000.0;
        match r {
            Err(_) => out.error = Some(RedisError::Timeout),
            Ok(Err((e, msg))) => {
                out.error = Some(e);
                out.message = msg;
                if matches!(e, RedisError::Connect(_)) {
                    if let Ok(mut slot) = self.conn.try_lock() {
                        *slot = None;
                    }
                }
            }
            Ok(Ok(v)) => {
                // an error inside a pipeline's replies fails the step too
                if let Some(msg) = first_error(&v) {
                    out.error = Some(RedisError::Server);
                    out.message = msg;
                }
                out.body = serde_json::to_vec(&to_json(&v)).unwrap_or_default();
            }
        }
        out
    }

    async fn send(&self, cmds: &[Vec<String>]) -> Result<Value, (RedisError, String)> {
        let mut conn = self.connection().await.map_err(|e| (e, String::new()))?;
        let err = |e: redis::RedisError| (RedisError::from_redis(&e), e.to_string());
        if let [one] = cmds {
            let mut c = redis::cmd(one.first().map(String::as_str).unwrap_or("PING"));
            for a in one.iter().skip(1) {
                c.arg(a);
            }
            return c.query_async::<Value>(&mut conn).await.map_err(err);
        }
        let mut p = redis::pipe();
        for one in cmds {
            p.cmd(one.first().map(String::as_str).unwrap_or("PING"));
            for a in one.iter().skip(1) {
                p.arg(a);
            }
        }
        p.query_async::<Vec<Value>>(&mut conn)
            .await
            .map(Value::Array)
            .map_err(err)
    }
}

/// No response timeout of redis-rs's own (500 ms by default): the step's `timeout:`
/// bounds each command; connecting may take 10 s.
fn config() -> redis::AsyncConnectionConfig {
    redis::AsyncConnectionConfig::new()
        .set_response_timeout(None)
        .set_connection_timeout(Some(Duration::from_secs(10)))
}

fn first_error(v: &Value) -> Option<String> {
    match v {
        Value::ServerError(e) => Some(format!("{e:?}")),
        Value::Array(a) => a.iter().find_map(first_error),
        _ => None,
    }
}

/// A reply as JSON: strings, numbers, arrays, maps; `nil` as null.
fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Nil => J::Null,
        Value::Int(i) => J::from(*i),
        Value::BulkString(b) => J::from(String::from_utf8_lossy(b).into_owned()),
        Value::Array(a) | Value::Set(a) => J::Array(a.iter().map(to_json).collect()),
        Value::SimpleString(s) => J::from(s.clone()),
        Value::Okay => J::from("OK"),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| match to_json(k) {
                    J::String(s) => (s, to_json(v)),
                    other => (other.to_string(), to_json(v)),
                })
                .collect(),
        ),
        Value::Double(d) => J::from(*d),
        Value::Boolean(b) => J::from(*b),
        Value::VerbatimString { text, .. } => J::from(text.clone()),
        other => J::from(format!("{other:?}")),
    }
}
