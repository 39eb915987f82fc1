//! Whatever moment the process dies at, every state file holds one complete version: the demo
//! bot autosaves as fast as it can and is killed with SIGKILL at random moments, fifty times,
//! each new boot recovering the previous one's stale lock.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const KILLS: usize = 50;
const STATES: [&str; 4] = [
    "queue_cache",
    "reminder_tracking",
    "dm_scheduled_tracker",
    "command_cache",
];

/// A small deterministic generator (xorshift), seeded from the clock and printed, so a failing
/// run can be replayed with `CRASH_SEED`.
struct Random(u64);

impl Random {
    fn next_below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn assert_complete_state_files(dir: &Path, round: usize) {
    for name in STATES {
        let path = dir.join(format!("{name}.json"));
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let envelope: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "round {round}: {} is torn: {e}\n{}",
                path.display(),
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_eq!(envelope["schema"], 1, "round {round}: {}", path.display());
        assert_eq!(envelope["name"], name, "round {round}: {}", path.display());
        assert!(
            envelope["saved_at"].is_string(),
            "round {round}: {}",
            path.display()
        );
        assert!(
            !envelope["data"].is_null(),
            "round {round}: {}",
            path.display()
        );
    }
}

#[test]
fn state_files_survive_fifty_sigkills_at_random_moments() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("CRASH_SEED={seed}");
    let mut random = Random(seed);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("state");
    let mut saw_files = false;
    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_demo-bot"))
            .args([
                "--persist-every",
                "1",
                "--jobs-per-sec",
                "500",
                "--job-ms",
                "5",
                "--state-dir",
            ])
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn demo-bot");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("ready") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = child.kill();
            panic!("round {round}: demo-bot did not become ready");
        }
        // The random moment of death: somewhere within the next 150 ms of autosaving.
        std::thread::sleep(Duration::from_millis(random.next_below(150)));
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(!status.success(), "round {round}: killed, not exited");
        assert_complete_state_files(&dir, round);
        saw_files |= dir.join("queue_cache.json").exists();
    }
    assert!(
        saw_files,
        "the bot never autosaved: the test proved nothing"
    );
    assert!(
        dir.join("bot.lock").exists(),
        "the last SIGKILL leaves its lock behind"
    );
}
