//! Fountain screenplays (fountain.io, version 1.1) as scene documents.
//!
//! The parser classifies every line (title page, scene heading, action, character cue,
//! parenthetical, dialogue, transition, centred text, lyric, section, synopsis, page break) and
//! produces a [`Scene`]: title-page keys become metadata (`Id`, `Parent`, `Pov`, `Context`,
//! `Timeline`, `Model`, `Flashback` are Showrunner's additions), scene headings become headings,
//! character cues become [`Cue`]s, and the readable lines become the ranges scanned for mentions.
//! Boneyard (`/* */`) and notes (`[[ ]]`) are blanked out before classification, so nothing
//! inside them is a cue, a heading or a mention.

use crate::diag::Diagnostic;
use crate::scene::{apply_meta, count_words, Cue, Heading, Scene, SceneFormat};
use crate::text::{lines_with_offsets, TextRange};
use crate::yaml::{self, Node, Value};

/// Title-page keys that may open a title page (matched case-insensitively).
const TITLE_KEYS: &[&str] = &[
    "title",
    "credit",
    "author",
    "authors",
    "source",
    "draft date",
    "date",
    "contact",
    "copyright",
    "notes",
    "revision",
    "episode",
    "id",
    "parent",
    "pov",
    "context",
    "timeline",
    "model",
    "flashback",
    "summary",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    TitlePage,
    Blank,
    SceneHeading,
    Action,
    Cue,
    Parenthetical,
    Dialogue,
    Transition,
    Centered,
    Lyric,
    Section,
    Synopsis,
    PageBreak,
}

/// Parses a Fountain document into a scene. `stem` is the file name without `.fountain`.
pub fn parse_fountain(text: &str, stem: &str) -> (Scene, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut scene = Scene::empty(stem, SceneFormat::Fountain, text.len());
    let (masked, hidden) = mask_comments(text);
    let lines: Vec<(usize, usize)> = lines_with_offsets(&masked).map(|(s, e, _)| (s, e)).collect();
    let kinds = classify(&masked, &lines);

    // Title page.
    let title_end = kinds.iter().take_while(|k| **k == LineKind::TitlePage).count();
    if title_end > 0 {
        scene.frontmatter = Some(lines[0].0..lines[title_end - 1].1);
        for (key, value, range, segments) in title_entries(&masked, &lines[..title_end]) {
            apply_title_key(&key, &value, range, &segments, &mut scene, &mut diags);
        }
        scene.body = lines.get(title_end).map(|l| l.0).unwrap_or(text.len())..text.len();
    }

    let mut block: Option<TextRange> = None;
    let mut words = 0;
    for (i, &(s, e)) in lines.iter().enumerate().skip(title_end) {
        let kind = kinds[i];
        let line = &masked[s..e];
        let readable = !matches!(kind, LineKind::Blank | LineKind::PageBreak | LineKind::Cue);
        if readable {
            push_visible(s..e, &hidden, &mut scene.scan);
            words += count_words(line);
        }
        // Fountain keeps every line break as written (verse, lyrics, a beat on its own line):
        // each line of action or dialogue starts a sentence, as after a Markdown hard break.
        if let Some(b) = block.take() {
            push_visible(b, &hidden, &mut scene.blocks);
        }
        match kind {
            LineKind::Action | LineKind::Dialogue => {
                let lead = line.len() - line.trim_start().len();
                let start = s + lead + usize::from(line.trim_start().starts_with('!'));
                block = Some(start..e);
            }
            LineKind::SceneHeading => {
                let t = line.trim();
                let t = t.strip_prefix('.').unwrap_or(t);
                let t = strip_scene_number(t);
                scene.headings.push(Heading { level: 0, text: t.trim().to_string(), range: s..e });
            }
            LineKind::Cue => {
                let cue = parse_cue(&masked, s, e);
                if cue.dual {
                    if let Some(prev) = scene.cues.last_mut() {
                        prev.dual = true;
                    }
                }
                scene.cues.push(cue);
            }
            _ => {}
        }
    }
    if let Some(b) = block.take() {
        push_visible(b, &hidden, &mut scene.blocks);
    }
    scene.word_count = words;
    (scene, diags)
}

