//! Writing features: rename, completion and quick fixes.

use std::collections::HashMap;

use showrunner_model::analysis::title_case;
use showrunner_model::id::closest;
use showrunner_model::kind::structure_level;
use showrunner_model::matcher::is_word_char;
use showrunner_model::text::{LineIndex, TextRange};
use tower_lsp_server::ls_types::*;

use crate::navigate::mention_at;
use crate::pos::{to_range, to_text_range};
use crate::state::{path_uri, FileSnap};

/// The name or alias a rename at `offset` is about: `(bucket, alias as written, range here)`.
fn rename_target(snap: &FileSnap, offset: usize) -> Option<(usize, String, TextRange)> {
    if let Some(m) = mention_at(snap, offset) {
        let alias = snap.analysis.dictionary.entry(m.alias).alias.clone();
        return Some((m.bucket as usize, alias, m.range()));
    }
    let b = snap.bucket()?;
    let bucket = &snap.analysis.buckets[b].bucket;
    let n = bucket.names().find(|n| n.range.start <= offset && offset <= n.range.end)?;
    Some((b, n.value.clone(), n.range.clone()))
}

pub fn prepare_rename(snap: &FileSnap, offset: usize) -> Option<PrepareRenameResponse> {
    let (_, alias, range) = rename_target(snap, offset)?;
    let shown = snap.text.get(range.clone()).unwrap_or(&alias).trim_matches(['"', '\'']).to_string();
    Some(PrepareRenameResponse::RangeWithPlaceholder {
        range: to_range(&snap.text, &snap.lines, &range, snap.enc),
        placeholder: shown,
    })
}

/// A YAML scalar for `value`: plain when that is safe, else double-quoted.
fn yaml_scalar(value: &str, was_quoted: bool) -> String {
    let plain = !was_quoted
        && value.chars().next().is_some_and(char::is_alphanumeric)
        && value.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '\'' | '’' | '.'))
        && !matches!(value.to_lowercase().as_str(), "true" | "false" | "null" | "yes" | "no" | "on" | "off");
    if plain {
        value.to_string()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Follows the case of what was written: `ALICE` → `ALICIA`, `The keeper` → `The warden`.
fn match_case(written: &str, alias: &str, new: &str) -> String {
    if written == alias {
        return new.to_string();
    }
    if written.chars().any(char::is_alphabetic) && !written.chars().any(char::is_lowercase) {
        return new.to_uppercase();
    }
    let cap = |s: &str| s.chars().next().is_some_and(char::is_uppercase);
    if cap(written) && !cap(alias) {
        let mut c = new.chars();
        return c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default();
    }
    new.to_string()
}

pub fn rename(snap: &FileSnap, offset: usize, new_name: &str) -> Result<WorkspaceEdit, String> {
    let (b, old, _) =
        rename_target(snap, offset).ok_or("put the cursor on a mention, or on a name or alias in a bucket file")?;
    let new = new_name.trim();
    if new.is_empty() || new.contains(['\n', '\r']) {
        return Err("the new name must be one line of text".into());
    }
    let a = &snap.analysis;
    for (i, other) in a.buckets.iter().enumerate() {
        for n in other.bucket.names() {
            if n.value.eq_ignore_ascii_case(new) || n.value.to_lowercase() == new.to_lowercase() {
                if i == b && n.value == old {
                    continue;
                }
                return Err(format!(
                    "`{new}` is already a name or alias of `{}`; pick another name",
                    other.bucket.id.value
                ));
            }
        }
    }
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    let entry = &a.buckets[b];
    let text = a.text(entry.file);
    let lines = LineIndex::new(text);
    let uri = path_uri(&snap.root.join(&a.files[entry.file].path)).ok_or("bad path")?;
    for n in entry.bucket.names().filter(|n| n.value == old) {
        let written = &text[n.range.clone()];
        let quoted = written.starts_with(['"', '\'']);
        changes
            .entry(uri.clone())
            .or_default()
            .push(TextEdit { range: to_range(text, &lines, &n.range, snap.enc), new_text: yaml_scalar(new, quoted) });
    }
    for s in &a.scenes {
        let hits: Vec<_> =
            s.mentions.iter().filter(|m| m.bucket as usize == b && a.dictionary.entry(m.alias).alias == old).collect();
        if hits.is_empty() {
            continue;
        }
        let text = a.text(s.file);
        let lines = LineIndex::new(text);
        let Some(uri) = path_uri(&snap.root.join(&a.files[s.file].path)) else { continue };
        let edits = changes.entry(uri).or_default();
        for m in hits {
            let written = &text[m.range()];
            edits.push(TextEdit {
                range: to_range(text, &lines, &m.range(), snap.enc),
                new_text: match_case(written, &old, new),
            });
        }
    }
    Ok(WorkspaceEdit { changes: Some(changes), ..Default::default() })
}

fn completion_kind(kind: &str) -> CompletionItemKind {
    match kind {
        "character" => CompletionItemKind::CLASS,
        "location" => CompletionItemKind::MODULE,
        "item" => CompletionItemKind::VALUE,
        "faction" => CompletionItemKind::STRUCT,
        "research" | "note" => CompletionItemKind::FILE,
        "season" | "arc" | "act" | "chapter" => CompletionItemKind::FOLDER,
        _ => CompletionItemKind::REFERENCE,
    }
}

/// Which bucket-id field the cursor's line is, if any.
fn id_field(line_before: &str) -> Option<&'static str> {
    let t = line_before.trim_start().trim_start_matches("- ").trim_start_matches('{').trim_start();
    for key in ["parent", "pov", "context", "target", "kind"] {
        if let Some(rest) = t.strip_prefix(key) {
            if rest.trim_start().starts_with(':') {
                return Some(key);
            }
        }
    }
    // `relations: [{ type: x, target: |` and `context: [a, |`
    if let Some(p) = t.rfind("target:") {
        if !t[p..].contains(',') && !t[p..].contains('}') {
            return Some("target");
        }
    }
    None
}

