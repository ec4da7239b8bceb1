//! The demo's HTTP routes.
use crate::behaviour::{stall_wait, Bucket};
use crate::capacity::{Admit, CapacityQueue};
use crate::config::DemoConfig;
use crate::dependency::Dependency;
use crate::jwt;
use crate::metrics::DemoMetrics;
use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub(crate) struct AppState {
    pub cfg: DemoConfig,
    pub metrics: DemoMetrics,
    pub dependency: Dependency,
    /// The last JSON object posted to `/admin/config`.
    pub config: Mutex<serde_json::Value>,
    /// The capacity queue (`--capacity`).
    pub capacity: Option<CapacityQueue>,
    started: Instant,
    next_id: AtomicU64,
    bucket: Option<Bucket>,
    rng: Mutex<fastrand::Rng>,
}

impl AppState {
    pub fn new(cfg: DemoConfig) -> AppState {
        AppState {
            bucket: cfg.rate_limit.map(Bucket::new),
            dependency: Dependency::new(cfg.breaker_delay),
            config: Mutex::new(json!({})),
            capacity: cfg.capacity.map(CapacityQueue::new),
            cfg,
            metrics: DemoMetrics::default(),
            started: Instant::now(),
            next_id: AtomicU64::new(1),
            rng: Mutex::new(fastrand::Rng::new()),
        }
    }

    fn roll(&self) -> (std::time::Duration, bool) {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let delay = self.cfg.latency.sample(&mut rng);
        let fail = self.cfg.error_rate > 0.0 && rng.f64() < self.cfg.error_rate;
        (delay, fail)
    }
}

type St = State<Arc<AppState>>;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/api/v1/ingest", post(ingest))
        .route("/api/v1/login", post(login))
        .route("/api/v1/verify", get(crate::verify::verify))
        .route("/api/v1/items", get(list_items))
        .route("/api/v1/items/{id}", get(get_item))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), behave));
    Router::new()
        .route("/metrics", get(metrics))
        .route("/admin/dependency", get(dependency).post(set_dependency))
        .route("/admin/config", get(config).post(set_config))
        .route("/admin/capacity", get(capacity).post(set_capacity))
        .route("/ws/echo", get(crate::protocols::ws_echo))
        .route(
            "/events.EventService/Publish",
            post(crate::protocols::publish),
        )
        .route(
            "/events.EventService/Subscribe",
            post(crate::protocols::subscribe),
        )
        .route(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            post(crate::protocols::server_reflection),
        )
        .route(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            post(crate::protocols::server_reflection),
        )
        .merge(api)
        .with_state(state)
}

/// Counts, delays, stalls and fails requests; records the response.
async fn behave(State(st): St, req: Request, next: Next) -> Response {
    st.metrics.received();
    let t0 = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    st.metrics.in_flight.fetch_add(1, Ordering::SeqCst);
    st.metrics.queue_depth.fetch_add(1, Ordering::SeqCst);
    let is_api = route.starts_with("/api/");
    let (delay, fail) = if is_api {
        st.roll()
    } else {
        (std::time::Duration::ZERO, false)
    };
    let stall = stall_wait(&st.cfg, st.started, Instant::now());
    if !stall.is_zero() {
        tokio::time::sleep(stall).await;
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    // every route but /metrics and /admin passes the capacity queue
    let admit = match &st.capacity {
        Some(q) => q.admit(Instant::now()),
        None => Admit::After(std::time::Duration::ZERO),
    };
    let resp = if let Admit::After(d) = admit {
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
        None
    } else {
        Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded: recovering",
        ))
    };
    let resp = if let Some(r) = resp {
        r
    } else if fail {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "injected failure"})),
        )
            .into_response()
    } else {
        next.run(req).await
    };
    st.metrics.in_flight.fetch_sub(1, Ordering::SeqCst);
    st.metrics.queue_depth.fetch_sub(1, Ordering::SeqCst);
    st.metrics
        .finished(&route, resp.status().as_u16(), t0.elapsed().as_secs_f64());
    resp
}

fn error(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({ "error": msg }))).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found")
}

async fn health(State(st): St) -> Response {
    if st.dependency.view().open {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "circuit breaker open: dependency unavailable",
        );
    }
    Json(json!({
        "status": "healthy",
        "uptime_s": st.started.elapsed().as_secs(),
        "requests": st.metrics.total(),
    }))
    .into_response()
}

