//! The diesel table definition of the notification outbox (migration
//! `2026-11-24-000005_outbox`), kept apart from `schema.rs` so the outbox can change without
//! touching the trading tables.

diesel::table! {
    outbox (id) {
        id -> BigInt,
        created_at -> BigInt,
        cohort_id -> Nullable<BigInt>,
        kind -> Text,
        severity -> Text,
        text -> Text,
        status -> Text,
        attempts -> BigInt,
        parts_sent -> BigInt,
        next_attempt_at -> BigInt,
        last_error -> Nullable<Text>,
        finished_at -> Nullable<BigInt>,
    }
}
