//! External resources closed at the `close_resources` step, newest first.

use std::future::Future;
use std::time::Duration;

use actix_shutdown_actors::messages::{RegisterResource, TaskResult};

use super::ShutdownHandle;

impl ShutdownHandle {
    /// Registers an async closer, run at CloseAll (newest first) within the default close
    /// timeout; its error is reported.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// shutdown.on_close("db", || async {
    ///     // pool.close().await
    ///     Ok::<(), std::io::Error>(())
    /// });
    /// shutdown.shutdown("admin:stop").await;
    /// let report = shutdown.wait().await;
    /// assert_eq!(report.resources[0].name, "db");
    /// # }
    /// ```
    pub fn on_close<F, Fut, R>(&self, name: impl Into<String>, close: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
        R: TaskResult,
    {
        self.on_close_within(name, None, close);
    }

    /// As [`on_close`](Self::on_close), with its own timeout.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use std::time::Duration;
    ///
    /// shutdown.on_close_within("broker", Some(Duration::from_secs(1)), || async {
    ///     // connection.close().await
    /// });
    /// shutdown.shutdown("admin:stop").await;
    /// assert!(shutdown.wait().await.clean);
    /// # }
    /// ```
    pub fn on_close_within<F, Fut, R>(
        &self,
        name: impl Into<String>,
        timeout: Option<Duration>,
        close: F,
    ) where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
        R: TaskResult,
    {
        self.inner.actors.closer.do_send(RegisterResource {
            name: name.into(),
            closer: Box::new(move || {
                let fut = close();
                Box::pin(async move { fut.await.into_task_result() })
            }),
            timeout,
        });
    }
}
