//! The HTTP control plane (cargo feature `http`): probes for a load balancer or Kubernetes and
//! a shutdown endpoint for an orchestrator, served by actix-web next to the bot.
//!
//! | endpoint | token | answer |
//! |---|---|---|
//! | `GET /healthz` | no | `200 {"status":"ok"}` while the process runs |
//! | `GET /readyz` | no | `200 {"ready":true}` while running; `503 {"ready":false}` from the moment [`ShutdownHandle::is_closing`] is true |
//! | `GET /status` | yes | `{"state":"running"\|"closing"\|"finished","step":…,"exitCode":…,"closing":…,"pid":…}` |
//! | `POST /shutdown` | yes | body `{"forced":bool,"requestId":string,"reason":string?,"restart":bool?}`, answer `{"requestId","ready","vetoedBy"}` |
//!
//! `POST /shutdown` has the meaning of a director's shutdown request: a graceful request that a
//! hook cancels is answered `ready: false` (with the hooks in `vetoedBy`) and the bot keeps
//! running; otherwise the shutdown begins and the answer is `ready: true` at once, without
//! waiting for the pipeline. A forced request is never canceled.
//!
//! The bearer token (`Authorization: Bearer <token>`) comes from [`ControlPlane::token`] or the
//! `SHUTDOWN_TOKEN` environment variable and is compared in constant time. Without a token the
//! control plane only binds loopback addresses (and then asks for no token): anyone who can
//! reach it could stop the bot. A missing or wrong token is answered 401, a body that is not
//! the JSON above 400, a body over 16 KiB 413.
//!
//! actix-web's own signal handling is disabled (it would stop the actix System behind the
//! Supervisor's back) and the server runs one worker thread. It is registered as the resource
//! `http`, stopped at CloseAll: by then `/readyz` has answered 503 since the shutdown began, so
//! a load balancer has stopped routing to the bot before its port closes.
//!
//! # Examples
//! ```
//! use actix_shutdown::http::ControlPlane;
//! use actix_shutdown::{Config, Shutdown};
//!
//! #[actix::main]
//! async fn main() -> std::process::ExitCode {
//!     # let dir = tempfile::tempdir().unwrap();
//!     # let config = Config::default().state_dir(dir.path().join("state"));
//!     let (shutdown, _boot) = Shutdown::builder(config).start().await.expect("boot");
//!     let server = ControlPlane::new(shutdown.clone())
//!         .token("s3cret")                 // or the SHUTDOWN_TOKEN environment variable
//!         .bind("127.0.0.1:0")             // port 0: any free port
//!         .expect("bind")
//!         .start()
//!         .expect("start");
//!     println!("control plane on http://{}", server.local_addr());
//!     # shutdown.shutdown("admin:doctest").await;
//!     shutdown.wait().await.process_exit_code() // the server stops at CloseAll
//! }
//! ```

use std::fmt;
use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{RequestSource, ShutdownHandle, ShutdownRequest, SupervisorState};

/// The environment variable the token is read from when none is configured.
pub const TOKEN_ENV: &str = "SHUTDOWN_TOKEN";

