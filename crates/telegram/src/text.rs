//! Telegram text rules: HTML escaping and splitting long messages.
//!
//! Every message goes out with `parse_mode = HTML` (spec apis §4.1: far fewer escaping traps
//! than MarkdownV2 with prices such as `97,123.45`), so every dynamic string passes through
//! [`escape_html`]. Telegram refuses a text longer than 4096 characters *after* entity parsing,
//! counted in UTF-16 code units; [`split_message`] cuts at line boundaries below that, and
//! markup never spans a line in our messages, so each part is well-formed on its own.
//!
//! Differs from the old system: it cut the text at 4096 and appended "...truncated", losing
//! the rest of the message.

/// Telegram's limit on one message's text, in UTF-16 code units after entity parsing.
pub const MAX_MESSAGE_UNITS: usize = 4096;

/// Escapes `<`, `>` and `&` for Telegram's HTML parse mode (the only three it requires).
#[must_use]
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    out
}

/// Splits `text` into parts of at most `limit` UTF-16 code units, cutting only after a line
/// break; a single line longer than `limit` is cut at character boundaries. Concatenating the
/// parts gives `text` back. An empty text gives no part.
#[must_use]
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(2);
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_units = 0;
    for line in text.split_inclusive('\n') {
        let units = utf16_len(line);
        if current_units + units > limit && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            current_units = 0;
        }
        if units > limit {
            for piece in cut_line(line, limit) {
                let piece_units = utf16_len(&piece);
                if current_units + piece_units > limit {
                    parts.push(std::mem::take(&mut current));
                    current_units = 0;
                }
                current.push_str(&piece);
                current_units += piece_units;
            }
        } else {
            current.push_str(line);
            current_units += units;
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// Length in UTF-16 code units, the way Telegram counts.
#[must_use]
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// A line longer than `limit`, cut into pieces of at most `limit` units at character
/// boundaries.
fn cut_line(line: &str, limit: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut units = 0;
    for c in line.chars() {
        let width = c.len_utf16();
        if units + width > limit {
            pieces.push(std::mem::take(&mut piece));
            units = 0;
        }
        piece.push(c);
        units += width;
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_only_what_html_mode_needs() {
        assert_eq!(
            escape_html("P&L <5%> \"x\" 97,123.45"),
            "P&amp;L &lt;5%&gt; \"x\" 97,123.45"
        );
    }

    #[test]
    fn short_text_is_one_part_and_empty_text_none() {
        assert_eq!(split_message("hello\nworld", 4096), ["hello\nworld"]);
        assert!(split_message("", 4096).is_empty());
    }

    #[test]
    fn long_text_is_cut_after_line_breaks_only() {
        let line = format!("{}\n", "x".repeat(99)); // 100 units per line
        let text = line.repeat(100); // 10 000 units
        let parts = split_message(&text, MAX_MESSAGE_UNITS);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), text);
        for part in &parts {
            assert!(utf16_len(part) <= MAX_MESSAGE_UNITS);
            assert!(part.ends_with('\n'), "cut inside a line");
        }
        assert_eq!(utf16_len(&parts[0]), 4000);
    }

    #[test]
    fn an_over_long_line_is_cut_at_character_boundaries_counting_utf16() {
        // "📈" is two UTF-16 units; 3 000 of them are 6 000 units.
        let text = "📈".repeat(3_000);
        let parts = split_message(&text, MAX_MESSAGE_UNITS);
        assert_eq!(parts.len(), 2);
        assert_eq!(utf16_len(&parts[0]), 4096);
        assert_eq!(parts.concat(), text);
        let mixed = format!("head\n{}\ntail\n", "ab".repeat(5_000));
        let parts = split_message(&mixed, 4096);
        assert_eq!(parts.concat(), mixed);
        assert!(parts.iter().all(|p| utf16_len(p) <= 4096));
    }

    #[test]
    fn exactly_the_limit_is_one_part() {
        let text = "y".repeat(MAX_MESSAGE_UNITS);
        assert_eq!(split_message(&text, MAX_MESSAGE_UNITS), vec![text.clone()]);
        let over = format!("{text}z");
        assert_eq!(split_message(&over, MAX_MESSAGE_UNITS).len(), 2);
    }
}
