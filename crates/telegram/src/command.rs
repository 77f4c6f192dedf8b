//! The bot's commands: one enum whose doc comments are the help text Telegram shows.

use teloxide::utils::command::BotCommands;

/// Hybrid answers its owners only. Commands:
#[derive(BotCommands, Debug, Clone, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// Short overview of the commands.
    #[command(description = "short overview of the commands")]
    Start,
    /// The full command list.
    #[command(description = "the full command list")]
    Help,
    /// Modes, positions and open orders per cohort.
    #[command(description = "modes, positions and open orders per cohort")]
    Status,
    /// P&L per cohort and coin, with an equity chart.
    #[command(description = "P&L per cohort and coin, with an equity chart")]
    Report,
    /// Cohorts ranked by realised P&L.
    #[command(description = "cohorts ranked by realised P&L")]
    Compare,
    /// The portfolio tiers (cash, index, trading).
    #[command(description = "the portfolio tiers (cash, index, trading)")]
    Portfolio,
    /// The last closed trades.
    #[command(description = "the last closed trades")]
    Trades,
    /// Realised profit per cohort.
    #[command(description = "realised profit per cohort")]
    Profit,
    /// Today's trades and P&L (UTC day).
    #[command(description = "today's trades and P&L (UTC day)")]
    Daily,
    /// Active stop-losses.
    #[command(description = "active stop-losses")]
    Stops,
    /// Current modes and the last mode decisions with their reasons.
    #[command(description = "current modes and the last decisions with reasons")]
    Mode,
    /// Last tick, heartbeat, reconciliation, exchange weight and the notification backlog.
    #[command(description = "last tick, heartbeat, reconciliation, notification backlog")]
    Health,
    /// Stop opening new positions (open ones are still managed); asks for confirmation.
    #[command(description = "stop opening new positions (asks for confirmation)")]
    Pause,
    /// Allow opening new positions again.
    #[command(description = "allow opening new positions again")]
    Resume,
    /// Production readiness check.
    #[command(description = "production readiness check")]
    Validate,
    /// Carry out the action waiting for confirmation.
    #[command(description = "confirm the pending action")]
    Confirm,
    /// Drop the action waiting for confirmation.
    #[command(description = "cancel the pending action")]
    Cancel,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_and_without_the_bot_name() {
        let bot = "hybrid_test_bot";
        assert_eq!(Command::parse("/status", bot).ok(), Some(Command::Status));
        assert_eq!(
            Command::parse("/report@hybrid_test_bot", bot).ok(),
            Some(Command::Report)
        );
        assert_eq!(Command::parse("/pause", bot).ok(), Some(Command::Pause));
        assert!(Command::parse("/report@other_bot", bot).is_err());
        assert!(Command::parse("/sell", bot).is_err());
        assert!(Command::parse("status", bot).is_err());
    }

    #[test]
    fn help_lists_every_command_with_its_description() {
        let help = Command::descriptions().to_string();
        for command in [
            "/help",
            "/status",
            "/report",
            "/compare",
            "/portfolio",
            "/trades",
            "/profit",
            "/daily",
            "/stops",
            "/mode",
            "/health",
            "/pause",
            "/resume",
            "/validate",
        ] {
            assert!(help.contains(command), "{command} missing from {help}");
        }
        assert!(help.contains("asks for confirmation"), "{help}");
        assert_eq!(Command::bot_commands().len(), 17);
    }
}
