// Learning-loop queries; included into each backend module by `sql/mod.rs`.

use crate::learning::{
    conversation_from_tuple, ConversationRecord, DecisionRow, DiscoveryRow, EconomicEvent,
    IndicatorRow, MarketSignal, NewConversation, NewDecisionRow, NewSignalRow, OutcomeWindow,
    PlaybookVersion, PortfolioRecommendation, SignalRow, SignalWeightsRecord, CONVERSATION_COLUMNS,
};
use crate::schema_learning::{
    ai_conversations, ai_portfolio_recommendations, coin_discoveries, economic_events,
    learning_decisions, market_signals, playbook_versions, signal_components, signal_weights,
    technical_indicators,
};

pub(crate) fn record_decision(
    conn: &mut Conn,
    row: &NewDecisionRow<'_>,
    signals: &NewSignalRow,
) -> Result<(i64, bool), StoreError> {
    write_transaction(conn, |conn| {
        let existing: Option<i64> = learning_decisions::table
            .filter(learning_decisions::source_key.eq(row.source_key()))
            .select(learning_decisions::id)
            .first(conn)
            .optional()?;
        if let Some(id) = existing {
            return Ok((id, false));
        }
        let id: i64 = diesel::insert_into(learning_decisions::table)
            .values(row)
            .returning(learning_decisions::id)
            .get_result(conn)?;
        let mut signals = signals.clone();
        signals.decision_id = id;
        diesel::insert_into(signal_components::table)
            .values(&signals)
            .execute(conn)?;
        Ok((id, true))
    })
}

pub(crate) fn decisions_missing_outcome(
    conn: &mut Conn,
    window: OutcomeWindow,
    cutoff: i64,
) -> Result<Vec<DecisionRow>, StoreError> {
    let base = learning_decisions::table
        .filter(learning_decisions::at.le(cutoff))
        .order((learning_decisions::at.asc(), learning_decisions::id.asc()))
        .select(DecisionRow::as_select());
    let rows = match window {
        OutcomeWindow::H1 => base
            .filter(learning_decisions::outcome_1h.is_null())
            .load(conn)?,
        OutcomeWindow::H4 => base
            .filter(learning_decisions::outcome_4h.is_null())
            .load(conn)?,
        OutcomeWindow::H24 => base
            .filter(learning_decisions::outcome_24h.is_null())
            .load(conn)?,
        OutcomeWindow::D7 => base
            .filter(learning_decisions::outcome_7d.is_null())
            .load(conn)?,
    };
    Ok(rows)
}

pub(crate) fn set_outcome(
    conn: &mut Conn,
    id: i64,
    window: OutcomeWindow,
    outcome: &str,
    raw_move: &str,
    good: bool,
) -> Result<bool, StoreError> {
    write_transaction(conn, |conn| {
        let row = learning_decisions::table.filter(learning_decisions::id.eq(id));
        let changed = match window {
            OutcomeWindow::H1 => {
                diesel::update(row.filter(learning_decisions::outcome_1h.is_null()))
                    .set(learning_decisions::outcome_1h.eq(outcome))
                    .execute(conn)?
            }
            OutcomeWindow::H4 => {
                diesel::update(row.filter(learning_decisions::outcome_4h.is_null()))
                    .set(learning_decisions::outcome_4h.eq(outcome))
                    .execute(conn)?
            }
            OutcomeWindow::D7 => {
                diesel::update(row.filter(learning_decisions::outcome_7d.is_null()))
                    .set(learning_decisions::outcome_7d.eq(outcome))
                    .execute(conn)?
            }
            OutcomeWindow::H24 => {
                let changed = diesel::update(row.filter(learning_decisions::outcome_24h.is_null()))
                    .set((
                        learning_decisions::outcome_24h.eq(outcome),
                        learning_decisions::raw_move_24h.eq(raw_move),
                    ))
                    .execute(conn)?;
                diesel::update(row.filter(learning_decisions::was_good_decision.is_null()))
                    .set((
                        learning_decisions::was_good_decision.eq(good),
                        learning_decisions::judged_by.eq("outcome_24h"),
                    ))
                    .execute(conn)?;
                changed
            }
        };
        Ok(changed > 0)
    })
}

