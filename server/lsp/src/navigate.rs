//! Reading features: hover, definition, references, document and workspace symbols. Each takes a
//! snapshot and answers from the analysis in memory. Mentions are not document links: editors
//! see them through semantic tokens (`tokens.rs`), and hover and definition answer on them.

use std::path::Path;

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use showrunner_model::analysis::{Analysis, Mention};
use showrunner_model::bucket::Spanned;
use showrunner_model::scene::SceneFormat;
use showrunner_model::text::{LineIndex, TextRange};
use tower_lsp_server::ls_types::*;

use crate::pos::{to_range, Encoding, Positions};
use crate::state::{path_uri, FileSnap};

/// The mention under `offset` in a scene, if any.
pub fn mention_at(snap: &FileSnap, offset: usize) -> Option<Mention> {
    let si = snap.scene()?;
    let mentions = &snap.analysis.scenes[si].mentions;
    let i = mentions.partition_point(|m| m.end < offset);
    mentions.get(i).filter(|m| m.start <= offset && offset <= m.end).copied()
}

/// A bucket id written in frontmatter or a bucket field under `offset`: `(id, range)`.
pub fn reference_at(snap: &FileSnap, offset: usize) -> Option<Spanned<String>> {
    let a = &snap.analysis;
    let inside = |r: &Spanned<String>| r.range.start <= offset && offset <= r.range.end;
    if let Some(si) = snap.scene() {
        let s = &a.scenes[si].scene;
        return s.parent.iter().chain(s.pov.iter()).chain(s.context.iter()).find(|r| inside(r)).cloned();
    }
    let b = &a.buckets[snap.bucket()?].bucket;
    b.parent.iter().chain(b.relations.iter().map(|r| &r.target)).find(|r| inside(r)).cloned()
}

/// The bucket a request at `offset` is about: a mention, a reference, or the bucket file itself.
pub fn bucket_at(snap: &FileSnap, offset: usize) -> Option<usize> {
    if let Some(m) = mention_at(snap, offset) {
        return Some(m.bucket as usize);
    }
    if let Some(r) = reference_at(snap, offset) {
        return snap.analysis.by_id.get(&r.value).map(|&b| b as usize);
    }
    snap.bucket()
}

/// Where a bucket is defined: its file, at the `name:` line.
pub fn bucket_location(a: &Analysis, root: &Path, b: usize, enc: Encoding) -> Option<Location> {
    let entry = &a.buckets[b];
    let text = a.text(entry.file);
    let lines = LineIndex::new(text);
    let uri = path_uri(&root.join(&a.files[entry.file].path))?;
    Some(Location { uri, range: to_range(text, &lines, &entry.bucket.name_key, enc) })
}

/// A research bucket's keyword under `offset` in a scene: the bucket and the keyword's range.
pub fn research_keyword_at(snap: &FileSnap, offset: usize) -> Option<(usize, TextRange)> {
    snap.scene()?;
    let text: &str = &snap.text;
    let offset = offset.min(text.len());
    let TextRange { start, end } = snap.lines.line_range(text, snap.lines.line_of(offset));
    let line = &text[start..end];
    let word = |c: char| c.is_alphanumeric() || c == '\'';
    for (b, entry) in snap.analysis.buckets.iter().enumerate().filter(|(_, e)| e.bucket.kind.value == "research") {
        for k in &entry.bucket.keywords {
            let key = k.value.trim().to_lowercase();
            if key.is_empty() {
                continue;
            }
            for (i, _) in line.char_indices() {
                let Some(cand) = line.get(i..i + k.value.trim().len()) else { continue };
                let (a, z) = (start + i, start + i + cand.len());
                if cand.to_lowercase() == key
                    && a <= offset
                    && offset <= z
                    && !line[..i].chars().next_back().is_some_and(word)
                    && !line[i + cand.len()..].chars().next().is_some_and(word)
                {
                    return Some((b, a..z));
                }
            }
        }
    }
    None
}

/// The hover for a research finding whose keyword is under the cursor.
fn research_hover(snap: &FileSnap, offset: usize) -> Option<Hover> {
    let (b, range) = research_keyword_at(snap, offset)?;
    let bucket = &snap.analysis.buckets[b].bucket;
    let mut md = format!("**Research: {}**", bucket.name.value);
    if let Some(s) = bucket.summary.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        md.push_str(&format!("\n\n{s}"));
    }
    if let Some(body) = bucket.body.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let short: String = body.chars().take(600).collect();
        md.push_str(&format!("\n\n{short}{}", if short.len() < body.len() { "…" } else { "" }));
    }
    if !bucket.sources.is_empty() {
        md.push_str(&format!("\n\n*Sources: {}*", bucket.sources.join("; ")));
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: md }),
        range: Some(to_range(&snap.text, &snap.lines, &range, snap.enc)),
    })
}