/// Replaces boneyard and notes with spaces (line breaks kept), returning the masked text (same
/// length, so offsets agree) and the hidden ranges.
fn mask_comments(text: &str) -> (String, Vec<TextRange>) {
    let bytes = text.as_bytes();
    let mut hidden = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        let close: &[u8] = match &bytes[i..i + 2] {
            b"/*" => b"*/",
            b"[[" => b"]]",
            _ => {
                i += 1;
                continue;
            }
        };
        let end = find(bytes, i + 2, close).map(|j| j + 2).unwrap_or(bytes.len());
        hidden.push(i..end);
        i = end;
    }
    if hidden.is_empty() {
        return (text.to_string(), hidden);
    }
    let mut out = bytes.to_vec();
    for r in &hidden {
        for b in &mut out[r.clone()] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    // Every byte of a hidden range became ASCII, and the rest is unchanged: still UTF-8.
    (String::from_utf8(out).unwrap_or_else(|_| text.to_string()), hidden)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Pushes `range` minus the hidden ranges, trimmed of surrounding whitespace.
fn push_visible(range: TextRange, hidden: &[TextRange], out: &mut Vec<TextRange>) {
    let mut start = range.start;
    for h in hidden.iter().filter(|h| h.start < range.end && h.end > range.start) {
        if h.start > start {
            out.push(start..h.start);
        }
        start = start.max(h.end);
    }
    if range.end > start {
        out.push(start..range.end);
    }
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn classify(text: &str, lines: &[(usize, usize)]) -> Vec<LineKind> {
    let mut kinds = Vec::with_capacity(lines.len());
    let line = |i: usize| -> &str { lines.get(i).map(|(s, e)| &text[*s..*e]).unwrap_or("") };
    let mut i = 0;

    // A title page opens the document with a known `Key:` and runs to the first blank line.
    if let Some(first) = lines.first().map(|_| line(0)) {
        if let Some((key, _)) = first.split_once(':') {
            if TITLE_KEYS.contains(&key.trim().to_lowercase().as_str()) && !first.starts_with(char::is_whitespace) {
                while i < lines.len() && !is_blank(line(i)) {
                    kinds.push(LineKind::TitlePage);
                    i += 1;
                }
            }
        }
    }

    let mut in_dialogue = false;
    while i < lines.len() {
        let raw = line(i);
        let t = raw.trim();
        let prev_blank = i == 0 || kinds.last().is_none_or(|k| *k == LineKind::Blank || *k == LineKind::TitlePage);
        let next_blank = i + 1 >= lines.len() || is_blank(line(i + 1));
        let kind = if t.is_empty() {
            if in_dialogue && raw.len() >= 2 && !next_blank {
                LineKind::Dialogue
            } else {
                in_dialogue = false;
                LineKind::Blank
            }
        } else if in_dialogue {
            if t.starts_with('(') && t.ends_with(')') {
                LineKind::Parenthetical
            } else {
                LineKind::Dialogue
            }
        } else if t.len() >= 3 && t.bytes().all(|b| b == b'=') {
            LineKind::PageBreak
        } else if t.starts_with('#') {
            LineKind::Section
        } else if t.starts_with('=') {
            LineKind::Synopsis
        } else if t.starts_with('>') && t.ends_with('<') && t.len() > 1 {
            LineKind::Centered
        } else if t.starts_with('>') {
            LineKind::Transition
        } else if t.starts_with('~') {
            LineKind::Lyric
        } else if t.starts_with('!') {
            LineKind::Action
        } else if prev_blank && is_scene_heading(t) {
            LineKind::SceneHeading
        } else if prev_blank && next_blank && t.ends_with("TO:") && !t.chars().any(char::is_lowercase) {
            LineKind::Transition
        } else if prev_blank && !next_blank && is_cue(t) {
            in_dialogue = true;
            LineKind::Cue
        } else {
            LineKind::Action
        };
        kinds.push(kind);
        i += 1;
    }
    kinds
}

fn is_scene_heading(t: &str) -> bool {
    let mut chars = t.chars();
    if chars.next() == Some('.') {
        return chars.next().is_some_and(|c| c.is_alphanumeric());
    }
    let upper = t.to_uppercase();
    ["INT./EXT", "INT/EXT", "I/E", "INT", "EXT", "EST"]
        .iter()
        .any(|p| upper.starts_with(p) && matches!(upper[p.len()..].chars().next(), Some('.' | ' ')))
}

/// A cue: a name with no lowercase letters (extensions may be in any case), or forced with `@`.
fn is_cue(t: &str) -> bool {
    if let Some(rest) = t.strip_prefix('@') {
        return !rest.trim().is_empty();
    }
    let name = cue_name(t);
    // Sentence punctuation or a final full stop make it action (`SILENCE.`); an inner full stop
    // may belong to an abbreviation (`DR. NOWAK`).
    if name.is_empty()
        || name.ends_with([':', '.'])
        || name.chars().any(|c| c.is_lowercase() || matches!(c, '!' | '?' | ',' | '。' | '！' | '？' | '，'))
    {
        return false;
    }
    if name.chars().any(char::is_uppercase) {
        return true;
    }
    // Scripts without case (Han, kana …): a short line of letters only.
    name.chars().any(char::is_alphabetic) && name.chars().count() <= 12
}

/// The cue without `@`, `^` and parenthesised extensions.
fn cue_name(t: &str) -> &str {
    let t = t.trim();
    let t = t.strip_prefix('@').unwrap_or(t);
    let t = t.strip_suffix('^').unwrap_or(t).trim_end();
    match t.find('(') {
        Some(p) => t[..p].trim_end(),
        None => t,
    }
}

fn parse_cue(text: &str, s: usize, e: usize) -> Cue {
    let raw = &text[s..e];
    let lead = raw.len() - raw.trim_start().len();
    let t = raw.trim();
    let forced = t.starts_with('@');
    let body = t.strip_prefix('@').unwrap_or(t);
    let dual = body.trim_end().ends_with('^');
    let name = cue_name(t);
    let name_start = s + lead + usize::from(forced);
    let mut extensions = Vec::new();
    let mut rest = &body[name.len()..];
    while let Some(open) = rest.find('(') {
        let Some(close) = rest[open..].find(')') else { break };
        extensions.push(rest[open..open + close + 1].to_string());
        rest = &rest[open + close + 1..];
    }
    Cue { name: name.to_string(), name_range: name_start..name_start + name.len(), extensions, dual, forced }
}

fn strip_scene_number(t: &str) -> &str {
    let t = t.trim_end();
    if let Some(inner) = t.strip_suffix('#') {
        if let Some(open) = inner.rfind('#') {
            return t[..open].trim_end();
        }
    }
    t
}

/// Where each piece of a title-page value starts: `(offset in the value, offset in the text)`.
/// A value continued on indented lines is those lines trimmed and joined with `\n`, so its
/// offsets are not the text's.
/// A Fountain document's title page as `(key, value)` pairs in their order: keys lower-cased with
/// `_` for spaces (`draft_date`), a value's continuation lines joined with `\n`. Empty when the
/// document has none.
pub fn title_page(text: &str) -> Vec<(String, String)> {
    let (masked, _) = mask_comments(text);
    let lines: Vec<(usize, usize)> = lines_with_offsets(&masked).map(|(s, e, _)| (s, e)).collect();
    let kinds = classify(&masked, &lines);
    let end = kinds.iter().take_while(|k| **k == LineKind::TitlePage).count();
    title_entries(&masked, &lines[..end]).into_iter().map(|(key, value, _, _)| (key, value)).collect()
}

type Segments = Vec<(usize, usize)>;

/// The text offset of an offset into a title-page value.
fn text_offset(segments: &[(usize, usize)], at: usize) -> usize {
    let (v, t) = segments.iter().rev().find(|(v, _)| *v <= at).copied().unwrap_or((0, 0));
    t + (at - v)
}

/// `(key, value, value range, segments)` for each title-page key; indented lines continue a value.
fn title_entries(text: &str, lines: &[(usize, usize)]) -> Vec<(String, String, TextRange, Segments)> {
    let mut out: Vec<(String, String, TextRange, Segments)> = Vec::new();
    for &(s, e) in lines {
        let line = &text[s..e];
        let continuation = line.starts_with("   ") || line.starts_with('\t') || !line.contains(':');
        match (continuation, out.last_mut()) {
            (true, Some(last)) => {
                if !last.1.is_empty() {
                    last.1.push('\n');
                }
                last.3.push((last.1.len(), s + line.len() - line.trim_start().len()));
                last.1.push_str(line.trim());
                last.2.end = e;
            }
            _ => {
                let Some((key, value)) = line.split_once(':') else { continue };
                let vstart = s + key.len() + 1 + (value.len() - value.trim_start().len());
                let key = key.trim().to_lowercase().replace(' ', "_");
                out.push((key, value.trim().to_string(), vstart..e, vec![(0, vstart)]));
            }
        }
    }
    out
}

fn apply_title_key(
    key: &str,
    value: &str,
    range: TextRange,
    segments: &[(usize, usize)],
    scene: &mut Scene,
    diags: &mut Vec<Diagnostic>,
) {
    let str_node = |v: &str| Node { value: Value::Str(v.to_string()), span: range.clone() };
    match key {
        "title" => scene.title = Some(value.replace('\n', " ")),
        "context" if !value.starts_with('[') => {
            let mut items = Vec::new();
            let mut at = 0;
            for part in value.split(',') {
                let start = at + part.len() - part.trim_start().len();
                let span = text_offset(segments, start)..text_offset(segments, start + part.trim().len());
                items.push(Node { value: Value::Str(part.trim().to_string()), span });
                at += part.len() + 1;
            }
            let node = Node { value: Value::Seq(items), span: range.clone() };
            apply_meta("context", &node, 0, scene, diags);
        }
        "id" | "parent" | "pov" | "model" | "summary" => apply_meta(key, &str_node(value), 0, scene, diags),
        "timeline" | "flashback" | "context" => {
            let parsed = yaml::parse(value);
            if let Some(mut node) = parsed.root {
                map_node(&mut node, segments);
                apply_meta(key, &node, 0, scene, diags);
            }
        }
        _ => {}
    }
}

/// Moves a node parsed from a title-page value to where it is in the text.
fn map_node(node: &mut Node, segments: &[(usize, usize)]) {
    node.span = text_offset(segments, node.span.start)..text_offset(segments, node.span.end);
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| map_node(n, segments)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            map_node(k, segments);
            map_node(v, segments);
        }),
        _ => {}
    }
}

