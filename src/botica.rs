//! The Botica director protocol over RabbitMQ (cargo feature `botica`).
//!
//! A bot declares its queue `bot.<botId>.protocol`, binds it to the `botica.protocol` exchange
//! with the same routing key and consumes it. The director sends
//! `{"type":"shutdownRequest","forced":<bool>,"requestId":"<id>"}`; the bot answers on the same
//! exchange with routing key `director.protocol`, wrapped as
//! `{"type":"bot","botId":"<botId>","packet":{"type":"shutdownResponse","ready":<bool>,"requestId":"<id>"}}`.
//! `ready` is false exactly when a hook canceled a graceful request; a forced request is
//! answered `ready: true` at once, before the hooks run (they still run, to save critical
//! data). When ready, our own shutdown begins at once, so the state is saved before the
//! container is stopped; the SIGTERM that follows joins the same run.
//!
//! The consumer is a task of the TaskMonitor; a lost connection is retried with backoff and
//! logged, never taking the bot down. The AMQP connection is a resource closed at CloseAll.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::{RequestSource, ShutdownHandle, ShutdownRequest, TaskError};

/// The exchange the protocol travels on.
pub const PROTOCOL_EXCHANGE: &str = "botica.protocol";
/// Routing key of packets for the director.
pub const DIRECTOR_ROUTING_KEY: &str = "director.protocol";
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

type SharedConnection = Arc<Mutex<Option<Connection>>>;

/// Connects this bot to the director: spawns the consumer task `botica` and registers the
/// connection as the resource `botica`. Returns at once; the connection is made (and remade)
/// in the background.
///
/// # Errors
/// [`TaskError::Closing`] when the shutdown has begun.
pub fn attach(handle: &ShutdownHandle, config: BoticaConfig) -> Result<(), TaskError> {
    attach_with_listener(handle, config, |_| {})
}

/// Called each time the bot is connected and consuming (after every reconnect too).
pub type ConnectedFn = Arc<dyn Fn(&BoticaConfig) + Send + Sync>;

/// As [`attach`], calling `on_connected` each time the bot is connected and consuming (after
/// every reconnect too), e.g. to print it.
///
/// # Errors
/// [`TaskError::Closing`] when the shutdown has begun.
pub fn attach_with_listener<F>(
    handle: &ShutdownHandle,
    config: BoticaConfig,
    on_connected: F,
) -> Result<(), TaskError>
where
    F: Fn(&BoticaConfig) + Send + Sync + 'static,
{
    let on_connected: ConnectedFn = Arc::new(on_connected);
    if handle.config().get().hook_budget() >= config.graceful_timeout {
        tracing::warn!(
            "the hook budget ({:?}) does not fit inside the director's {:?} timeout: a slow hook makes the answer late",
            handle.config().get().hook_budget(),
            config.graceful_timeout
        );
    }
    let shared: SharedConnection = Arc::new(Mutex::new(None));
    let closer = Arc::clone(&shared);
    handle.on_close_within("botica", Some(Duration::from_secs(2)), move || async move {
        let connection = closer.lock().unwrap_or_else(|p| p.into_inner()).take();
        match connection {
            Some(connection) if connection.status().connected() => connection
                .close(200, "bot shutting down".into())
                .await
                .map_err(|e| e.to_string()),
            _ => Ok(()),
        }
    });
    let handle_for_task = handle.clone();
    handle
        .tasks()
        .spawn("botica", move |cancel: CancellationToken| {
            run(
                handle_for_task.clone(),
                config.clone(),
                Arc::clone(&shared),
                Arc::clone(&on_connected),
                cancel,
            )
        })
}

