//! The diesel table definitions of the learning loop (migration `2026-11-24-000007_learning`),
//! shared by both backends. Signal values are `Double` (statistics); money and price moves are
//! decimal `Text`.

diesel::table! {
    learning_decisions (id) {
        id -> BigInt,
        source_key -> Text,
        at -> BigInt,
        cohort -> Text,
        symbol -> Text,
        kind -> Text,
        action -> Text,
        stance -> BigInt,
        taken -> Bool,
        price -> Text,
        quantity -> Nullable<Text>,
        regime -> Text,
        regime_probability -> Nullable<Text>,
        reason -> Text,
        outcome_1h -> Nullable<Text>,
        outcome_4h -> Nullable<Text>,
        outcome_24h -> Nullable<Text>,
        outcome_7d -> Nullable<Text>,
        raw_move_24h -> Nullable<Text>,
        was_good_decision -> Nullable<Bool>,
        judged_by -> Nullable<Text>,
        pair_net_pnl -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    signal_components (decision_id) {
        decision_id -> BigInt,
        fear_greed -> Nullable<Double>,
        rsi -> Nullable<Double>,
        macd -> Nullable<Double>,
        trend -> Nullable<Double>,
        volume -> Nullable<Double>,
        whale -> Nullable<Double>,
        sentiment -> Nullable<Double>,
        macro_signal -> Nullable<Double>,
        ai -> Nullable<Double>,
        ai_confidence -> Nullable<Double>,
        ai_risk_level -> Nullable<Text>,
        playbook_alignment -> Nullable<Double>,
        weights -> Text,
        math_composite -> Double,
        ai_composite -> Double,
        final_score -> Double,
        divergence_type -> Nullable<Text>,
        divergence_strength -> Nullable<Double>,
        was_correct -> Nullable<Bool>,
        components_correct -> Nullable<Text>,
    }
}

diesel::table! {
    playbook_versions (version) {
        version -> BigInt,
        generated_at -> BigInt,
        content -> Text,
        trade_count -> BigInt,
        success_rate -> Nullable<Double>,
        changes_summary -> Text,
        metrics -> Text,
    }
}

diesel::table! {
    ai_conversations (id) {
        id -> BigInt,
        at -> BigInt,
        purpose -> Text,
        model -> Text,
        request_key -> Text,
        prompt -> Text,
        response -> Nullable<Text>,
        error -> Nullable<Text>,
        verdict -> Text,
        reason -> Nullable<Text>,
        tokens_used -> Nullable<BigInt>,
        latency_ms -> BigInt,
    }
}

diesel::table! {
    signal_weights (id) {
        id -> BigInt,
        at -> BigInt,
        scope -> Text,
        weights -> Text,
        alphas -> Text,
        confidence -> Double,
        sample_size -> BigInt,
        is_active -> Bool,
    }
}

diesel::table! {
    coin_discoveries (id) {
        id -> BigInt,
        symbol -> Text,
        discovered_at -> BigInt,
        ai_approved -> Bool,
        ai_category -> Nullable<Text>,
        ai_tier -> Nullable<BigInt>,
        ai_risk -> Nullable<Text>,
        ai_reason -> Text,
        volume_24h -> Nullable<Text>,
        was_added -> Bool,
        was_deactivated -> Bool,
        deactivated_at -> Nullable<BigInt>,
        deactivated_reason -> Nullable<Text>,
        trades_after_7d -> Nullable<BigInt>,
        win_rate_after_7d -> Nullable<Double>,
        avg_return_after_7d -> Nullable<Double>,
        was_good_discovery -> Nullable<Bool>,
    }
}

diesel::table! {
    technical_indicators (timestamp, symbol) {
        timestamp -> BigInt,
        symbol -> Text,
        price -> Text,
        sma_20 -> Nullable<Double>,
        sma_50 -> Nullable<Double>,
        sma_200 -> Nullable<Double>,
        ema_12 -> Nullable<Double>,
        ema_26 -> Nullable<Double>,
        rsi_14 -> Nullable<Double>,
        macd_line -> Nullable<Double>,
        macd_signal -> Nullable<Double>,
        macd_histogram -> Nullable<Double>,
        bollinger_upper -> Nullable<Double>,
        bollinger_middle -> Nullable<Double>,
        bollinger_lower -> Nullable<Double>,
        atr_14 -> Nullable<Double>,
        trend -> Text,
        momentum -> Text,
        volatility -> Text,
    }
}

diesel::table! {
    economic_events (event_date, name, country) {
        event_date -> BigInt,
        name -> Text,
        country -> Text,
        impact -> Text,
        category -> Text,
        previous_value -> Nullable<Text>,
        forecast_value -> Nullable<Text>,
        actual_value -> Nullable<Text>,
    }
}

diesel::table! {
    market_signals (at, source, symbol) {
        at -> BigInt,
        source -> Text,
        symbol -> Text,
        value -> Nullable<Double>,
        label -> Text,
        detail -> Text,
    }
}

diesel::table! {
    ai_portfolio_recommendations (id) {
        id -> BigInt,
        at -> BigInt,
        recommended_allocations -> Text,
        current_allocations -> Text,
        reasoning -> Text,
        confidence -> Double,
        regime -> Nullable<Text>,
        was_applied -> Bool,
    }
}

diesel::allow_tables_to_appear_in_same_query!(learning_decisions, signal_components);
diesel::joinable!(signal_components -> learning_decisions (decision_id));
