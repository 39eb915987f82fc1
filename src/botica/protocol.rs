//! The packets of the Botica protocol, both dialects: what the Director sends a bot (parsed
//! leniently: unknown fields are ignored) and what a bot sends the Director (always wrapped as
//! `{"type":"bot","botId":…,"packet":…}`).
//!
//! The current protocol carries a `requestId` in shutdown requests and expects it back; v0.1.0
//! (the last tagged release) has none and its parser rejects unknown fields, so an answer
//! carries `requestId` exactly when its request did.

use serde_json::{Map, Value, json};

/// Bodies above this size are dropped unread: no Director packet comes near it.
pub(crate) const MAX_PACKET_BYTES: usize = 64 * 1024;

/// Longest part of an outside string written into a log line.
const LOGGED_CHARS: usize = 80;

/// A packet from the Director, or why it cannot be one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DirectorPacket {
    /// `{"type":"heartbeat"}`: answer one at once.
    Heartbeat,
    /// `{"type":"shutdownRequest","forced":…}` with a `requestId` (current protocol) or
    /// without (v0.1.0).
    ShutdownRequest {
        /// Cancel is ignored when true.
        forced: bool,
        /// `None` in the v0.1.0 dialect.
        request_id: Option<String>,
    },
    /// A well-formed packet of a type a bot does not handle.
    Unknown {
        /// Its `type`, escaped for logs.
        kind: String,
    },
    /// Not a packet: the reason, escaped for logs.
    Malformed(String),
}

impl DirectorPacket {
    /// Parses a delivery body.
    pub(crate) fn parse(body: &[u8]) -> Self {
        if body.len() > MAX_PACKET_BYTES {
            return Self::Malformed(format!(
                "{} bytes, above the {MAX_PACKET_BYTES}-byte limit",
                body.len()
            ));
        }
        let value: Value = match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(e) => return Self::Malformed(format!("not JSON ({e})")),
        };
        let Some(object) = value.as_object() else {
            return Self::Malformed("not a JSON object".to_owned());
        };
        match object.get("type") {
            Some(Value::String(kind)) if kind == "heartbeat" => Self::Heartbeat,
            Some(Value::String(kind)) if kind == "shutdownRequest" => shutdown_request(object),
            Some(Value::String(kind)) => Self::Unknown {
                kind: for_log(kind),
            },
            Some(other) => Self::Malformed(format!("\"type\" is not a string: {}", kind_of(other))),
            None => Self::Malformed("no \"type\" field".to_owned()),
        }
    }
}

fn shutdown_request(object: &Map<String, Value>) -> DirectorPacket {
    // As the Director's Jackson mapping reads it: a missing `forced` is false.
    let forced = match object.get("forced") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(forced)) => *forced,
        Some(other) => {
            return DirectorPacket::Malformed(format!(
                "shutdownRequest: \"forced\" must be a boolean, not {}",
                kind_of(other)
            ));
        }
    };
    let request_id = match object.get("requestId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(other) => {
            return DirectorPacket::Malformed(format!(
                "shutdownRequest: \"requestId\" must be a string, not {}",
                kind_of(other)
            ));
        }
    };
    DirectorPacket::ShutdownRequest { forced, request_id }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A packet a bot sends the Director.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BotPacket {
    /// Sent on every (re)connect: the Director counts the bot as running and heartbeats it.
    Ready,
    /// The answer to the Director's heartbeat.
    Heartbeat,
    /// The answer to a shutdown request, in the request's dialect.
    ShutdownResponse {
        /// The request's id; `None` for a v0.1.0 request (no `requestId` key at all).
        request_id: Option<String>,
        /// False exactly when a hook canceled a graceful request.
        ready: bool,
    },
}

impl BotPacket {
    /// The packet as JSON, without the wrapper.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Self::Ready => json!({"type": "ready"}),
            Self::Heartbeat => json!({"type": "heartbeat"}),
            Self::ShutdownResponse {
                request_id: Some(id),
                ready,
            } => json!({"type": "shutdownResponse", "requestId": id, "ready": ready}),
            Self::ShutdownResponse {
                request_id: None,
                ready,
            } => json!({"type": "shutdownResponse", "ready": ready}),
        }
    }

    /// The body to publish: `{"type":"bot","botId":"<id>","packet":{…}}`.
    pub(crate) fn wrapped(&self, bot_id: &str) -> Vec<u8> {
        json!({"type": "bot", "botId": bot_id, "packet": self.to_json()})
            .to_string()
            .into_bytes()
    }
}

