//! A test stand-in for the Botica Director, speaking its side of the protocol as the real one
//! does: shutdown requests in both dialects (current, with a `requestId` of 8 alphanumerics
//! and `responsePacketClass`; v0.1.0, with neither), heartbeats every 2 s to every watched bot
//! that sent `ready` (until it answers a request `ready: true` and would be stopped), and the
//! 10 s (graceful) / 3 s (forced) answer timeouts. It records what each watched bot sends, on
//! a real RabbitMQ broker at `AMQP_URL` (default `amqp://guest:guest@127.0.0.1:5672/%2f`;
//! `scripts/test.sh` starts one).
//!
//! Several Directors may share a broker (tests run in parallel): each sees every bot's packets
//! but records and heartbeats only the bots it was told to [`watch`](Director::watch); what a
//! bot sent before it was watched (a durable answer queue delivers it as soon as the Director
//! consumes) is kept a while and recorded when it is.
//!
//! One file over 400 lines: the Director's one job, its side of the protocol, with its
//! connection, its recording and its waits.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The real Director's heartbeat period.
pub(crate) const HEARTBEAT_PERIOD: Duration = Duration::from_secs(2);
/// How long the real Director waits for the answer to a graceful request.
pub(crate) const GRACEFUL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the real Director waits for the answer to a forced request.
pub(crate) const FORCED_TIMEOUT: Duration = Duration::from_secs(3);
/// The class name the current Director puts in its requests.
const RESPONSE_CLASS: &str = "es.us.isa.botica.protocol.client.ShutdownResponsePacket";

pub(crate) fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// A bot id no other test uses.
pub(crate) fn fresh_bot_id(test: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{test}-{}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos()),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The two request dialects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// With `requestId` and `responsePacketClass`.
    Current,
    /// v0.1.0, the last tagged release: `{"type":"shutdownRequest","forced":…}` only.
    V010,
}

/// A request sent, to match its answer.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    /// The bot it went to.
    pub(crate) bot_id: String,
    /// Its id (`None` in the v0.1.0 dialect).
    pub(crate) id: Option<String>,
    /// Forced or graceful.
    pub(crate) forced: bool,
    /// When it was published.
    pub(crate) at: Instant,
}

impl Sent {
    /// The real Director's timeout for this request.
    pub(crate) fn timeout(&self) -> Duration {
        if self.forced {
            FORCED_TIMEOUT
        } else {
            GRACEFUL_TIMEOUT
        }
    }
}

/// An answer received.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    /// The whole body as received (wrapper included).
    pub(crate) body: Value,
    /// When it arrived.
    pub(crate) at: Instant,
    /// Time since its request was published.
    pub(crate) latency: Duration,
}

impl Answer {
    /// The inner packet.
    pub(crate) fn packet(&self) -> &Value {
        &self.body["packet"]
    }

    /// The inner packet's keys, sorted.
    pub(crate) fn keys(&self) -> Vec<String> {
        keys(self.packet())
    }
}

/// The sorted keys of a JSON object.
pub(crate) fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

/// What a bot sent, and what went wrong on the Director's side, for failure messages.
#[derive(Debug)]
pub(crate) struct Received {
    /// Every body the bot sent.
    pub(crate) packets: Vec<Value>,
    /// The Director's own errors.
    pub(crate) director_errors: Vec<String>,
}

/// What a watched bot sent.
#[derive(Debug, Default)]
pub(crate) struct BotRecord {
    /// When each `ready` arrived.
    pub(crate) readies: Vec<Instant>,
    /// Heartbeats: when each was sent and how long its answer took (heartbeats carry no id; a
    /// bot answers them in order, and a `ready` forgets those sent before it).
    pub(crate) heartbeats: Vec<(Instant, Duration)>,
    pending_heartbeats: VecDeque<Instant>,
    /// Heartbeated: it sent `ready` and did not answer a request `ready: true` since.
    running: bool,
    /// shutdownResponses not yet matched to a request.
    responses: Vec<(Instant, Value)>,
    /// Every body received from this bot, for failure messages.
    pub(crate) received: Vec<Value>,
}

/// How many packets of bots not watched yet a Director keeps.
const UNWATCHED_KEPT: usize = 256;

