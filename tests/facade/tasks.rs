//! The task list the spawner answers.

use actix_shutdown::{Cancellation, TaskState};

use super::support::start;

#[actix_rt::test]
async fn list_names_every_running_task_and_a_refused_spawn_adds_none() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (shutdown, _) = start(tmp.path(), |c| c).await;
    let tasks = shutdown.tasks();
    for name in ["poller", "reminders"] {
        tasks
            .spawn(name, |cancel: Cancellation| async move {
                cancel.cancelled().await;
            })
            .expect("spawn");
    }
    // The same name again is refused by the monitor (a running task holds it).
    tasks
        .spawn("poller", |_: Cancellation| async {})
        .expect("the refusal is the monitor's, not the spawner's");

    let mut listed = tasks.list().await;
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = listed.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["poller", "reminders"]);
    assert!(
        listed
            .iter()
            .all(|t| t.state == TaskState::Running && t.restarts == 0)
    );

    assert!(shutdown.shutdown("test:done").await.ready);
    let report = shutdown.wait().await;
    assert_eq!(report.tasks.len(), 2);
    assert!(tasks.spawn("late", |_: Cancellation| async {}).is_err());
}
