//! Strings that come from outside (reasons, request ids, hook, task and state names, bot ids)
//! are escaped where they are written, so that a log file keeps one record per line and no
//! terminal control sequence: [`escape`] for one string, [`EscapedFields`] for every field of
//! every `tracing` record.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;

/// `text` with every character that could break a line, move the cursor, colour a terminal or
/// reorder what a reader sees replaced by a visible escape: `\n`, `\r`, `\t`, and `\u{..}` for
/// the other control characters (ESC included), the Unicode line and paragraph separators and
/// the bidirectional overrides. Text without such characters is returned as is.
///
/// # Examples
/// ```
/// use actix_shutdown_actors::escape;
///
/// assert_eq!(escape("x\n2026 ERROR forged\u{1b}[31m"), "x\\n2026 ERROR forged\\u{1b}[31m");
/// assert_eq!(escape("plain reason"), "plain reason");
/// ```
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// A `tracing_subscriber` field formatter that writes like the default one (the message, then
/// `name=value` pairs separated by spaces) with every value passed through [`escape`]: a
/// record stays on one line whatever its fields contain. Install it with
/// `fmt::layer().fmt_fields(EscapedFields)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = EscapingVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct EscapingVisitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: fmt::Result,
}

impl Visit for EscapingVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        let name = field.name();
        if name.starts_with("log.") {
            return;
        }
        let separator = if self.first { "" } else { " " };
        self.first = false;
        let text = format!("{value:?}");
        let text = escape(&text);
        self.result = if name == "message" {
            write!(self.writer, "{separator}{text}")
        } else {
            let name = name.strip_prefix("r#").unwrap_or(name);
            write!(self.writer, "{separator}{name}={text}")
        };
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[test]
    fn line_breaks_escapes_and_bidi_controls_become_visible_escapes() {
        assert_eq!(escape("a\r\nb\tc"), "a\\r\\nb\\tc");
        assert_eq!(escape("\u{1b}[31mred\u{7f}"), "\\u{1b}[31mred\\u{7f}");
        assert_eq!(
            escape("x\u{2028}y\u{202e}z\u{9b}"),
            "x\\u{2028}y\\u{202e}z\\u{9b}"
        );
        assert!(matches!(escape("élan, 日本, emoji 🚀"), Cow::Borrowed(_)));
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Self;

        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    #[test]
    fn a_record_with_hostile_fields_and_message_stays_on_one_line() {
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(EscapedFields)
            .with_ansi(false)
            .with_writer(out.clone())
            .finish();
        let forged = "x\n2026-01-01T00:00:00Z  ERROR forged\u{1b}[31m";
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(reason = %forged, id = forged, "asked: {forged}");
        });

        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(
            text.contains("asked: x\\n2026-01-01T00:00:00Z  ERROR forged\\u{1b}[31m"),
            "{text}"
        );
        assert!(text.contains(" reason=x\\n2026"), "{text}");
        assert!(text.contains(" id=\"x\\n2026"), "{text}");
    }
}
