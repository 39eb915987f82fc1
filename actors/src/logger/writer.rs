//! The writer thread of the log queue and its handle.

use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use super::queue::{Command, Shared};
use super::sink::Sink;
use crate::messages::FlushAck;

/// Handle on the writer thread; join it through [`Logger`](super::Logger) (StopLogging).
#[derive(Debug)]
pub struct LogWriter {
    pub(super) thread: JoinHandle<()>,
}

impl LogWriter {
    pub(super) fn new(thread: JoinHandle<()>) -> Self {
        Self { thread }
    }
}

/// The writer thread: drains the queue into the sink, answers flushes and the stop.
pub(super) fn write_loop(rx: Receiver<Command>, mut sink: Sink, shared: &Shared) {
    let ack = |result: Result<(), String>| {
        result.map(|()| FlushAck {
            written: shared.written.load(Ordering::Relaxed),
            dropped: shared.dropped.load(Ordering::Relaxed),
        })
    };
    let write = |sink: &mut Sink, bytes: &[u8]| {
        if sink.write(bytes) {
            shared.written.fetch_add(1, Ordering::Relaxed);
        }
    };
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(cmd) = next.take() {
            match cmd {
                Command::Record(bytes) => write(&mut sink, &bytes),
                Command::Flush(reply) => reply.send(ack(sink.sync())),
                Command::Stop(reply) => {
                    shared.stopped.store(true, Ordering::Release);
                    while let Ok(cmd) = rx.try_recv() {
                        match cmd {
                            Command::Record(bytes) => write(&mut sink, &bytes),
                            Command::Flush(r) | Command::Stop(r) => r.send(Ok(FlushAck::default())),
                        }
                    }
                    let answer = ack(sink.sync());
                    // The file is closed before the answer: once it arrives, nothing of the
                    // writer is left but its thread's exit.
                    drop(sink);
                    reply.send(answer);
                    return;
                }
            }
            next = rx.try_recv().ok();
        }
        // The queue is empty: hand what we have to the OS so `tail -f` sees it.
        sink.hand_to_os();
    }
    let _ = sink.sync();
}
