// Cohort queries; included into each backend module by `sql/mod.rs` (no `use` lines here).

pub(crate) fn upsert_cohort(
    conn: &mut Conn,
    cohort: &NewCohort,
    at: Timestamp,
) -> Result<CohortRecord, StoreError> {
    diesel::insert_into(cohorts::table)
        .values(NewCohortRow::new(cohort, at))
        .on_conflict(cohorts::name)
        .do_update()
        .set((
            cohorts::description.eq(excluded(cohorts::description)),
            cohorts::config.eq(excluded(cohorts::config)),
            cohorts::starting_capital.eq(excluded(cohorts::starting_capital)),
            cohorts::is_active.eq(excluded(cohorts::is_active)),
            cohorts::updated_at.eq(excluded(cohorts::updated_at)),
        ))
        .returning(CohortRow::as_returning())
        .get_result(conn)?
        .into_record()
}

pub(crate) fn get_cohort(
    conn: &mut Conn,
    id: CohortId,
) -> Result<Option<CohortRecord>, StoreError> {
    cohorts::table
        .find(cohort_key(id))
        .select(CohortRow::as_select())
        .first(conn)
        .optional()?
        .map(CohortRow::into_record)
        .transpose()
}

pub(crate) fn get_cohort_by_name(
    conn: &mut Conn,
    name: &str,
) -> Result<Option<CohortRecord>, StoreError> {
    cohorts::table
        .filter(cohorts::name.eq(name))
        .select(CohortRow::as_select())
        .first(conn)
        .optional()?
        .map(CohortRow::into_record)
        .transpose()
}

pub(crate) fn list_cohorts(conn: &mut Conn) -> Result<Vec<CohortRecord>, StoreError> {
    cohorts::table
        .order(cohorts::id)
        .select(CohortRow::as_select())
        .load(conn)?
        .into_iter()
        .map(CohortRow::into_record)
        .collect()
}

pub(crate) fn set_cohort_capital(
    conn: &mut Conn,
    id: CohortId,
    current_capital: Decimal,
    at: Timestamp,
) -> Result<(), StoreError> {
    let updated = diesel::update(cohorts::table.find(cohort_key(id)))
        .set((
            cohorts::current_capital.eq(money_text(current_capital)),
            cohorts::updated_at.eq(at.as_millis()),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound {
            what: "cohort",
            key: id.to_string(),
        });
    }
    Ok(())
}