pub(crate) fn judge_by_pair(
    conn: &mut Conn,
    id: i64,
    net_pnl: &str,
    good: bool,
) -> Result<(), StoreError> {
    diesel::update(learning_decisions::table.filter(learning_decisions::id.eq(id)))
        .set((
            learning_decisions::was_good_decision.eq(good),
            learning_decisions::judged_by.eq("pair_pnl"),
            learning_decisions::pair_net_pnl.eq(net_pnl),
        ))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn learning_rows(
    conn: &mut Conn,
) -> Result<Vec<(DecisionRow, Option<SignalRow>)>, StoreError> {
    Ok(learning_decisions::table
        .left_join(signal_components::table)
        .order((learning_decisions::at.asc(), learning_decisions::id.asc()))
        .select((DecisionRow::as_select(), Option::<SignalRow>::as_select()))
        .load(conn)?)
}

pub(crate) fn set_signal_correctness(
    conn: &mut Conn,
    decision_id: i64,
    was_correct: Option<bool>,
    components: &str,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        signal_components::table
            .filter(signal_components::decision_id.eq(decision_id))
            .filter(signal_components::components_correct.is_null()),
    )
    .set((
        signal_components::was_correct.eq(was_correct),
        signal_components::components_correct.eq(components),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

pub(crate) fn insert_playbook_version(
    conn: &mut Conn,
    version: &PlaybookVersion,
    metrics: &str,
) -> Result<(), StoreError> {
    diesel::insert_into(playbook_versions::table)
        .values((
            playbook_versions::version.eq(version.version),
            playbook_versions::generated_at.eq(version.generated_at.as_millis()),
            playbook_versions::content.eq(&version.content),
            playbook_versions::trade_count.eq(version.trade_count),
            playbook_versions::success_rate.eq(version.success_rate),
            playbook_versions::changes_summary.eq(&version.changes_summary),
            playbook_versions::metrics.eq(metrics),
        ))
        .execute(conn)?;
    Ok(())
}

#[allow(clippy::type_complexity)]
pub(crate) fn latest_playbook(
    conn: &mut Conn,
) -> Result<Option<(i64, i64, String, i64, Option<f64>, String, String)>, StoreError> {
    Ok(playbook_versions::table
        .order(playbook_versions::version.desc())
        .select((
            playbook_versions::version,
            playbook_versions::generated_at,
            playbook_versions::content,
            playbook_versions::trade_count,
            playbook_versions::success_rate,
            playbook_versions::changes_summary,
            playbook_versions::metrics,
        ))
        .first(conn)
        .optional()?)
}

pub(crate) fn record_conversation(conn: &mut Conn, c: &NewConversation) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(ai_conversations::table)
        .values((
            ai_conversations::at.eq(c.at.as_millis()),
            ai_conversations::purpose.eq(&c.purpose),
            ai_conversations::model.eq(&c.model),
            ai_conversations::request_key.eq(&c.request_key),
            ai_conversations::prompt.eq(&c.prompt),
            ai_conversations::response.eq(&c.response),
            ai_conversations::error.eq(&c.error),
            ai_conversations::verdict.eq(&c.verdict),
            ai_conversations::reason.eq(&c.reason),
            ai_conversations::tokens_used.eq(c.tokens_used),
            ai_conversations::latency_ms.eq(c.latency_ms),
        ))
        .returning(ai_conversations::id)
        .get_result(conn)?)
}

pub(crate) fn recorded_conversation(
    conn: &mut Conn,
    request_key: &str,
) -> Result<Option<ConversationRecord>, StoreError> {
    Ok(ai_conversations::table
        .filter(ai_conversations::request_key.eq(request_key))
        .filter(ai_conversations::verdict.ne("failed"))
        .order(ai_conversations::id.asc())
        .select(CONVERSATION_COLUMNS)
        .first(conn)
        .optional()?
        .map(conversation_from_tuple))
}

pub(crate) fn conversations(conn: &mut Conn) -> Result<Vec<ConversationRecord>, StoreError> {
    Ok(ai_conversations::table
        .order(ai_conversations::id.asc())
        .select(CONVERSATION_COLUMNS)
        .load(conn)?
        .into_iter()
        .map(conversation_from_tuple)
        .collect())
}

pub(crate) fn save_signal_weights(
    conn: &mut Conn,
    w: &SignalWeightsRecord,
    weights: &str,
    alphas: &str,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        diesel::update(signal_weights::table.filter(signal_weights::scope.eq(&w.scope)))
            .set(signal_weights::is_active.eq(false))
            .execute(conn)?;
        diesel::insert_into(signal_weights::table)
            .values((
                signal_weights::at.eq(w.at.as_millis()),
                signal_weights::scope.eq(&w.scope),
                signal_weights::weights.eq(weights),
                signal_weights::alphas.eq(alphas),
                signal_weights::confidence.eq(w.confidence),
                signal_weights::sample_size.eq(w.sample_size),
                signal_weights::is_active.eq(true),
            ))
            .execute(conn)?;
        Ok(())
    })
}

