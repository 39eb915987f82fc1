//! The Botica director protocol over RabbitMQ (cargo feature `botica`).
//!
//! A bot consumes its queue `bot.<botId>.protocol` (declared as botica-core declares it:
//! `durable=false, autoDelete=true`; prefetch 1; each packet acked once handled — a heartbeat
//! once answered, a request once its answer is under way), bound to the
//! `botica.protocol` exchange with the same routing key, and publishes to routing key
//! `director.protocol`, every packet wrapped as `{"type":"bot","botId":"<id>","packet":{…}}`.
//!
//! - On every (re)connect the bot sends `{"type":"ready"}`: the Director then counts it as
//!   running and heartbeats it.
//! - A `{"type":"heartbeat"}` is answered with one at once, from a thread of its own that never
//!   waits for hooks or for the shutdown, until the connection closes at `close_resources`.
//! - A shutdown request is answered in its own dialect: with its `requestId` (current
//!   protocol) or without any `requestId` key (v0.1.0). `ready` is false exactly when a hook
//!   canceled a graceful request; a forced request is answered `ready: true` at once, before
//!   the hooks run (they still run, to save critical data). Once the shutdown is under way or
//!   decided, every further request is answered `ready: true` at once.
//! - After `ready: true` the bot begins its own shutdown at once: the Director answers it with
//!   `docker stop` (SIGTERM, SIGKILL 10 s later), and the state must be safe before then. The
//!   SIGTERM joins the run already going.
//! - Malformed packets are logged and dropped; packets queued before the bot connected are
//!   dropped (a request meant for an earlier bot never ends this one); a lost connection is
//!   retried with backoff and logged, never taking the bot down.
//!
//! The connection is the resource `botica`, closed at CloseAll; a connection the broker closed
//! first counts as closed.
//!
//! # Examples
//! ```no_run
//! use actix_shutdown::botica::{self, BoticaConfig};
//! use actix_shutdown::{Config, Shutdown};
//!
//! #[actix::main]
//! async fn main() -> std::process::ExitCode {
//!     let botica_config = match BoticaConfig::from_env() {
//!         Ok(config) => config,
//!         Err(e) => {
//!             eprintln!("{e}");
//!             return std::process::ExitCode::from(2);
//!         }
//!     };
//!     // stop_timeout: docker stop's 10 s, unless one is set.
//!     let builder = botica::prepare(Shutdown::builder(Config::default()));
//!     let (shutdown, _boot) = match builder.start().await {
//!         Ok(started) => started,
//!         Err(e) => return e.exit_code(),
//!     };
//!     // Register hooks, states and resources first, then answer the Director.
//!     if let Err(e) = botica::attach(&shutdown, botica_config) {
//!         eprintln!("{e}");
//!     }
//!     shutdown.wait().await.process_exit_code()
//! }
//! ```

mod connection;
mod protocol;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use crate::{ShutdownBuilder, ShutdownHandle};

/// The exchange the protocol travels on.
pub const PROTOCOL_EXCHANGE: &str = "botica.protocol";
/// Routing key of packets for the director.
pub const DIRECTOR_ROUTING_KEY: &str = "director.protocol";
/// `docker stop`'s default: the Director's `docker stop` sends SIGKILL this long after SIGTERM.
pub const DOCKER_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The hook budget [`prepare`] gives a bot that kept the library's default (10 s): a graceful
/// answer waits for the hooks, and the Director waits 10 s for it.
pub const HOOK_BUDGET: Duration = Duration::from_secs(8);
/// Broker address used when neither the configuration nor `AMQP_URL` names one.
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Who this bot is and where its broker is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoticaConfig {
    /// `BOTICA_BOT_ID`.
    pub bot_id: String,
    /// `BOTICA_BOT_TYPE`.
    pub bot_type: String,
    /// `AMQP_URL` (credentials included), default [`DEFAULT_AMQP_URL`].
    pub amqp_url: String,
    /// How long the director waits for a graceful answer (10 s by default).
    pub graceful_timeout: Duration,
    /// First reconnect delay; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
}

