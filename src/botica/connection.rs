//! One AMQP session of a Botica bot: connect, find the protocol exchange, declare and bind the
//! bot's queue as botica-core does, drop what was queued before the bot was there, consume with
//! prefetch 1, publish wrapped packets, and close without failing when the broker closed first.

use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions, QueuePurgeOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer, ExchangeKind};

use super::protocol::BotPacket;
use super::{BoticaConfig, DIRECTOR_ROUTING_KEY, PROTOCOL_EXCHANGE};

/// A connected session: the connection, the channel the bot consumes and publishes on, and
/// its consumer.
pub(crate) struct Session {
    connection: Connection,
    channel: Channel,
    bot_id: String,
}

impl Session {
    /// Connects, declares and binds the queue, purges packets queued before this bot, and
    /// starts consuming with prefetch 1 (acks are manual). Does not send `ready`.
    pub(crate) async fn open(config: &BoticaConfig) -> lapin::Result<(Self, Consumer)> {
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("botica-bot-{}", config.bot_id).into());
        let connection = Connection::connect(&config.amqp_url, properties).await?;
        ensure_exchange(&connection).await?;
        let queue = config.queue();
        let channel = declare_queue(&connection, &queue).await?;
        channel
            .queue_bind(
                queue.as_str().into(),
                PROTOCOL_EXCHANGE.into(),
                queue.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        // A request published while no bot with this id consumed (only possible when the queue
        // outlives its consumers: declared by something else, or durable) is not for this bot.
        let stale = channel
            .queue_purge(queue.as_str().into(), QueuePurgeOptions::default())
            .await?;
        if stale > 0 {
            tracing::warn!(
                queue = %queue,
                dropped = stale,
                "botica: dropped packets queued before this bot connected (a request sent while no bot consumed is not for this one)"
            );
        }
        channel.basic_qos(1, BasicQosOptions::default()).await?;
        let consumer = channel
            .basic_consume(
                queue.as_str().into(),
                format!("bot-{}", config.bot_id).as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok((
            Self {
                connection,
                channel,
                bot_id: config.bot_id.clone(),
            },
            consumer,
        ))
    }

    /// A handle to publish with (cheap to clone, usable from any task).
    pub(crate) fn publisher(&self) -> Publisher {
        Publisher {
            channel: self.channel.clone(),
            bot_id: self.bot_id.clone(),
        }
    }

    /// Closes the connection. Idempotent, and a connection the broker or a peer already
    /// closed (or is closing) counts as closed: only a close that leaves the connection open
    /// is an error.
    pub(crate) async fn close(&self) -> Result<(), String> {
        let status = self.connection.status();
        if !status.connected() {
            tracing::info!(
                closing = status.closing(),
                errored = status.errored(),
                "botica: the connection was already closed by the broker or the network"
            );
            return Ok(());
        }
        match self.connection.close(200, "bot shutting down".into()).await {
            Ok(()) => Ok(()),
            Err(e) if !self.connection.status().connected() => {
                tracing::info!("botica: the broker closed the connection first ({e})");
                Ok(())
            }
            Err(e) => Err(format!("closing the AMQP connection failed: {e}")),
        }
    }
}

/// Publishes this bot's packets to the Director.
#[derive(Clone)]
pub(crate) struct Publisher {
    channel: Channel,
    bot_id: String,
}

impl Publisher {
    /// Publishes `packet` wrapped for the Director; a failure is logged (the Director's
    /// timeout covers a lost answer).
    pub(crate) async fn send(&self, packet: &BotPacket) -> bool {
        let sent = self
            .channel
            .basic_publish(
                PROTOCOL_EXCHANGE.into(),
                DIRECTOR_ROUTING_KEY.into(),
                BasicPublishOptions::default(),
                &packet.wrapped(&self.bot_id),
                BasicProperties::default().with_content_type("application/json".into()),
            )
            .await;
        match sent {
            // The channel is not in confirm mode: the confirm resolves at once.
            Ok(confirm) => match confirm.await {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(?packet, "botica: publishing to the director failed: {e}");
                    false
                }
            },
            Err(e) => {
                tracing::warn!(?packet, "botica: publishing to the director failed: {e}");
                false
            }
        }
    }
}

/// The Director's broker definitions create the exchange; a bot creates it (durable topic,
/// as the definitions do) only when it is missing, e.g. on a developer's bare broker.
async fn ensure_exchange(connection: &Connection) -> lapin::Result<()> {
    let channel = connection.create_channel().await?;
    let passive = ExchangeDeclareOptions {
        passive: true,
        ..ExchangeDeclareOptions::default()
    };
    let found = channel
        .exchange_declare(
            PROTOCOL_EXCHANGE.into(),
            ExchangeKind::Topic,
            passive,
            FieldTable::default(),
        )
        .await;
    if found.is_ok() {
        let _ = channel.close(200, "exchange found".into()).await;
        return Ok(());
    }
    // A failed passive declare closed that channel.
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
    let _ = channel.close(200, "exchange declared".into()).await;
    Ok(())
}

/// Declares the queue as botica-core does (`durable=false, exclusive=false,
/// autoDelete=true`); when a queue of that name exists with other arguments, consumes it as
/// it is and says so. Returns the channel to consume on.
async fn declare_queue(connection: &Connection, queue: &str) -> lapin::Result<Channel> {
    let channel = connection.create_channel().await?;
    let as_botica_core = QueueDeclareOptions {
        passive: false,
        durable: false,
        exclusive: false,
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    let refused = match channel
        .queue_declare(queue.into(), as_botica_core, FieldTable::default())
        .await
    {
        Ok(_) => return Ok(channel),
        Err(e) => e,
    };
    // The broker closed that channel (PRECONDITION_FAILED when the arguments differ).
    let channel = connection.create_channel().await?;
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    match channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await
    {
        Ok(_) => {
            tracing::warn!(
                queue = %queue,
                "botica: the queue exists with other arguments than botica-core's (durable=false, autoDelete=true): consuming it as it is ({refused})"
            );
            Ok(channel)
        }
        Err(_) => Err(refused),
    }
}