pub fn hover(snap: &FileSnap, offset: usize) -> Option<Hover> {
    let found = match mention_at(snap, offset) {
        Some(m) => Some((m.bucket as usize, Some(m.range()))),
        None => {
            reference_at(snap, offset).and_then(|r| Some((*snap.analysis.by_id.get(&r.value)? as usize, Some(r.range))))
        }
    };
    let Some((b, range)) = found else { return research_hover(snap, offset) };
    let a = &snap.analysis;
    let bucket = &a.buckets[b].bucket;
    let mut md = format!("**{}** · {}", bucket.name.value, bucket.kind.value);
    if !bucket.aliases.is_empty() {
        let aliases: Vec<&str> = bucket.aliases.iter().map(|x| x.value.as_str()).collect();
        md.push_str(&format!("  \n*also: {}*", aliases.join(", ")));
    }
    if let Some(s) = bucket.summary.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        md.push_str(&format!("\n\n{s}"));
    }
    if !bucket.attributes.is_empty() {
        let attrs: Vec<String> = bucket
            .attributes
            .iter()
            .take(6)
            .map(|x| {
                let v = match &x.value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!("{}: {v}", x.key.value)
            })
            .collect();
        md.push_str(&format!("\n\n{}", attrs.join(" · ")));
    }
    if !bucket.relations.is_empty() {
        let rels: Vec<String> = bucket
            .relations
            .iter()
            .map(|r| {
                let target = a.bucket(&r.target.value).map(|t| t.bucket.name.value.as_str()).unwrap_or(&r.target.value);
                format!("{} {target}", r.rel_type.replace('_', " "))
            })
            .collect();
        md.push_str(&format!("\n\n{}", rels.join("; ")));
    }
    let scenes = a.scenes.iter().filter(|s| s.mentions.iter().any(|m| m.bucket as usize == b)).count();
    md.push_str(&format!("\n\n*mentioned in {scenes} scene{}*", if scenes == 1 { "" } else { "s" }));
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: md }),
        range: range.map(|r| to_range(&snap.text, &snap.lines, &r, snap.enc)),
    })
}

pub fn definition(snap: &FileSnap, offset: usize) -> Option<Location> {
    let b = match mention_at(snap, offset) {
        Some(m) => m.bucket as usize,
        None => *snap.analysis.by_id.get(&reference_at(snap, offset)?.value)? as usize,
    };
    bucket_location(&snap.analysis, &snap.root, b, snap.enc)
}

/// Every mention of the bucket at `offset` in the project (and its definition when asked).
pub fn references(snap: &FileSnap, offset: usize, include_declaration: bool) -> Vec<Location> {
    let Some(b) = bucket_at(snap, offset) else { return Vec::new() };
    mentions_of(&snap.analysis, &snap.root, b, snap.enc, include_declaration)
}

/// Every mention of bucket `b`, scene by scene: a scene's positions are counted in one pass over
/// its mentions, which come in the order of the text.
pub fn mentions_of(a: &Analysis, root: &Path, b: usize, enc: Encoding, include_declaration: bool) -> Vec<Location> {
    let mut out = Vec::new();
    if include_declaration {
        out.extend(bucket_location(a, root, b, enc));
    }
    for s in &a.scenes {
        let mut hits = s.mentions.iter().filter(|m| m.bucket as usize == b).peekable();
        if hits.peek().is_none() {
            continue;
        }
        let text = a.text(s.file);
        let lines = LineIndex::new(text);
        let Some(uri) = path_uri(&root.join(&a.files[s.file].path)) else { continue };
        let mut positions = Positions::new(text, &lines, enc);
        out.extend(hits.map(|m| Location { uri: uri.clone(), range: positions.range(&m.range()) }));
    }
    out
}

/// A scene's frontmatter (or Fountain title page) as one fold of kind `imports`: the header of
/// the file, which editors that close imports on open (VS Code's `editor.foldingImportsByDefault`,
/// set by the extension for scenes) show folded, so the prose comes first.
pub fn folding_ranges(snap: &FileSnap) -> Vec<FoldingRange> {
    let Some(si) = snap.scene() else { return Vec::new() };
    let Some(fm) = &snap.analysis.scenes[si].scene.frontmatter else { return Vec::new() };
    let r = to_range(&snap.text, &snap.lines, fm, snap.enc);
    // The block ends after its closing line's line break: the fold ends on that line.
    let end = if r.end.character == 0 && r.end.line > r.start.line { r.end.line - 1 } else { r.end.line };
    if end <= r.start.line {
        return Vec::new();
    }
    vec![FoldingRange {
        start_line: r.start.line,
        start_character: None,
        end_line: end,
        end_character: None,
        kind: Some(FoldingRangeKind::Imports),
        collapsed_text: Some("frontmatter".into()),
    }]
}

