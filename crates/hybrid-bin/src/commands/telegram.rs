//! `main_hybrid telegram`: the Telegram process. Long-polls for the owners' commands and drains
//! the notification outbox, both reading the same database as the trading process, so neither
//! a Telegram outage nor a slow answer can touch trading. SIGINT/SIGTERM stop it.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use tokio::sync::watch;

use hybrid_cockpit::StoreCockpit;
use hybrid_core::{Clock, SystemClock};
use hybrid_learning::{LlmClient, LlmSettings};
use hybrid_store::Store;
use hybrid_telegram::{
    run_bot, telegram_client, BotSettings, LearningDesk, OutboxSender, SenderSettings,
};

use super::UsageError;
use crate::{cli::TelegramArgs, config::LoadedConfig};

/// The environment variable holding the bot token (never a configuration key).
pub(crate) const TOKEN_VAR: &str = "HYBRID_TELEGRAM_BOT_TOKEN";

/// Checks the settings and runs the bot and the sender until SIGINT/SIGTERM.
pub(crate) fn run(loaded: &LoadedConfig, args: &TelegramArgs) -> anyhow::Result<()> {
    let token = bot_token(loaded)?;
    let chat_ids = loaded.config.telegram.allowed_chat_ids.clone();
    if chat_ids.is_empty() {
        return Err(UsageError(
            "telegram.allowed_chat_ids is empty: the bot answers and notifies only these chats"
                .to_owned(),
        )
        .into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(loaded, args, &token, chat_ids))
}

/// The bot token from the environment, or a usage error naming the variable.
pub(crate) fn bot_token(loaded: &LoadedConfig) -> Result<String, UsageError> {
    loaded
        .secrets
        .get(TOKEN_VAR)
        .filter(|t| !t.trim().is_empty())
        .cloned()
        .ok_or_else(|| {
            UsageError(format!(
                "the Telegram bot needs the environment variable {TOKEN_VAR}"
            ))
        })
}

/// Opens and migrates the configured database.
pub(crate) fn open_store(loaded: &LoadedConfig) -> anyhow::Result<Arc<Store>> {
    let url = &loaded.config.database.url;
    let shown = crate::config::load_mask_url(url);
    let store = Store::open(url).with_context(|| format!("cannot open the database {shown}"))?;
    store
        .run_migrations()
        .with_context(|| format!("migrating {shown} failed"))?;
    Ok(Arc::new(store))
}

async fn run_async(
    loaded: &LoadedConfig,
    args: &TelegramArgs,
    token: &str,
    chat_ids: Vec<i64>,
) -> anyhow::Result<()> {
    let telegram = &loaded.config.telegram;
    let store = open_store(loaded)?;
    let bot = telegram_client(token, &telegram.api_url)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let cockpit = Arc::new(StoreCockpit::new(
        Arc::clone(&store),
        Some(args.heartbeat.clone()),
    ));
    let sender = OutboxSender::new(
        bot.clone(),
        Arc::clone(&store),
        Arc::clone(&clock),
        SenderSettings {
            chat_ids: chat_ids.clone(),
            learning_mode: telegram.learning_mode,
            poll_interval: Duration::from_millis(telegram.outbox_poll_ms),
            min_send_interval: Duration::from_millis(telegram.min_send_interval_ms),
            ..SenderSettings::default()
        },
    )?;
    let stop = super::shutdown_signal()?;
    let sender_stop = stop.clone();
    let sender_task = tokio::spawn(async move { sender.run(wait_for(sender_stop)).await });
    tracing::info!(chats = chat_ids.len(), "telegram bot started");
    println!(
        "telegram: answering {} chat(s); notifications from the outbox",
        chat_ids.len()
    );
    let settings = BotSettings {
        owner_user_ids: owners(&telegram.owner_user_ids, &chat_ids),
        allowed_chat_ids: chat_ids,
    };
    let desk = LearningDesk::new(Arc::clone(&store), llm_client(loaded)?);
    run_bot(bot, cockpit, desk, clock, settings, wait_for(stop))
        .await
        .context("the Telegram bot stopped")?;
    sender_task
        .await
        .context("the notification sender failed")?;
    println!("telegram: stopped");
    Ok(())
}

/// The owners: `telegram.owner_user_ids`, or when empty the private chats among the allowed
/// chats (a private chat's id is its user's id; groups have negative ids).
fn owners(configured: &[i64], chat_ids: &[i64]) -> Vec<i64> {
    if configured.is_empty() {
        chat_ids.iter().copied().filter(|id| *id > 0).collect()
    } else {
        configured.to_vec()
    }
}

/// The `[llm]` client for `/ask`, or `None` without `HYBRID_LLM_API_KEY` (then `/ask`
/// refuses).
fn llm_client(loaded: &LoadedConfig) -> anyhow::Result<Option<LlmClient>> {
    let Some(api_key) = loaded
        .secrets
        .get("HYBRID_LLM_API_KEY")
        .filter(|k| !k.trim().is_empty())
    else {
        return Ok(None);
    };
    let llm = &loaded.config.llm;
    let client = LlmClient::new(LlmSettings {
        base_url: llm.base_url.clone(),
        api_key: api_key.clone(),
        model: llm.model.clone(),
        timeout: Duration::from_secs(u64::from(llm.timeout_secs)),
        max_attempts: llm.max_attempts,
        ..LlmSettings::default()
    })
    .context("cannot build the LLM client for /ask")?;
    Ok(Some(client))
}

/// Completes when the flag turns `true`.
async fn wait_for(mut flag: watch::Receiver<bool>) {
    let _ = flag.wait_for(|stop| *stop).await;
}
