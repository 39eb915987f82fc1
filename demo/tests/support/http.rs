//! A plain HTTP/1.1 client for whole-process tests on loopback: one request per connection
//! (`Connection: close`), every step bounded.
//!
//! Included from a test file with `#[path = "support/http.rs"] mod http;`; not every file uses
//! every helper.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// Bound for one HTTP exchange on loopback (connect, write, read).
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// An answer: its status, head and body.
#[derive(Debug)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The status line and headers.
    pub(crate) head: String,
    /// The body.
    pub(crate) body: String,
}

impl Response {
    /// The body as JSON (panics with the answer otherwise).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self}"))
    }

    /// A header's value.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n\n{}", self.head, self.body)
    }
}

/// The bytes of a request with `Connection: close`, a bearer token and a JSON body if given.
pub(crate) fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    bytes
}

/// One exchange, every step bounded by [`IO_TIMEOUT`]; panics unless it is answered.
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> Response {
    exchange(addr, &request(addr, method, path, token, body))
}

/// Sends a whole request (head and body) and reads the answer until the server closes;
/// panics unless it is answered.
pub(crate) fn exchange(addr: SocketAddr, request: &[u8]) -> Response {
    try_exchange(addr, request).unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
}

/// As [`exchange`], but a connection the server refuses (or resets before answering) is an
/// `Err`, not a panic.
pub(crate) fn try_exchange(addr: SocketAddr, request: &[u8]) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(IO_TIMEOUT))
        .expect("write timeout");
    let line = String::from_utf8_lossy(request.split(|&b| b == b'\r').next().unwrap_or_default())
        .into_owned();
    stream.write_all(request)?;
    let mut raw = Vec::new();
    // A server that answers before reading the whole body (413) may reset the connection
    // after its answer: keep what arrived.
    if let Err(e) = stream.read_to_end(&mut raw)
        && raw.is_empty()
    {
        return Err(e);
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    if text.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            format!("{line}: closed without an answer"),
        ));
    }
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{line}: no HTTP answer: {text:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}: bad status line: {head:?}"));
    Ok(Response {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}