#[allow(deprecated)]
pub fn document_symbols(snap: &FileSnap) -> Vec<DocumentSymbol> {
    let a = &snap.analysis;
    let range = |r: &TextRange| to_range(&snap.text, &snap.lines, r, snap.enc);
    if let Some(si) = snap.scene() {
        let scene = &a.scenes[si].scene;
        let headings = &scene.headings;
        return headings
            .iter()
            .enumerate()
            .map(|(i, h)| {
                // A heading's section runs to the next heading of the same or a higher level.
                let end = headings[i + 1..]
                    .iter()
                    .find(|n| scene.format == SceneFormat::Fountain || n.level <= h.level)
                    .map(|n| n.range.start)
                    .unwrap_or(snap.text.len());
                let name = if h.text.is_empty() { "(untitled)".to_string() } else { h.text.clone() };
                DocumentSymbol {
                    name,
                    detail: None,
                    kind: if scene.format == SceneFormat::Fountain { SymbolKind::EVENT } else { SymbolKind::STRING },
                    tags: None,
                    deprecated: None,
                    range: range(&(h.range.start..end.max(h.range.end))),
                    selection_range: range(&h.range),
                    children: None,
                }
            })
            .collect();
    }
    let Some(b) = snap.bucket() else { return Vec::new() };
    let bucket = &a.buckets[b].bucket;
    vec![DocumentSymbol {
        name: bucket.name.value.clone(),
        detail: Some(bucket.kind.value.clone()),
        kind: symbol_kind(&bucket.kind.value),
        tags: None,
        deprecated: None,
        range: range(&(0..snap.text.len())),
        selection_range: range(&bucket.name.range),
        children: None,
    }]
}

pub fn symbol_kind(kind: &str) -> SymbolKind {
    match kind {
        "character" => SymbolKind::CLASS,
        "location" => SymbolKind::NAMESPACE,
        "item" => SymbolKind::OBJECT,
        "faction" => SymbolKind::STRUCT,
        "research" | "note" => SymbolKind::FILE,
        "season" | "arc" | "act" | "chapter" => SymbolKind::MODULE,
        _ => SymbolKind::VARIABLE,
    }
}

/// Scores names against a workspace-symbol query with `nucleo-matcher`: fuzzy (the query's
/// characters in order), case- and diacritic-insensitive (`lukas` finds Łukasz, `zoe` finds Zoë;
/// a query with diacritics matches them exactly), each space-separated word matched on its own,
/// prefixes preferred. Higher is better.
struct SymbolQuery {
    pattern: Pattern,
    matcher: Matcher,
    buf: Vec<char>,
}

impl SymbolQuery {
    fn new(query: &str) -> SymbolQuery {
        let mut config = Config::DEFAULT;
        config.prefer_prefix = true;
        SymbolQuery {
            pattern: Pattern::new(&query.to_lowercase(), CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy),
            matcher: Matcher::new(config),
            buf: Vec::new(),
        }
    }

    fn score(&mut self, name: &str) -> Option<u32> {
        // Lowercased first: nucleo folds diacritics before case, and its table has only the
        // lowercase form of some letters (`ł` → `l`, but not `Ł`).
        let name = name.to_lowercase();
        self.pattern.score(Utf32Str::new(&name, &mut self.buf), &mut self.matcher)
    }
}

#[allow(deprecated)]
pub fn workspace_symbols(
    projects: &[(std::path::PathBuf, std::sync::Arc<Analysis>)],
    query: &str,
    enc: Encoding,
) -> Vec<SymbolInformation> {
    let mut scored: Vec<(u32, SymbolInformation)> = Vec::new();
    let mut q = SymbolQuery::new(query);
    for (root, a) in projects {
        for (i, entry) in a.buckets.iter().enumerate() {
            let b = &entry.bucket;
            let best = b.names().filter_map(|n| q.score(&n.value)).max();
            let Some(score) = best else { continue };
            let Some(location) = bucket_location(a, root, i, enc) else { continue };
            scored.push((
                score,
                SymbolInformation {
                    name: b.name.value.clone(),
                    kind: symbol_kind(&b.kind.value),
                    tags: None,
                    deprecated: None,
                    location,
                    container_name: Some(format!("{} · {}", b.kind.value, a.config.name)),
                },
            ));
        }
    }
    scored.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.name.cmp(&y.1.name)));
    scored.into_iter().take(200).map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::SymbolQuery;

    fn score(query: &str, name: &str) -> Option<u32> {
        SymbolQuery::new(query).score(name)
    }

    #[test]
    fn symbols_match_fuzzily_without_case_or_diacritics() {
        assert!(score("alm", "Alice Marlowe").is_some());
        assert!(score("xyz", "Alice").is_none());
        assert!(score("ali", "Alice").unwrap() > score("ali", "Kali Alright").unwrap());
        assert!(score("łuk", "Łukasz Nowak").is_some());
        assert!(score("lukas", "Łukasz Nowak").is_some());
        assert!(score("zoe", "Zoë Ångström").is_some());
        assert!(score("angst", "Zoë Ångström").is_some());
        assert!(score("zoë", "Zoe").is_none(), "a query with diacritics matches them");
        assert!(score("LUKASZ", "Łukasz").is_some());
        assert_eq!(score("", "Anyone"), Some(0));
    }
}
