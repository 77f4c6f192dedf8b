//! The notification outbox on both backends: delivery order, retries that hold back later
//! notifications, no double delivery, and rows that survive reopening the database.

#![allow(clippy::unwrap_used)]

use hybrid_core::{CohortId, Timestamp};

use crate::{
    outbox::{NewNotification, NotificationStatus, Severity},
    store::Store,
};

/// Runs `check` on a migrated in-memory SQLite store and, when the server is reachable, on a
/// migrated PostgreSQL test schema.
fn on_both_backends(test: &str, check: impl Fn(&Store)) {
    let sqlite = Store::open("sqlite::memory:").unwrap();
    sqlite.run_migrations().unwrap();
    check(&sqlite);
    if let Some(schema) = hybrid_testkit::pg::pg_test_schema(test) {
        let pg = Store::open(schema.url()).unwrap();
        pg.run_migrations().unwrap();
        check(&pg);
        drop(pg);
    }
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn note(ms: i64, kind: &str, severity: Severity, text: &str) -> NewNotification {
    NewNotification {
        at: at(ms),
        cohort: Some(CohortId::new(7)),
        kind: kind.to_owned(),
        severity,
        text: text.to_owned(),
    }
}

fn texts(store: &Store, now: i64) -> Vec<String> {
    store
        .due_notifications(at(now), 100)
        .unwrap()
        .into_iter()
        .map(|n| n.text)
        .collect()
}

#[test]
fn notifications_come_back_in_the_order_they_were_queued() {
    on_both_backends("outbox_order", |store| {
        let first = store
            .enqueue_notification(&note(1_000, "fill", Severity::Routine, "one"))
            .unwrap();
        let second = store
            .enqueue_notification(&note(1_000, "mode_switch", Severity::Important, "two"))
            .unwrap();
        store
            .enqueue_notification(&note(2_000, "stop_failed", Severity::Critical, "three"))
            .unwrap();
        assert!(first < second);
        // Not yet raised at 999 ms; the third is raised later than the first two.
        assert!(texts(store, 999).is_empty());
        assert_eq!(texts(store, 1_500), ["one", "two"]);
        assert_eq!(texts(store, 2_000), ["one", "two", "three"]);
        assert_eq!(store.due_notifications(at(2_000), 2).unwrap().len(), 2);

        let stored = store.notification(first).unwrap().unwrap();
        assert_eq!(stored.cohort, Some(CohortId::new(7)));
        assert_eq!(stored.kind, "fill");
        assert_eq!(stored.severity, Severity::Routine);
        assert_eq!(stored.status, NotificationStatus::Pending);
        assert_eq!(stored.created_at, at(1_000));
        assert_eq!((stored.attempts, stored.parts_sent), (0, 0));
        let critical = store.due_notifications(at(2_000), 3).unwrap();
        assert_eq!(critical[2].severity, Severity::Critical);
    });
}

#[test]
fn a_notification_being_retried_holds_back_the_later_ones() {
    on_both_backends("outbox_retry_order", |store| {
        let first = store
            .enqueue_notification(&note(0, "fill", Severity::Routine, "first"))
            .unwrap();
        store
            .enqueue_notification(&note(10, "fill", Severity::Routine, "second"))
            .unwrap();
        store
            .mark_notification_failed(first, "telegram unreachable", at(5_000))
            .unwrap();
        // The second is due, but must not overtake the first.
        assert!(texts(store, 4_999).is_empty());
        assert_eq!(texts(store, 5_000), ["first", "second"]);

        store
            .mark_notification_failed(first, "429 retry after 3 s", at(8_000))
            .unwrap();
        let retried = store.notification(first).unwrap().unwrap();
        assert_eq!(retried.attempts, 2);
        assert_eq!(retried.last_error.as_deref(), Some("429 retry after 3 s"));
        assert_eq!(retried.next_attempt_at, at(8_000));
        assert_eq!(retried.status, NotificationStatus::Pending);
    });
}

#[test]
fn a_sent_notification_is_never_handed_out_or_finished_again() {
    on_both_backends("outbox_none_twice", |store| {
        let id = store
            .enqueue_notification(&note(0, "fill", Severity::Routine, "once"))
            .unwrap();
        store.record_parts_sent(id, 1).unwrap();
        assert!(store.mark_notification_sent(id, at(50)).unwrap());
        assert!(!store.mark_notification_sent(id, at(60)).unwrap());
        assert!(!store.mark_notification_suppressed(id, at(60)).unwrap());
        assert!(!store.abandon_notification(id, "late", at(60)).unwrap());
        // A late failure report from a confused sender changes nothing either.
        store.mark_notification_failed(id, "late", at(70)).unwrap();
        assert!(texts(store, 1_000).is_empty());
        let sent = store.notification(id).unwrap().unwrap();
        assert_eq!(sent.status, NotificationStatus::Sent);
        assert_eq!(sent.finished_at, Some(at(50)));
        assert_eq!(sent.parts_sent, 1);
        assert_eq!((sent.attempts, sent.last_error), (0, None));
    });
}

#[test]
fn suppressed_and_abandoned_notifications_leave_the_queue_and_show_in_the_summary() {
    on_both_backends("outbox_summary", |store| {
        let routine = store
            .enqueue_notification(&note(100, "fill", Severity::Routine, "a"))
            .unwrap();
        let refused = store
            .enqueue_notification(&note(200, "fill", Severity::Routine, "b"))
            .unwrap();
        let sent = store
            .enqueue_notification(&note(300, "daily", Severity::Important, "c"))
            .unwrap();
        store
            .enqueue_notification(&note(400, "error", Severity::Critical, "d"))
            .unwrap();
        assert!(store
            .mark_notification_suppressed(routine, at(500))
            .unwrap());
        assert!(store
            .abandon_notification(refused, "chat not found", at(600))
            .unwrap());
        assert!(store.mark_notification_sent(sent, at(700)).unwrap());
        assert_eq!(texts(store, 1_000), ["d"]);

        let summary = store.outbox_summary().unwrap();
        assert_eq!(summary.pending, 1);
        assert_eq!(summary.oldest_pending_at, Some(at(400)));
        assert_eq!(summary.last_sent_at, Some(at(700)));
        assert_eq!(summary.abandoned, 1);
        let abandoned = store.notification(refused).unwrap().unwrap();
        assert_eq!(abandoned.status, NotificationStatus::Abandoned);
        assert_eq!(abandoned.last_error.as_deref(), Some("chat not found"));

        // Retention removes only what was delivered or suppressed before the cut-off.
        assert_eq!(store.delete_finished_notifications(at(650)).unwrap(), 1);
        assert!(store.notification(routine).unwrap().is_none());
        assert!(store.notification(sent).unwrap().is_some());
        assert_eq!(store.delete_finished_notifications(at(10_000)).unwrap(), 1);
        assert!(store.notification(refused).unwrap().is_some());
        assert_eq!(store.outbox_summary().unwrap().pending, 1);
    });
}

#[test]
fn an_empty_outbox_has_an_empty_summary() {
    on_both_backends("outbox_empty_summary", |store| {
        assert_eq!(store.outbox_summary().unwrap(), Default::default());
        assert!(store.due_notifications(at(0), 10).unwrap().is_empty());
        assert!(store.notification(1).unwrap().is_none());
    });
}

#[test]
fn queued_notifications_survive_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut urls = vec![format!("sqlite://{}/outbox.db", dir.path().display())];
    let schema = hybrid_testkit::pg::pg_test_schema("outbox_survives_reopen");
    if let Some(schema) = &schema {
        urls.push(schema.url().to_owned());
    }
    for url in urls {
        let id = {
            let store = Store::open(&url).unwrap();
            store.run_migrations().unwrap();
            let id = store
                .enqueue_notification(&note(0, "stop_failed", Severity::Critical, "sell by hand"))
                .unwrap();
            store.record_parts_sent(id, 2).unwrap();
            id
        };
        let reopened = Store::open(&url).unwrap();
        let due = reopened.due_notifications(at(1), 10).unwrap();
        assert_eq!(due.len(), 1, "{url}");
        assert_eq!(due[0].id, id);
        assert_eq!(due[0].text, "sell by hand");
        assert_eq!(due[0].parts_sent, 2);
    }
}
