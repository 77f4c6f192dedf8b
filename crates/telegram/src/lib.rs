//! The Telegram cockpit: owner-only commands over real data, and notifications sent from a
//! persistent outbox with retries that never block trading.
