//! The endpoints: `/healthz`, `/readyz`, `/status`, `POST /shutdown`, and the refusals.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::token::Token;
use super::{BODY_TIMEOUT, MAX_BODY_BYTES, TOKEN_ENV};
use crate::{RequestSource, ShutdownHandle, ShutdownRequest, SupervisorState};

pub(super) struct PlaneState {
    pub(super) handle: ShutdownHandle,
    pub(super) token: Option<Token>,
}

impl PlaneState {
    /// Checks `Authorization: Bearer <token>`; without a configured token (loopback only)
    /// every request passes.
    pub(super) fn authorize(&self, req: &HttpRequest) -> Result<(), Refusal> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes)
            .and_then(bearer);
        match given {
            Some(given) if token.matches(given) => Ok(()),
            given => {
                let why = if given.is_some() {
                    "wrong bearer token"
                } else {
                    "missing bearer token"
                };
                tracing::warn!(peer = %peer(req), path = req.path(), "HTTP control plane: {why}");
                Err(Refusal::new(
                    StatusCode::UNAUTHORIZED,
                    format!("{why}: send Authorization: Bearer <{TOKEN_ENV}>"),
                ))
            }
        }
    }
}

/// A request answered with an error status and `{"error": message}`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(super) struct Refusal {
    pub(super) status: StatusCode,
    pub(super) message: String,
}

impl Refusal {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl actix_web::ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status).json(json!({ "error": self.message }));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"actix-shutdown\""),
            );
        }
        response
    }
}

/// The token of an `Authorization: Bearer <token>` header value (the scheme is
/// case-insensitive).
pub(super) fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || !rest.starts_with(b" ") {
        return None;
    }
    Some(rest.trim_ascii())
}

pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub(super) async fn readyz(state: web::Data<PlaneState>) -> HttpResponse {
    if state.handle.is_closing() {
        HttpResponse::ServiceUnavailable().json(json!({ "ready": false, "state": "closing" }))
    } else {
        HttpResponse::Ok().json(json!({ "ready": true, "state": "running" }))
    }
}

/// The body of `GET /status`.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StatusBody {
    pub(super) state: &'static str,
    pub(super) step: Option<String>,
    pub(super) exit_code: Option<i32>,
    pub(super) closing: bool,
    pub(super) pid: u32,
}

impl StatusBody {
    /// From the Supervisor's status view (read without a mailbox round-trip).
    pub(super) fn new(status: SupervisorState, closing: bool) -> Self {
        let (state, step, exit_code) = match status {
            SupervisorState::Running => ("running", None, None),
            SupervisorState::Closing { step } => {
                ("closing", step.map(|step| step.name().to_owned()), None)
            }
            SupervisorState::Finished { exit_code } => ("finished", None, Some(exit_code)),
        };
        Self {
            state,
            step,
            exit_code,
            closing,
            pid: std::process::id(),
        }
    }
}

pub(super) async fn status(
    req: HttpRequest,
    state: web::Data<PlaneState>,
) -> Result<HttpResponse, Refusal> {
    state.authorize(&req)?;
    let supervisor = state.handle.status_now();
    Ok(HttpResponse::Ok().json(StatusBody::new(supervisor, state.handle.is_closing())))
}

/// The body of `POST /shutdown`.
#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ShutdownCommand {
    pub(super) forced: bool,
    pub(super) request_id: String,
    #[serde(default)]
    pub(super) reason: Option<String>,
    #[serde(default)]
    pub(super) restart: Option<bool>,
}

impl ShutdownCommand {
    /// Parses and checks a body; the error is the message for a 400.
    pub(super) fn parse(body: &[u8]) -> Result<Self, String> {
        let command: Self = serde_json::from_slice(body).map_err(|e| {
            format!("the body must be JSON {{\"forced\": bool, \"requestId\": string, \"reason\"?: string, \"restart\"?: bool}}: {e}")
        })?;
        if command.request_id.trim().is_empty() {
            return Err("requestId must not be empty".to_owned());
        }
        Ok(command)
    }

    pub(super) fn into_request(self) -> ShutdownRequest {
        let reason = self
            .reason
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "http:shutdown".to_owned());
        let request = if self.forced {
            ShutdownRequest::forced(RequestSource::Http, reason)
        } else {
            ShutdownRequest::graceful(RequestSource::Http, reason)
        };
        request
            .with_id(self.request_id)
            .with_restart(self.restart.unwrap_or(false))
    }
}

/// The answer of `POST /shutdown`, as a director's shutdown response.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ShutdownAnswer {
    pub(super) request_id: String,
    pub(super) ready: bool,
    pub(super) vetoed_by: Vec<String>,
}

/// Reads at most [`MAX_BODY_BYTES`].
pub(super) async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<Vec<u8>, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let read = async {
        let mut body = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the body: {e}"),
                )
            })?;
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .unwrap_or_else(|_| {
            Err(Refusal::new(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time",
            ))
        })
}

/// The client's address for the log, `unknown` when actix-web does not know it.
pub(super) fn peer(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.to_string())
}

pub(super) async fn shutdown(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<PlaneState>,
) -> Result<HttpResponse, Refusal> {
    state.authorize(&req)?;
    let body = read_body(&req, payload).await?;
    let command = ShutdownCommand::parse(&body)
        .map_err(|message| Refusal::new(StatusCode::BAD_REQUEST, message))?;
    let request = command.into_request();
    tracing::info!(
        request_id = %request.id,
        reason = %request.reason,
        forced = request.forced,
        restart = request.restart,
        peer = %peer(&req),
        "HTTP control plane: shutdown requested"
    );
    let answer = state.handle.request(request).await;
    Ok(HttpResponse::Ok().json(ShutdownAnswer {
        request_id: answer.request_id,
        ready: answer.ready,
        vetoed_by: answer.vetoed_by,
    }))
}

pub(super) async fn not_found(req: HttpRequest) -> HttpResponse {
    let message = format!(
        "no such endpoint: {} {} (try GET /healthz, /readyz, /status or POST /shutdown)",
        req.method(),
        req.path()
    );
    actix_web::ResponseError::error_response(&Refusal::new(StatusCode::NOT_FOUND, message))
}
