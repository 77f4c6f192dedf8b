//! The diesel table definitions, shared by both backends: the migrations use only types both
//! understand (BIGINT, TEXT, BOOLEAN), so one `table!` set describes SQLite and PostgreSQL.

diesel::table! {
    cohorts (id) {
        id -> BigInt,
        name -> Text,
        description -> Text,
        config -> Text,
        starting_capital -> Text,
        current_capital -> Text,
        is_active -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    orders (client_order_id) {
        client_order_id -> Text,
        exchange_order_id -> Nullable<BigInt>,
        cohort_id -> BigInt,
        symbol -> Text,
        side -> Text,
        kind -> Text,
        time_in_force -> Nullable<Text>,
        price -> Nullable<Text>,
        quantity -> Text,
        filled_quantity -> Text,
        filled_quote -> Text,
        status -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    order_status_history (id) {
        id -> BigInt,
        client_order_id -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        at -> BigInt,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    order_sequences (cohort_id, symbol) {
        cohort_id -> BigInt,
        symbol -> Text,
        next_sequence -> BigInt,
    }
}

diesel::table! {
    fills (id) {
        id -> BigInt,
        cohort_id -> BigInt,
        client_order_id -> Text,
        exchange_order_id -> BigInt,
        trade_id -> BigInt,
        symbol -> Text,
        side -> Text,
        price -> Text,
        quantity -> Text,
        commission -> Text,
        commission_asset -> Text,
        is_maker -> Bool,
        executed_at -> BigInt,
    }
}

diesel::table! {
    trade_pairs (id) {
        id -> BigInt,
        cohort_id -> Nullable<BigInt>,
        symbol -> Text,
        parent_pair_id -> Nullable<BigInt>,
        entry_client_order_id -> Nullable<Text>,
        entry_trade_id -> Nullable<BigInt>,
        entry_time -> BigInt,
        entry_price -> Text,
        entry_quantity -> Text,
        entry_fee -> Text,
        remaining_quantity -> Text,
        exit_client_order_id -> Nullable<Text>,
        exit_time -> Nullable<BigInt>,
        exit_price -> Nullable<Text>,
        exit_quantity -> Nullable<Text>,
        exit_fee -> Nullable<Text>,
        gross_pnl -> Nullable<Text>,
        net_pnl -> Nullable<Text>,
        pnl_pct -> Nullable<Text>,
        status -> Text,
        exit_reason -> Nullable<Text>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        at -> BigInt,
        cohort_id -> Nullable<BigInt>,
        symbol -> Nullable<Text>,
        kind -> Text,
        message -> Text,
        data -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    cohorts,
    orders,
    order_status_history,
    order_sequences,
    fills,
    trade_pairs,
    events,
);

diesel::table! {
    state_documents (name) {
        name -> Text,
        body -> Text,
        updated_at -> BigInt,
    }
}