#[derive(Default)]
struct Shared {
    bots: Mutex<HashMap<String, BotRecord>>,
    /// Packets of bots not watched yet, newest last, at most [`UNWATCHED_KEPT`].
    unwatched: Mutex<VecDeque<(Value, Instant)>>,
    errors: Mutex<Vec<String>>,
    changed: Notify,
}

/// The stand-in Director.
pub(crate) struct Director {
    _connection: Connection,
    channel: Channel,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    next_id: AtomicU64,
}

impl Drop for Director {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Director {
    /// Connects to the broker at `AMQP_URL` with an answer queue of its own (exclusive).
    pub(crate) async fn connect() -> Self {
        Self::connect_to(&amqp_url(), None).await
    }

    /// Connects to the broker at `url`. With `queue`, answers go to that durable queue, which
    /// outlives a broker restart and keeps what arrives while no Director is connected;
    /// otherwise to an exclusive queue of its own. Retries the connection for up to 60 s (a
    /// broker that is still starting).
    pub(crate) async fn connect_to(url: &str, queue: Option<&str>) -> Self {
        let connection = connect_retrying(url).await;
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
        let options = match queue {
            Some(_) => QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            None => QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
        };
        let declared = channel
            .queue_declare(queue.unwrap_or("").into(), options, FieldTable::default())
            .await
            .expect("answer queue");
        channel
            .queue_bind(
                declared.name().clone(),
                "botica.protocol".into(),
                "director.protocol".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind answer queue");
        let no_ack = BasicConsumeOptions {
            no_ack: true,
            ..BasicConsumeOptions::default()
        };
        let mut consumer = channel
            .basic_consume(
                declared.name().clone(),
                "".into(),
                no_ack,
                FieldTable::default(),
            )
            .await
            .expect("consume answers");
        let shared = Arc::new(Shared::default());
        let listener = {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                while let Some(Ok(delivery)) = consumer.next().await {
                    if let Ok(body) = serde_json::from_slice::<Value>(&delivery.data) {
                        shared.record(body, Instant::now());
                    }
                }
            })
        };
        let heartbeats = {
            let shared = Arc::clone(&shared);
            let channel = channel.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(HEARTBEAT_PERIOD);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    every.tick().await;
                    let running: Vec<String> = {
                        let bots = shared.bots.lock().unwrap();
                        bots.iter()
                            .filter(|(_, b)| b.running)
                            .map(|(id, _)| id.clone())
                            .collect()
                    };
                    for bot_id in running {
                        let at = Instant::now();
                        if let Some(bot) = shared.bots.lock().unwrap().get_mut(&bot_id) {
                            bot.pending_heartbeats.push_back(at);
                        }
                        if let Err(e) = publish(&channel, &bot_id, br#"{"type":"heartbeat"}"#).await
                        {
                            shared
                                .errors
                                .lock()
                                .unwrap()
                                .push(format!("heartbeat: {e}"));
                        }
                    }
                }
            })
        };
        Self {
            _connection: connection,
            channel,
            shared,
            tasks: vec![listener, heartbeats],
            next_id: AtomicU64::new(0),
        }
    }

    /// Starts recording (and, once it sends `ready`, heartbeating) this bot.
    pub(crate) fn watch(&self, bot_id: &str) {
        self.shared
            .bots
            .lock()
            .unwrap()
            .entry(bot_id.to_owned())
            .or_default();
        let early: Vec<(Value, Instant)> = {
            let mut unwatched = self.shared.unwatched.lock().unwrap();
            let (mine, others) = std::mem::take(&mut *unwatched)
                .into_iter()
                .partition(|(body, _)| body["botId"] == bot_id);
            *unwatched = others;
            mine.into_iter().collect()
        };
        for (body, at) in early {
            self.shared.record(body, at);
        }
    }

    /// Declares the bot's queue (before the bot exists) and binds it, as another client or
    /// an earlier implementation might have.
    pub(crate) async fn declare_bot_queue(&self, bot_id: &str, options: QueueDeclareOptions) {
        let queue = format!("bot.{bot_id}.protocol");
        self.channel
            .queue_declare(queue.as_str().into(), options, FieldTable::default())
            .await
            .expect("declare the bot's queue");
        self.channel
            .queue_bind(
                queue.as_str().into(),
                "botica.protocol".into(),
                queue.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind the bot's queue");
    }

    /// Whether the broker has the bot's queue (a passive declare, on a channel of its own
    /// since a failed one closes its channel).
    pub(crate) async fn bot_queue_exists(&self, bot_id: &str) -> bool {
        let channel = self._connection.create_channel().await.expect("channel");
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let found = channel
            .queue_declare(
                format!("bot.{bot_id}.protocol").as_str().into(),
                passive,
                FieldTable::default(),
            )
            .await
            .is_ok();
        if found {
            let _ = channel.close(200, "checked".into()).await;
        }
        found
    }

    /// Waits until the bot's queue is gone (the broker deletes an autoDelete queue shortly
    /// after its last consumer's channel closes, not in the same instant); false when it is
    /// still there after `within`.
    pub(crate) async fn bot_queue_gone_within(&self, bot_id: &str, within: Duration) -> bool {
        let until = Instant::now() + within;
        loop {
            if !self.bot_queue_exists(bot_id).await {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Deletes the bot's queue.
    pub(crate) async fn delete_bot_queue(&self, bot_id: &str) {
        self.channel
            .queue_delete(
                format!("bot.{bot_id}.protocol").as_str().into(),
                lapin::options::QueueDeleteOptions::default(),
            )
            .await
            .expect("delete the bot's queue");
    }

    /// Publishes raw bytes to the bot's protocol queue.
    pub(crate) async fn send_raw(&self, bot_id: &str, body: &[u8]) {
        if let Err(e) = publish(&self.channel, bot_id, body).await {
            panic!("{e}; the Director's own errors: {:?}", self.errors());
        }
    }

    /// What went wrong on the Director's side (heartbeats it could not publish).
    pub(crate) fn errors(&self) -> Vec<String> {
        self.shared.errors.lock().unwrap().clone()
    }

    /// Sends a shutdown request in `dialect`.
    pub(crate) async fn request(&self, bot_id: &str, dialect: Dialect, forced: bool) -> Sent {
        let id = (dialect == Dialect::Current).then(|| self.request_id());
        let packet = match &id {
            Some(id) => json!({
                "type": "shutdownRequest",
                "responsePacketClass": RESPONSE_CLASS,
                "requestId": id,
                "forced": forced,
            }),
            None => json!({"type": "shutdownRequest", "forced": forced}),
        };
        let at = Instant::now();
        self.send_raw(bot_id, packet.to_string().as_bytes()).await;
        Sent {
            bot_id: bot_id.to_owned(),
            id,
            forced,
            at,
        }
    }

    /// An id as the Director makes them: 8 alphanumerics (unique per Director; answers are
    /// matched per bot).
    fn request_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("Rq{:06}", n % 1_000_000)
    }

    /// Waits for the answer to `sent` within the real Director's timeout for it. A current
    /// request matches by `requestId`; a v0.1.0 one takes the first unmatched answer without
    /// a `requestId`.
    pub(crate) async fn answer(&self, sent: &Sent) -> Answer {
        self.answer_within(sent, sent.timeout()).await
    }

    /// As [`answer`](Self::answer), within `within`.
    pub(crate) async fn answer_within(&self, sent: &Sent, within: Duration) -> Answer {
        let found = self
            .wait_for(&sent.bot_id, within, |bot| {
                let index = bot.responses.iter().position(|(_, body)| {
                    let packet = &body["packet"];
                    match &sent.id {
                        Some(id) => packet["requestId"] == id.as_str(),
                        None => packet.get("requestId").is_none(),
                    }
                })?;
                Some(bot.responses.remove(index))
            })
            .await;
        match found {
            Ok((at, body)) => Answer {
                body,
                at,
                latency: at.saturating_duration_since(sent.at),
            },
            Err(received) => panic!(
                "no shutdownResponse from {} to {sent:?} within {within:?}; received: {received:#?}",
                sent.bot_id
            ),
        }
    }

    /// Waits until the bot has sent `count` `ready` packets; returns when the last arrived.
    pub(crate) async fn wait_ready(&self, bot_id: &str, count: usize, within: Duration) -> Instant {
        self.wait_for(bot_id, within, |bot| bot.readies.get(count - 1).copied())
            .await
            .unwrap_or_else(|received| {
                panic!("{bot_id} sent no ready #{count} within {within:?}; received: {received:#?}")
            })
    }

    /// Waits until `count` heartbeats were answered; returns them (sent at, answer latency).
    pub(crate) async fn wait_heartbeats(
        &self,
        bot_id: &str,
        count: usize,
        within: Duration,
    ) -> Vec<(Instant, Duration)> {
        self.wait_for(bot_id, within, |bot| {
            (bot.heartbeats.len() >= count).then(|| bot.heartbeats.clone())
        })
        .await
        .unwrap_or_else(|received| {
            panic!("{bot_id} answered fewer than {count} heartbeats within {within:?}; received: {received:#?}")
        })
    }

    /// The heartbeats answered so far (sent at, answer latency).
    pub(crate) fn heartbeats(&self, bot_id: &str) -> Vec<(Instant, Duration)> {
        self.shared
            .bots
            .lock()
            .unwrap()
            .get(bot_id)
            .map(|b| b.heartbeats.clone())
            .unwrap_or_default()
    }

    /// Every body received from the bot so far.
    pub(crate) fn received(&self, bot_id: &str) -> Vec<Value> {
        self.shared
            .bots
            .lock()
            .unwrap()
            .get(bot_id)
            .map(|b| b.received.clone())
            .unwrap_or_default()
    }

    /// Polls `check` on the bot's record each time a packet arrives, until it returns
    /// something or `within` passes (then `Err` with what the bot sent).
    async fn wait_for<T>(
        &self,
        bot_id: &str,
        within: Duration,
        mut check: impl FnMut(&mut BotRecord) -> Option<T>,
    ) -> Result<T, Received> {
        let until = tokio::time::Instant::now() + within;
        loop {
            let changed = self.shared.changed.notified();
            {
                let mut bots = self.shared.bots.lock().unwrap();
                let bot = bots
                    .get_mut(bot_id)
                    .unwrap_or_else(|| panic!("{bot_id} is not watched"));
                if let Some(found) = check(bot) {
                    return Ok(found);
                }
            }
            if tokio::time::timeout_at(until, changed).await.is_err() {
                return Err(Received {
                    packets: self.received(bot_id),
                    director_errors: self.errors(),
                });
            }
        }
    }
}

impl Shared {
    fn record(&self, body: Value, at: Instant) {
        let Some(bot_id) = body["botId"].as_str() else {
            return;
        };
        {
            let mut bots = self.bots.lock().unwrap();
            let Some(bot) = bots.get_mut(bot_id) else {
                let mut unwatched = self.unwatched.lock().unwrap();
                if unwatched.len() == UNWATCHED_KEPT {
                    unwatched.pop_front();
                }
                unwatched.push_back((body, at));
                return;
            };
            bot.received.push(body.clone());
            let packet = &body["packet"];
            match packet["type"].as_str() {
                Some("ready") => {
                    bot.readies.push(at);
                    bot.pending_heartbeats.clear();
                    bot.running = true;
                }
                Some("heartbeat") => {
                    if let Some(sent) = bot.pending_heartbeats.pop_front() {
                        bot.heartbeats
                            .push((sent, at.saturating_duration_since(sent)));
                    }
                }
                Some("shutdownResponse") => {
                    if packet["ready"] == true {
                        // The real Director stops the container: no more heartbeats.
                        bot.running = false;
                    }
                    bot.responses.push((at, body));
                }
                _ => {}
            }
        }
        self.changed.notify_waiters();
    }
}

async fn publish(channel: &Channel, bot_id: &str, body: &[u8]) -> Result<(), String> {
    channel
        .basic_publish(
            "botica.protocol".into(),
            format!("bot.{bot_id}.protocol").as_str().into(),
            BasicPublishOptions::default(),
            body,
            BasicProperties::default(),
        )
        .await
        .map_err(|e| format!("publish to {bot_id}: {e}"))?
        .await
        .map(drop)
        .map_err(|e| format!("publish to {bot_id} not confirmed: {e}"))
}

async fn connect_retrying(url: &str) -> Connection {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let attempt = tokio::time::timeout(
            Duration::from_secs(20),
            Connection::connect(url, ConnectionProperties::default()),
        )
        .await;
        match attempt {
            Ok(Ok(connection)) => return connection,
            Ok(Err(e)) if Instant::now() < until => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(Err(e)) => panic!(
                "cannot reach the RabbitMQ broker at {url}: {e}; start one (scripts/test.sh does)"
            ),
            Err(_) => panic!("no answer from the RabbitMQ broker at {url} within 20 s"),
        }
    }
}
