//! Request failures, classified by kind with k6's `error_code` numbers.
use std::fmt;

/// Why a request produced no (complete) response. Codes are k6's (`error_code` tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The URL could not be parsed (k6 1020).
    InvalidUrl,
    /// The request did not finish within its timeout (k6 1050).
    Timeout,
    /// The host name did not resolve (k6 1100).
    Dns,
    /// The TCP connection was refused (k6 1212).
    ConnectionRefused,
    /// The connection was reset or closed mid-request (k6 1220).
    ConnectionReset,
    /// Another TCP-level failure (k6 1200).
    Network,
    /// The TLS handshake failed for another reason (k6 1300).
    Tls,
    /// The server's certificate is not signed by a trusted authority (k6 1310).
    TlsUnknownIssuer,
    /// The server's certificate is not valid for the host name (k6 1311).
    TlsHostname,
    /// The server's certificate has expired or is not valid yet (k6 1300).
    TlsExpired,
    /// A header name or value would break the message's framing (CR, LF, NUL...) (k6 1000
    /// range; never sent).
    InvalidHeader,
    /// The peer sent something that is not valid HTTP (k6 1000 range).
    Protocol,
    /// Too many redirects (k6 1000 range).
    TooManyRedirects,
}

impl ErrorKind {
    /// k6's numeric `error_code`.
    pub fn code(self) -> u16 {
        match self {
            ErrorKind::InvalidUrl => 1020,
            ErrorKind::Timeout => 1050,
            ErrorKind::Dns => 1100,
            ErrorKind::ConnectionRefused => 1212,
            ErrorKind::ConnectionReset => 1220,
            ErrorKind::Network => 1200,
            ErrorKind::Tls | ErrorKind::TlsExpired => 1300,
            ErrorKind::TlsUnknownIssuer => 1310,
            ErrorKind::TlsHostname => 1311,
            ErrorKind::InvalidHeader => 1002,
            ErrorKind::Protocol => 1000,
            ErrorKind::TooManyRedirects => 1001,
        }
    }

    /// A short name for reports (`timeout`, `connection refused`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidUrl => "invalid url",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Dns => "dns",
            ErrorKind::ConnectionRefused => "connection refused",
            ErrorKind::ConnectionReset => "connection reset",
            ErrorKind::Network => "network",
            ErrorKind::Tls => "tls handshake failed",
            ErrorKind::TlsUnknownIssuer => {
                "certificate not trusted: unknown issuer (pass --insecure or ca_file)"
            }
            ErrorKind::TlsHostname => "certificate not valid for this host name",
            ErrorKind::TlsExpired => "certificate expired or not yet valid",
            ErrorKind::InvalidHeader => "invalid header",
            ErrorKind::Protocol => "protocol",
            ErrorKind::TooManyRedirects => "too many redirects",
        }
    }

    /// Classifies a failed socket operation (other protocol clients share these kinds).
    pub fn from_io(e: &std::io::Error) -> ErrorKind {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ConnectionRefused => ErrorKind::ConnectionRefused,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                ErrorKind::ConnectionReset
            }
            K::TimedOut => ErrorKind::Timeout,
            K::InvalidData => ErrorKind::Protocol,
            _ => ErrorKind::Network,
        }
    }

    /// Classifies a failed TLS handshake by its cause.
    pub fn from_tls(e: &std::io::Error) -> ErrorKind {
        use rustls::CertificateError as C;
        let Some(inner) = e.get_ref() else {
            return match e.kind() {
                std::io::ErrorKind::InvalidData => ErrorKind::Tls,
                _ => ErrorKind::from_io(e),
            };
        };
        match inner.downcast_ref::<rustls::Error>() {
            Some(rustls::Error::InvalidCertificate(c)) => match c {
                C::UnknownIssuer => ErrorKind::TlsUnknownIssuer,
                C::NotValidForName | C::NotValidForNameContext { .. } => ErrorKind::TlsHostname,
                C::Expired | C::ExpiredContext { .. } | C::NotValidYet => ErrorKind::TlsExpired,
                C::NotValidYetContext { .. } => ErrorKind::TlsExpired,
                _ => ErrorKind::Tls,
            },
            Some(_) => ErrorKind::Tls,
            None => ErrorKind::from_io(e),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