pub fn completion(snap: &FileSnap, offset: usize) -> Vec<CompletionItem> {
    let a = &snap.analysis;
    let text = &snap.text;
    let line = snap.lines.line_of(offset);
    let line_start = snap.lines.line_start(line);
    let before = &text[line_start..offset];
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word_char(*c) || matches!(c, '\'' | '’' | '-'))
        .last()
        .map(|(i, _)| line_start + i)
        .unwrap_or(offset);
    let prefix = &text[word_start..offset];
    let replace = to_range(text, &snap.lines, &(word_start..offset), snap.enc);
    let in_yaml = snap.bucket().is_some()
        || snap
            .scene()
            .and_then(|s| a.scenes[s].scene.frontmatter.clone())
            .is_some_and(|f| f.start <= offset && offset <= f.end);
    let item = |label: String, detail: String, kind: CompletionItemKind, sort: String| CompletionItem {
        label: label.clone(),
        kind: Some(kind),
        detail: Some(detail),
        sort_text: Some(sort),
        filter_text: Some(label.clone()),
        text_edit: Some(CompletionTextEdit::Edit(TextEdit { range: replace, new_text: label })),
        ..Default::default()
    };
    if in_yaml {
        let Some(field) = id_field(before) else { return Vec::new() };
        if field == "kind" {
            return a
                .config
                .kinds
                .names()
                .map(|k| item(k.to_string(), "kind".into(), CompletionItemKind::ENUM, k.to_string()))
                .collect();
        }
        let mut out: Vec<CompletionItem> = a
            .buckets
            .iter()
            .filter(|b| b.bucket.id.value.to_lowercase().starts_with(&prefix.to_lowercase()))
            .map(|b| {
                let kind = &b.bucket.kind.value;
                // Likely kinds first: structure for `parent`, characters for `pov`.
                let rank = match field {
                    "parent" if structure_level(kind).is_some() => 0,
                    "pov" if kind == "character" => 0,
                    _ => 1,
                };
                item(
                    b.bucket.id.value.clone(),
                    format!("{} · {kind}", b.bucket.name.value),
                    completion_kind(kind),
                    format!("{rank}{}", b.bucket.id.value),
                )
            })
            .collect();
        out.truncate(200);
        return out;
    }
    if prefix.is_empty() {
        return Vec::new();
    }
    let p = prefix.to_lowercase();
    let mut out: Vec<CompletionItem> = a
        .dictionary
        .entries()
        .iter()
        .filter(|e| e.alias.to_lowercase().starts_with(&p) && e.alias != prefix)
        .map(|e| {
            let b = &a.buckets[e.targets[0] as usize].bucket;
            item(
                e.alias.clone(),
                format!("{} · {}", b.name.value, b.kind.value),
                completion_kind(&b.kind.value),
                format!("{:04}{}", e.alias.len(), e.alias),
            )
        })
        .collect();
    out.sort_by(|x, y| x.sort_text.cmp(&y.sort_text));
    out.truncate(100);
    out
}

