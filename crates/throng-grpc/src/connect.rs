//! Opening a channel: TCP (and TLS, with throng's TLS settings and ALPN `h2`) done here so
//! connection failures are classified with HTTP's kinds.
use crate::GrpcError;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use std::sync::{Arc, Mutex};
use throng_http::ErrorKind;
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint, Uri};

/// Where to connect, parsed from a target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Target {
    /// `host:port`.
    pub authority: String,
    pub host: String,
    pub tls: bool,
}

impl Target {
    /// `host:port` (TLS, as in k6), `http://host:port` (plaintext) or `https://host:port`.
    pub fn parse(t: &str) -> Result<Target, GrpcError> {
        let t = t.trim().trim_end_matches('/');
        let (tls, rest) = if let Some(r) = t.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = t.strip_prefix("https://") {
            (true, r)
        } else {
            (true, t)
        };
        let Some((host, port)) = rest.rsplit_once(':') else {
            return Err(GrpcError::InvalidTarget);
        };
        if host.is_empty() || port.parse::<u16>().is_err() || rest.contains('/') {
            return Err(GrpcError::InvalidTarget);
        }
        Ok(Target {
            authority: rest.to_string(),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            tls,
        })
    }
}

/// Opens a channel to `target`; a failure is classified.
pub(crate) async fn open(
    target: &Target,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<Channel, GrpcError> {
    let uri: Uri = format!("http://{}", target.authority)
        .parse()
        .map_err(|_| GrpcError::InvalidTarget)?;
    let endpoint = Endpoint::from(uri);
    // the connector notes why it failed: tonic's error hides the kind
    let failed: Arc<Mutex<Option<ErrorKind>>> = Arc::default();
    let note = failed.clone();
    let (authority, host) = (target.authority.clone(), target.host.clone());
    let result = if target.tls {
        let connector = tokio_rustls::TlsConnector::from(tls.clone());
        endpoint
            .connect_with_connector(tower::service_fn(move |_: Uri| {
                let (authority, host, connector, note) = (
                    authority.clone(),
                    host.clone(),
                    connector.clone(),
                    note.clone(),
                );
                async move {
                    let tcp = tcp(&authority, &note).await?;
                    let name = ServerName::try_from(host).map_err(|e| {
                        std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
                    })?;
                    match connector.connect(name, tcp).await {
                        Ok(s) => Ok(TokioIo::new(s)),
                        Err(e) => {
                            set(&note, ErrorKind::from_tls(&e));
                            Err(e)
                        }
                    }
                }
            }))
            .await
    } else {
        endpoint
            .connect_with_connector(tower::service_fn(move |_: Uri| {
                let (authority, note) = (authority.clone(), note.clone());
                async move { tcp(&authority, &note).await.map(TokioIo::new) }
            }))
            .await
    };
    result.map_err(|_| {
        let kind = failed
            .lock()
            .map(|k| k.unwrap_or(ErrorKind::Protocol))
            .unwrap_or(ErrorKind::Protocol);
        GrpcError::Connect(kind)
    })
}

fn set(note: &Mutex<Option<ErrorKind>>, k: ErrorKind) {
    if let Ok(mut slot) = note.lock() {
        *slot = Some(k);
    }
}

async fn tcp(authority: &str, note: &Mutex<Option<ErrorKind>>) -> std::io::Result<TcpStream> {
    match TcpStream::connect(authority).await {
        Ok(s) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Err(e) => {
            set(note, ErrorKind::from_io(&e));
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn targets_say_whether_they_use_tls() {
        let t = Target::parse("http://127.0.0.1:50051").ok();
        assert_eq!(
            t.map(|t| (t.tls, t.authority)),
            Some((false, "127.0.0.1:50051".into()))
        );
        assert_eq!(Target::parse("localhost:443").map(|t| t.tls), Ok(true));
        assert_eq!(
            Target::parse("https://[::1]:8443").map(|t| t.host),
            Ok("::1".into())
        );
        assert!(Target::parse("http://nohost").is_err());
        assert!(Target::parse("http://h:1/path").is_err());
    }
}
