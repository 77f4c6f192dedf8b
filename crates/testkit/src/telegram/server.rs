//! The fake Bot API's HTTP side: request parsing, the method table and Telegram's checks.

use std::{collections::HashMap, sync::Arc};

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State as AxumState},
    http::{header::CONTENT_TYPE, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use serde_json::{json, Value};

use super::{lock, Outage, RecordedCall, SentKind, SentMessage, Shared};

/// Telegram's limit on a message's text (or a caption's: 1024) after entity parsing,
/// counted in UTF-16 code units.
const MAX_TEXT_UNITS: usize = 4096;
/// Telegram's limit on a photo caption.
const MAX_CAPTION_UNITS: usize = 1024;
/// A fixed message date (2026-01-01), since the fake has no clock of its own.
const MESSAGE_DATE: i64 = 1_767_225_600;
/// The bot's user id.
const BOT_ID: i64 = 123_456_789;

pub(crate) fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{*path}", post(handle).get(handle))
        .with_state(shared)
}

/// Request parameters, whatever way they came (JSON body, multipart, form, query).
type Params = HashMap<String, Value>;

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (token, method) = match path.strip_prefix("bot").and_then(|p| p.rsplit_once('/')) {
        Some((token, method)) => (token.to_owned(), method.to_owned()),
        None => (String::new(), path.clone()),
    };
    let response = answer(&shared, &token, &method, query.as_deref(), &headers, &body).await;
    lock(&shared.state).calls.push(RecordedCall {
        method,
        status: response.status().as_u16(),
    });
    response
}

async fn answer(
    shared: &Arc<Shared>,
    token: &str,
    method: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let outage = lock(&shared.state).outage;
    match outage {
        Some(Outage::ServiceUnavailable) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "<html>503 Service Unavailable</html>",
            )
                .into_response();
        }
        Some(Outage::InvalidJson) => {
            return (StatusCode::OK, "<html>please log in</html>").into_response();
        }
        Some(Outage::Conflict) if method.eq_ignore_ascii_case("getUpdates") => {
            return error(
                StatusCode::CONFLICT,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                None,
            );
        }
        _ => {}
    }
    if token != shared.config.token {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    let params = parse_params(query, headers, body);
    // Telegram's method names are case-insensitive (teloxide sends `SendMessage`).
    match method.to_ascii_lowercase().as_str() {
        "getme" => ok(bot_user(&shared.config.bot_username)),
        "getwebhookinfo" => ok(json!({
            "url": "", "has_custom_certificate": false, "pending_update_count": 0
        })),
        "deletewebhook" | "answercallbackquery" | "deletemycommands" => ok(json!(true)),
        "setmycommands" => set_my_commands(shared, &params),
        "getupdates" => get_updates(shared, &params).await,
        "sendmessage" => send(shared, &params, SentKind::Text),
        "sendphoto" => send(shared, &params, SentKind::Photo { bytes: body.len() }),
        "editmessagetext" => edit_message_text(shared, &params),
        _ => error(StatusCode::NOT_FOUND, "Not Found: method not found", None),
    }
}

fn ok(result: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"ok": true, "result": result})),
    )
        .into_response()
}

fn error(status: StatusCode, description: &str, retry_after: Option<u32>) -> Response {
    let mut body = json!({
        "ok": false,
        "error_code": status.as_u16(),
        "description": description,
    });
    if let Some(seconds) = retry_after {
        body["parameters"] = json!({ "retry_after": seconds });
    }
    (status, axum::Json(body)).into_response()
}

fn bad_request(description: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        &format!("Bad Request: {description}"),
        None,
    )
}

fn parse_params(query: Option<&str>, headers: &HeaderMap, body: &Bytes) -> Params {
    let mut params: Params = query
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
            params.extend(map);
        }
    } else if let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
    {
        params.extend(multipart_text_fields(body, boundary.trim_matches('"')));
    } else if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        params.extend(pairs.into_iter().map(|(k, v)| (k, Value::String(v))));
    }
    params
}

/// The text fields of a multipart body (files are skipped: their size is recorded instead).
fn multipart_text_fields(body: &[u8], boundary: &str) -> Params {
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut params = Params::new();
    for part in text.split(delimiter.as_str()) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        if head.contains("filename=") {
            continue;
        }
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        params.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    params
}

