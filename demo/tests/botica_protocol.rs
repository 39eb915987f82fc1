//! The demo bot as a Botica bot, against a real RabbitMQ broker and the stand-in Director
//! (`support/director.rs`): `ready`, heartbeats, both request dialects with their exact answer
//! keys, every request answered, and malformed packets survived.
#![cfg(feature = "botica")]

#[path = "support/child.rs"]
mod child;
#[path = "support/director.rs"]
mod director;

use std::time::{Duration, Instant};

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};
use director::{Answer, Dialect, Director, HEARTBEAT_PERIOD, amqp_url, fresh_bot_id};

/// Keys of an answer to a current request / to a v0.1.0 one.
const CURRENT_KEYS: [&str; 3] = ["ready", "requestId", "type"];
const V010_KEYS: [&str; 2] = ["ready", "type"];

fn start_bot(state: &StateDir, bot_id: &str, args: &[&str]) -> Bot {
    let mut all = vec!["--botica"];
    all.extend_from_slice(args);
    Bot::start_with_env(
        state,
        &all,
        &[
            ("BOTICA_BOT_ID", bot_id),
            ("BOTICA_BOT_TYPE", "demo"),
            ("AMQP_URL", &amqp_url()),
        ],
    )
}

/// Starts a watched bot and waits for its `ready` packet (boot on a loaded machine: 60 s).
async fn ready_bot(
    director: &Director,
    state: &StateDir,
    name: &str,
    args: &[&str],
) -> (Bot, String) {
    let bot_id = fresh_bot_id(name);
    director.watch(&bot_id);
    let bot = start_bot(state, &bot_id, args);
    director.wait_ready(&bot_id, 1, child::READY_TIMEOUT).await;
    (bot, bot_id)
}

fn assert_answer(answer: &Answer, bot_id: &str, dialect: Dialect, ready: bool) {
    assert_eq!(answer.body["type"], "bot", "{:#}", answer.body);
    assert_eq!(answer.body["botId"], bot_id, "{:#}", answer.body);
    assert_eq!(
        answer.packet()["type"],
        "shutdownResponse",
        "{:#}",
        answer.body
    );
    assert_eq!(answer.packet()["ready"], ready, "{:#}", answer.body);
    let expected: &[&str] = match dialect {
        Dialect::Current => &CURRENT_KEYS,
        Dialect::V010 => &V010_KEYS,
    };
    assert_eq!(answer.keys(), expected, "{:#}", answer.body);
}

/// A forced run skips the non-critical states: a loss, so the exit code is 1 and the
/// summary says what was lost.
fn assert_forced_exit(bot: &mut Bot, state: &StateDir) {
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    assert_eq!(exit.code(), 1, "{exit}");
    let summary = state.summary();
    assert_eq!(summary["forced"], true, "{summary:#}");
    assert_eq!(summary["source"], "director", "{summary:#}");
    assert_eq!(summary["clean"], false, "{summary:#}");
    assert!(
        summary["lost"].as_array().is_some_and(|lost| lost
            .iter()
            .any(|l| l == "state reminder_tracking skipped (forced)")),
        "{summary:#}"
    );
}

