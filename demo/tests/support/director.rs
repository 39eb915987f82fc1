//! A test stand-in for the Botica director: publishes packets to a bot's protocol queue and
//! reads the answers published with routing key `director.protocol`, on a real RabbitMQ broker
//! at `AMQP_URL` (default `amqp://guest:guest@127.0.0.1:5672/%2f`; `scripts/test.sh` starts
//! one).

use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer, ExchangeKind};
use serde_json::{Value, json};

pub(crate) fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// A bot id no other test uses.
pub(crate) fn fresh_bot_id(test: &str) -> String {
    format!(
        "{test}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    )
}

pub(crate) struct Director {
    _connection: Connection,
    channel: Channel,
    answers: Consumer,
}

impl Director {
    pub(crate) async fn connect() -> Self {
        let url = amqp_url();
        let connection = tokio::time::timeout(
            Duration::from_secs(20),
            Connection::connect(&url, ConnectionProperties::default()),
        )
        .await
        .unwrap_or_else(|_| panic!("no answer from the RabbitMQ broker at {url} within 20 s"))
        .unwrap_or_else(|e| {
            panic!(
                "cannot reach the RabbitMQ broker at {url}: {e}; start one (scripts/test.sh does)"
            )
        });
        let channel = connection.create_channel().await.expect("channel");
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        channel
            .exchange_declare(
                "botica.protocol".into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await
            .expect("declare botica.protocol");
        let exclusive = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..QueueDeclareOptions::default()
        };
        let queue = channel
            .queue_declare("".into(), exclusive, FieldTable::default())
            .await
            .expect("answer queue");
        channel
            .queue_bind(
                queue.name().clone(),
                "botica.protocol".into(),
                "director.protocol".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind answer queue");
        let answers = channel
            .basic_consume(
                queue.name().clone(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume answers");
        Self {
            _connection: connection,
            channel,
            answers,
        }
    }

    /// Publishes raw bytes to the bot's protocol queue.
    pub(crate) async fn send_raw(&self, bot_id: &str, body: &[u8]) {
        self.channel
            .basic_publish(
                "botica.protocol".into(),
                format!("bot.{bot_id}.protocol").as_str().into(),
                BasicPublishOptions::default(),
                body,
                BasicProperties::default(),
            )
            .await
            .expect("publish")
            .await
            .expect("publish confirmed");
    }

    /// Sends a shutdown request.
    pub(crate) async fn request_shutdown(&self, bot_id: &str, forced: bool, request_id: &str) {
        let packet = json!({"type": "shutdownRequest", "forced": forced, "requestId": request_id});
        self.send_raw(bot_id, packet.to_string().as_bytes()).await;
    }

    /// Waits for `bot_id`'s shutdownResponse to `request_id` (every director sees every
    /// bot's answers); returns the whole wrapper.
    pub(crate) async fn answer(
        &mut self,
        bot_id: &str,
        request_id: &str,
        within: Duration,
    ) -> Value {
        let waiting = async {
            while let Some(delivery) = self.answers.next().await {
                let delivery = delivery.expect("delivery");
                delivery.ack(BasicAckOptions::default()).await.expect("ack");
                let Ok(wrapper) = serde_json::from_slice::<Value>(&delivery.data) else {
                    continue;
                };
                if wrapper["botId"] == bot_id
                    && wrapper["packet"]["type"] == "shutdownResponse"
                    && wrapper["packet"]["requestId"] == request_id
                {
                    return wrapper;
                }
            }
            panic!("the answer queue closed");
        };
        tokio::time::timeout(within, waiting)
            .await
            .unwrap_or_else(|_| panic!("no shutdownResponse to {request_id} within {within:?}"))
    }
}