/// The largest request body accepted (16 KiB); a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How long a client may take to send the body of `POST /shutdown`.
const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the control plane could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlPlaneError {
    /// A non-loopback address without a token: anyone who reaches it could stop the bot.
    #[error(
        "refusing to serve the HTTP control plane on {addr}: it is not a loopback address and no \
         token is set; set the {TOKEN_ENV} environment variable (or ControlPlane::token) to a \
         secret, or bind to 127.0.0.1 / [::1]"
    )]
    NoTokenOnPublicAddress {
        /// The address that was refused.
        addr: SocketAddr,
    },
    /// The token is set but only whitespace: no client can send it (an `Authorization` header
    /// value is trimmed), so every request would be refused.
    #[error(
        "refusing to serve the HTTP control plane on {addr}: the token ({TOKEN_ENV} or \
         ControlPlane::token) is set but only whitespace, which no client can send; set it to a \
         secret, or bind to 127.0.0.1 / [::1]"
    )]
    BlankToken {
        /// The address that was refused.
        addr: SocketAddr,
    },
    /// The address does not resolve.
    #[error("the HTTP control plane address {addr:?} is not a valid address: {source}")]
    BadAddress {
        /// The address as given.
        addr: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The socket could not be bound (e.g. the port is in use).
    #[error("cannot bind the HTTP control plane to {addr}: {source}")]
    Bind {
        /// The address as given.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// [`ControlPlane::start`] without a bound address.
    #[error("the HTTP control plane has no address: call ControlPlane::bind first")]
    NoAddress,
    /// actix-web refused a listener.
    #[error("cannot start the HTTP control plane: {0}")]
    Start(std::io::Error),
}

/// A bearer token; its `Debug` does not show it.
#[derive(Clone)]
struct Token(Vec<u8>);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// A token as configured: leading and trailing whitespace (a newline left by a secret file)
/// is removed, since a client's header value is trimmed the same way.
#[derive(Clone, Debug)]
enum Configured {
    /// Unset or empty: no token.
    None,
    /// Only whitespace: refused for a public address, with its own message.
    Blank,
    /// A usable token.
    Token(Token),
}

impl Configured {
    fn new(token: impl Into<String>) -> Self {
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

    fn token(&self) -> Option<&Token> {
        match self {
            Self::Token(token) => Some(token),
            _ => None,
        }
    }

    /// The refusal of a public address without a usable token.
    fn refusal(&self, addr: SocketAddr) -> ControlPlaneError {
        match self {
            Self::Blank => ControlPlaneError::BlankToken { addr },
            _ => ControlPlaneError::NoTokenOnPublicAddress { addr },
        }
    }
}

impl Token {
    /// Constant time in the content (the length is not secret).
    fn matches(&self, given: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.0.as_slice().ct_eq(given))
    }
}

/// Checks, before anything starts, what [`ControlPlane::bind`] would refuse for `addr` with the
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
fn env_token() -> Configured {
    std::env::var(TOKEN_ENV)
        .map(Configured::new)
        .unwrap_or(Configured::None)
}

/// The addresses `addr` resolves to, refused when one is public and `token` is not usable.
fn check_address(
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

/// Builds the control plane: `ControlPlane::new(handle).bind(addr)?.start()?`.
///
/// See the [module docs](self) for the endpoints.
#[derive(Debug)]
pub struct ControlPlane {
    handle: ShutdownHandle,
    token: Configured,
    stop_timeout: Duration,
    listeners: Vec<(SocketAddr, TcpListener)>,
}

impl ControlPlane {
    /// A control plane for this bot; the token is read from `SHUTDOWN_TOKEN` (unset or empty:
    /// no token, loopback addresses only).
    pub fn new(handle: ShutdownHandle) -> Self {
        Self {
            handle,
            token: env_token(),
            stop_timeout: Duration::from_secs(1),
            listeners: Vec::new(),
        }
    }

    /// Requires `Authorization: Bearer <token>` on `/status` and `/shutdown` (overrides
    /// `SHUTDOWN_TOKEN`; an empty token means none; surrounding whitespace is removed, and a
    /// token of only whitespace is refused for a public address).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Configured::new(token);
        self
    }

    /// How long in-flight requests get when the server stops at CloseAll (default 1 s, rounded
    /// up to whole seconds).
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Binds every address `addr` resolves to (port 0 picks a free port; see
    /// [`RunningControlPlane::local_addr`]). May be called again to listen on more addresses.
    ///
    /// # Errors
    /// [`ControlPlaneError::NoTokenOnPublicAddress`] for an address that is not loopback while
    /// no token is set; an address that does not resolve or cannot be bound.
    pub fn bind(
        mut self,
        addr: impl ToSocketAddrs + fmt::Display,
    ) -> Result<Self, ControlPlaneError> {
        let addrs = check_address(addr, &self.token)?;
        for addr in addrs {
            let listener = TcpListener::bind(addr).map_err(|source| ControlPlaneError::Bind {
                addr: addr.to_string(),
                source,
            })?;
            let local = listener
                .local_addr()
                .map_err(|source| ControlPlaneError::Bind {
                    addr: addr.to_string(),
                    source,
                })?;
            self.listeners.push((local, listener));
        }
        Ok(self)
    }

    /// Starts serving on the current actix System (one worker thread, no signal handling of
    /// its own) and registers the server as the resource `http`, stopped at CloseAll.
    ///
    /// # Errors
    /// [`ControlPlaneError::NoAddress`] before any [`bind`](Self::bind);
    /// [`ControlPlaneError::NoTokenOnPublicAddress`] when a bound address is not loopback and
    /// no token is set (any more); a listener actix-web refuses.
    ///
    /// # Panics
    /// Outside an actix System (or a Tokio runtime).
    pub fn start(self) -> Result<RunningControlPlane, ControlPlaneError> {
        if self.listeners.is_empty() {
            return Err(ControlPlaneError::NoAddress);
        }
        if self.token.token().is_none() {
            // `token("")` after `bind` must not open a public address without a token.
            if let Some(&(public, _)) = self.listeners.iter().find(|(a, _)| !is_loopback(a.ip())) {
                return Err(self.token.refusal(public));
            }
            tracing::warn!(
                "HTTP control plane without a token: anyone on this host can stop the bot"
            );
        }
        let state = web::Data::new(PlaneState {
            handle: self.handle.clone(),
            token: self.token.token().cloned(),
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .service(web::resource("/healthz").route(web::get().to(healthz)))
                .service(web::resource("/readyz").route(web::get().to(readyz)))
                .service(web::resource("/status").route(web::get().to(status)))
                .service(web::resource("/shutdown").route(web::post().to(shutdown)))
                .default_service(web::to(not_found))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(self.stop_timeout.as_secs_f64().ceil() as u64);
        let mut addrs = Vec::with_capacity(self.listeners.len());
        for (addr, listener) in self.listeners {
            server = server.listen(listener).map_err(ControlPlaneError::Start)?;
            addrs.push(addr);
        }
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!("HTTP control plane: {e}");
            }
        });
        let closer = handle.clone();
        let close_within = self.stop_timeout + Duration::from_secs(2);
        self.handle
            .on_close_within("http", Some(close_within), move || closer.stop(true));
        tracing::info!(?addrs, "HTTP control plane listening");
        Ok(RunningControlPlane { addrs, handle })
    }
}

/// The running control plane.
#[derive(Clone)]
pub struct RunningControlPlane {
    addrs: Vec<SocketAddr>,
    handle: ServerHandle,
}

impl fmt::Debug for RunningControlPlane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningControlPlane")
            .field("addrs", &self.addrs)
            .finish_non_exhaustive()
    }
}