/// The text with boneyard (`/* */`) and notes (`[[ ]]`) blanked out (same length, line breaks
/// kept), and every line's kind: what an export reads a screenplay from.
pub fn masked_line_kinds(text: &str) -> (String, Vec<LineKind>) {
    let (masked, _) = mask_comments(text);
    let lines: Vec<(usize, usize)> = lines_with_offsets(&masked).map(|(s, e, _)| (s, e)).collect();
    let kinds = classify(&masked, &lines);
    (masked, kinds)
}

/// A scene heading's number (`INT. HOUSE - DAY #12A#` → `12A`), and the heading without it.
pub fn scene_number(heading: &str) -> (&str, Option<&str>) {
    let t = heading.trim_end();
    let stripped = strip_scene_number(t);
    if stripped.len() == t.len() {
        return (t, None);
    }
    let num = t[stripped.len()..].trim().trim_start_matches('#').trim_end_matches('#').trim();
    (stripped, Some(num))
}

/// Every line's kind, for tests and for syntax-aware features.
pub fn line_kinds(text: &str) -> Vec<LineKind> {
    let (masked, _) = mask_comments(text);
    let lines: Vec<(usize, usize)> = lines_with_offsets(&masked).map(|(s, e, _)| (s, e)).collect();
    classify(&masked, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_action_and_dialogue_starts_a_sentence() {
        let text = "INT. CASTLE - NIGHT\n\nThe wind. Zoë waits\nUpon the wall.\n\nHAMLET\nO, that this too too solid flesh would melt,\nThaw and resolve itself into a dew!\n";
        let (scene, _) = parse_fountain(text, "x");
        let blocks: Vec<&str> = scene.blocks.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(
            blocks,
            vec![
                "The wind. Zoë waits",
                "Upon the wall.",
                "O, that this too too solid flesh would melt,",
                "Thaw and resolve itself into a dew!"
            ]
        );
    }

    const SAMPLE: &str = "Title: The Lamp\nId: ep-01\nParent: chapter-01\nContext: lighthouse, alice\nTimeline: { main: 4 }\n\nINT. LIGHTHOUSE - NIGHT #1#\n\nAlice climbs. [[check the stairs]]\n\nALICE (V.O.)\n(quietly)\nThe lamp, Tom.\n\nTOM ^\nWhat?\n\n/* INT. CELLAR\n\nBOB\nHidden. */\n\nCUT TO:\n\n.FLASHBACK\n\n@McCLANE\nYippee.\n\n> THE END <\n";

    /// Found by `fuzz/fountain` (reproducer in `fuzz/regressions/fountain/`): a title-page value
    /// continued on indented lines is parsed from the lines trimmed and joined, and offsets into
    /// that string were used as the text's, so ranges fell inside characters.
    #[test]
    fn continued_title_values_keep_their_ranges() {
        for (text, want) in [
            (
                "Title: Ferry\nContext: [zoë,\n\t   李雷, łukasz]\nPov: zoë\n\nINT. DECK - NIGHT\n",
                &["zoë", "李雷", "łukasz"][..],
            ),
            ("Title: Ferry\nContext: zoë,\n    李雷\n\nINT. DECK - NIGHT\n", &["zoë", "李雷"][..]),
        ] {
            let (scene, _) = parse_fountain(text, "t");
            let got: Vec<&str> = scene.context.iter().map(|c| &text[c.range.clone()]).collect();
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn elements_are_found() {
        let (s, d) = parse_fountain(SAMPLE, "x");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(s.id.value, "ep-01");
        assert_eq!(s.parent.as_ref().unwrap().value, "chapter-01");
        assert_eq!(s.context.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(), vec!["lighthouse", "alice"]);
        assert_eq!(&SAMPLE[s.context[1].range.clone()], "alice");
        assert_eq!(s.timeline, vec![("main".to_string(), 4)]);
        let headings: Vec<&str> = s.headings.iter().map(|h| h.text.as_str()).collect();
        assert_eq!(headings, vec!["INT. LIGHTHOUSE - NIGHT", "FLASHBACK"]);
        let cues: Vec<(&str, bool)> = s.cues.iter().map(|c| (c.name.as_str(), c.dual)).collect();
        assert_eq!(cues, vec![("ALICE", true), ("TOM", true), ("McCLANE", false)]);
        assert_eq!(s.cues[0].extensions, vec!["(V.O.)"]);
        assert_eq!(&SAMPLE[s.cues[2].name_range.clone()], "McCLANE");
        let scanned: String = s.scan.iter().map(|r| &SAMPLE[r.clone()]).collect::<Vec<_>>().join("|");
        assert!(!scanned.contains("check the stairs"), "{scanned}");
        assert!(!scanned.contains("Hidden"), "{scanned}");
        assert!(scanned.contains("The lamp, Tom."));
    }

    #[test]
    fn transitions_and_forced_lines() {
        let kinds = line_kinds("\nCUT TO:\n\n!SILENCE.\n\nSILENCE.\n\n~Row, row\n= synopsis\n# Act One\n===\n");
        use LineKind::*;
        assert_eq!(
            kinds,
            vec![Blank, Transition, Blank, Action, Blank, Action, Blank, Lyric, Synopsis, Section, PageBreak]
        );
    }

    #[test]
    fn no_title_page_when_starting_with_fade_in() {
        let (s, _) = parse_fountain("FADE IN:\n\nEXT. SEA - DAY\n\nWaves.\n", "stem");
        assert!(s.frontmatter.is_none());
        assert_eq!(s.id.value, "stem");
        assert_eq!(s.headings.len(), 1);
    }
}