async fn run(
    handle: ShutdownHandle,
    config: BoticaConfig,
    shared: SharedConnection,
    on_connected: ConnectedFn,
    cancel: CancellationToken,
) {
    let mut backoff = config.reconnect_min;
    loop {
        let session = tokio::select! {
            () = cancel.cancelled() => return,
            session = connect(&config) => session,
        };
        match session {
            Ok((connection, channel, consumer)) => {
                backoff = config.reconnect_min;
                *shared.lock().unwrap_or_else(|p| p.into_inner()) = Some(connection);
                tracing::info!(bot_id = %config.bot_id, queue = %config.queue(), "botica: connected, consuming");
                on_connected(&config);
                let ended = tokio::select! {
                    () = cancel.cancelled() => return,
                    ended = consume(&handle, &config, &channel, consumer) => ended,
                };
                tracing::warn!("botica: connection lost ({ended}); reconnecting");
            }
            Err(e) => {
                tracing::warn!(url = %redact(&config.amqp_url), "botica: cannot connect: {e}; retrying in {backoff:?}")
            }
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(config.reconnect_max);
    }
}

async fn connect(config: &BoticaConfig) -> lapin::Result<(Connection, Channel, lapin::Consumer)> {
    let properties = ConnectionProperties::default()
        .with_connection_name(format!("botica-bot-{}", config.bot_id).into());
    let connection = Connection::connect(&config.amqp_url, properties).await?;
    let channel = connection.create_channel().await?;
    let passive = ExchangeDeclareOptions {
        passive: true,
        ..ExchangeDeclareOptions::default()
    };
    if channel
        .exchange_declare(
            PROTOCOL_EXCHANGE.into(),
            ExchangeKind::Topic,
            passive,
            FieldTable::default(),
        )
        .await
        .is_err()
    {
        // The director has not declared it yet (a passive declare that fails closes the channel).
        let channel = connection.create_channel().await?;
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        channel
            .exchange_declare(
                PROTOCOL_EXCHANGE.into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await?;
    }
    let channel = connection.create_channel().await?;
    let queue = config.queue();
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.as_str().into(), durable, FieldTable::default())
        .await?;
    channel
        .queue_bind(
            queue.as_str().into(),
            PROTOCOL_EXCHANGE.into(),
            queue.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok((connection, channel, consumer))
}

/// Consumes until the stream ends; returns why.
async fn consume(
    handle: &ShutdownHandle,
    config: &BoticaConfig,
    channel: &Channel,
    mut consumer: lapin::Consumer,
) -> String {
    while let Some(delivery) = consumer.next().await {
        let delivery = match delivery {
            Ok(delivery) => delivery,
            Err(e) => return e.to_string(),
        };
        if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
            return e.to_string();
        }
        match parse_packet(&delivery.data) {
            Packet::ShutdownRequest { forced, request_id } => {
                answer_shutdown(
                    handle.clone(),
                    config.bot_id.clone(),
                    channel.clone(),
                    forced,
                    request_id,
                );
            }
            Packet::Heartbeat => {
                publish(channel, &config.bot_id, json!({"type": "heartbeat"})).await
            }
            Packet::Other(kind) => {
                tracing::info!(packet = %kind, "botica: packet type not handled; ignored")
            }
            Packet::Malformed(why) => tracing::warn!("botica: malformed packet ignored: {why}"),
        }
    }
    "the consumer was canceled by the broker".to_owned()
}

/// Answers off the consumer's task, so that the shutdown this request begins (which cancels
/// the consumer) cannot cut the answer short; the connection stays open until CloseAll.
fn answer_shutdown(
    handle: ShutdownHandle,
    bot_id: String,
    channel: Channel,
    forced: bool,
    request_id: String,
) {
    actix_rt::spawn(async move {
        let request = if forced {
            ShutdownRequest::forced(RequestSource::Director, "director:forced")
        } else {
            ShutdownRequest::graceful(RequestSource::Director, "director")
        }
        .with_id(request_id.clone());
        tracing::info!(forced, request_id = %request_id, "botica: shutdown request from the director");
        if forced {
            publish(&channel, &bot_id, response(&request_id, true)).await;
            handle.request(request).await;
        } else {
            let answer = handle.request(request).await;
            if !answer.ready {
                tracing::info!(vetoed_by = ?answer.vetoed_by, "botica: graceful shutdown canceled by hooks");
            }
            publish(&channel, &bot_id, response(&request_id, answer.ready)).await;
        }
    });
}

fn response(request_id: &str, ready: bool) -> Value {
    json!({"type": "shutdownResponse", "ready": ready, "requestId": request_id})
}

async fn publish(channel: &Channel, bot_id: &str, packet: Value) {
    let body = json!({"type": "bot", "botId": bot_id, "packet": packet}).to_string();
    let sent = channel
        .basic_publish(
            PROTOCOL_EXCHANGE.into(),
            DIRECTOR_ROUTING_KEY.into(),
            BasicPublishOptions::default(),
            body.as_bytes(),
            BasicProperties::default().with_content_type("application/json".into()),
        )
        .await;
    match sent {
        Ok(confirm) => {
            if let Err(e) = confirm.await {
                tracing::warn!("botica: publishing to the director failed: {e}");
            }
        }
        Err(e) => tracing::warn!("botica: publishing to the director failed: {e}"),
    }
}

/// An incoming packet.
#[derive(Debug, PartialEq, Eq)]
enum Packet {
    ShutdownRequest { forced: bool, request_id: String },
    Heartbeat,
    Other(String),
    Malformed(String),
}

fn parse_packet(data: &[u8]) -> Packet {
    let value: Value = match serde_json::from_slice(data) {
        Ok(value) => value,
        Err(e) => return Packet::Malformed(format!("not JSON: {e}")),
    };
    let Some(kind) = value.get("type").and_then(Value::as_str) else {
        return Packet::Malformed("no \"type\" field".to_owned());
    };
    match kind {
        "shutdownRequest" => {
            let forced = value.get("forced").and_then(Value::as_bool);
            let request_id = value.get("requestId").and_then(Value::as_str);
            match (forced, request_id) {
                (Some(forced), Some(id)) => Packet::ShutdownRequest {
                    forced,
                    request_id: id.to_owned(),
                },
                _ => Packet::Malformed(
                    "shutdownRequest needs a boolean \"forced\" and a string \"requestId\""
                        .to_owned(),
                ),
            }
        }
        "heartbeat" => Packet::Heartbeat,
        other => Packet::Other(other.to_owned()),
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shutdown_request_parses_with_its_mode_and_id() {
        let packet = parse_packet(br#"{"type":"shutdownRequest","forced":true,"requestId":"r-1"}"#);
        assert_eq!(
            packet,
            Packet::ShutdownRequest {
                forced: true,
                request_id: "r-1".into()
            }
        );
    }

    #[test]
    fn malformed_and_unknown_packets_are_told_apart() {
        assert!(matches!(parse_packet(b"{not json"), Packet::Malformed(_)));
        assert!(matches!(
            parse_packet(br#"{"forced":true}"#),
            Packet::Malformed(_)
        ));
        assert!(matches!(
            parse_packet(br#"{"type":"shutdownRequest","forced":"yes","requestId":"1"}"#),
            Packet::Malformed(_)
        ));
        assert_eq!(
            parse_packet(br#"{"type":"ready"}"#),
            Packet::Other("ready".into())
        );
        assert_eq!(parse_packet(br#"{"type":"heartbeat"}"#), Packet::Heartbeat);
    }

    #[test]
    fn credentials_are_redacted_from_logged_urls() {
        assert_eq!(
            redact("amqp://user:secret@host:5672/%2f"),
            "amqp://***@host:5672/%2f"
        );
        assert_eq!(redact("amqp://host"), "amqp://host");
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
