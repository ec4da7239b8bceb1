//! The servers a run can publish to while it goes: the live web dashboard, the
//! Prometheus `/metrics` endpoint and the control API, started before the run and handed to
//! [`crate::RunRequest`].
use std::net::SocketAddr;
use std::sync::Arc;
use throng_engine::EngineControl;
use throng_live::control::ControlApi;
use throng_live::dashboard::Dashboard;
use throng_live::prometheus::PromEndpoint;

/// Where to serve them (`None`: not served).
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveArgs {
    /// The dashboard's address (`--dashboard`, `THRONG_DASHBOARD=true`).
    pub dashboard: Option<SocketAddr>,
    /// The Prometheus endpoint's address (`--prometheus`).
    pub prometheus: Option<SocketAddr>,
    /// The control API's address (`--address`, k6's flag; off unless given).
    pub control: Option<SocketAddr>,
}

/// The servers that were started.
#[derive(Default)]
pub struct Servers {
    /// The live dashboard.
    pub dashboard: Option<Arc<Dashboard>>,
    /// The Prometheus `/metrics` endpoint.
    pub prometheus: Option<Arc<PromEndpoint>>,
    /// The control API (`/v1/status`).
    pub control: Option<Arc<ControlApi>>,
}

impl Servers {
    /// Lets the control API and the dashboard's buttons control the run `control` belongs
    /// to (give the same control to [`crate::RunRequest::control`]).
    pub fn attach(&self, control: &EngineControl) {
        let c = crate::ApiControl::shared(control);
        if let Some(d) = &self.dashboard {
            d.set_control(c.clone());
        }
        if let Some(a) = &self.control {
            a.set_control(c);
        }
    }
}

/// A server that could not start (its address is taken, or not this machine's).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The dashboard.
    #[error("cannot serve the dashboard on {addr}: {source}")]
    Dashboard {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The control API.
    #[error("cannot serve the control API on {addr}: {source} (is another throng or k6 running? choose another with --address)")]
    Control {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The Prometheus endpoint.
    #[error("cannot serve Prometheus metrics on {addr}: {source}")]
    Prometheus {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Starts the servers `args` asks for, dashboard first; `announce` is given one line per
/// server saying where it is (`dashboard: http://...`). On an error the servers already
/// started stop again.
pub async fn start(
    args: &LiveArgs,
    announce: &mut dyn FnMut(&str),
) -> Result<Servers, ServerError> {
    let mut servers = Servers::default();
    if let Some(addr) = args.dashboard {
        let d = Dashboard::start(addr)
            .await
            .map_err(|source| ServerError::Dashboard { addr, source })?;
        announce(&format!("dashboard: http://{}", d.addr()));
        servers.dashboard = Some(Arc::new(d));
    }
    if let Some(addr) = args.prometheus {
        let p = PromEndpoint::start(addr)
            .await
            .map_err(|source| ServerError::Prometheus { addr, source })?;
        announce(&format!("prometheus metrics: http://{}/metrics", p.addr()));
        servers.prometheus = Some(Arc::new(p));
    }
    if let Some(addr) = args.control {
        let a = ControlApi::start(addr)
            .await
            .map_err(|source| ServerError::Control { addr, source })?;
        announce(&format!("control API: http://{}/v1/status", a.addr()));
        servers.control = Some(Arc::new(a));
    }
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn starts_what_is_asked_and_names_a_taken_address() {
        let mut lines = Vec::new();
        let none = start(&LiveArgs::default(), &mut |l| lines.push(l.to_string()))
            .await
            .expect("nothing to start");
        assert!(none.dashboard.is_none() && none.prometheus.is_none() && lines.is_empty());

        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let both = LiveArgs {
            dashboard: Some(any),
            prometheus: Some(any),
            control: None,
        };
        let s = start(&both, &mut |l| lines.push(l.to_string()))
            .await
            .expect("both start");
        let (d, p) = (
            s.dashboard.expect("dashboard"),
            s.prometheus.expect("prometheus"),
        );
        assert_eq!(
            lines,
            [
                format!("dashboard: http://{}", d.addr()),
                format!("prometheus metrics: http://{}/metrics", p.addr())
            ]
        );

        let taken = LiveArgs {
            prometheus: Some(d.addr()),
            ..LiveArgs::default()
        };
        let e = start(&taken, &mut |_| {})
            .await
            .err()
            .expect("address in use");
        assert!(
            e.to_string().starts_with(&format!(
                "cannot serve Prometheus metrics on {}: ",
                d.addr()
            )),
            "{e}"
        );
    }
}
