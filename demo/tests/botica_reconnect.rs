//! A broker restarted under a running Botica bot: the bot reconnects, sends `ready` again,
//! answers heartbeats and the next request; a broker gone when the shutdown comes does not
//! fail the run.
//!
//! The restarts are real (`rabbitmqctl stop_app` / `start_app`) but happen on private
//! RabbitMQ nodes each test starts on free ports of its own and halts at the end, so tests
//! that use the shared broker on 5672 (other test binaries, other checkouts) are not
//! disturbed.
#![cfg(feature = "botica")]

#[path = "support/child.rs"]
mod child;
#[path = "support/director.rs"]
mod director;

use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};
use director::{Dialect, Director, HEARTBEAT_PERIOD, fresh_bot_id};

/// A RabbitMQ node of this test's own, halted on drop. Everything it writes (data, logs, the
/// Erlang cookie) stays in its temporary directory: `HOME` points there for the node and for
/// `rabbitmqctl`.
struct PrivateBroker {
    node: String,
    port: u16,
    dir: tempfile::TempDir,
}

impl PrivateBroker {
    fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("botica-broker-")
            .tempdir()
            .expect("temp dir");
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let node = format!(
            "botica-test-{}-{}@localhost",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let port = free_port();
        let dist_port = free_port();
        let path = |name: &str| dir.path().join(name);
        let status = rabbitmq_tool("rabbitmq-server")
            .arg("-detached")
            .env("HOME", dir.path())
            .env("RABBITMQ_NODENAME", &node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", port.to_string())
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", path("mnesia"))
            .env("RABBITMQ_LOG_BASE", path("log"))
            .env("RABBITMQ_PID_FILE", path("pid"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", path("enabled_plugins"))
            .env("RABBITMQ_CONFIG_FILE", path("rabbitmq"))
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run rabbitmq-server: {e}; install rabbitmq-server (scripts/test.sh says how)")
            });
        assert!(status.success(), "rabbitmq-server -detached: {status}");
        Self { node, port, dir }
    }

    fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    fn ctl(&self, args: &[&str]) {
        let out = self
            .ctl_command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run rabbitmqctl {args:?}: {e}"));
        assert!(
            out.status.success(),
            "rabbitmqctl -n {} {args:?}: {}{}",
            self.node,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ctl_command(&self, args: &[&str]) -> Command {
        let mut command = rabbitmq_tool("rabbitmqctl");
        command
            .env("HOME", self.dir.path())
            .arg("-n")
            .arg(&self.node)
            .args(args);
        command
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        let _ = self.ctl_command(&["stop"]).output();
    }
}

/// A RabbitMQ tool. Debian and Ubuntu put the real scripts in /usr/lib/rabbitmq/bin and
/// wrappers that only root or the `rabbitmq` user may run in /usr/sbin: use the real ones
/// when they are there, so any user can run this test; elsewhere, the tool on the PATH.
fn rabbitmq_tool(name: &str) -> Command {
    let direct = std::path::Path::new("/usr/lib/rabbitmq/bin").join(name);
    if direct.exists() {
        Command::new(direct)
    } else {
        Command::new(name)
    }
}

/// One private node at a time: two Erlang nodes booting at once on a 2-core machine (while
/// other tests run) can take longer than a client waits for either.
static ONE_NODE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_broker_restart_the_bot_sends_ready_again_and_answers() {
    let _node = ONE_NODE_AT_A_TIME.lock().await;
    let broker = PrivateBroker::start();
    let url = broker.url();
    // A durable answer queue keeps what the bot sends while this Director reconnects.
    let answers = "director-test-answers";
    let director = Director::connect_to(&url, Some(answers)).await;
    let state = StateDir::new();
    let bot_id = fresh_bot_id("reconnect");
    director.watch(&bot_id);
    let mut bot = Bot::start_with_env(
        &state,
        &["--botica", "--jobs-per-sec", "0"],
        &[("BOTICA_BOT_ID", &bot_id), ("AMQP_URL", &url)],
    );
    director.wait_ready(&bot_id, 1, READY_TIMEOUT).await;
    tokio::task::block_in_place(|| {
        bot.wait_for_line("first botica connection", READY_TIMEOUT, |l| {
            l.contains("botica: connected")
        });
    });
    drop(director);

    broker.ctl(&["stop_app"]);
    broker.ctl(&["start_app"]);
    let restarted = Instant::now();
    let director = Director::connect_to(&url, Some(answers)).await;
    director.watch(&bot_id);
    let ready = director
        .wait_ready(&bot_id, 1, Duration::from_secs(60))
        .await;
    eprintln!("ready again {:?} after start_app", ready - restarted);
    tokio::task::block_in_place(|| {
        bot.wait_for_line("botica reconnection", Duration::from_secs(10), |l| {
            l.contains("botica: connected")
        });
    });
    let heartbeats = director
        .wait_heartbeats(&bot_id, 1, 3 * HEARTBEAT_PERIOD)
        .await;
    assert!(heartbeats[0].1 < Duration::from_secs(1), "{heartbeats:?}");
    let sent = director.request(&bot_id, Dialect::Current, false).await;
    let answer = director.answer(&sent).await;
    assert_eq!(answer.packet()["ready"], true, "{:#}", answer.body);
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    assert_eq!(exit.code(), 0, "{exit}");
    let log = state.text("logs/log.txt");
    assert!(
        log.contains("botica: connection lost"),
        "the loss is logged: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_gone_before_the_shutdown_does_not_fail_the_run() {
    let _node = ONE_NODE_AT_A_TIME.lock().await;
    let broker = PrivateBroker::start();
    let url = broker.url();
    let director = Director::connect_to(&url, None).await;
    let state = StateDir::new();
    let bot_id = fresh_bot_id("brokergone");
    director.watch(&bot_id);
    let mut bot = Bot::start_with_env(
        &state,
        &["--botica", "--jobs-per-sec", "0"],
        &[("BOTICA_BOT_ID", &bot_id), ("AMQP_URL", &url)],
    );
    director.wait_ready(&bot_id, 1, READY_TIMEOUT).await;
    // The broker closes every connection; the SIGTERM that follows finds the bot's connection
    // closing, closed, or being retried, depending on how far the bot got: in every case the
    // connection counts as closed and nothing is lost.
    broker.ctl(&["stop_app"]);
    bot.signal(libc::SIGTERM);
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    assert_eq!(exit.code(), 0, "{exit}");
    let summary = state.summary();
    let botica = child::named(&summary, "resources", "name", "botica");
    assert_eq!(botica["outcome"], "completed", "{summary:#}");
}
