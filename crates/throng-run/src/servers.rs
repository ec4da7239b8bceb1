//! The servers a run can publish to while it goes: the live web dashboard and the
//! Prometheus `/metrics` endpoint, started before the run and handed to [`crate::RunRequest`].
use std::net::SocketAddr;
use std::sync::Arc;
use throng_live::dashboard::Dashboard;
use throng_live::prometheus::PromEndpoint;

/// Where to serve them (`None`: not served).
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveArgs {
    /// The dashboard's address (`--dashboard`, `THRONG_DASHBOARD=true`).
    pub dashboard: Option<SocketAddr>,
    /// The Prometheus endpoint's address (`--prometheus`).
    pub prometheus: Option<SocketAddr>,
}

/// The servers that were started.
#[derive(Default)]
pub struct Servers {
    /// The live dashboard.
    pub dashboard: Option<Arc<Dashboard>>,
    /// The Prometheus `/metrics` endpoint.
    pub prometheus: Option<Arc<PromEndpoint>>,
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
            dashboard: None,
            prometheus: Some(d.addr()),
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
