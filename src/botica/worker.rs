//! The thread that keeps a Botica bot connected: its own small runtime, so heartbeats are
//! answered at once whatever the actor thread is doing (hooks, a shutdown step, a blocked
//! closer). It reconnects with backoff, sends `ready` on every connect, answers every
//! shutdown request, and closes the connection when the closer asks it to.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use lapin::Consumer;
use lapin::options::BasicAckOptions;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection::{Publisher, Session};
use super::protocol::{BotPacket, DirectorPacket, for_log, id_for_log};
use super::{BoticaConfig, ConnectedFn};
use crate::{RequestSource, ShutdownHandle, ShutdownRequest};

/// How long answers already being written get once the closer asks to close.
const ANSWERS_DRAIN: Duration = Duration::from_millis(500);

/// The longest a connection attempt (TCP, AMQP handshake, exchange, queue, consumer) may take
/// before it counts as failed and is retried: a broker that accepts the TCP connection while
/// it is still starting may never finish the handshake, and lapin sets no limit of its own.
const OPEN_TIMEOUT: Duration = Duration::from_secs(15);

/// The closer's side of the worker thread.
#[derive(Clone, Debug)]
pub(crate) struct Worker {
    stop: CancellationToken,
    closed: watch::Receiver<Option<Result<(), String>>>,
}

impl Worker {
    /// Starts the thread `botica`.
    pub(crate) fn spawn(
        handle: ShutdownHandle,
        config: BoticaConfig,
        on_connected: ConnectedFn,
    ) -> std::io::Result<Self> {
        let stop = CancellationToken::new();
        let (closed_tx, closed) = watch::channel(None);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("botica")
            .build()?;
        let token = stop.clone();
        std::thread::Builder::new()
            .name("botica".to_owned())
            .spawn(move || {
                let link = Link {
                    handle,
                    config,
                    on_connected,
                    stop: token,
                    answers: TaskTracker::new(),
                    decided: Arc::new(AtomicBool::new(false)),
                };
                let outcome = runtime.block_on(link.run());
                let _ = closed_tx.send(Some(outcome));
            })?;
        Ok(Self { stop, closed })
    }

    /// Stops consuming, lets answers being written finish briefly, closes the connection and
    /// returns how that went. Idempotent: every call gets the same outcome.
    pub(crate) async fn close(&self) -> Result<(), String> {
        self.stop.cancel();
        let mut closed = self.closed.clone();
        match closed.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or(Ok(())),
            Err(_) => Err("the botica thread ended without closing its connection".to_owned()),
        }
    }
}

/// Why a consumer stopped.
enum Ended {
    /// The closer asked.
    Stop,
    /// The connection or the consumer was lost.
    Lost(String),
}

struct Link {
    handle: ShutdownHandle,
    config: BoticaConfig,
    on_connected: ConnectedFn,
    stop: CancellationToken,
    /// Answers waiting for the Supervisor (graceful requests), so the consumer never waits.
    answers: TaskTracker,
    /// A request was answered `ready: true`: the shutdown is decided.
    decided: Arc<AtomicBool>,
}