async fn metrics(State(st): St) -> Response {
    let mut text = st.metrics.render();
    let b = st.dependency.view();
    text.push_str(&format!(
        "# HELP demo_circuit_breaker_state 1 while the breaker in front of a dependency is open.\n\
         # TYPE demo_circuit_breaker_state gauge\n\
         demo_circuit_breaker_state{{name=\"dependency\"}} {}\n\
         # HELP demo_dependency_up 1 while the dependency answers.\n\
         # TYPE demo_dependency_up gauge\n\
         demo_dependency_up {}\n",
        u8::from(b.open),
        u8::from(b.up)
    ));
    let mut r = text.into_response();
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// `GET /admin/dependency`: the dependency, its breaker and when they changed.
async fn dependency(State(st): St) -> Response {
    Json(st.dependency.json()).into_response()
}

/// `POST /admin/dependency {"up": false}`: takes the dependency down (or brings it back).
async fn set_dependency(State(st): St, body: Bytes) -> Response {
    let up = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("up").and_then(|u| u.as_bool()));
    let Some(up) = up else {
        return error(StatusCode::BAD_REQUEST, "expected {\"up\": true|false}");
    };
    st.dependency.set_up(up);
    Json(st.dependency.json()).into_response()
}

/// `GET /admin/capacity`: the capacity queue's state (404 without `--capacity`).
async fn capacity(State(st): St) -> Response {
    match &st.capacity {
        Some(q) => Json(q.json()).into_response(),
        None => error(StatusCode::NOT_FOUND, "no --capacity set"),
    }
}

/// `POST /admin/capacity {"per_second": N}`: changes the capacity at runtime.
async fn set_capacity(State(st): St, body: Bytes) -> Response {
    let Some(q) = &st.capacity else {
        return error(StatusCode::NOT_FOUND, "no --capacity set");
    };
    let rate = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("per_second").and_then(|u| u.as_f64()))
        .filter(|r| *r > 0.0 && r.is_finite());
    let Some(rate) = rate else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"per_second\": N} with N > 0",
        );
    };
    q.set_rate(rate);
    Json(q.json()).into_response()
}

/// `GET /admin/config`: the runtime configuration last posted.
async fn config(State(st): St) -> Response {
    let c = st.config.lock().map(|c| c.clone()).unwrap_or_default();
    Json(c).into_response()
}

/// `POST /admin/config {...}`: merges a JSON object into the runtime configuration (what
/// an experiment changes mid-run; the demo only keeps it).
async fn set_config(State(st): St, body: Bytes) -> Response {
    let Ok(serde_json::Value::Object(new)) = serde_json::from_slice::<serde_json::Value>(&body)
    else {
        return error(StatusCode::BAD_REQUEST, "expected a JSON object");
    };
    let mut c = st.config.lock().unwrap_or_else(|e| e.into_inner());
    if let serde_json::Value::Object(cur) = &mut *c {
        cur.extend(new);
    }
    Json(json!({ "applied": c.clone() })).into_response()
}

async fn ingest(State(st): St, headers: HeaderMap, body: Bytes) -> Response {
    if st.dependency.view().open {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "circuit breaker open: dependency unavailable",
        );
    }
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(st.cfg.api_key.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong X-API-KEY");
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "body is not valid JSON");
    };
    if !event.is_object() {
        return error(StatusCode::BAD_REQUEST, "expected a JSON object");
    }
    if let Some(b) = &st.bucket {
        if let Err(wait) = b.take() {
            st.metrics.rate_limited.fetch_add(1, Ordering::SeqCst);
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "rate limited");
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert("retry-after", v);
            }
            return r;
        }
    }
    let id = st.next_id.fetch_add(1, Ordering::SeqCst);
    Json(json!({ "id": id, "status": "accepted" })).into_response()
}

async fn login(State(st): St, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "body is not valid JSON");
    };
    let user = v.get("username").and_then(|u| u.as_str()).unwrap_or("");
    let pass = v.get("password").and_then(|u| u.as_str()).unwrap_or("");
    if user.is_empty() || pass != st.cfg.password {
        return error(StatusCode::UNAUTHORIZED, "bad credentials");
    }
    let now = jiff::Timestamp::now().as_second();
    let token = jwt::issue(&st.cfg.jwt_secret, user, now, 3600);
    Json(json!({ "token": token, "expires_in": 3600 })).into_response()
}

fn authorized(st: &AppState, headers: &HeaderMap) -> bool {
    let Some(tok) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    jwt::verify(&st.cfg.jwt_secret, tok, jiff::Timestamp::now().as_second()).is_some()
}

fn item(id: u64) -> serde_json::Value {
    json!({
        "id": id,
        "name": format!("item-{id}"),
        "price": (id * 37 % 1000) as f64 / 10.0,
        "items": [ { "id": id % 1000 + 1 }, { "id": (id + 7) % 1000 + 1 } ],
    })
}

async fn get_item(State(st): St, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !authorized(&st, &headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or invalid bearer token");
    }
    let Ok(id) = id.parse::<u64>() else {
        return error(StatusCode::BAD_REQUEST, "id must be a number");
    };
    let etag = format!("\"item-{id}-v1\"");
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut r = Json(item(id)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert("etag", v);
    }
    r
}

async fn list_items(
    State(st): St,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&st, &headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or invalid bearer token");
    }
    let page: u64 = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let items: Vec<_> = (0..10).map(|i| item((page - 1) * 10 + i + 1)).collect();
    Json(json!({ "page": page, "per_page": 10, "items": items })).into_response()
}
