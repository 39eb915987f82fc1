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
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};

use crate::ShutdownHandle;

mod endpoints;
#[cfg(test)]
mod tests;
mod token;

use endpoints::{PlaneState, healthz, not_found, readyz, shutdown, status};
pub use token::check_bind_address;
use token::{Configured, check_address, env_token, is_loopback};

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