/// The Botica configuration is missing or invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoticaError {
    /// A required environment variable is not set.
    #[error(
        "{0} is not set: the Botica director sets it in the bot's container; set it to run as a Botica bot"
    )]
    MissingEnv(&'static str),
    /// A bot id that cannot be part of a queue name.
    #[error("invalid Botica bot id {0:?}: use letters, digits, '-', '_' and '.'")]
    InvalidBotId(String),
    /// The shutdown has begun: the bot does not connect any more.
    #[error("Botica not attached: the shutdown has begun")]
    Closing,
    /// The thread that holds the connection could not be started.
    #[error("Botica not attached: cannot start its thread: {0}")]
    Thread(String),
}

impl BoticaConfig {
    /// A configuration for this bot id with the default broker address and timeouts.
    ///
    /// # Errors
    /// [`BoticaError::InvalidBotId`].
    pub fn new(bot_id: impl Into<String>) -> Result<Self, BoticaError> {
        let bot_id = bot_id.into();
        if bot_id.is_empty()
            || !bot_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(BoticaError::InvalidBotId(bot_id));
        }
        Ok(Self {
            bot_id,
            bot_type: String::new(),
            amqp_url: DEFAULT_AMQP_URL.to_owned(),
            graceful_timeout: Duration::from_secs(10),
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
        })
    }

    /// Reads `BOTICA_BOT_ID` (required), `BOTICA_BOT_TYPE` and `AMQP_URL`.
    ///
    /// # Errors
    /// [`BoticaError::MissingEnv`] or [`BoticaError::InvalidBotId`].
    pub fn from_env() -> Result<Self, BoticaError> {
        let id =
            std::env::var("BOTICA_BOT_ID").map_err(|_| BoticaError::MissingEnv("BOTICA_BOT_ID"))?;
        let mut config = Self::new(id)?;
        config.bot_type = std::env::var("BOTICA_BOT_TYPE").unwrap_or_default();
        if let Ok(url) = std::env::var("AMQP_URL") {
            config.amqp_url = url;
        }
        Ok(config)
    }

    /// The bot's protocol queue, `bot.<botId>.protocol` (also its routing key).
    pub fn queue(&self) -> String {
        format!("bot.{}.protocol", self.bot_id)
    }
}

/// Prepares a bot for Botica before [`start`](ShutdownBuilder::start):
/// - when no `stop_timeout` is set, sets it to [`DOCKER_STOP_TIMEOUT`]: the Director stops a
///   bot with `docker stop` (SIGKILL 10 s after SIGTERM) and the bot must be down before
///   then. `start` then refuses, with the numbers, a configuration whose forced budget and
///   hard-deadline margin do not fit inside it;
/// - when the hook budget is the library's default (10 s), lowers it to [`HOOK_BUDGET`] (8 s),
///   so a graceful answer that waits for slow hooks still reaches the Director within its
///   10 s. A budget set to anything else is kept ([`attach`] warns when it does not fit).
///
/// # Examples
/// ```
/// use actix_shutdown::{Config, Shutdown};
///
/// let builder = actix_shutdown::botica::prepare(Shutdown::builder(Config::default()));
/// assert!(builder.config().validate().is_ok());
/// ```
pub fn prepare(mut builder: ShutdownBuilder) -> ShutdownBuilder {
    let config = builder.config_mut();
    if config.stop_timeout.is_none() {
        config.stop_timeout = Some(DOCKER_STOP_TIMEOUT);
    }
    if config.hook_budget == actix_shutdown_actors::defaults::HOOK_BUDGET {
        config.hook_budget = HOOK_BUDGET;
    }
    builder
}

