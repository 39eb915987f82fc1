//! Parsing a state file's bytes in one pass: straight into the caller's type for a load, or
//! counting the data's entries without building them for the boot scan. No intermediate
//! `serde_json::Value` on the way that succeeds; only a file that fails to parse is parsed a
//! second time, to say why.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Envelope, SCHEMA_VERSION};

/// Parses a state file into `T`: the state and when it was saved, or why it cannot be used.
pub(crate) fn parse_typed<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, String), String> {
    match serde_json::from_slice::<Envelope<T>>(bytes) {
        Ok(envelope) if envelope.schema == SCHEMA_VERSION => Ok((envelope.data, envelope.saved_at)),
        Ok(envelope) => Err(unknown_schema(envelope.schema)),
        Err(e) => Err(why_unusable(bytes, &e, true).unwrap_or_else(|| e.to_string())),
    }
}

/// What the boot scan learns from a state file without building its data.
pub(crate) struct Scanned {
    /// Entries in the data: array length, object size, 0 for null, 1 for a scalar.
    pub(crate) entries: usize,
    /// When it was saved.
    pub(crate) saved_at: String,
}

/// Checks a file found by the boot scan: `None` when it is valid JSON but not a state
/// envelope (no `schema` field: someone else's file, left alone).
pub(crate) fn parse_scan(bytes: &[u8]) -> Option<Result<Scanned, String>> {
    match serde_json::from_slice::<Envelope<Entries>>(bytes) {
        Ok(envelope) if envelope.schema == SCHEMA_VERSION => Some(Ok(Scanned {
            entries: envelope.data.0,
            saved_at: envelope.saved_at,
        })),
        Ok(envelope) => Some(Err(unknown_schema(envelope.schema))),
        Err(e) => why_unusable(bytes, &e, false).map(Err),
    }
}

fn unknown_schema(schema: u32) -> String {
    format!("unknown schema version {schema} (this build reads {SCHEMA_VERSION})")
}

/// Why a file that failed to parse is unusable; `None` (only when not `ours`) for valid JSON
/// that is not a state envelope. The slow path: the file is parsed again, untyped.
fn why_unusable(bytes: &[u8], e: &serde_json::Error, ours: bool) -> Option<String> {
    if bytes.is_empty() {
        return Some(format!("it is empty ({e})"));
    }
    if e.is_syntax() || e.is_eof() || e.is_io() {
        return Some(format!("it is not a valid state file: {e}"));
    }
    // Valid JSON that does not fit: whose is it, and which part does not fit?
    let header = serde_json::from_slice::<Header>(bytes).ok();
    let schema = header.as_ref().and_then(|h| h.schema);
    match schema {
        None if !ours => None,
        Some(schema) if schema != SCHEMA_VERSION => Some(unknown_schema(schema)),
        Some(_) if serde_json::from_slice::<Envelope<IgnoredAny>>(bytes).is_ok() => {
            Some(format!("its data does not have the expected shape: {e}"))
        }
        _ => Some(format!("it is not a valid state file: {e}")),
    }
}

/// Just the envelope's `schema`, whatever else the file holds.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    schema: Option<u32>,
}

/// Counts the entries of a JSON value without keeping them.
struct Entries(usize);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CountVisitor)
    }
}

struct CountVisitor;

impl<'de> Visitor<'de> for CountVisitor {
    type Value = Entries;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entries, A::Error> {
        let mut n = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(Entries(n))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
        let mut n = 0;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(Entries(n))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Entries, E> {
        Ok(Entries(0))
    }

    fn visit_none<E: de::Error>(self) -> Result<Entries, E> {
        Ok(Entries(0))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Entries, E> {
        Ok(Entries(1))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Entries, E> {
        Ok(Entries(1))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Entries, E> {
        Ok(Entries(1))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Entries, E> {
        Ok(Entries(1))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Entries, E> {
        Ok(Entries(1))
    }
}
