//! The bot's protocol queue as botica-core declares it (`durable=false, autoDelete=true`):
//! gone once the bot has exited; what was queued before the bot connected never ends it; a
//! queue of that name declared with other arguments is consumed as it is.
#![cfg(feature = "botica")]

use std::time::Duration;

#[path = "support/child.rs"]
mod child;
#[path = "support/director.rs"]
mod director;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};
use director::{Dialect, Director, HEARTBEAT_PERIOD, amqp_url, fresh_bot_id};
use lapin::options::QueueDeclareOptions;

fn start_bot(state: &StateDir, bot_id: &str) -> Bot {
    Bot::start_with_env(
        state,
        &["--botica", "--jobs-per-sec", "0"],
        &[("BOTICA_BOT_ID", bot_id), ("AMQP_URL", &amqp_url())],
    )
}

/// Asks the bot to stop, checks the answer and the clean exit.
async fn stop_bot(director: &Director, bot: &mut Bot, bot_id: &str) {
    let sent = director.request(bot_id, Dialect::Current, false).await;
    let answer = director.answer(&sent).await;
    assert_eq!(answer.packet()["ready"], true, "{:#}", answer.body);
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    assert_eq!(exit.code(), 0, "{exit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_is_gone_once_the_bot_has_exited() {
    let director = Director::connect().await;
    let state = StateDir::new();
    let bot_id = fresh_bot_id("queuegone");
    director.watch(&bot_id);
    let mut bot = start_bot(&state, &bot_id);
    director.wait_ready(&bot_id, 1, READY_TIMEOUT).await;
    assert!(
        director.bot_queue_exists(&bot_id).await,
        "the bot declared its queue"
    );
    stop_bot(&director, &mut bot, &bot_id).await;
    assert!(
        director
            .bot_queue_gone_within(&bot_id, Duration::from_secs(10))
            .await,
        "an autoDelete queue goes with its last consumer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_queued_before_the_bot_starts_does_not_end_it() {
    let director = Director::connect().await;
    let state = StateDir::new();
    let bot_id = fresh_bot_id("stale");
    director.watch(&bot_id);
    // A queue left by something else (as botica-core declares it: it stays until a consumer
    // comes and goes) holds a forced request sent while no bot consumed.
    let as_botica_core = QueueDeclareOptions {
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    director.declare_bot_queue(&bot_id, as_botica_core).await;
    let stale = director.request(&bot_id, Dialect::Current, true).await;
    let mut bot = start_bot(&state, &bot_id);
    director.wait_ready(&bot_id, 1, READY_TIMEOUT).await;
    // A heartbeat is answered after whatever was queued before it.
    director
        .wait_heartbeats(&bot_id, 1, 2 * HEARTBEAT_PERIOD)
        .await;
    assert!(
        director
            .received(&bot_id)
            .iter()
            .all(|b| b["packet"]["type"] != "shutdownResponse"),
        "the stale request {stale:?} got no answer: {:#?}",
        director.received(&bot_id)
    );
    assert!(
        tokio::task::block_in_place(|| bot.exited_within(std::time::Duration::ZERO)).is_none(),
        "the stale request did not end the bot"
    );
    stop_bot(&director, &mut bot, &bot_id).await;
    let summary = state.summary();
    assert_eq!(
        summary["forced"], false,
        "the shutdown was the later graceful request: {summary:#}"
    );
    let log = state.text("logs/log.txt");
    assert!(
        log.contains("dropped packets queued before this bot connected"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_declared_with_other_arguments_is_consumed_as_it_is() {
    let director = Director::connect().await;
    let state = StateDir::new();
    let bot_id = fresh_bot_id("durableq");
    director.watch(&bot_id);
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    director.declare_bot_queue(&bot_id, durable).await;
    let mut bot = start_bot(&state, &bot_id);
    director.wait_ready(&bot_id, 1, READY_TIMEOUT).await;
    stop_bot(&director, &mut bot, &bot_id).await;
    let log = state.text("logs/log.txt");
    assert!(
        log.contains("the queue exists with other arguments"),
        "the bot says so: {log}"
    );
    assert!(
        director.bot_queue_exists(&bot_id).await,
        "a durable queue is not the bot's to delete"
    );
    director.delete_bot_queue(&bot_id).await;
}
