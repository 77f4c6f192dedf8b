//! The bot's commands: one enum whose doc comments are the help text Telegram shows (and the
//! only text: a `description` attribute beside them printed every line twice).

use teloxide::utils::command::BotCommands;

/// Hybrid answers its owners only. Commands:
#[derive(BotCommands, Debug, Clone, PartialEq, Eq)]
#[command(rename_rule = "snake_case")]
pub enum Command {
    /// Short overview of the commands.
    Start,
    /// The full command list.
    Help,
    /// Modes, positions and open orders per cohort.
    Status,
    /// P&L per cohort and coin, with an equity chart.
    Report,
    /// Cohorts ranked by realised P&L.
    Compare,
    /// The portfolio tiers (cash, index, trading).
    Portfolio,
    /// The last closed trades.
    Trades,
    /// Realised profit per cohort.
    Profit,
    /// Today's trades and P&L (UTC day).
    Daily,
    /// Active stop-losses.
    Stops,
    /// Current modes and the last mode decisions with their reasons.
    Mode,
    /// Last tick, heartbeat, reconciliation, exchange weight and the notification backlog.
    Health,
    /// Stop opening new positions (open ones are still managed); asks for confirmation.
    Pause,
    /// Allow opening new positions again.
    Resume,
    /// Production readiness check.
    Validate,
    /// Carry out the action waiting for confirmation.
    Confirm,
    /// Drop the action waiting for confirmation.
    Cancel,
    /// Technical analysis of a coin from the latest indicators, e.g. /ta BTCUSDT.
    Ta(String),
    /// Ask the AI advisor about the market; its answer is validated before it is shown.
    Ask(String),
    /// The current trading playbook.
    Playbook,
    /// Decision quality and signal accuracy the playbook is built from.
    PlaybookStats,
    /// Rebuild the playbook from the decisions recorded so far.
    PlaybookUpdate,
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
        assert_eq!(
            Command::parse("/ta BTCUSDT", bot).ok(),
            Some(Command::Ta("BTCUSDT".to_owned()))
        );
        assert_eq!(
            Command::parse("/ask is BTC in a bull market?", bot).ok(),
            Some(Command::Ask("is BTC in a bull market?".to_owned()))
        );
        assert_eq!(
            Command::parse("/playbook_stats", bot).ok(),
            Some(Command::PlaybookStats)
        );
        assert_eq!(
            Command::parse("/playbook_update", bot).ok(),
            Some(Command::PlaybookUpdate)
        );
        assert_eq!(
            Command::parse("/playbook", bot).ok(),
            Some(Command::Playbook)
        );
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
            "/ta",
            "/ask",
            "/playbook",
            "/playbook_stats",
            "/playbook_update",
        ] {
            assert!(help.contains(command), "{command} missing from {help}");
        }
        assert!(help.contains("asks for confirmation"), "{help}");
        let commands = Command::bot_commands();
        assert_eq!(commands.len(), 22);
        // Each description is printed once (it used to appear twice: attribute + doc).
        for command in &commands {
            assert_eq!(
                help.matches(command.description.as_str()).count(),
                1,
                "{} in {help}",
                command.description
            );
            assert!(
                !command.description.contains('\n'),
                "{}",
                command.description
            );
        }
    }
}
