//! `--botica`: answering the Botica director over RabbitMQ (kept in one module so the Botica
//! integration's changes stay here).

use actix_shutdown::botica::{BoticaConfig, BoticaError};
use actix_shutdown::{ShutdownBuilder, ShutdownHandle};

/// Reads the Botica identity and broker from the environment when `--botica` is given.
pub(crate) fn config(enabled: bool) -> Result<Option<BoticaConfig>, BoticaError> {
    enabled.then(BoticaConfig::from_env).transpose()
}

/// Under Botica, `stop_timeout` defaults to `docker stop`'s 10 s (and the default hook budget
/// fits inside the Director's answer timeout): see `actix_shutdown::botica::prepare`.
pub(crate) fn prepare(builder: ShutdownBuilder, config: Option<&BoticaConfig>) -> ShutdownBuilder {
    match config {
        Some(_) => actix_shutdown::botica::prepare(builder),
        None => builder,
    }
}

/// Attaches the director protocol and prints where it consumes once connected; a failure is
/// printed and the bot runs on.
pub(crate) fn attach(shutdown: &ShutdownHandle, config: BoticaConfig) {
    if let Err(e) = actix_shutdown::botica::attach_with_listener(shutdown, config, |botica| {
        say!(
            "botica: connected as {}, consuming {}",
            botica.bot_id,
            botica.queue()
        );
    }) {
        eprintln!("demo-bot: {e}");
    }
}
