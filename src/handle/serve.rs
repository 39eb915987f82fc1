//! The bot's own actix-web servers as drain participants.

use std::fmt;

use actix_http::Request;
use actix_service::IntoServiceFactory;
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Response, ServerHandle, Service, ServiceFactory};
use actix_web::{Error, HttpServer};

use super::ShutdownHandle;

impl ShutdownHandle {
    /// Runs the bot's own actix-web server (bound, not yet running) and drains it at the
    /// `drain` step: it stops accepting connections, the requests in flight finish, then the
    /// state is persisted — so a request answered 200 is in the saved state. The library turns
    /// actix-web's own signal handling off (the shutdown owns the signals) and sets its
    /// `shutdown_timeout` to the drain budget plus a second, so that a request still running
    /// at `drain_timeout` is reported `timed_out` before actix-web drops its connection.
    ///
    /// Returns the server's handle (say, to pause it); the server runs on the current actix
    /// System and ends with it. A request that arrives once draining began is refused
    /// (connection refused).
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), std::io::Error> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_web::{App, HttpServer, web};
    ///
    /// let server = HttpServer::new(|| App::new().route("/", web::get().to(|| async { "hi" })))
    ///     .bind("127.0.0.1:0")?;
    /// shutdown.serve("api", server);
    /// shutdown.shutdown("admin:stop").await;
    /// assert_eq!(shutdown.wait().await.drains[0].name, "api");
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn serve<F, I, S, B>(
        &self,
        name: impl Into<String>,
        server: HttpServer<F, I, S, B>,
    ) -> ServerHandle
    where
        F: Fn() -> I + Send + Clone + 'static,
        I: IntoServiceFactory<S, Request>,
        S: ServiceFactory<Request, Config = AppConfig> + 'static,
        S::Error: Into<Error> + 'static,
        S::InitError: fmt::Debug,
        S::Response: Into<Response<B>> + 'static,
        <S::Service as Service<Request>>::Future: 'static,
        S::Service: 'static,
        B: MessageBody + 'static,
    {
        let name = name.into();
        let budget = self.inner.config.drain_timeout;
        let server = server
            .disable_signals()
            .shutdown_timeout(budget.as_secs() + 1)
            .run();
        let handle = server.handle();
        let label = name.clone();
        actix::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(server = %crate::escape(&label), "the server stopped with an error: {e}");
            }
        });
        let stop = handle.clone();
        self.on_drain(name, move || async move {
            stop.stop(true).await;
            Ok::<(), String>(())
        });
        handle
    }
}
