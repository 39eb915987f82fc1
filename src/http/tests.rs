//! Unit tests of the control plane's parsing, tokens and status bodies.

use super::endpoints::*;
use super::token::*;
use super::*;
use crate::{RequestSource, SupervisorState};

#[test]
fn bearer_header_yields_the_token_whatever_the_scheme_case() {
    assert_eq!(bearer(b"Bearer s3cret"), Some(&b"s3cret"[..]));
    assert_eq!(bearer(b"bearer  s3cret "), Some(&b"s3cret"[..]));
    assert_eq!(bearer(b"Basic dXNlcjpwYXNz"), None);
    assert_eq!(bearer(b"Bearers3cret"), None);
    assert_eq!(bearer(b"Bear"), None);
}

#[test]
fn token_matches_only_itself() {
    let token = Configured::new("s3cret").token().cloned().expect("a token");
    assert!(token.matches(b"s3cret"));
    assert!(!token.matches(b"s3creT"));
    assert!(!token.matches(b"s3cre"));
    assert!(!token.matches(b"s3crets"));
    assert!(!token.matches(b""));
    assert!(
        matches!(Configured::new(""), Configured::None),
        "an empty token is no token"
    );
    assert_eq!(format!("{token:?}"), "Token(<redacted>)");
}

#[test]
fn surrounding_whitespace_is_removed_and_a_blank_token_is_told_apart() {
    let token = Configured::new(" s3cret\n")
        .token()
        .cloned()
        .expect("a token");
    assert!(token.matches(b"s3cret"));
    assert!(matches!(Configured::new(" \t\n"), Configured::Blank));
    let addr: SocketAddr = "0.0.0.0:80".parse().expect("an address");
    let refusal = Configured::new("   ").refusal(addr).to_string();
    assert!(refusal.contains("only whitespace"), "{refusal}");
    assert!(refusal.contains("0.0.0.0:80"), "{refusal}");
}

#[test]
fn only_loopback_addresses_count_as_loopback() {
    for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
        assert!(is_loopback(ip.parse().expect("an ip")), "{ip}");
    }
    for ip in [
        "0.0.0.0",
        "::",
        "10.0.0.1",
        "192.168.1.1",
        "::ffff:10.0.0.1",
    ] {
        assert!(!is_loopback(ip.parse().expect("an ip")), "{ip}");
    }
}

#[test]
fn shutdown_body_becomes_an_http_request_with_its_id() {
    let command = ShutdownCommand::parse(
        br#"{"forced":true,"requestId":"r-1","reason":"deploy","restart":true}"#,
    )
    .expect("valid");
    let request = command.into_request();
    assert!(request.forced);
    assert!(request.restart);
    assert_eq!(request.id, "r-1");
    assert_eq!(request.reason, "deploy");
    assert_eq!(request.source, RequestSource::Http);

    let request = ShutdownCommand::parse(br#"{"forced":false,"requestId":"r-2"}"#)
        .expect("valid")
        .into_request();
    assert!(!request.forced);
    assert!(!request.restart);
    assert_eq!(request.reason, "http:shutdown");
}

#[test]
fn malformed_shutdown_bodies_are_refused_with_a_reason() {
    for (body, says) in [
        (&b"{not json"[..], "must be JSON"),
        (br#"{"requestId":"r"}"#, "forced"),
        (br#"{"forced":true}"#, "requestId"),
        (br#"{"forced":"yes","requestId":"r"}"#, "boolean"),
        (br#"{"forced":true,"requestId":"  "}"#, "must not be empty"),
    ] {
        let error = ShutdownCommand::parse(body).expect_err("refused");
        assert!(error.contains(says), "{error:?} should mention {says:?}");
    }
}

#[test]
fn status_names_the_state_and_the_step() {
    let running = StatusBody::new(SupervisorState::Running, false);
    assert_eq!(
        (running.state, running.step, running.exit_code),
        ("running", None, None)
    );
    let closing = StatusBody::new(
        SupervisorState::Closing {
            step: Some(actix_shutdown_actors::Step::PersistState),
        },
        true,
    );
    assert_eq!(
        (closing.state, closing.step.as_deref()),
        ("closing", Some("persist_state"))
    );
    let finished = StatusBody::new(SupervisorState::Finished { exit_code: 75 }, true);
    assert_eq!((finished.state, finished.exit_code), ("finished", Some(75)));
}

#[test]
fn refusal_names_the_address_and_the_way_out() {
    let error = ControlPlaneError::NoTokenOnPublicAddress {
        addr: "0.0.0.0:8080".parse().expect("addr"),
    };
    let text = error.to_string();
    assert!(text.contains("0.0.0.0:8080"), "{text}");
    assert!(text.contains(TOKEN_ENV), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
}