impl RunningControlPlane {
    /// The first address it listens on (with the port actually bound).
    pub fn local_addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every address it listens on.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops it before CloseAll would (in-flight requests get the stop timeout).
    pub fn stop(&self) -> impl Future<Output = ()> + 'static {
        self.handle.stop(true)
    }
}

/// True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

struct PlaneState {
    handle: ShutdownHandle,
    token: Option<Token>,
}

impl PlaneState {
    /// Checks `Authorization: Bearer <token>`; without a configured token (loopback only)
    /// every request passes.
    fn authorize(&self, req: &HttpRequest) -> Result<(), Refusal> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes)
            .and_then(bearer);
        match given {
            Some(given) if token.matches(given) => Ok(()),
            given => {
                let why = if given.is_some() {
                    "wrong bearer token"
                } else {
                    "missing bearer token"
                };
                tracing::warn!(peer = %peer(req), path = req.path(), "HTTP control plane: {why}");
                Err(Refusal::new(
                    StatusCode::UNAUTHORIZED,
                    format!("{why}: send Authorization: Bearer <{TOKEN_ENV}>"),
                ))
            }
        }
    }
}

/// A request answered with an error status and `{"error": message}`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl actix_web::ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status).json(json!({ "error": self.message }));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"actix-shutdown\""),
            );
        }
        response
    }
}