impl Link {
    async fn run(self) -> Result<(), String> {
        let mut backoff = self.config.reconnect_min;
        loop {
            let opened = tokio::select! {
                () = self.stop.cancelled() => return Ok(()),
                opened = tokio::time::timeout(OPEN_TIMEOUT, Session::open(&self.config)) => {
                    opened.unwrap_or_else(|_| Err(lapin::Error::from(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no answer within {OPEN_TIMEOUT:?}"),
                    ))))
                }
            };
            match opened {
                Ok((session, mut consumer)) => {
                    backoff = self.config.reconnect_min;
                    let publisher = session.publisher();
                    if publisher.send(&BotPacket::Ready).await {
                        tracing::info!(bot_id = %self.config.bot_id, queue = %self.config.queue(), "botica: connected, consuming; ready sent");
                    }
                    (self.on_connected)(&self.config);
                    // The consumer and the channel live until the connection is closed: dropping
                    // either first would race its own close against the connection's.
                    match self.consume(&mut consumer, &publisher).await {
                        Ended::Stop => {
                            self.answers.close();
                            let drained = tokio::time::timeout(ANSWERS_DRAIN, self.answers.wait());
                            if drained.await.is_err() {
                                tracing::warn!(
                                    "botica: answers still being written after {ANSWERS_DRAIN:?}; closing anyway"
                                );
                            }
                            let closed = session.close().await;
                            if closed.is_ok() {
                                tracing::info!("botica: connection closed");
                            }
                            return closed;
                        }
                        Ended::Lost(why) => {
                            tracing::warn!("botica: connection lost ({why}); reconnecting");
                            let _ = session.close().await;
                        }
                    }
                }
                Err(e) => tracing::warn!(
                    url = %redact(&self.config.amqp_url),
                    "botica: cannot connect: {e}; retrying in {backoff:?}"
                ),
            }
            tokio::select! {
                () = self.stop.cancelled() => return Ok(()),
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.config.reconnect_max);
        }
    }

    /// Handles deliveries one at a time (prefetch 1), acking each once handled, until the
    /// closer asks or the connection is lost.
    async fn consume(&self, consumer: &mut Consumer, publisher: &Publisher) -> Ended {
        loop {
            let next = tokio::select! {
                biased;
                () = self.stop.cancelled() => return Ended::Stop,
                next = consumer.next() => next,
            };
            let delivery = match next {
                None => return Ended::Lost("the broker canceled the consumer".to_owned()),
                Some(Err(e)) => return Ended::Lost(e.to_string()),
                Some(Ok(delivery)) => delivery,
            };
            self.handle_packet(&delivery.data, publisher).await;
            if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
                return Ended::Lost(format!("ack failed: {e}"));
            }
        }
    }

    async fn handle_packet(&self, body: &[u8], publisher: &Publisher) {
        match DirectorPacket::parse(body) {
            DirectorPacket::Heartbeat => {
                publisher.send(&BotPacket::Heartbeat).await;
            }
            DirectorPacket::ShutdownRequest { forced, request_id } => {
                self.answer_request(forced, request_id, publisher).await;
            }
            DirectorPacket::Unknown { kind } => {
                tracing::warn!(body = %body_for_log(body), "botica: packet of unknown type {kind} dropped");
            }
            DirectorPacket::Malformed(why) => {
                tracing::warn!(body = %body_for_log(body), "botica: malformed packet dropped: {why}");
            }
        }
    }

    /// Every request gets an answer in its own dialect. Once the shutdown is under way or
    /// decided, at once `ready: true`; a forced one `ready: true` at once, before the hooks
    /// (which still run, to save critical data); a graceful one once the hooks have spoken,
    /// from a task of its own so the consumer goes on answering heartbeats meanwhile.
    async fn answer_request(&self, forced: bool, id: Option<String>, publisher: &Publisher) {
        let shown = id_for_log(id.as_deref());
        let decided = self.decided.load(Ordering::SeqCst) || self.handle.is_closing();
        match Plan::for_request(decided, forced) {
            Plan::ReadyAlready => {
                tracing::info!(forced, request_id = %shown, "botica: shutdown request while the shutdown is under way: ready");
                publisher.send(&response(id, true)).await;
            }
            Plan::ReadyThenAsk => {
                tracing::info!(forced, request_id = %shown, "botica: forced shutdown request from the director");
                let asked = self.handle.request(director_request(true, id.as_deref()));
                self.decided.store(true, Ordering::SeqCst);
                publisher.send(&response(id, true)).await;
                self.answers.spawn(async move {
                    asked.await;
                });
            }
            Plan::AskThenAnswer => {
                tracing::info!(forced, request_id = %shown, "botica: shutdown request from the director");
                let asked = self.handle.request(director_request(false, id.as_deref()));
                let (decided, publisher) = (Arc::clone(&self.decided), publisher.clone());
                self.answers.spawn(async move {
                    let verdict = asked.await;
                    if verdict.ready {
                        decided.store(true, Ordering::SeqCst);
                    } else {
                        let hooks: Vec<String> =
                            verdict.vetoed_by.iter().map(|h| for_log(h)).collect();
                        tracing::info!(request_id = %shown, vetoed_by = %hooks.join(", "), "botica: graceful shutdown canceled by hooks");
                    }
                    publisher.send(&response(id, verdict.ready)).await;
                });
            }
        }
    }
}

/// How a shutdown request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// The shutdown is under way or decided: `ready: true` at once; nothing to ask.
    ReadyAlready,
    /// Forced: `ready: true` at once, then the Supervisor is asked (its hooks still run).
    ReadyThenAsk,
    /// Graceful: the hooks decide; the answer follows, from a task of its own.
    AskThenAnswer,
}

impl Plan {
    fn for_request(decided: bool, forced: bool) -> Self {
        match (decided, forced) {
            (true, _) => Self::ReadyAlready,
            (false, true) => Self::ReadyThenAsk,
            (false, false) => Self::AskThenAnswer,
        }
    }
}

fn director_request(forced: bool, id: Option<&str>) -> ShutdownRequest {
    let request = if forced {
        ShutdownRequest::forced(RequestSource::Director, "director:forced")
    } else {
        ShutdownRequest::graceful(RequestSource::Director, "director")
    };
    match id {
        Some(id) => request.with_id(id),
        None => request,
    }
}

/// The start of a packet's body, escaped, for the log line that drops it.
fn body_for_log(body: &[u8]) -> String {
    let start = &body[..body.len().min(256)];
    format!(
        "{} ({} bytes)",
        for_log(&String::from_utf8_lossy(start)),
        body.len()
    )
}

fn response(request_id: Option<String>, ready: bool) -> BotPacket {
    BotPacket::ShutdownResponse { request_id, ready }
}

/// The broker address without its credentials, for logs.
pub(crate) fn redact(url: &str) -> String {
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
    fn once_decided_every_request_is_ready_at_once_and_forced_ones_never_wait_for_hooks() {
        assert_eq!(Plan::for_request(true, false), Plan::ReadyAlready);
        assert_eq!(Plan::for_request(true, true), Plan::ReadyAlready);
        assert_eq!(Plan::for_request(false, true), Plan::ReadyThenAsk);
        assert_eq!(Plan::for_request(false, false), Plan::AskThenAnswer);
    }

    #[test]
    fn a_request_carries_the_directors_id_when_it_has_one() {
        let request = director_request(true, Some("Ab3dE6gH"));
        assert!(request.forced);
        assert_eq!(request.id, "Ab3dE6gH");
        assert_eq!(request.source, RequestSource::Director);
        assert!(!director_request(false, None).forced);
    }

    #[test]
    fn credentials_are_redacted_from_logged_urls() {
        assert_eq!(
            redact("amqp://user:secret@host:5672/%2f"),
            "amqp://***@host:5672/%2f"
        );
        assert_eq!(redact("amqp://host"), "amqp://host");
    }
}
