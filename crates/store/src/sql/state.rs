// State-document queries; included into each backend module by `sql/mod.rs` (no `use` lines here).

pub(crate) fn save_state(
    conn: &mut Conn,
    name: &str,
    body: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    diesel::insert_into(state_documents::table)
        .values((
            state_documents::name.eq(name),
            state_documents::body.eq(body),
            state_documents::updated_at.eq(at.as_millis()),
        ))
        .on_conflict(state_documents::name)
        .do_update()
        .set((
            state_documents::body.eq(excluded(state_documents::body)),
            state_documents::updated_at.eq(excluded(state_documents::updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn load_state(conn: &mut Conn, name: &str) -> Result<Option<(String, i64)>, StoreError> {
    Ok(state_documents::table
        .find(name)
        .select((state_documents::body, state_documents::updated_at))
        .first(conn)
        .optional()?)
}
