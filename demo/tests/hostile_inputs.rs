//! Hostile strings from outside: a shutdown reason and a request id that try to forge a log
//! line and colour the terminal never reach a log raw; the console carries no ANSI escape
//! when it is not a terminal; a whitespace-only token is refused for a public address.
#![cfg(all(unix, feature = "http"))]

#[path = "support/child.rs"]
mod child;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};

const TOKEN: &str = "s3cret-token-for-tests";
const FORGED: &str = "x\n2026-01-01T00:00:00Z  ERROR forged\u{1b}[31m";
const ESC: u8 = 0x1b;
/// Bound for one HTTP exchange on loopback.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// `POST /shutdown` with this JSON body; the status line.
fn post_shutdown(addr: SocketAddr, body: &str) -> String {
    let request = format!(
        "POST /shutdown HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn a_forged_reason_and_request_id_forge_no_log_line_and_carry_no_escape_byte() {
    let state = StateDir::new();
    let mut bot = Bot::start_with_env(
        &state,
        &["--http", "127.0.0.1:0"],
        &[("SHUTDOWN_TOKEN", TOKEN)],
    );
    let line = bot.wait_for_line("control plane", READY_TIMEOUT, |l| {
        l.starts_with("control plane listening on ")
    });
    let addr: SocketAddr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    bot.wait_ready(READY_TIMEOUT);

    let body = serde_json::json!({"forced": false, "requestId": FORGED, "reason": FORGED});
    let status = post_shutdown(addr, &body.to_string());
    assert!(status.contains(" 200 "), "{status}");
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");

    let log = std::fs::read(state.file("logs/log.txt")).expect("log.txt");
    assert!(!log.contains(&ESC), "an ESC byte in log.txt");
    let log = String::from_utf8(log).expect("log.txt is UTF-8");
    assert!(
        log.contains("x\\n2026-01-01T00:00:00Z  ERROR forged\\u{1b}[31m"),
        "the reason is logged, escaped:\n{log}"
    );
    for line in log.lines() {
        assert!(
            !line.starts_with("2026-01-01T00:00:00Z"),
            "a forged line in log.txt: {line:?}"
        );
        let stamp = line.split_whitespace().next().unwrap_or_default();
        assert!(
            is_utc_timestamp(stamp),
            "a log.txt line that is not a record of its own: {line:?}"
        );
    }
    for (stream, text) in [("stdout", &exit.stdout), ("stderr", &exit.stderr)] {
        assert!(
            !text.as_bytes().contains(&ESC),
            "an ESC byte on {stream}\n{exit}"
        );
        assert!(
            !text.lines().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
            "a forged line on {stream}\n{exit}"
        );
    }
    let summary = state.summary();
    assert_eq!(summary["reason"], FORGED, "JSON keeps the value as it came");
}

/// `2026-11-26T14:54:00.898735Z`: the shape of the timestamp that opens every record.
fn is_utc_timestamp(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && word.ends_with('Z')
        && b.iter().all(|c| c.is_ascii_digit() || b"-:.TZ".contains(c))
}

#[test]
fn the_console_written_to_a_file_has_no_ansi_escape() {
    let state = StateDir::new();
    std::fs::create_dir(state.path()).unwrap();
    // A corrupt state file: its archive is a WARN on the console.
    std::fs::write(state.file("queue_cache.json"), b"{not json").unwrap();
    let console = state.path().parent().unwrap().join("console.txt");
    let mut command = std::process::Command::new("sh");
    command.arg("-c").arg(format!(
        "exec '{}' --state-dir '{}' 2>'{}'",
        env!("CARGO_BIN_EXE_demo-bot"),
        state.path().display(),
        console.display()
    ));
    let mut bot = Bot::start_command(command);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");

    let written = std::fs::read(&console).expect("the console file");
    let text = String::from_utf8_lossy(&written);
    assert!(
        text.contains("WARN"),
        "the warning reached the console file:\n{text}"
    );
    assert!(
        !written.contains(&ESC),
        "an ESC byte in the console file:\n{text:?}"
    );
}

#[test]
fn a_whitespace_only_token_is_refused_for_a_public_address() {
    let state = StateDir::new();
    let mut bot = Bot::start_with_env(
        &state,
        &["--http", "0.0.0.0:0"],
        &[("SHUTDOWN_TOKEN", " \t ")],
    );
    let exit = bot.wait_exit(EXIT_TIMEOUT);

    assert_eq!(exit.code(), 2, "{exit}");
    assert!(exit.stderr.contains("only whitespace"), "{exit}");
    assert!(!exit.stdout.contains("listening"), "{exit}");
}