#[allow(clippy::type_complexity)]
pub(crate) fn active_signal_weights(
    conn: &mut Conn,
    scope: &str,
) -> Result<Option<(i64, String, String, f64, i64)>, StoreError> {
    Ok(signal_weights::table
        .filter(signal_weights::scope.eq(scope))
        .filter(signal_weights::is_active.eq(true))
        .order(signal_weights::id.desc())
        .select((
            signal_weights::at,
            signal_weights::weights,
            signal_weights::alphas,
            signal_weights::confidence,
            signal_weights::sample_size,
        ))
        .first(conn)
        .optional()?)
}

pub(crate) fn insert_discovery(conn: &mut Conn, row: &DiscoveryRow) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(coin_discoveries::table)
        .values(row)
        .returning(coin_discoveries::id)
        .get_result(conn)?)
}

pub(crate) fn discoveries(conn: &mut Conn, limit: i64) -> Result<Vec<DiscoveryRow>, StoreError> {
    Ok(coin_discoveries::table
        .order((
            coin_discoveries::discovered_at.desc(),
            coin_discoveries::id.desc(),
        ))
        .limit(limit)
        .select(DiscoveryRow::as_select())
        .load(conn)?)
}

pub(crate) fn mark_discovery_added(conn: &mut Conn, id: i64) -> Result<(), StoreError> {
    diesel::update(coin_discoveries::table.find(id))
        .set(coin_discoveries::was_added.eq(true))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn evaluate_discovery(
    conn: &mut Conn,
    id: i64,
    trades: i64,
    win_rate: Option<f64>,
    avg_return: Option<f64>,
    good: bool,
) -> Result<(), StoreError> {
    diesel::update(coin_discoveries::table.find(id))
        .set((
            coin_discoveries::trades_after_7d.eq(trades),
            coin_discoveries::win_rate_after_7d.eq(win_rate),
            coin_discoveries::avg_return_after_7d.eq(avg_return),
            coin_discoveries::was_good_discovery.eq(good),
        ))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn deactivate_discovery(
    conn: &mut Conn,
    id: i64,
    at: i64,
    reason: &str,
) -> Result<(), StoreError> {
    diesel::update(coin_discoveries::table.find(id))
        .set((
            coin_discoveries::was_deactivated.eq(true),
            coin_discoveries::deactivated_at.eq(at),
            coin_discoveries::deactivated_reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn insert_indicators(conn: &mut Conn, row: &IndicatorRow) -> Result<bool, StoreError> {
    let written = diesel::insert_into(technical_indicators::table)
        .values(row)
        .on_conflict((
            technical_indicators::timestamp,
            technical_indicators::symbol,
        ))
        .do_nothing()
        .execute(conn)?;
    Ok(written > 0)
}

pub(crate) fn latest_indicators(
    conn: &mut Conn,
    symbol: &str,
) -> Result<Option<IndicatorRow>, StoreError> {
    Ok(technical_indicators::table
        .filter(technical_indicators::symbol.eq(symbol))
        .order(technical_indicators::timestamp.desc())
        .select(IndicatorRow::as_select())
        .first(conn)
        .optional()?)
}

pub(crate) fn upsert_economic_event(conn: &mut Conn, e: &EconomicEvent) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        let key = economic_events::table
            .filter(economic_events::event_date.eq(e.event_date.as_millis()))
            .filter(economic_events::name.eq(&e.name))
            .filter(economic_events::country.eq(&e.country));
        let existing: Option<Option<String>> = key
            .select(economic_events::actual_value)
            .first(conn)
            .optional()?;
        match existing {
            Some(old_actual) => {
                let actual = e.actual_value.clone().or(old_actual);
                diesel::update(key)
                    .set((
                        economic_events::impact.eq(&e.impact),
                        economic_events::category.eq(&e.category),
                        economic_events::previous_value.eq(&e.previous_value),
                        economic_events::forecast_value.eq(&e.forecast_value),
                        economic_events::actual_value.eq(actual),
                    ))
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(economic_events::table)
                    .values((
                        economic_events::event_date.eq(e.event_date.as_millis()),
                        economic_events::name.eq(&e.name),
                        economic_events::country.eq(&e.country),
                        economic_events::impact.eq(&e.impact),
                        economic_events::category.eq(&e.category),
                        economic_events::previous_value.eq(&e.previous_value),
                        economic_events::forecast_value.eq(&e.forecast_value),
                        economic_events::actual_value.eq(&e.actual_value),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(())
    })
}

#[allow(clippy::type_complexity)]
pub(crate) fn economic_events(
    conn: &mut Conn,
    from: i64,
    to: i64,
) -> Result<Vec<EconomicEvent>, StoreError> {
    let rows: Vec<(
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    )> = economic_events::table
        .filter(economic_events::event_date.ge(from))
        .filter(economic_events::event_date.lt(to))
        .order((
            economic_events::event_date.asc(),
            economic_events::name.asc(),
        ))
        .select((
            economic_events::event_date,
            economic_events::name,
            economic_events::country,
            economic_events::impact,
            economic_events::category,
            economic_events::previous_value,
            economic_events::forecast_value,
            economic_events::actual_value,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(date, name, country, impact, category, previous, forecast, actual)| EconomicEvent {
                event_date: Timestamp::from_millis(date),
                name,
                country,
                impact,
                category,
                previous_value: previous,
                forecast_value: forecast,
                actual_value: actual,
            },
        )
        .collect())
}

pub(crate) fn insert_market_signal(
    conn: &mut Conn,
    s: &MarketSignal,
    detail: &str,
) -> Result<bool, StoreError> {
    let written = diesel::insert_into(market_signals::table)
        .values((
            market_signals::at.eq(s.at.as_millis()),
            market_signals::source.eq(&s.source),
            market_signals::symbol.eq(s.symbol.as_str()),
            market_signals::value.eq(s.value),
            market_signals::label.eq(&s.label),
            market_signals::detail.eq(detail),
        ))
        .on_conflict((
            market_signals::at,
            market_signals::source,
            market_signals::symbol,
        ))
        .do_nothing()
        .execute(conn)?;
    Ok(written > 0)
}

#[allow(clippy::type_complexity)]
pub(crate) fn latest_market_signal(
    conn: &mut Conn,
    source: &str,
    symbol: &str,
    at: i64,
) -> Result<Option<(i64, Option<f64>, String, String)>, StoreError> {
    Ok(market_signals::table
        .filter(market_signals::source.eq(source))
        .filter(market_signals::symbol.eq(symbol))
        .filter(market_signals::at.le(at))
        .order(market_signals::at.desc())
        .select((
            market_signals::at,
            market_signals::value,
            market_signals::label,
            market_signals::detail,
        ))
        .first(conn)
        .optional()?)
}

pub(crate) fn insert_portfolio_recommendation(
    conn: &mut Conn,
    r: &PortfolioRecommendation,
    recommended: &str,
    current: &str,
    regime: Option<String>,
) -> Result<i64, StoreError> {
    write_transaction(conn, |conn| {
        diesel::insert_into(ai_portfolio_recommendations::table)
            .values((
                ai_portfolio_recommendations::at.eq(r.at.as_millis()),
                ai_portfolio_recommendations::recommended_allocations.eq(recommended),
                ai_portfolio_recommendations::current_allocations.eq(current),
                ai_portfolio_recommendations::reasoning.eq(&r.reasoning),
                ai_portfolio_recommendations::confidence.eq(r.confidence),
                ai_portfolio_recommendations::regime.eq(regime),
                ai_portfolio_recommendations::was_applied.eq(r.was_applied),
            ))
            .execute(conn)?;
        Ok(ai_portfolio_recommendations::table
            .count()
            .get_result(conn)?)
    })
}

pub(crate) fn portfolio_recommendation_count(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(ai_portfolio_recommendations::table
        .count()
        .get_result(conn)?)
}
