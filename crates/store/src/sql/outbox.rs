// Notification-outbox queries; included into each backend module by `sql/mod.rs`.

use crate::outbox::{NewOutboxRow, OutboxRow};
use crate::schema_outbox::outbox;

pub(crate) fn enqueue_notification(
    conn: &mut Conn,
    row: &NewOutboxRow<'_>,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(outbox::table)
        .values(row)
        .returning(outbox::id)
        .get_result(conn)?)
}

pub(crate) fn pending_notifications(
    conn: &mut Conn,
    limit: u32,
) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(outbox::table
        .filter(outbox::status.eq("pending"))
        .order(outbox::id.asc())
        .limit(i64::from(limit))
        .select(OutboxRow::as_select())
        .load(conn)?)
}

pub(crate) fn notification(conn: &mut Conn, id: i64) -> Result<Option<OutboxRow>, StoreError> {
    Ok(outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?)
}

pub(crate) fn record_parts_sent(
    conn: &mut Conn,
    id: i64,
    parts_sent: i64,
) -> Result<(), StoreError> {
    diesel::update(outbox::table.find(id).filter(outbox::status.eq("pending")))
        .set(outbox::parts_sent.eq(parts_sent))
        .execute(conn)?;
    Ok(())
}

/// Moves a pending row to `status`; returns whether a row changed (false: not pending).
pub(crate) fn finish_notification(
    conn: &mut Conn,
    id: i64,
    status: &str,
    error: Option<&str>,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = match error {
        Some(error) => diesel::update(outbox::table.find(id).filter(outbox::status.eq("pending")))
            .set((
                outbox::status.eq(status),
                outbox::finished_at.eq(at.as_millis()),
                outbox::last_error.eq(error),
            ))
            .execute(conn)?,
        None => diesel::update(outbox::table.find(id).filter(outbox::status.eq("pending")))
            .set((
                outbox::status.eq(status),
                outbox::finished_at.eq(at.as_millis()),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

pub(crate) fn fail_notification(
    conn: &mut Conn,
    id: i64,
    error: &str,
    retry_at: i64,
) -> Result<(), StoreError> {
    diesel::update(outbox::table.find(id).filter(outbox::status.eq("pending")))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(retry_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// (pending count, oldest pending created_at, last finished_at of a sent row, abandoned count).
pub(crate) fn outbox_summary(
    conn: &mut Conn,
) -> Result<(i64, Option<i64>, Option<i64>, i64), StoreError> {
    let pending: i64 = outbox::table
        .filter(outbox::status.eq("pending"))
        .count()
        .get_result(conn)?;
    let oldest: Option<i64> = outbox::table
        .filter(outbox::status.eq("pending"))
        .select(diesel::dsl::min(outbox::created_at))
        .first(conn)?;
    let last_sent: Option<i64> = outbox::table
        .filter(outbox::status.eq("sent"))
        .select(diesel::dsl::max(outbox::finished_at))
        .first(conn)?;
    let abandoned: i64 = outbox::table
        .filter(outbox::status.eq("abandoned"))
        .count()
        .get_result(conn)?;
    Ok((pending, oldest, last_sent, abandoned))
}

pub(crate) fn delete_finished_notifications(
    conn: &mut Conn,
    before: i64,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        outbox::table
            .filter(outbox::status.eq_any(["sent", "suppressed"]))
            .filter(outbox::finished_at.lt(before)),
    )
    .execute(conn)?)
}
