//! A fleet of Botica bots stopped at once, as a Director stopping a whole deployment does:
//! 20 bot processes (own state directories and ids) asked together, five rounds. Every bot
//! answers within 2 s and exits 0 — no run lost to a broker-side close racing ours.
#![cfg(feature = "botica")]

#[path = "support/child.rs"]
mod child;
#[path = "support/director.rs"]
mod director;

use std::time::{Duration, Instant};

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};
use director::{Dialect, Director, amqp_url, fresh_bot_id};

const BOTS: usize = 20;
const ROUNDS: usize = 5;
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_20_bots_asked_at_once_answers_within_2_s_and_exits_0_five_times() {
    let director = Director::connect().await;
    let url = amqp_url();
    let mut failures = Vec::new();
    for round in 1..=ROUNDS {
        let fleet: Vec<(String, StateDir)> = (0..BOTS)
            .map(|n| (fresh_bot_id(&format!("fleet{round}-{n}")), StateDir::new()))
            .collect();
        let mut bots: Vec<Bot> = fleet
            .iter()
            .map(|(bot_id, state)| {
                director.watch(bot_id);
                Bot::start_with_env(
                    state,
                    &["--botica", "--jobs-per-sec", "0"],
                    &[("BOTICA_BOT_ID", bot_id), ("AMQP_URL", &url)],
                )
            })
            .collect();
        let started = Instant::now();
        for (bot_id, _) in &fleet {
            director.wait_ready(bot_id, 1, READY_TIMEOUT).await;
        }
        let all_ready = started.elapsed();
        // All at once: both dialects, half each.
        let mut sent = Vec::with_capacity(BOTS);
        for (n, (bot_id, _)) in fleet.iter().enumerate() {
            let dialect = if n % 2 == 0 {
                Dialect::Current
            } else {
                Dialect::V010
            };
            sent.push(director.request(bot_id, dialect, false).await);
        }
        let mut slowest = Duration::ZERO;
        for request in &sent {
            let answer = director.answer(request).await;
            assert_eq!(answer.packet()["ready"], true, "{:#}", answer.body);
            slowest = slowest.max(answer.latency);
            if answer.latency > ANSWER_WITHIN {
                failures.push(format!(
                    "round {round}: {} answered after {:?}",
                    request.bot_id, answer.latency
                ));
            }
        }
        let mut clean = 0;
        for (bot, (bot_id, _)) in bots.iter_mut().zip(&fleet) {
            let exit = tokio::task::block_in_place(|| bot.wait_exit(EXIT_TIMEOUT));
            let code = exit.status.code();
            if code == Some(0) {
                clean += 1;
            } else {
                failures.push(format!("round {round}: {bot_id} exited {code:?}\n{exit}"));
            }
        }
        eprintln!(
            "round {round}: {BOTS} bots ready {all_ready:?} after spawn; slowest answer {slowest:?}; {clean}/{BOTS} exited 0"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
