//! The bearer token as configured, and the rule that keeps a public address behind one.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use super::{ControlPlaneError, TOKEN_ENV};

/// A bearer token; its `Debug` does not show it.
#[derive(Clone)]
pub(super) struct Token(Vec<u8>);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// A token as configured: leading and trailing whitespace (a newline left by a secret file)
/// is removed, since a client's header value is trimmed the same way.
#[derive(Clone, Debug)]
pub(super) enum Configured {
    /// Unset or empty: no token.
    None,
    /// Only whitespace: refused for a public address, with its own message.
    Blank,
    /// A usable token.
    Token(Token),
}

impl Configured {
    pub(super) fn new(token: impl Into<String>) -> Self {
        let token = token.into();
        let trimmed = token.trim();
        if token.is_empty() {
            Self::None
        } else if trimmed.is_empty() {
            Self::Blank
        } else {
            Self::Token(Token(trimmed.as_bytes().to_vec()))
        }
    }

    pub(super) fn token(&self) -> Option<&Token> {
        match self {
            Self::Token(token) => Some(token),
            _ => None,
        }
    }

    /// The refusal of a public address without a usable token.
    pub(super) fn refusal(&self, addr: SocketAddr) -> ControlPlaneError {
        match self {
            Self::Blank => ControlPlaneError::BlankToken { addr },
            _ => ControlPlaneError::NoTokenOnPublicAddress { addr },
        }
    }
}

impl Token {
    /// Constant time in the content (the length is not secret).
    pub(super) fn matches(&self, given: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.0.as_slice().ct_eq(given))
    }
}

/// Checks, before anything starts, what [`ControlPlane::bind`](super::ControlPlane::bind) would refuse for `addr` with the
/// token from `SHUTDOWN_TOKEN`: an address that does not resolve, or one that is not loopback
/// while no usable token is set. A program calls it while it still parses its command line,
/// so that a bad address ends the start with the configuration's exit code before the state
/// directory is touched. Binding can still fail later (an address in use).
///
/// # Errors
/// [`ControlPlaneError::BadAddress`] or [`ControlPlaneError::NoTokenOnPublicAddress`] (and its
/// whitespace-token twin), as `bind` would return them.
///
/// # Examples
/// ```
/// assert!(actix_shutdown::http::check_bind_address("127.0.0.1:0").is_ok());
/// assert!(actix_shutdown::http::check_bind_address("not an address").is_err());
/// ```
pub fn check_bind_address(
    addr: impl ToSocketAddrs + fmt::Display,
) -> Result<(), ControlPlaneError> {
    check_address(addr, &env_token()).map(|_| ())
}

/// The token from `SHUTDOWN_TOKEN` (unset or empty: none).
pub(super) fn env_token() -> Configured {
    std::env::var(TOKEN_ENV)
        .map(Configured::new)
        .unwrap_or(Configured::None)
}

/// The addresses `addr` resolves to, refused when one is public and `token` is not usable.
pub(super) fn check_address(
    addr: impl ToSocketAddrs + fmt::Display,
    token: &Configured,
) -> Result<Vec<SocketAddr>, ControlPlaneError> {
    let name = addr.to_string();
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|source| ControlPlaneError::BadAddress {
            addr: name.clone(),
            source,
        })?
        .collect();
    if addrs.is_empty() {
        let source = std::io::Error::new(std::io::ErrorKind::NotFound, "it resolves to no address");
        return Err(ControlPlaneError::BadAddress { addr: name, source });
    }
    if token.token().is_none()
        && let Some(&public) = addrs.iter().find(|a| !is_loopback(a.ip()))
    {
        return Err(token.refusal(public));
    }
    Ok(addrs)
}

/// True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
pub(super) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}
