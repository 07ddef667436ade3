//! Writing features: rename, completion and quick fixes.

use std::collections::HashMap;

use showrunner_model::analysis::title_case;
use showrunner_model::id::closest;
use showrunner_model::kind::structure_level;
use showrunner_model::matcher::is_word_char;
use showrunner_model::rename::{plan_rename, RenameError};
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

/// The rename as a workspace edit: the domain plans it ([`plan_rename`]), this converts positions.
pub fn rename(snap: &FileSnap, offset: usize, new_name: &str) -> Result<WorkspaceEdit, RenameError> {
    let (b, old, _) = rename_target(snap, offset).ok_or(RenameError::NoTarget)?;
    let a = &snap.analysis;
    let edits = plan_rename(a, b, &old, new_name)?;
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    let mut lines: HashMap<usize, LineIndex> = HashMap::new();
    for e in edits {
        let text = a.text(e.file);
        let Some(uri) = path_uri(&snap.root.join(&a.files[e.file].path)) else { continue };
        let lines = lines.entry(e.file).or_insert_with(|| LineIndex::new(text));
        changes
            .entry(uri)
            .or_default()
            .push(TextEdit { range: to_range(text, lines, &e.range, snap.enc), new_text: e.text });
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
    let in_yaml = snap.bucket().is_some()
        || snap
            .scene()
            .and_then(|s| a.scenes[s].scene.frontmatter.clone())
            .is_some_and(|f| f.start <= offset && offset <= f.end);
    // In YAML the word is a bucket id (`tom_marlowe`); in prose `_` is emphasis (`_Ali|`).
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word_char(*c) || matches!(c, '\'' | '’' | '-') || (in_yaml && *c == '_'))
        .last()
        .map(|(i, _)| line_start + i)
        .unwrap_or(offset);
    let prefix = &text[word_start..offset];
    let replace = to_range(text, &snap.lines, &(word_start..offset), snap.enc);
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
    fn id_fields() {
        assert_eq!(id_field("parent: ch"), Some("parent"));
        assert_eq!(id_field("  - { type: knows, target: al"), Some("target"));
        assert_eq!(id_field("context: [a, b"), Some("context"));
        assert_eq!(id_field("summary: x"), None);
    }
}
