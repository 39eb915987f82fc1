//! Logger and LogQueue on a real file in a temp dir: nothing lost across threads, FlushLogs as a
//! barrier, StopLogging, lossy and lossless queues under a flood, file modes.
//!
//! Records are enqueued directly from several threads; the tracing path uses a thread-local
//! dispatcher (`set_default`), since a global one can be set only once per test binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::messages::{FlushAck, FlushLogs, LoggingStopped, StopLogging};
use actix_shutdown_actors::{LogOptions, LogQueue, Logger};
use tracing_subscriber::layer::SubscriberExt;

const REPLY: Duration = Duration::from_secs(10);

fn log_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("logs").join("log.txt")
}

fn start(path: &Path, options: &LogOptions) -> (Addr<Logger>, LogQueue) {
    let (queue, writer) = LogQueue::start(path, options).expect("the log file opens");
    (
        Logger::new(queue.clone(), writer, Duration::from_secs(5)).start(),
        queue,
    )
}

async fn flush(logger: &Addr<Logger>) -> FlushAck {
    logger
        .send(FlushLogs)
        .timeout(REPLY)
        .await
        .expect("the Logger answers FlushLogs")
        .expect("the flush succeeds")
}

async fn stop(logger: &Addr<Logger>) -> LoggingStopped {
    logger
        .send(StopLogging)
        .timeout(REPLY)
        .await
        .expect("the Logger answers StopLogging")
        .expect("the stop succeeds")
}

/// Enqueues `per_thread` records `thread=<t> seq=<i>` from each of `threads` threads and joins
/// them.
fn flood(queue: &LogQueue, threads: usize, per_thread: usize) {
    std::thread::scope(|scope| {
        for t in 0..threads {
            let queue = queue.clone();
            scope.spawn(move || {
                for i in 0..per_thread {
                    queue.enqueue(format!("thread={t} seq={i}\n").into_bytes());
                }
            });
        }
    });
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[actix_rt::test]
async fn records_from_four_threads_are_all_on_disk_after_flush_logs() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let (logger, queue) = start(&path, &LogOptions::default());

    flood(&queue, 4, 25_000);
    let ack = flush(&logger).await;

    assert_eq!(
        ack,
        FlushAck {
            written: 100_000,
            dropped: 0
        }
    );
    let lines = lines(&path);
    assert_eq!(lines.len(), 100_000);
    for t in 0..4 {
        let prefix = format!("thread={t} seq=");
        let seqs: Vec<usize> = lines
            .iter()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(
            seqs,
            (0..25_000).collect::<Vec<_>>(),
            "thread {t}: every record, in its order"
        );
    }
}

#[actix_rt::test]
async fn event_logged_just_before_flush_logs_is_on_disk_when_the_ack_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let (logger, queue) = start(&path, &LogOptions::default());
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(queue.clone())
            .with_ansi(false),
    );
    let _dispatch = tracing::subscriber::set_default(subscriber);

    for i in 0..5_000 {
        tracing::info!(i, "filler");
    }
    tracing::warn!(order = 42, "payment captured");
    let ack = flush(&logger).await;

    let lines = lines(&path);
    let last = lines.last().expect("the log has records");
    assert!(
        last.contains("WARN") && last.contains("payment captured") && last.contains("order=42"),
        "{last}"
    );
    assert_eq!(ack.written, u64::try_from(lines.len()).unwrap());
    assert!(ack.written >= 5_001);
}

#[actix_rt::test]
async fn stop_logging_is_idempotent_and_later_records_do_not_reach_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let (logger, queue) = start(&path, &LogOptions::default());
    queue.enqueue(b"before stop\n".to_vec());

    let first = stop(&logger).await;
    let second = stop(&logger).await;

    assert_eq!(
        first,
        LoggingStopped {
            written: 1,
            dropped: 0
        }
    );
    assert_eq!(second, first);
    assert!(queue.is_stopped());
    queue.enqueue(b"after stop\n".to_vec());
    assert_eq!(
        flush(&logger).await,
        FlushAck {
            written: 1,
            dropped: 0
        }
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "before stop\n");
}

#[actix_rt::test]
async fn lossy_queue_under_a_flood_drops_and_counts_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let options = LogOptions {
        capacity: 2,
        lossy: true,
        fsync: false,
        ..LogOptions::default()
    };
    let (logger, queue) = start(&path, &options);

    flood(&queue, 4, 20_000);
    let ack = flush(&logger).await;

    assert!(ack.dropped > 0, "{ack:?}");
    assert_eq!(ack.written + ack.dropped, 80_000);
    assert_eq!(queue.dropped(), ack.dropped);
    assert_eq!(u64::try_from(lines(&path).len()).unwrap(), ack.written);
}

#[actix_rt::test]
async fn lossless_queue_under_the_same_flood_drops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let options = LogOptions {
        capacity: 2,
        lossy: false,
        fsync: false,
        ..LogOptions::default()
    };
    let (logger, queue) = start(&path, &options);

    flood(&queue, 4, 20_000);
    let ack = flush(&logger).await;

    assert_eq!(
        ack,
        FlushAck {
            written: 80_000,
            dropped: 0
        }
    );
    assert_eq!(lines(&path).len(), 80_000);
}

#[actix_rt::test]
async fn restarted_logger_appends_to_the_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let (logger, queue) = start(&path, &LogOptions::default());
    queue.enqueue(b"first run\n".to_vec());
    stop(&logger).await;

    let (logger, queue) = start(&path, &LogOptions::default());
    queue.enqueue(b"second run\n".to_vec());
    flush(&logger).await;

    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "first run\nsecond run\n"
    );
}

#[actix_rt::test]
async fn log_rotates_at_its_size_keeping_only_retain_old_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let options = LogOptions {
        rotate_bytes: Some(100),
        retain: 2,
        ..LogOptions::default()
    };
    let (logger, queue) = start(&path, &options);

    // 30-byte records: the file reaches 120 bytes at every 4th record and rotates.
    for i in 0..14 {
        queue.enqueue(format!("{:<29}\n", format!("record {i:02}")).into_bytes());
    }
    let ack = flush(&logger).await;

    assert_eq!(ack.written, 14);
    let first_of = |p: &Path| {
        lines(p)
            .first()
            .cloned()
            .unwrap_or_default()
            .trim_end()
            .to_owned()
    };
    let rotated = |n: usize| PathBuf::from(format!("{}.{n}", path.display()));
    assert_eq!(
        (lines(&rotated(2)).len(), first_of(&rotated(2))),
        (4, "record 04".to_owned())
    );
    assert_eq!(
        (lines(&rotated(1)).len(), first_of(&rotated(1))),
        (4, "record 08".to_owned())
    );
    assert_eq!(
        (lines(&path).len(), first_of(&path)),
        (2, "record 12".to_owned())
    );
    assert!(
        !rotated(3).exists(),
        "records 00-03 fell out of the retention"
    );
}

#[cfg(unix)]
#[actix_rt::test]
async fn log_file_is_owner_only_in_an_owner_only_directory() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = log_path(&dir);
    let (logger, queue) = start(&path, &LogOptions::default());
    queue.enqueue(b"hello\n".to_vec());
    flush(&logger).await;

    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
}