/// The token of an `Authorization: Bearer <token>` header value (the scheme is
/// case-insensitive).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || !rest.starts_with(b" ") {
        return None;
    }
    Some(rest.trim_ascii())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<PlaneState>) -> HttpResponse {
    if state.handle.is_closing() {
        HttpResponse::ServiceUnavailable().json(json!({ "ready": false, "state": "closing" }))
    } else {
        HttpResponse::Ok().json(json!({ "ready": true, "state": "running" }))
    }
}

/// The body of `GET /status`.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusBody {
    state: &'static str,
    step: Option<String>,
    exit_code: Option<i32>,
    closing: bool,
    pid: u32,
}

impl StatusBody {
    /// From the Supervisor's status view (read without a mailbox round-trip).
    fn new(status: SupervisorState, closing: bool) -> Self {
        let (state, step, exit_code) = match status {
            SupervisorState::Running => ("running", None, None),
            SupervisorState::Closing { step } => {
                ("closing", step.map(|step| step.name().to_owned()), None)
            }
            SupervisorState::Finished { exit_code } => ("finished", None, Some(exit_code)),
        };
        Self {
            state,
            step,
            exit_code,
            closing,
            pid: std::process::id(),
        }
    }
}

async fn status(req: HttpRequest, state: web::Data<PlaneState>) -> Result<HttpResponse, Refusal> {
    state.authorize(&req)?;
    let supervisor = state.handle.status_now();
    Ok(HttpResponse::Ok().json(StatusBody::new(supervisor, state.handle.is_closing())))
}

/// The body of `POST /shutdown`.
#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShutdownCommand {
    forced: bool,
    request_id: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    restart: Option<bool>,
}

impl ShutdownCommand {
    /// Parses and checks a body; the error is the message for a 400.
    fn parse(body: &[u8]) -> Result<Self, String> {
        let command: Self = serde_json::from_slice(body).map_err(|e| {
            format!("the body must be JSON {{\"forced\": bool, \"requestId\": string, \"reason\"?: string, \"restart\"?: bool}}: {e}")
        })?;
        if command.request_id.trim().is_empty() {
            return Err("requestId must not be empty".to_owned());
        }
        Ok(command)
    }

    fn into_request(self) -> ShutdownRequest {
        let reason = self
            .reason
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "http:shutdown".to_owned());
        let request = if self.forced {
            ShutdownRequest::forced(RequestSource::Http, reason)
        } else {
            ShutdownRequest::graceful(RequestSource::Http, reason)
        };
        request
            .with_id(self.request_id)
            .with_restart(self.restart.unwrap_or(false))
    }
}

/// The answer of `POST /shutdown`, as a director's shutdown response.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct ShutdownAnswer {
    request_id: String,
    ready: bool,
    vetoed_by: Vec<String>,
}

/// Reads at most [`MAX_BODY_BYTES`].
async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<u8>, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let read = async {
        let mut body = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the body: {e}"),
                )
            })?;
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .unwrap_or_else(|_| {
            Err(Refusal::new(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time",
            ))
        })
}

/// The client's address for the log, `unknown` when actix-web does not know it.
fn peer(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.to_string())
}

