//! The retry schedule of follow-up orders whose placement failed.

use hybrid_core::Timestamp;

/// Waits before retry 1, 2, 3, 4 and 5 of a failed follow-up, in minutes.
pub const FOLLOW_UP_BACKOFF_MINUTES: [i64; 5] = [2, 5, 15, 30, 60];

/// Retries after the first failed placement; when retry 5 fails too, the follow-up is
/// abandoned with a critical alert. (The original gave up one retry early, so its 60-minute
/// slot was never used; here failure `k` waits `BACKOFF[k − 1]`, so retry 5 happens.)
pub const MAX_FOLLOW_UP_RETRIES: u32 = 5;

/// When to retry after the `failures`-th failed placement (1-based), or `None` to give up.
pub(crate) fn next_retry(failures: u32, now: Timestamp) -> Option<Timestamp> {
    let slot = usize::try_from(failures.checked_sub(1)?).ok()?;
    let minutes = FOLLOW_UP_BACKOFF_MINUTES.get(slot)?;
    Some(now.plus_millis(minutes * Timestamp::MINUTE_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_reaches_the_fifth_retry_then_gives_up() {
        let t0 = Timestamp::from_millis(0);
        let waits: Vec<i64> = (1..=MAX_FOLLOW_UP_RETRIES)
            .map(|k| {
                next_retry(k, t0)
                    .map(|t| t.as_millis() / Timestamp::MINUTE_MS)
                    .unwrap()
            })
            .collect();
        assert_eq!(waits, vec![2, 5, 15, 30, 60]);
        assert_eq!(next_retry(MAX_FOLLOW_UP_RETRIES + 1, t0), None);
        assert_eq!(next_retry(0, t0), None);
    }
}
