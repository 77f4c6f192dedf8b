//! The diesel table definitions of the three-tier portfolio (migration
//! `2026-11-24-000006_portfolio`), shared by both backends.

diesel::table! {
    portfolio_tiers (tier_name) {
        tier_name -> Text,
        target_pct -> Text,
        min_pct -> Text,
        max_pct -> Text,
        current_pct -> Nullable<Text>,
        current_value_usd -> Text,
        is_active -> Bool,
        updated_at -> BigInt,
    }
}

diesel::table! {
    portfolio_snapshots (id) {
        id -> BigInt,
        at -> BigInt,
        total_value_usd -> Text,
        cash_usd -> Text,
        index_usd -> Text,
        trading_usd -> Text,
        daily_pnl -> Nullable<Text>,
        daily_pnl_pct -> Nullable<Text>,
        max_drawdown -> Nullable<Text>,
        sharpe_ratio -> Nullable<Double>,
    }
}

diesel::table! {
    index_holdings (symbol) {
        symbol -> Text,
        target_weight_pct -> Text,
        quantity -> Text,
        avg_entry_price -> Text,
        current_price -> Text,
        trailing_stop_pct -> Text,
        trailing_stop_price -> Text,
        highest_price -> Text,
        is_active -> Bool,
        last_rebalance_at -> Nullable<BigInt>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    profit_redistributions (id) {
        id -> BigInt,
        at -> BigInt,
        total_portfolio_value -> Text,
        total_moved -> Text,
        pre_allocation -> Text,
        post_allocation -> Text,
        transfers -> Text,
        trigger_reason -> Text,
    }
}

diesel::table! {
    regime_history (id) {
        id -> BigInt,
        at -> BigInt,
        symbol -> Nullable<Text>,
        regime -> Text,
        regime_probability -> Nullable<Double>,
        previous_regime -> Nullable<Text>,
    }
}
