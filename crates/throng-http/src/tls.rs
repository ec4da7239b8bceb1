//! Client options and the one TLS configuration shared by every VU.
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Which HTTP versions a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpVersion {
    /// HTTP/2 when TLS ALPN agrees, else HTTP/1.1.
    #[default]
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 with prior knowledge (h2c over plain TCP).
    Http2PriorKnowledge,
}

/// Options shared by all VUs' clients.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// HTTP versions.
    pub version: HttpVersion,
    /// Accept any certificate.
    pub insecure_skip_tls_verify: bool,
    /// Extra trusted CA certificates (PEM file).
    pub ca_file: Option<PathBuf>,
    /// Reuse connections between requests.
    pub keepalive: bool,
    /// Redirects followed per request.
    pub max_redirects: u32,
    /// Default per-request timeout.
    pub timeout: Duration,
    /// The User-Agent header unless a request sets one.
    pub user_agent: String,
    /// Name resolution: cache TTL, address selection and family policy (k6's `dns`).
    pub dns: crate::DnsOptions,
    /// VUs share HTTP/2 connections: per origin, at most `connections` of them with at most
    /// `streams` requests in flight on each. `None` (the default, as k6): every VU has
    /// connections of its own.
    pub http2_sharing: Option<crate::Http2Sharing>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            version: HttpVersion::Auto,
            insecure_skip_tls_verify: false,
            ca_file: None,
            keepalive: true,
            max_redirects: 10,
            timeout: Duration::from_secs(60),
            user_agent: format!("throng/{}", env!("CARGO_PKG_VERSION")),
            dns: crate::DnsOptions::default(),
            http2_sharing: None,
        }
    }
}

/// A TLS setup problem.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file could not be read or parsed.
    #[error("cannot load CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Configuration shared by every VU's client: options plus one rustls config.
#[derive(Debug)]
pub struct SharedConfig {
    pub(crate) opts: ClientOptions,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    /// The shared HTTP/2 connections, when VUs share them.
    pub(crate) pool: Option<crate::pool::H2Pool>,
    /// `opts.user_agent` as an HTTP/2 header value, made once (`throng` if it is not one).
    pub(crate) h2_user_agent: http::HeaderValue,
}

impl SharedConfig {
    /// Builds the shared TLS configuration.
    pub fn new(opts: ClientOptions) -> Result<Arc<SharedConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::CaFile {
                path: PathBuf::new(),
                reason: e.to_string(),
            })?;
        let mut cfg = if opts.insecure_skip_tls_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
                .with_no_client_auth()
        } else {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            if let Some(path) = &opts.ca_file {
                let err = |reason: String| TlsError::CaFile {
                    path: path.clone(),
                    reason,
                };
                add_pem_roots(&mut roots, path).map_err(err)?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        cfg.alpn_protocols = match opts.version {
            HttpVersion::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
            HttpVersion::Http2PriorKnowledge => vec![b"h2".to_vec()],
        };
        Ok(Arc::new(SharedConfig {
            pool: opts.http2_sharing.map(crate::pool::H2Pool::new),
            h2_user_agent: http::HeaderValue::from_str(&opts.user_agent)
                .unwrap_or(http::HeaderValue::from_static("throng")),
            opts,
            tls: Arc::new(cfg),
        }))
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// The TLS settings (roots, `--insecure-skip-tls-verify`) with `alpn` offered instead
    /// of HTTP's: for clients of other protocols (WebSocket offers `http/1.1`, gRPC `h2`).
    pub fn tls_with_alpn(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        let mut cfg = (*self.tls).clone();
        cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(cfg)
    }
}

/// Adds the certificates of the PEM file at `path` to `roots`; an unreadable file, a file
/// without certificates or a bad certificate is the reason as text.
pub fn add_pem_roots(
    roots: &mut rustls::RootCertStore,
    path: &std::path::Path,
) -> Result<(), String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no certificates in the file".into());
    }
    for c in certs {
        roots.add(c).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A certificate verifier that accepts any server certificate but still checks the
/// handshake's signatures (`--insecure-skip-tls-verify`; PostgreSQL's `sslmode=require`).
#[derive(Debug)]
pub struct AcceptAny(pub Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