async fn shutdown(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<PlaneState>,
) -> Result<HttpResponse, Refusal> {
    state.authorize(&req)?;
    let body = read_body(&req, payload).await?;
    let command = ShutdownCommand::parse(&body)
        .map_err(|message| Refusal::new(StatusCode::BAD_REQUEST, message))?;
    let request = command.into_request();
    tracing::info!(
        request_id = %request.id,
        reason = %request.reason,
        forced = request.forced,
        restart = request.restart,
        peer = %peer(&req),
        "HTTP control plane: shutdown requested"
    );
    let answer = state.handle.request(request).await;
    Ok(HttpResponse::Ok().json(ShutdownAnswer {
        request_id: answer.request_id,
        ready: answer.ready,
        vetoed_by: answer.vetoed_by,
    }))
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    let message = format!(
        "no such endpoint: {} {} (try GET /healthz, /readyz, /status or POST /shutdown)",
        req.method(),
        req.path()
    );
    actix_web::ResponseError::error_response(&Refusal::new(StatusCode::NOT_FOUND, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_yields_the_token_whatever_the_scheme_case() {
        assert_eq!(bearer(b"Bearer s3cret"), Some(&b"s3cret"[..]));
        assert_eq!(bearer(b"bearer  s3cret "), Some(&b"s3cret"[..]));
        assert_eq!(bearer(b"Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer(b"Bearers3cret"), None);
        assert_eq!(bearer(b"Bear"), None);
    }

    #[test]
    fn token_matches_only_itself() {
        let token = Configured::new("s3cret").token().cloned().expect("a token");
        assert!(token.matches(b"s3cret"));
        assert!(!token.matches(b"s3creT"));
        assert!(!token.matches(b"s3cre"));
        assert!(!token.matches(b"s3crets"));
        assert!(!token.matches(b""));
        assert!(
            matches!(Configured::new(""), Configured::None),
            "an empty token is no token"
        );
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    }

    #[test]
    fn surrounding_whitespace_is_removed_and_a_blank_token_is_told_apart() {
        let token = Configured::new(" s3cret\n")
            .token()
            .cloned()
            .expect("a token");
        assert!(token.matches(b"s3cret"));
        assert!(matches!(Configured::new(" \t\n"), Configured::Blank));
        let addr: SocketAddr = "0.0.0.0:80".parse().expect("an address");
        let refusal = Configured::new("   ").refusal(addr).to_string();
        assert!(refusal.contains("only whitespace"), "{refusal}");
        assert!(refusal.contains("0.0.0.0:80"), "{refusal}");
    }

    #[test]
    fn only_loopback_addresses_count_as_loopback() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().expect("an ip")), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "::",
            "10.0.0.1",
            "192.168.1.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_loopback(ip.parse().expect("an ip")), "{ip}");
        }
    }

    #[test]
    fn shutdown_body_becomes_an_http_request_with_its_id() {
        let command = ShutdownCommand::parse(
            br#"{"forced":true,"requestId":"r-1","reason":"deploy","restart":true}"#,
        )
        .expect("valid");
        let request = command.into_request();
        assert!(request.forced);
        assert!(request.restart);
        assert_eq!(request.id, "r-1");
        assert_eq!(request.reason, "deploy");
        assert_eq!(request.source, RequestSource::Http);

        let request = ShutdownCommand::parse(br#"{"forced":false,"requestId":"r-2"}"#)
            .expect("valid")
            .into_request();
        assert!(!request.forced);
        assert!(!request.restart);
        assert_eq!(request.reason, "http:shutdown");
    }

    #[test]
    fn malformed_shutdown_bodies_are_refused_with_a_reason() {
        for (body, says) in [
            (&b"{not json"[..], "must be JSON"),
            (br#"{"requestId":"r"}"#, "forced"),
            (br#"{"forced":true}"#, "requestId"),
            (br#"{"forced":"yes","requestId":"r"}"#, "boolean"),
            (br#"{"forced":true,"requestId":"  "}"#, "must not be empty"),
        ] {
            let error = ShutdownCommand::parse(body).expect_err("refused");
            assert!(error.contains(says), "{error:?} should mention {says:?}");
        }
    }

    #[test]
    fn status_names_the_state_and_the_step() {
        let running = StatusBody::new(SupervisorState::Running, false);
        assert_eq!(
            (running.state, running.step, running.exit_code),
            ("running", None, None)
        );
        let closing = StatusBody::new(
            SupervisorState::Closing {
                step: Some(actix_shutdown_actors::Step::PersistState),
            },
            true,
        );
        assert_eq!(
            (closing.state, closing.step.as_deref()),
            ("closing", Some("persist_state"))
        );
        let finished = StatusBody::new(SupervisorState::Finished { exit_code: 75 }, true);
        assert_eq!((finished.state, finished.exit_code), ("finished", Some(75)));
    }

    #[test]
    fn refusal_names_the_address_and_the_way_out() {
        let error = ControlPlaneError::NoTokenOnPublicAddress {
            addr: "0.0.0.0:8080".parse().expect("addr"),
        };
        let text = error.to_string();
        assert!(text.contains("0.0.0.0:8080"), "{text}");
        assert!(text.contains(TOKEN_ENV), "{text}");
        assert!(text.contains("127.0.0.1"), "{text}");
    }
}