/// Connects this bot to the Director from a thread of its own and registers the connection
/// as the resource `botica` (closed at CloseAll). Returns at once; the connection is made
/// (and remade) in the background.
///
/// # Errors
/// [`BoticaError::Closing`] when the shutdown has begun, [`BoticaError::Thread`] when the
/// thread cannot be started.
pub fn attach(handle: &ShutdownHandle, config: BoticaConfig) -> Result<(), BoticaError> {
    attach_with_listener(handle, config, |_| {})
}

/// Called each time the bot is connected, consuming and has sent `ready` (after every
/// reconnect too).
pub type ConnectedFn = Arc<dyn Fn(&BoticaConfig) + Send + Sync>;

/// As [`attach`], calling `on_connected` (from the Botica thread) each time the bot is
/// connected and has sent `ready` (after every reconnect too), e.g. to print it.
///
/// # Errors
/// As [`attach`].
pub fn attach_with_listener<F>(
    handle: &ShutdownHandle,
    config: BoticaConfig,
    on_connected: F,
) -> Result<(), BoticaError>
where
    F: Fn(&BoticaConfig) + Send + Sync + 'static,
{
    if handle.is_closing() {
        return Err(BoticaError::Closing);
    }
    if handle.config().get().stop_timeout().is_none() {
        tracing::warn!(
            "botica: no stop_timeout is set: the Director's docker stop sends SIGKILL {DOCKER_STOP_TIMEOUT:?} after SIGTERM; start with botica::prepare(builder) so the shutdown ends before it"
        );
    }
    if handle.config().get().hook_budget() >= config.graceful_timeout {
        tracing::warn!(
            "the hook budget ({:?}) does not fit inside the director's {:?} timeout: a slow hook makes the answer late",
            handle.config().get().hook_budget(),
            config.graceful_timeout
        );
    }
    let worker = worker::Worker::spawn(handle.clone(), config, Arc::new(on_connected))
        .map_err(|e| BoticaError::Thread(e.to_string()))?;
    handle.on_close_within("botica", Some(CLOSE_TIMEOUT), move || async move {
        worker.close().await
    });
    Ok(())
}

/// Time the connection gets to close at CloseAll (answers being written, then the AMQP close).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_sets_dockers_stop_timeout_only_when_none_is_set() {
        let prepared = prepare(crate::Shutdown::builder(crate::Config::default()));
        assert_eq!(prepared.config().stop_timeout, Some(DOCKER_STOP_TIMEOUT));
        let own = crate::Config::default().stop_timeout(Duration::from_secs(30));
        let prepared = prepare(crate::Shutdown::builder(own));
        assert_eq!(
            prepared.config().stop_timeout,
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn prepare_lowers_only_the_default_hook_budget_below_the_directors_timeout() {
        let prepared = prepare(crate::Shutdown::builder(crate::Config::default()));
        assert_eq!(prepared.config().get().hook_budget(), HOOK_BUDGET);
        for own in [Duration::from_secs(3), Duration::from_secs(12)] {
            let config = crate::Config::default().hook_budget(own);
            let prepared = prepare(crate::Shutdown::builder(config));
            assert_eq!(prepared.config().get().hook_budget(), own);
        }
    }

    #[test]
    fn a_forced_run_that_cannot_end_before_sigkill_is_refused_with_the_numbers() {
        let config = crate::Config::default().forced_budget(Duration::from_secs(9));
        let prepared = prepare(crate::Shutdown::builder(config));
        let refused = prepared.config().validate().unwrap_err();
        let message = refused.to_string();
        assert!(
            message.contains("forced_budget (9s)")
                && message.contains("hard_margin (2s)")
                && message.contains("stop_timeout (10s)"),
            "{message}"
        );
    }

    #[test]
    fn a_bot_id_that_cannot_name_a_queue_is_refused() {
        assert!(BoticaConfig::new("bot 1").is_err());
        assert!(BoticaConfig::new("").is_err());
        assert_eq!(
            BoticaConfig::new("bot-1").map(|c| c.queue()),
            Ok("bot.bot-1.protocol".to_owned())
        );
    }
}