/// An outside string made safe for a log line: escaped (no control characters, no raw
/// quotes) and cut to a bounded length.
pub(crate) fn for_log(s: &str) -> String {
    let mut cut: String = s.chars().take(LOGGED_CHARS).collect();
    if cut.len() < s.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// The request id as a log shows it (`-` for a v0.1.0 request).
pub(crate) fn id_for_log(request_id: Option<&str>) -> String {
    request_id.map_or_else(|| "- (v0.1.0 dialect)".to_owned(), for_log)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn a_current_request_keeps_its_id_and_ignores_unknown_fields() {
        let packet = DirectorPacket::parse(
            br#"{"type":"shutdownRequest","responsePacketClass":"es.us.isa.botica.protocol.client.ShutdownResponsePacket","requestId":"Ab3dE6gH","forced":true}"#,
        );
        assert_eq!(
            packet,
            DirectorPacket::ShutdownRequest {
                forced: true,
                request_id: Some("Ab3dE6gH".into())
            }
        );
    }

    #[test]
    fn a_v010_request_has_no_id() {
        assert_eq!(
            DirectorPacket::parse(br#"{"type":"shutdownRequest","forced":false}"#),
            DirectorPacket::ShutdownRequest {
                forced: false,
                request_id: None
            }
        );
    }

    #[test]
    fn answers_carry_request_id_exactly_when_the_request_did() {
        let current = BotPacket::ShutdownResponse {
            request_id: Some("r1".into()),
            ready: true,
        }
        .to_json();
        assert_eq!(keys(&current), ["ready", "requestId", "type"]);
        assert_eq!(current["requestId"], "r1");
        let old = BotPacket::ShutdownResponse {
            request_id: None,
            ready: false,
        }
        .to_json();
        assert_eq!(keys(&old), ["ready", "type"]);
        assert_eq!(old["ready"], false);
    }

    #[test]
    fn every_bot_packet_is_wrapped_with_the_bot_id() {
        let body: Value = serde_json::from_slice(&BotPacket::Ready.wrapped("bot-1")).unwrap();
        assert_eq!(keys(&body), ["botId", "packet", "type"]);
        assert_eq!(body["type"], "bot");
        assert_eq!(body["botId"], "bot-1");
        assert_eq!(body["packet"], json!({"type": "ready"}));
        let body: Value = serde_json::from_slice(&BotPacket::Heartbeat.wrapped("b")).unwrap();
        assert_eq!(body["packet"], json!({"type": "heartbeat"}));
    }

    #[test]
    fn malformed_packets_say_why_and_unknown_types_are_told_apart() {
        let malformed = |body: &[u8]| match DirectorPacket::parse(body) {
            DirectorPacket::Malformed(why) => why,
            other => panic!("{other:?} from {}", String::from_utf8_lossy(body)),
        };
        assert!(malformed(b"{not json").starts_with("not JSON"));
        assert!(malformed(b"[1,2]").contains("not a JSON object"));
        assert!(malformed(br#"{"forced":true}"#).contains("no \"type\""));
        assert!(malformed(br#"{"type":7}"#).contains("\"type\" is not a string"));
        assert!(malformed(br#"{"type":"shutdownRequest","forced":"yes"}"#).contains("\"forced\""));
        assert!(
            malformed(br#"{"type":"shutdownRequest","forced":true,"requestId":5}"#)
                .contains("\"requestId\"")
        );
        let huge = vec![b' '; MAX_PACKET_BYTES + 1];
        assert!(malformed(&huge).contains("limit"));
        assert_eq!(
            DirectorPacket::parse(br#"{"type":"mystery\npacket"}"#),
            DirectorPacket::Unknown {
                kind: "\"mystery\\npacket\"".into()
            }
        );
        assert_eq!(
            DirectorPacket::parse(br#"{"type":"heartbeat","extra":1}"#),
            DirectorPacket::Heartbeat
        );
    }

    #[test]
    fn outside_strings_are_escaped_and_bounded_in_logs() {
        assert_eq!(for_log("a\"b\n\u{1b}[31m"), "\"a\\\"b\\n\\u{1b}[31m\"");
        let long = "x".repeat(1000);
        assert!(for_log(&long).chars().count() < 90);
    }
}