fn param_i64(params: &Params, name: &str) -> Option<i64> {
    match params.get(name)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn param_str<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

fn param_bool(params: &Params, name: &str) -> bool {
    match params.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

fn set_my_commands(shared: &Shared, params: &Params) -> Response {
    let commands = match params.get("commands") {
        Some(Value::Array(list)) => list.clone(),
        Some(Value::String(text)) => serde_json::from_str(text).unwrap_or_default(),
        _ => return bad_request("commands are missing"),
    };
    lock(&shared.state).commands = commands
        .iter()
        .map(|c| {
            (
                c["command"].as_str().unwrap_or_default().to_owned(),
                c["description"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    ok(json!(true))
}

async fn get_updates(shared: &Arc<Shared>, params: &Params) -> Response {
    let offset = param_i64(params, "offset");
    let timeout = param_i64(params, "timeout").unwrap_or(0);
    let wait = std::time::Duration::from_secs(u64::try_from(timeout).unwrap_or(0))
        .min(shared.config.max_poll);
    let _ = tokio::time::timeout(wait, async {
        loop {
            let notified = shared.updates_arrived.notified();
            if !pending_updates(shared, offset).is_empty() {
                return;
            }
            notified.await;
        }
    })
    .await;
    ok(Value::Array(pending_updates(shared, offset)))
}

/// Drops updates confirmed by `offset` (Telegram forgets them) and returns the rest.
fn pending_updates(shared: &Shared, offset: Option<i64>) -> Vec<Value> {
    let mut state = lock(&shared.state);
    if let Some(offset) = offset {
        state.updates.retain(|(id, _)| *id >= offset);
    }
    state
        .updates
        .iter()
        .map(|(_, update)| update.clone())
        .collect()
}

fn send(shared: &Shared, params: &Params, kind: SentKind) -> Response {
    if let Some(response) = rate_limited(shared) {
        return response;
    }
    let Some(chat_id) = param_i64(params, "chat_id") else {
        return bad_request("chat_id is empty");
    };
    let (field, limit) = match kind {
        SentKind::Text => ("text", MAX_TEXT_UNITS),
        SentKind::Photo { .. } => ("caption", MAX_CAPTION_UNITS),
    };
    let text = param_str(params, field).unwrap_or_default().to_owned();
    if matches!(kind, SentKind::Text) && text.is_empty() {
        return bad_request("message text is empty");
    }
    let parse_mode = param_str(params, "parse_mode").map(str::to_owned);
    let visible = match parse_mode.as_deref() {
        Some("HTML") => match html_visible_text(&text) {
            Ok(visible) => visible,
            Err(reason) => {
                return bad_request(&format!("can't parse entities: {reason}"));
            }
        },
        _ => text.clone(),
    };
    if visible.encode_utf16().count() > limit {
        return bad_request(match kind {
            SentKind::Text => "message is too long",
            SentKind::Photo { .. } => "message caption is too long",
        });
    }
    let message_id = {
        let mut state = lock(&shared.state);
        let message_id = state.next_message_id;
        state.next_message_id += 1;
        state.sent.push(SentMessage {
            message_id,
            chat_id,
            kind: kind.clone(),
            text: text.clone(),
            parse_mode,
            disable_notification: param_bool(params, "disable_notification"),
        });
        message_id
    };
    shared.message_sent.notify_waiters();
    let mut message = json!({
        "message_id": message_id,
        "date": MESSAGE_DATE,
        "chat": chat(chat_id),
        "from": bot_user(&shared.config.bot_username),
    });
    match kind {
        SentKind::Text => message["text"] = json!(visible),
        SentKind::Photo { .. } => {
            message["photo"] = json!([{
                "file_id": format!("photo-{message_id}"),
                "file_unique_id": format!("unique-{message_id}"),
                "width": 640,
                "height": 360
            }]);
            if !visible.is_empty() {
                message["caption"] = json!(visible);
            }
        }
    }
    ok(message)
}

/// A 429 for the next send, while a rate limit is armed.
fn rate_limited(shared: &Shared) -> Option<Response> {
    let mut state = lock(&shared.state);
    let (remaining, retry_after) = state.rate_limited?;
    state.rate_limited = (remaining > 1).then(|| (remaining - 1, retry_after));
    drop(state);
    Some(error(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Too Many Requests: retry after {retry_after}"),
        Some(retry_after),
    ))
}

fn edit_message_text(shared: &Shared, params: &Params) -> Response {
    let Some(chat_id) = param_i64(params, "chat_id") else {
        return bad_request("chat_id is empty");
    };
    let message_id = param_i64(params, "message_id").unwrap_or_default();
    ok(json!({
        "message_id": message_id,
        "date": MESSAGE_DATE,
        "chat": chat(chat_id),
        "from": bot_user(&shared.config.bot_username),
        "text": param_str(params, "text").unwrap_or_default(),
    }))
}

fn bot_user(username: &str) -> Value {
    json!({
        "id": BOT_ID,
        "is_bot": true,
        "first_name": "Hybrid",
        "username": username,
        "can_join_groups": false,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false
    })
}

fn chat(chat_id: i64) -> Value {
    if chat_id < 0 {
        json!({"id": chat_id, "type": "group", "title": "Operators"})
    } else {
        json!({"id": chat_id, "type": "private", "first_name": "Op"})
    }
}

/// A `message` update from user `user_id` in `chat_id`, with a `bot_command` entity when the
/// text starts with `/`.
pub(crate) fn message_update(
    update_id: i64,
    message_id: i64,
    chat_id: i64,
    user_id: i64,
    text: &str,
) -> Value {
    let mut message = json!({
        "message_id": message_id,
        "date": MESSAGE_DATE,
        "chat": chat(chat_id),
        "from": {"id": user_id, "is_bot": false, "first_name": "Op"},
        "text": text,
    });
    if text.starts_with('/') {
        let command = text.split_whitespace().next().unwrap_or(text);
        message["entities"] = json!([{
            "offset": 0,
            "length": command.encode_utf16().count(),
            "type": "bot_command"
        }]);
    }
    json!({"update_id": update_id, "message": message})
}

/// The text a reader sees after Telegram parses HTML markup, or why the markup is invalid.
/// Supports the tags Telegram allows and the four named entities plus numeric ones.
fn html_visible_text(text: &str) -> Result<String, String> {
    const TAGS: [&str; 13] = [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "a",
        "blockquote",
    ];
    let mut visible = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(position) = rest.find(['<', '&']) {
        visible.push_str(&rest[..position]);
        rest = &rest[position..];
        if rest.starts_with('&') {
            let end = rest
                .find(';')
                .ok_or_else(|| format!("unclosed entity at {:?}", head(rest)))?;
            let entity = &rest[1..end];
            visible.push(match entity {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                _ => entity
                    .strip_prefix('#')
                    .and_then(|n| n.parse::<u32>().ok())
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("unsupported entity &{entity};"))?,
            });
            rest = &rest[end + 1..];
        } else {
            let end = rest
                .find('>')
                .ok_or_else(|| format!("unclosed start tag at {:?}", head(rest)))?;
            let tag = &rest[1..end];
            if let Some(name) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(expected) if expected == name.trim() => {}
                    other => {
                        return Err(format!(
                        "can't find end tag corresponding to start tag {other:?} (found </{name}>)"
                    ))
                    }
                }
            } else {
                let name = tag.split_whitespace().next().unwrap_or_default();
                if !TAGS.contains(&name) {
                    return Err(format!("unsupported start tag \"{name}\""));
                }
                open.push(name.to_owned());
            }
            rest = &rest[end + 1..];
        }
    }
    visible.push_str(rest);
    if let Some(tag) = open.last() {
        return Err(format!(
            "can't find end tag corresponding to start tag \"{tag}\""
        ));
    }
    Ok(visible)
}

fn head(text: &str) -> String {
    text.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_parsed_like_telegram_does() {
        assert_eq!(
            html_visible_text("<b>P&amp;L</b> 5 &lt; 6").unwrap(),
            "P&L 5 < 6"
        );
        assert_eq!(html_visible_text("a &#128200; b").unwrap(), "a 📈 b");
        assert!(html_visible_text("5 < 6").is_err());
        assert!(html_visible_text("P&L").is_err());
        assert!(html_visible_text("<b>open").is_err());
        assert!(html_visible_text("<b><i>x</b></i>").is_err());
        assert!(html_visible_text("<script>x</script>").is_err());
    }

    #[test]
    fn multipart_text_fields_skip_files() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n\
                    --XX\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"c.png\"\r\n\r\n\x01\x02\r\n\
                    --XX\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nEquity\r\n--XX--\r\n";
        let params = multipart_text_fields(body.as_bytes(), "XX");
        assert_eq!(param_i64(&params, "chat_id"), Some(42));
        assert_eq!(param_str(&params, "caption"), Some("Equity"));
        assert!(!params.contains_key("photo"));
    }
}
