//! The demo bot as a Botica bot, against a real RabbitMQ broker: the director's graceful and
//! forced shutdown requests reach the hooks and get the answers the director expects.
#![cfg(feature = "botica")]

#[path = "support/child.rs"]
mod child;
#[path = "support/director.rs"]
mod director;

use std::time::Duration;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};
use director::{Director, amqp_url, fresh_bot_id};

const DIRECTOR_GRACEFUL_TIMEOUT: Duration = Duration::from_secs(10);
const DIRECTOR_FORCED_TIMEOUT: Duration = Duration::from_secs(3);

fn start_bot(state: &StateDir, bot_id: &str, args: &[&str]) -> Bot {
    let mut all = vec!["--botica"];
    all.extend_from_slice(args);
    let mut bot = Bot::start_with_env(
        state,
        &all,
        &[
            ("BOTICA_BOT_ID", bot_id),
            ("BOTICA_BOT_TYPE", "demo"),
            ("AMQP_URL", &amqp_url()),
        ],
    );
    tokio::task::block_in_place(|| {
        bot.wait_ready(READY_TIMEOUT);
        bot.wait_for_line("botica connected", READY_TIMEOUT, |l| {
            l.contains("botica: connected")
        });
    });
    bot
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_bot_answers_a_graceful_request_ready_and_shuts_down_with_its_state_saved() {
    let mut director = Director::connect().await;
    let state = StateDir::new();
    let bot_id = fresh_bot_id("idle");
    let mut bot = start_bot(&state, &bot_id, &["--jobs-per-sec", "0"]);
    director
        .request_shutdown(&bot_id, false, "graceful-1")
        .await;
    let answer = director
        .answer(&bot_id, "graceful-1", DIRECTOR_GRACEFUL_TIMEOUT)
        .await;
    assert_eq!(answer["type"], "bot");
    assert_eq!(answer["botId"], bot_id.as_str());
    assert_eq!(answer["packet"]["ready"], true, "{answer}");
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    assert_eq!(exit.code(), 0, "{exit:?}");
    let summary = state.summary();
    assert_eq!(summary["source"], "director", "{summary:#}");
    assert_eq!(summary["forced"], false);
    for file in child::STATE_FILES {
        assert!(state.file(file).exists(), "{file} was saved");
    }
    let botica = child::named(&summary, "resources", "name", "botica");
    assert_eq!(
        botica["outcome"], "completed",
        "the AMQP connection is closed at CloseAll"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_bot_answers_not_ready_and_keeps_running_until_a_forced_request() {
    let mut director = Director::connect().await;
    let state = StateDir::new();
    let bot_id = fresh_bot_id("busy");
    let mut bot = start_bot(
        &state,
        &bot_id,
        &["--busy-veto", "--jobs-per-sec", "20", "--job-ms", "20000"],
    );
    // Jobs must be in flight for the busy-guard to veto. The bot prints nothing per job; at 20
    // jobs a second, each taken by a worker within 50 ms and lasting 20 s, one second after
    // the connection both workers are busy. (A graceful request nobody vetoes would start the
    // shutdown, so there is one try.)
    tokio::time::sleep(Duration::from_secs(1)).await;
    director
        .request_shutdown(&bot_id, false, "graceful-1")
        .await;
    let answer = director
        .answer(&bot_id, "graceful-1", DIRECTOR_GRACEFUL_TIMEOUT)
        .await;
    assert_eq!(
        answer["packet"]["ready"], false,
        "a busy bot cancels: {answer}"
    );
    assert!(
        tokio::task::block_in_place(|| bot.exited_within(Duration::from_secs(2))).is_none(),
        "the bot keeps running after canceling"
    );
    director.request_shutdown(&bot_id, true, "forced-1").await;
    let forced = director
        .answer(&bot_id, "forced-1", DIRECTOR_FORCED_TIMEOUT)
        .await;
    assert_eq!(forced["packet"]["ready"], true, "{forced}");
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    // Forced: the non-critical states are skipped, which is a loss, so the exit code says so.
    assert_eq!(exit.code(), 1, "{exit:?}");
    let summary = state.summary();
    assert_eq!(summary["forced"], true, "{summary:#}");
    assert_eq!(summary["clean"], false, "{summary:#}");
    assert!(
        summary["lost"].as_array().is_some_and(|lost| lost
            .iter()
            .any(|l| l == "state reminder_tracking skipped (forced)")),
        "{summary:#}"
    );
    assert!(
        summary["vetoes"]
            .as_array()
            .is_some_and(|v| v.iter().any(|v| v["hook"] == "busy-guard")),
        "{summary:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unknown_packets_are_logged_and_survived() {
    let mut director = Director::connect().await;
    let state = StateDir::new();
    let bot_id = fresh_bot_id("odd");
    let mut bot = start_bot(&state, &bot_id, &["--jobs-per-sec", "0"]);
    director.send_raw(&bot_id, b"{this is not json").await;
    director
        .send_raw(&bot_id, br#"{"type":"mysteryPacket"}"#)
        .await;
    director
        .send_raw(&bot_id, br#"{"type":"shutdownRequest","forced":"maybe"}"#)
        .await;
    director
        .request_shutdown(&bot_id, false, "after-noise")
        .await;
    let answer = director
        .answer(&bot_id, "after-noise", DIRECTOR_GRACEFUL_TIMEOUT)
        .await;
    assert_eq!(
        answer["packet"]["ready"], true,
        "the consumer survived: {answer}"
    );
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    assert_eq!(exit.code(), 0, "{exit:?}");
    let log = state.text("logs/log.txt");
    assert!(log.contains("malformed packet ignored: not JSON"), "{log}");
    assert!(log.contains("mysteryPacket"), "{log}");
    assert!(log.contains("shutdownRequest needs a boolean"), "{log}");
}