/// Quick fixes for our diagnostics in the request's context.
pub fn code_actions(snap: &FileSnap, uri: &Uri, diagnostics: &[Diagnostic]) -> Vec<CodeActionOrCommand> {
    let a = &snap.analysis;
    let mut out = Vec::new();
    for d in diagnostics {
        let Some(NumberOrString::String(code)) = &d.code else { continue };
        let range = to_text_range(&snap.text, &snap.lines, d.range, snap.enc);
        let written = snap.text.get(range.clone()).unwrap_or("").to_string();
        match code.as_str() {
            "SR002" | "SR003" => {
                let name = title_case(&written);
                let kinds: &[&str] = if code == "SR002" { &["character"] } else { &["character", "location"] };
                for kind in kinds {
                    let args = serde_json::json!({ "project": snap.root, "kind": kind, "name": name });
                    out.push(CodeActionOrCommand::CodeAction(CodeAction {
                        title: format!("Create {kind} bucket “{name}”"),
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![d.clone()]),
                        command: Some(Command {
                            title: format!("Create {kind} bucket"),
                            command: "showrunner.bucket.create".into(),
                            arguments: Some(vec![args]),
                        }),
                        is_preferred: Some(code == "SR002"),
                        ..Default::default()
                    }));
                }
            }
            "SR004" => {
                let Some(best) = closest(written.trim_matches(['"', '\'']), a.by_id.keys().map(String::as_str)) else {
                    continue;
                };
                let mut changes = HashMap::new();
                changes.insert(uri.clone(), vec![TextEdit { range: d.range, new_text: best.to_string() }]);
                out.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: format!("Change to `{best}`"),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![d.clone()]),
                    edit: Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }),
                    is_preferred: Some(true),
                    ..Default::default()
                }));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_scalars_and_case() {
        assert_eq!(yaml_scalar("Alicia", false), "Alicia");
        assert_eq!(yaml_scalar("Alicia", true), "\"Alicia\"");
        assert_eq!(yaml_scalar("a: b", false), "\"a: b\"");
        assert_eq!(yaml_scalar("yes", false), "\"yes\"");
        assert_eq!(match_case("ALICE", "Alice", "Alicia"), "ALICIA");
        assert_eq!(match_case("The keeper", "the keeper", "the warden"), "The warden");
        assert_eq!(match_case("Alice", "Alice", "Zoë"), "Zoë");
        assert_eq!(id_field("parent: ch"), Some("parent"));
        assert_eq!(id_field("  - { type: knows, target: al"), Some("target"));
        assert_eq!(id_field("context: [a, b"), Some("context"));
        assert_eq!(id_field("summary: x"), None);
    }
}
