//! `--api ADDR`: the bot's own actix-web API, an example of a user's server that is drained
//! before the state is persisted (`--http` stays the library's control plane).
//!
//! `POST /jobs` with `{"work_ms": N}` runs a job of N ms inside the request, records it in the
//! persisted state `api_jobs` (`api_jobs.json`: an object keyed by job id) and answers
//! `200 {"id": "<id>", "stored": true}`; `GET /jobs/{id}` answers 200 for a stored job, 404
//! otherwise. Once the shutdown has begun a new job is refused with 503; once the server is
//! drained, connections are refused.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_shutdown::{ClosingFlag, ShutdownHandle};
use actix_web::{App, HttpResponse, HttpServer, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::jobs::now_ms;

/// The registered name of the API's state (`api_jobs.json`).
pub(crate) const API_STATE: &str = "api_jobs";

/// The longest job a request may ask for.
const MAX_WORK: Duration = Duration::from_secs(60);

/// A job done through the API, as saved in `api_jobs.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ApiJob {
    /// The work it asked for, in milliseconds.
    pub(crate) work_ms: u64,
    /// When it finished, in milliseconds since the Unix epoch.
    pub(crate) finished_at_ms: u64,
}

/// The jobs done through the API, by id.
type ApiJobs = Arc<Mutex<BTreeMap<String, ApiJob>>>;

/// The body of `POST /jobs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewJob {
    work_ms: u64,
}

/// What the handlers share.
#[derive(Debug)]
struct Api {
    jobs: ApiJobs,
    closing: ClosingFlag,
}

/// `POST /jobs`: runs the job inside the request, then stores it.
async fn post_job(api: web::Data<Api>, body: web::Json<NewJob>) -> HttpResponse {
    if api.closing.is_closing() {
        return HttpResponse::ServiceUnavailable().json(json!({"error": "shutting down"}));
    }
    let work = Duration::from_millis(body.work_ms);
    if work > MAX_WORK {
        return HttpResponse::BadRequest()
            .json(json!({"error": format!("work_ms is at most {}", MAX_WORK.as_millis())}));
    }
    let id = uuid::Uuid::new_v4().to_string();
    say!("api: job {id} started ({} ms)", body.work_ms);
    tokio::time::sleep(work).await;
    let job = ApiJob {
        work_ms: body.work_ms,
        finished_at_ms: now_ms(),
    };
    match api.jobs.lock() {
        Ok(mut jobs) => {
            jobs.insert(id.clone(), job);
            HttpResponse::Ok().json(json!({"id": id, "stored": true}))
        }
        Err(_) => HttpResponse::InternalServerError().json(json!({"error": "store poisoned"})),
    }
}

/// `GET /jobs/{id}`: the stored job, or 404.
async fn get_job(api: web::Data<Api>, id: web::Path<String>) -> HttpResponse {
    let job = api
        .jobs
        .lock()
        .ok()
        .and_then(|jobs| jobs.get(id.as_str()).cloned());
    match job {
        Some(job) => HttpResponse::Ok().json(json!({"id": *id, "job": job})),
        None => HttpResponse::NotFound().json(json!({"error": "no such job"})),
    }
}

/// Loads and registers `api_jobs`, binds the API on `addr` and starts it, drained by the
/// library at the `drain` step (before the state is persisted). The addresses it listens on.
pub(crate) fn start(shutdown: &ShutdownHandle, addr: &str) -> Result<Vec<SocketAddr>, String> {
    let saved: BTreeMap<String, ApiJob> = match shutdown.load(API_STATE) {
        Ok(loaded) => loaded.into_value().unwrap_or_default(),
        Err(e) => {
            eprintln!("demo-bot: {e}");
            BTreeMap::new()
        }
    };
    let jobs: ApiJobs = Arc::new(Mutex::new(saved));
    {
        let jobs = Arc::clone(&jobs);
        shutdown
            .persist_critical_fn(API_STATE, move || {
                jobs.lock().map(|j| j.clone()).unwrap_or_default()
            })
            .map_err(|e| e.to_string())?;
    }
    let api = web::Data::new(Api {
        jobs,
        closing: shutdown.closing_flag(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(api.clone())
            .route("/jobs", web::post().to(post_job))
            .route("/jobs/{id}", web::get().to(get_job))
    })
    .workers(1)
    .bind(addr)
    .map_err(|e| format!("--api {addr}: cannot bind: {e}"))?;
    let addrs = server.addrs();
    // Turns actix-web's own signal handling off and drains the server at `drain`.
    shutdown.serve("api", server);
    Ok(addrs)
}
