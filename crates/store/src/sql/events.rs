// Audit-log queries; included into each backend module by `sql/mod.rs` (no `use` lines here).

pub(crate) fn append_event(conn: &mut Conn, event: &NewEvent) -> Result<i64, StoreError> {
    diesel::insert_into(events::table)
        .values(NewEventRow::new(event))
        .returning(events::id)
        .get_result(conn)
        .map_err(missing_cohort(event.cohort))
}

pub(crate) fn recent_events(conn: &mut Conn, limit: u32) -> Result<Vec<Event>, StoreError> {
    events::table
        .order((events::at.desc(), events::id.desc()))
        .limit(i64::from(limit))
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}
