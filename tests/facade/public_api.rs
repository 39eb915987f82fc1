//! Every type that the embedding API's signatures, fields and errors mention can be named
//! from the crate root, without reaching into `actix_shutdown::actors`.

use actix_shutdown::{
    ArchivedFile, BootReport, CancellationToken, ClosingFlag, Config, ConfigError, ConfigView,
    Drain, DrainRecord, DroppedJobs, ExitCodes, FileRecord, FlushAck, FoundState, HookId,
    HookRecord, Loaded, LockError, LockHolder, LockInfo, LogOptions, LogQueue, LoggerError,
    ParticipantOutcome, PersistError, PreviousRun, QueuedJob, Rehydrated, RequestAnswer,
    RequestSource, RequeuePolicy, ResourceRecord, RestoredQueue, Shutdown, ShutdownBuilder,
    ShutdownHandle, ShutdownReport, ShutdownRequest, ShutdownRequested, ShutdownResponse, Snapshot,
    SnapshotResult, StartError, StartErrorKind, Step, StepEvent, StepOutcome, StepRecord,
    StepTimeouts, SupervisorState, TakeSnapshot, TaskError, TaskInfo, TaskOptions, TaskOutcome,
    TaskRecord, TaskResult, TaskSpawner, TaskState, TrackedFuture, UnknownStep, VetoRecord,
    WaitForCancellationFutureOwned, actix, supervisor,
};

fn named<T: ?Sized>() -> &'static str {
    std::any::type_name::<T>()
}

#[test]
fn every_type_in_the_public_api_is_named_from_the_crate_root() {
    let names = [
        named::<ArchivedFile>(),
        named::<BootReport>(),
        named::<CancellationToken>(),
        named::<ClosingFlag>(),
        named::<Config>(),
        named::<ConfigError>(),
        named::<ConfigView<'static>>(),
        named::<Drain>(),
        named::<DrainRecord>(),
        named::<DroppedJobs>(),
        named::<ExitCodes>(),
        named::<FileRecord>(),
        named::<FlushAck>(),
        named::<FoundState>(),
        named::<HookId>(),
        named::<HookRecord>(),
        named::<Loaded<()>>(),
        named::<LockError>(),
        named::<LockHolder>(),
        named::<LockInfo>(),
        named::<LogOptions>(),
        named::<LogQueue>(),
        named::<LoggerError>(),
        named::<ParticipantOutcome>(),
        named::<PersistError>(),
        named::<PreviousRun>(),
        named::<dyn QueuedJob<Id = u32>>(),
        named::<Rehydrated<()>>(),
        named::<RequeuePolicy>(),
        named::<RequestAnswer>(),
        named::<RequestSource>(),
        named::<ResourceRecord>(),
        named::<RestoredQueue>(),
        named::<Shutdown>(),
        named::<ShutdownBuilder>(),
        named::<ShutdownHandle>(),
        named::<ShutdownReport>(),
        named::<ShutdownRequest>(),
        named::<ShutdownRequested>(),
        named::<ShutdownResponse>(),
        named::<Snapshot>(),
        named::<SnapshotResult>(),
        named::<StartError>(),
        named::<StartErrorKind>(),
        named::<Step>(),
        named::<StepEvent>(),
        named::<StepOutcome>(),
        named::<StepRecord>(),
        named::<StepTimeouts>(),
        named::<SupervisorState>(),
        named::<TakeSnapshot>(),
        named::<TaskError>(),
        named::<TaskInfo>(),
        named::<TaskOptions>(),
        named::<TaskOutcome>(),
        named::<TaskRecord>(),
        named::<dyn TaskResult>(),
        named::<TaskSpawner>(),
        named::<TaskState>(),
        named::<TrackedFuture<std::future::Ready<()>>>(),
        named::<UnknownStep>(),
        named::<VetoRecord>(),
        named::<WaitForCancellationFutureOwned>(),
        named::<actix::Addr<supervisor::Supervisor>>(),
    ];
    let mut distinct = names.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), names.len(), "two names are one type");
}
