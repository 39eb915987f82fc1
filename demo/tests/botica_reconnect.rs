//! A broker restarted under a running Botica bot: the bot reconnects and still answers the
//! next request. It restarts the broker's application with `rabbitmqctl`, so it lives in a
//! test binary of its own (test binaries run one after another).
#![cfg(feature = "botica")]

#[path = "support/child.rs"]
mod child;
#[path = "support/director.rs"]
mod director;

use std::process::Command;
use std::time::Duration;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};
use director::{Director, amqp_url, fresh_bot_id};

fn rabbitmqctl(args: &[&str]) {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run rabbitmqctl {args:?}: {e}; install rabbitmq-server")
        });
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_reconnects_after_a_broker_restart_and_answers_the_next_request() {
    let state = StateDir::new();
    let bot_id = fresh_bot_id("reconnect");
    let url = amqp_url();
    let mut bot = Bot::start_with_env(
        &state,
        &["--botica", "--jobs-per-sec", "0"],
        &[("BOTICA_BOT_ID", &bot_id), ("AMQP_URL", &url)],
    );
    tokio::task::block_in_place(|| {
        bot.wait_ready(READY_TIMEOUT);
        bot.wait_for_line("first botica connection", READY_TIMEOUT, |l| {
            l.contains("botica: connected")
        });
    });
    rabbitmqctl(&["stop_app"]);
    rabbitmqctl(&["start_app"]);
    rabbitmqctl(&["await_startup"]);
    tokio::task::block_in_place(|| {
        bot.wait_for_line("botica reconnection", Duration::from_secs(60), |l| {
            l.contains("botica: connected")
        });
    });
    assert!(
        tokio::task::block_in_place(|| bot.exited_within(Duration::ZERO)).is_none(),
        "the lost connection did not take the bot down"
    );
    let mut director = Director::connect().await;
    director
        .request_shutdown(&bot_id, false, "after-restart")
        .await;
    let answer = director
        .answer(&bot_id, "after-restart", Duration::from_secs(10))
        .await;
    assert_eq!(answer["packet"]["ready"], true, "{answer}");
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    assert_eq!(exit.code(), 0, "{exit:?}");
    let log = state.text("logs/log.txt");
    assert!(
        log.contains("botica: connection lost"),
        "the loss is logged: {log}"
    );
}
