//! Logging: a million records through our Logger against tracing-appender.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_shutdown_actors::messages::{FlushLogs, StopLogging};
use actix_shutdown_actors::{LogOptions, LogQueue, Logger};
use tracing_subscriber::layer::SubscriberExt;

use crate::rows::{Row, median, ms, reps};

// ---------------------------------------------------------------- logging

pub(crate) const RECORDS: usize = 1_000_000;

/// Emits `n` records through `subscriber` on this thread, formatted by the same `fmt` layer
/// configuration as the crate's own `logging::install`.
pub(crate) fn emit<W>(writer: W, n: usize)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_thread_names(true)
            .with_writer(writer),
    );
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..n {
            tracing::info!(job = i, queue = "reminders", "job done in {} ms", i % 97);
        }
    });
}

pub(crate) fn count_lines(path: &Path) -> usize {
    let file = std::fs::File::open(path).expect("log file");
    BufReader::with_capacity(1 << 20, file).lines().count()
}

/// Our Logger: `LogQueue` as the `fmt` writer; done when `FlushLogs` is acknowledged (written
/// and fsynced).
pub(crate) async fn log_ours(dir: &Path, n: usize) -> f64 {
    let path = dir.join("ours.log");
    let _ = std::fs::remove_file(&path);
    let options = LogOptions {
        rotate_bytes: None,
        ..LogOptions::default()
    };
    let (queue, writer) = LogQueue::start(&path, &options).expect("log queue");
    let logger = Logger::new(queue.clone(), writer, Duration::from_secs(60)).start();
    let started = Instant::now();
    emit(queue, n);
    let ack = logger
        .send(FlushLogs)
        .await
        .expect("the Logger answers")
        .expect("flushed");
    let took = ms(started.elapsed());
    assert_eq!(ack.written, n as u64);
    logger
        .send(StopLogging)
        .await
        .expect("the Logger answers")
        .expect("stopped");
    assert_eq!(count_lines(&path), n, "our Logger lost records");
    took
}

/// Wraps tracing-appender's sink: counts the records its worker writes and, at the worker's
/// flush after the last one, fsyncs the file and reports — so the reference is timed to the
/// same point as ours (every record written and fsynced), without its guard's fixed waits.
pub(crate) struct Finish<W> {
    inner: W,
    path: PathBuf,
    written: usize,
    expected: usize,
    done: Option<mpsc::Sender<Instant>>,
}

impl<W: Write> Write for Finish<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write_all(buf)?;
        self.written += 1;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()?;
        if self.written == self.expected
            && let Some(done) = self.done.take()
        {
            std::fs::File::open(&self.path)?.sync_data()?;
            let _ = done.send(Instant::now());
        }
        Ok(())
    }
}

/// tracing-appender's `non_blocking`, lossless, over `sink`; done when every record is written
/// and the file fsynced.
pub(crate) fn log_reference<W: Write + Send + 'static>(path: &Path, sink: W, n: usize) -> f64 {
    let (done, finished) = mpsc::channel();
    let finish = Finish {
        inner: sink,
        path: path.to_owned(),
        written: 0,
        expected: n,
        done: Some(done),
    };
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(finish);
    let started = Instant::now();
    emit(writer, n);
    let finished_at = finished
        .recv_timeout(Duration::from_secs(120))
        .expect("tracing-appender finished");
    drop(guard);
    let took = ms(finished_at - started);
    assert_eq!(count_lines(path), n, "tracing-appender lost records");
    took
}

pub(crate) fn appender_file(
    dir: &Path,
) -> (PathBuf, tracing_appender::rolling::RollingFileAppender) {
    let path = dir.join("appender.log");
    let _ = std::fs::remove_file(&path);
    (path, tracing_appender::rolling::never(dir, "appender.log"))
}

pub(crate) fn buffered_file(dir: &Path) -> (PathBuf, std::io::BufWriter<std::fs::File>) {
    let path = dir.join("appender-buffered.log");
    let file = std::fs::File::create(&path).expect("log file");
    (path, std::io::BufWriter::with_capacity(256 * 1024, file))
}

pub(crate) async fn log_1m_records(scratch: &Path) -> Vec<Row> {
    let dir = scratch.join("logs");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let n = if std::env::var_os("COMPARE_QUICK").is_some() {
        RECORDS / 10
    } else {
        RECORDS
    };
    // Warm-up on a tenth of the records.
    log_ours(&dir, n / 10).await;
    let (path, sink) = appender_file(&dir);
    log_reference(&path, sink, n / 10);
    let mut ours = Vec::new();
    let mut reference = Vec::new();
    let mut buffered = Vec::new();
    for i in 0..reps(3) {
        if i % 2 == 1 {
            let (path, sink) = appender_file(&dir);
            reference.push(log_reference(&path, sink, n));
        }
        ours.push(log_ours(&dir, n).await);
        if i % 2 == 0 {
            let (path, sink) = appender_file(&dir);
            reference.push(log_reference(&path, sink, n));
        }
        let (path, sink) = buffered_file(&dir);
        buffered.push(log_reference(&path, sink, n));
    }
    let ours = median(ours);
    vec![
        Row::new(
            "log_1m_records",
            "ms",
            ours,
            "tracing-appender non_blocking (lossless) over rolling::never, same fmt layer, + fsync",
            median(reference),
            Some(1.0),
        ),
        Row::new(
            "log_1m_records_vs_buffered",
            "ms",
            ours,
            "tracing-appender non_blocking (lossless) over a 256 KiB BufWriter<File>, + fsync",
            median(buffered),
            None,
        ),
    ]
}
