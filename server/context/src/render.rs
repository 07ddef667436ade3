//! How a bucket reads in a prompt: readable Markdown, deterministic, reflecting the bucket's
//! `progressions` up to the scene's position.

use std::fmt::Write as _;

use showrunner_model::analysis::Analysis;
use showrunner_model::bucket::{Bucket, Positions};

use showrunner_model::story::reached;

/// A bucket as it stands at a story position: attributes and summaries after progressions.
pub struct AtPosition<'a> {
    pub bucket: &'a Bucket,
    pub attributes: Vec<(String, serde_json::Value)>,
    /// Progression summaries that apply, oldest first.
    pub changes: Vec<String>,
}

pub fn at_position<'a>(bucket: &'a Bucket, pos: &Positions) -> AtPosition<'a> {
    let mut attributes: Vec<(String, serde_json::Value)> =
        bucket.attributes.iter().map(|a| (a.key.value.clone(), a.value.clone())).collect();
    let mut changes = Vec::new();
    let mut applicable: Vec<_> = bucket.progressions.iter().filter(|p| reached(&p.at, pos)).collect();
    applicable.sort_by_key(|p| p.at.iter().map(|(_, v)| *v).min().unwrap_or(0));
    for p in applicable {
        for (k, v) in &p.attributes {
            match attributes.iter_mut().find(|(ak, _)| ak == k) {
                Some(slot) => slot.1 = v.clone(),
                None => attributes.push((k.clone(), v.clone())),
            }
        }
        if let Some(s) = &p.summary {
            let at: Vec<String> = p.at.iter().map(|(t, v)| format!("{t} {v}")).collect();
            changes.push(format!("Since {}: {}", at.join(", "), s.trim()));
        }
    }
    AtPosition { bucket, attributes, changes }
}

fn heading(b: &Bucket) -> String {
    format!("### {} ({})\n", b.name.value, b.kind.value)
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The short form: heading, summary and what changed.
pub fn summary_form(at: &AtPosition<'_>) -> Option<String> {
    let b = at.bucket;
    let summary = b.summary.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let mut out = heading(b);
    out.push_str(summary);
    out.push('\n');
    for c in &at.changes {
        let _ = writeln!(out, "{c}");
    }
    Some(out)
}

/// The full form: everything a writer would want the model to know.
pub fn full_form(at: &AtPosition<'_>, analysis: &Analysis) -> String {
    let b = at.bucket;
    let mut out = heading(b);
    if !b.aliases.is_empty() {
        let aliases: Vec<&str> = b.aliases.iter().map(|a| a.value.as_str()).collect();
        let _ = writeln!(out, "Also called: {}", aliases.join(", "));
    }
    if let Some(s) = b.summary.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let _ = writeln!(out, "{s}");
    }
    for c in &at.changes {
        let _ = writeln!(out, "{c}");
    }
    if !at.attributes.is_empty() {
        let attrs: Vec<String> = at.attributes.iter().map(|(k, v)| format!("{k}: {}", value_text(v))).collect();
        let _ = writeln!(out, "Attributes: {}", attrs.join("; "));
    }
    if !b.relations.is_empty() {
        let rels: Vec<String> = b
            .relations
            .iter()
            .map(|r| {
                let target =
                    analysis.bucket(&r.target.value).map(|t| t.bucket.name.value.as_str()).unwrap_or(&r.target.value);
                format!("{} {}", r.rel_type.replace('_', " "), target)
            })
            .collect();
        let _ = writeln!(out, "Relations: {}", rels.join("; "));
    }
    if !b.keywords.is_empty() {
        let kw: Vec<&str> = b.keywords.iter().map(|k| k.value.as_str()).collect();
        let _ = writeln!(out, "Keywords: {}", kw.join(", "));
    }
    if let Some(body) = b.body.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        out.push('\n');
        out.push_str(body);
        out.push('\n');
    }
    if !b.sources.is_empty() {
        let _ = writeln!(out, "Sources: {}", b.sources.join("; "));
    }
    out
}

/// Byte offsets just after each sentence end in `text` (`.`, `!`, `?`, `…`, `。` followed by
/// space or end, closing quotes included), and at paragraph breaks.
pub fn sentence_ends(text: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let terminal = matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？');
        let para = c == '\n' && chars.peek().is_some_and(|(_, n)| *n == '\n');
        if !(terminal || para) {
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, q)) = chars.peek() {
            if matches!(q, '"' | '\'' | '”' | '’' | ')' | '»') || (terminal && matches!(q, '.' | '!' | '?')) {
                end = j + q.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let next = text[end..].chars().next();
        if next.is_none_or(char::is_whitespace) || matches!(c, '。' | '！' | '？') {
            ends.push(end);
        }
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_boundaries() {
        let t = "He came. \"Stop!\" she said. Mr. Nowak… left.\n\nNew para";
        let ends: Vec<&str> = sentence_ends(t).into_iter().map(|e| &t[..e]).collect();
        assert_eq!(ends[0], "He came.");
        assert_eq!(ends[1], "He came. \"Stop!\"");
        assert_eq!(ends[2], "He came. \"Stop!\" she said.");
        assert!(ends.iter().any(|e| e.ends_with("left.")));
        assert!(sentence_ends("李雷走了。她笑了。").len() == 2);
    }
}