fn wait_exit_code(bot: &mut Bot) -> i32 {
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    let code = exit.code();
    assert_eq!(code, 0, "{exit}");
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_comes_within_5_s_of_boot_and_heartbeats_are_answered_within_1_s() {
    let director = Director::connect().await;
    let state = StateDir::new();
    let bot_id = fresh_bot_id("ready");
    director.watch(&bot_id);
    let spawned = Instant::now();
    let mut bot = start_bot(&state, &bot_id, &["--jobs-per-sec", "0"]);
    let ready = director
        .wait_ready(&bot_id, 1, Duration::from_secs(5))
        .await;
    eprintln!("ready {:?} after spawn", ready - spawned);
    let heartbeats = director
        .wait_heartbeats(&bot_id, 2, 3 * HEARTBEAT_PERIOD)
        .await;
    for (_, latency) in &heartbeats {
        assert!(*latency < Duration::from_secs(1), "{heartbeats:?}");
    }
    eprintln!(
        "heartbeat latencies {:?}",
        heartbeats.iter().map(|(_, l)| *l).collect::<Vec<_>>()
    );
    let sent = director.request(&bot_id, Dialect::Current, false).await;
    let answer = director.answer(&sent).await;
    assert_answer(&answer, &bot_id, Dialect::Current, true);
    assert_eq!(answer.packet()["requestId"], sent.id.as_deref().unwrap());
    wait_exit_code(&mut bot);
    let summary = state.summary();
    assert_eq!(summary["source"], "director", "{summary:#}");
    assert_eq!(summary["forced"], false, "{summary:#}");
    for file in child::STATE_FILES {
        assert!(state.file(file).exists(), "{file} was saved");
    }
    let botica = child::named(&summary, "resources", "name", "botica");
    assert_eq!(botica["outcome"], "completed", "{summary:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_answered_within_1_s_while_a_slow_hook_runs() {
    let director = Director::connect().await;
    let state = StateDir::new();
    let (mut bot, bot_id) = ready_bot(
        &director,
        &state,
        "slowhook",
        &["--jobs-per-sec", "0", "--slow-hook", "5"],
    )
    .await;
    let sent = director.request(&bot_id, Dialect::Current, false).await;
    tokio::task::block_in_place(|| {
        bot.wait_for_line("slow-hook", Duration::from_secs(10), |l| {
            l.starts_with("slow-hook: taking")
        })
    });
    // The hook begins as the request arrives: the window counts from the request's sending
    // (not from when the test read the hook's line, which may be late), so it lasts the
    // hook's 5 s and holds at least two of the heartbeats sent every 2 s.
    let hook_began = sent.at;
    let answer = director.answer(&sent).await;
    assert_answer(&answer, &bot_id, Dialect::Current, true);
    assert!(
        answer.latency >= Duration::from_secs(5),
        "the answer waited for the hook: {:?}",
        answer.latency
    );
    let during: Vec<(Instant, Duration)> = director
        .heartbeats(&bot_id)
        .into_iter()
        .filter(|(at, _)| *at >= hook_began && *at < answer.at)
        .collect();
    assert!(
        during.len() >= 2,
        "heartbeats answered while the hook ran: {during:?}"
    );
    for (_, latency) in &during {
        assert!(*latency < Duration::from_secs(1), "{during:?}");
    }
    eprintln!(
        "heartbeat latencies during a 5 s hook: {:?}",
        during.iter().map(|(_, l)| *l).collect::<Vec<_>>()
    );
    wait_exit_code(&mut bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_back_to_back_requests_of_both_dialects_get_three_ready_answers() {
    let director = Director::connect().await;
    let state = StateDir::new();
    let (mut bot, bot_id) = ready_bot(&director, &state, "three", &["--jobs-per-sec", "0"]).await;
    // The first (a v0.1.0 one) decides; the two after it join the shutdown it began.
    let first = director.request(&bot_id, Dialect::V010, false).await;
    let second = director.request(&bot_id, Dialect::Current, false).await;
    let third = director.request(&bot_id, Dialect::Current, false).await;
    for (sent, dialect) in [
        (&first, Dialect::V010),
        (&second, Dialect::Current),
        (&third, Dialect::Current),
    ] {
        let answer = director.answer(sent).await;
        assert_answer(&answer, &bot_id, dialect, true);
        if let Some(id) = &sent.id {
            assert_eq!(answer.packet()["requestId"], id.as_str());
        }
    }
    wait_exit_code(&mut bot);
}

/// An idle bot answers a forced request `ready: true` at once and stops.
async fn idle_bot_answers_forced(dialect: Dialect) {
    let director = Director::connect().await;
    let state = StateDir::new();
    let (mut bot, bot_id) = ready_bot(&director, &state, "forced", &["--jobs-per-sec", "0"]).await;
    let sent = director.request(&bot_id, dialect, true).await;
    let answer = director.answer(&sent).await;
    assert_answer(&answer, &bot_id, dialect, true);
    if let Some(id) = &sent.id {
        assert_eq!(answer.packet()["requestId"], id.as_str());
    }
    assert!(
        answer.latency < Duration::from_secs(1),
        "{:?}",
        answer.latency
    );
    assert_forced_exit(&mut bot, &state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_bot_answers_a_current_forced_request_at_once_with_its_id() {
    idle_bot_answers_forced(Dialect::Current).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_bot_answers_a_v010_forced_request_at_once_without_a_request_id() {
    idle_bot_answers_forced(Dialect::V010).await;
}

/// A busy bot answers graceful requests of both dialects `ready: false` and keeps running,
/// answering heartbeats; a forced request in `forced_dialect` is answered `ready: true` and
/// stops it.
async fn busy_bot_cancels_until_forced(forced_dialect: Dialect) {
    let director = Director::connect().await;
    let state = StateDir::new();
    let (mut bot, bot_id) = ready_bot(
        &director,
        &state,
        "busy",
        &["--busy-veto", "--jobs-per-sec", "20", "--job-ms", "20000"],
    )
    .await;
    // Jobs must be in flight for the busy-guard to veto (a graceful request nobody vetoes
    // would start the shutdown, so there is one try): the bot's own heartbeat line says when.
    tokio::task::block_in_place(|| bot.wait_jobs_in_flight(2, READY_TIMEOUT));
    let current = director.request(&bot_id, Dialect::Current, false).await;
    let answer = director.answer(&current).await;
    assert_answer(&answer, &bot_id, Dialect::Current, false);
    let old = director.request(&bot_id, Dialect::V010, false).await;
    let answer = director.answer(&old).await;
    assert_answer(&answer, &bot_id, Dialect::V010, false);
    let heartbeats = director
        .wait_heartbeats(&bot_id, 2, 2 * HEARTBEAT_PERIOD)
        .await;
    assert!(
        tokio::task::block_in_place(|| bot.exited_within(Duration::ZERO)).is_none(),
        "the bot keeps running after canceling"
    );
    assert!(
        heartbeats.iter().all(|(_, l)| *l < Duration::from_secs(1)),
        "{heartbeats:?}"
    );
    let forced = director.request(&bot_id, forced_dialect, true).await;
    let answer = director.answer(&forced).await;
    assert_answer(&answer, &bot_id, forced_dialect, true);
    assert_forced_exit(&mut bot, &state);
    let summary = state.summary();
    assert!(
        summary["vetoes"].as_array().is_some_and(|v| v
            .iter()
            .filter(|v| v["hook"] == "busy-guard")
            .count()
            == 2),
        "{summary:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_bot_cancels_graceful_requests_of_both_dialects_until_a_current_forced_one() {
    busy_bot_cancels_until_forced(Dialect::Current).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_bot_cancels_graceful_requests_of_both_dialects_until_a_v010_forced_one() {
    busy_bot_cancels_until_forced(Dialect::V010).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_once_the_shutdown_is_decided_are_answered_ready_with_their_own_ids() {
    let director = Director::connect().await;
    let state = StateDir::new();
    let (mut bot, bot_id) = ready_bot(
        &director,
        &state,
        "during",
        &["--jobs-per-sec", "0", "--slow-hook", "3"],
    )
    .await;
    // A SIGTERM (as `docker stop` sends) decides the shutdown; its hooks take 3 s.
    bot.signal(libc::SIGTERM);
    tokio::task::block_in_place(|| {
        bot.wait_for_line("slow-hook", Duration::from_secs(10), |l| {
            l.starts_with("slow-hook: taking")
        })
    });
    let current = director.request(&bot_id, Dialect::Current, false).await;
    let old = director.request(&bot_id, Dialect::V010, false).await;
    let forced = director.request(&bot_id, Dialect::Current, true).await;
    for (sent, dialect) in [
        (&current, Dialect::Current),
        (&old, Dialect::V010),
        (&forced, Dialect::Current),
    ] {
        let answer = director.answer(sent).await;
        assert_answer(&answer, &bot_id, dialect, true);
        if let Some(id) = &sent.id {
            assert_eq!(answer.packet()["requestId"], id.as_str());
        }
        // At once: not after the 3 s hook that is still running.
        assert!(
            answer.latency < Duration::from_secs(1),
            "{:?}: {:?}",
            sent,
            answer.latency
        );
    }
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    let summary = state.summary();
    assert_eq!(summary["reason"], "signal:SIGTERM", "{summary:#}\n{exit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_packets_leave_the_bot_answering() {
    let director = Director::connect().await;
    let state = StateDir::new();
    let (mut bot, bot_id) = ready_bot(&director, &state, "odd", &["--jobs-per-sec", "0"]).await;
    let huge = format!(
        r#"{{"type":"shutdownRequest","forced":true,"requestId":"{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    let noise: [&[u8]; 7] = [
        b"{this is not json",
        br#"{"type":"mysteryPacket"}"#,
        br#"{"type":"shutdownRequest","forced":"maybe"}"#,
        br#"{"type":"shutdownRequest","forced":false,"requestId":42}"#,
        br#"{"type":7}"#,
        br#"["shutdownRequest"]"#,
        huge.as_bytes(),
    ];
    for body in noise {
        director.send_raw(&bot_id, body).await;
    }
    // Heartbeats come after the noise in the queue: an answer means it was all handled.
    let heartbeats = director
        .wait_heartbeats(&bot_id, 1, 2 * HEARTBEAT_PERIOD)
        .await;
    assert!(heartbeats[0].1 < Duration::from_secs(1), "{heartbeats:?}");
    assert!(
        director
            .received(&bot_id)
            .iter()
            .all(|b| b["packet"]["type"] != "shutdownResponse"),
        "no noise was taken for a request: {:#?}",
        director.received(&bot_id)
    );
    let sent = director.request(&bot_id, Dialect::Current, false).await;
    let answer = director.answer(&sent).await;
    assert_answer(&answer, &bot_id, Dialect::Current, true);
    wait_exit_code(&mut bot);
    let log = state.text("logs/log.txt");
    for expected in [
        "malformed packet dropped: not JSON",
        "unknown type",
        "mysteryPacket",
        r#""forced" must be a boolean"#,
        r#""requestId" must be a string"#,
        r#""type" is not a string"#,
        "not a JSON object",
        "above the 65536-byte limit",
        // Each line names the packet it dropped: the start of its body, escaped, and its size.
        "{this is not json",
        "(17 bytes)",
        "(1048631 bytes)",
    ] {
        assert!(
            log.contains(expected),
            "{expected:?} is not in the log:\n{log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_botica_a_forced_run_that_cannot_end_before_sigkill_is_refused_at_start() {
    let state = StateDir::new();
    let bot_id = fresh_bot_id("nofit");
    // docker stop's SIGKILL comes 10 s after SIGTERM: a 9 s forced run and the 2 s
    // hard-deadline margin cannot end before it.
    let mut bot = start_bot(&state, &bot_id, &["--forced-budget", "9"]);
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    assert_eq!(exit.code(), 2, "{exit}");
    for numbers in [
        "forced_budget (9s)",
        "hard_margin (2s)",
        "stop_timeout (10s)",
    ] {
        assert!(exit.stderr.contains(numbers), "{numbers} in {exit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_botica_a_busy_bot_is_down_before_dockers_sigkill() {
    let director = Director::connect().await;
    let state = StateDir::new();
    let (mut bot, _) = ready_bot(
        &director,
        &state,
        "sigkill",
        &["--busy-veto", "--jobs-per-sec", "20", "--job-ms", "60000"],
    )
    .await;
    // Both workers hold a 60 s job: the busy-guard defers the SIGTERM.
    tokio::task::block_in_place(|| bot.wait_jobs_in_flight(2, READY_TIMEOUT));
    let sent = Instant::now();
    // What `docker stop` does first; its SIGKILL would follow 10 s later.
    bot.signal(libc::SIGTERM);
    let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
    let took = sent.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "down {took:?} after SIGTERM\n{exit}"
    );
    eprintln!("a busy bot under Botica was down {took:?} after SIGTERM");
    let summary = state.summary();
    assert_eq!(summary["source"], "signal", "{summary:#}");
    assert_eq!(
        summary["escalated"], true,
        "forced early: {summary:#}\n{exit}"
    );
}
