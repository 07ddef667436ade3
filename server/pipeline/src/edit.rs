//! Where an approved text goes: an [`EditPlan`] is planned once, against the text it will apply
//! to, and carries everything a gate shows (the target, the mode in words, a unified diff) and
//! everything the write needs (the byte range, the new text, the hashes that make applying it
//! idempotent). What the writer approves is the plan; applying it changes exactly that range.
//!
//! Pure: text in, plan out. Which text (an editor's buffer or the file) is the edge's business.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use showrunner_model::fountain::parse_fountain;
use showrunner_model::scene::{parse_markdown_scene, Scene};

/// Where an `apply_edit` step puts its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EditMode {
    /// The selection is replaced (its own leading and trailing white space kept).
    #[serde(alias = "replace_selection")]
    Replace,
    /// The text follows the selection (a new paragraph when the selection ends a line).
    #[serde(alias = "insert_after_selection")]
    InsertAfter,
    /// A new paragraph at the end of the scene's body.
    #[serde(alias = "append")]
    AppendBody,
    /// Everything after the frontmatter is replaced (all of a bucket's YAML file).
    ReplaceBody,
    /// A frontmatter (or Fountain title-page) field is set; the rest is kept byte for byte.
    #[serde(alias = "set_field")]
    SetFrontmatter,
    /// The file does not exist yet: the text is all of it.
    NewFile,
}

impl EditMode {
    pub const ALL: [EditMode; 6] = [
        EditMode::Replace,
        EditMode::InsertAfter,
        EditMode::AppendBody,
        EditMode::ReplaceBody,
        EditMode::SetFrontmatter,
        EditMode::NewFile,
    ];

    /// The name workflows, run records and the protocol use (spec 10).
    pub fn as_str(self) -> &'static str {
        match self {
            EditMode::Replace => "replace",
            EditMode::InsertAfter => "insert_after",
            EditMode::AppendBody => "append_body",
            EditMode::ReplaceBody => "replace_body",
            EditMode::SetFrontmatter => "set_frontmatter",
            EditMode::NewFile => "new_file",
        }
    }

    /// Earlier names, still read in workflows.
    fn alias(self) -> Option<&'static str> {
        match self {
            EditMode::Replace => Some("replace_selection"),
            EditMode::InsertAfter => Some("insert_after_selection"),
            EditMode::AppendBody => Some("append"),
            EditMode::SetFrontmatter => Some("set_field"),
            _ => None,
        }
    }
}

impl std::str::FromStr for EditMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EditMode::ALL.into_iter().find(|m| m.as_str() == s || m.alias() == Some(s)).ok_or_else(|| {
            let all: Vec<&str> = EditMode::ALL.iter().map(|m| m.as_str()).collect();
            format!("unknown edit mode `{s}`; the modes are {}", all.join(", "))
        })
    }
}

/// The passage the writer selected when the run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// What is planned: a file, a mode, the approved text.
#[derive(Debug, Clone, PartialEq)]
pub struct Target<'a> {
    /// The plan's id: the history event that applies it carries it, so it is applied once.
    pub id: &'a str,
    /// Project-relative path.
    pub path: &'a str,
    pub mode: EditMode,
    /// The field, for [`EditMode::SetFrontmatter`].
    pub field: Option<&'a str>,
    pub selection: Option<&'a Selection>,
    /// The approved text.
    pub text: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the selected passage is no longer in {path}: it changed since the run started, so the text has nowhere to go; it is kept in the run record (regenerate, or run it again on the new text)")]
    SelectionGone { path: String },
    #[error("`{mode}` needs a selection, and the run has none")]
    NoSelection { mode: &'static str },
    #[error("`set_frontmatter` needs `field:` (e.g. `field: summary`)")]
    NoField,
    #[error("the approved text is empty: there is nothing to apply")]
    Empty,
    #[error("{path} exists already; a new file cannot replace it")]
    Exists { path: String },
}

/// One planned change to one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditPlan {
    pub id: String,
    pub path: String,
    pub mode: EditMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
    /// The approved text, as approved.
    pub text: String,
    /// The bytes of the base text that are replaced (empty for an insertion).
    pub range: Range<usize>,
    /// What `range` holds in the base text.
    pub old_text: String,
    /// What replaces it.
    pub new_text: String,
    /// The change in words: "will be added after line 29 of 03-supper.md".
    pub description: String,
    /// The change as a unified diff against the base text (three lines of context).
    pub diff: String,
    /// 1-based lines of the base text the change touches (`first_line..=last_line`).
    pub first_line: usize,
    pub last_line: usize,
    /// Content hashes of the base text and of the text after the change.
    pub base_hash: String,
    pub result_hash: String,
}

/// The content hash plans use (the history's: xxh3-128, hex).
pub fn text_hash(text: &str) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(text.as_bytes()))
}

fn is_fountain(path: &str) -> bool {
    path.ends_with(".fountain") || path.ends_with(".spmd")
}

fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// The scene structure of `text` at `path` (Markdown, or Fountain by extension). A bucket's
/// YAML file is all body: replacing its body replaces the whole file.
fn scene_of(path: &str, text: &str) -> Scene {
    let stem = std::path::Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or("scene");
    if is_fountain(path) {
        parse_fountain(text, stem).0
    } else if is_yaml(path) {
        Scene { body: 0..text.len(), ..parse_markdown_scene("", stem).0 }
    } else {
        parse_markdown_scene(text, stem).0
    }
}

/// The line ending a file uses (CRLF when its first line break is one).
fn newline_of(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

fn with_newlines(text: &str, nl: &str) -> String {
    let lf = text.replace("\r\n", "\n");
    if nl == "\n" {
        lf
    } else {
        lf.replace('\n', "\r\n")
    }
}

/// 1-based line of a byte offset.
fn line_at(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Plans `target` against `base`, the text it will apply to.
pub fn plan(target: &Target<'_>, base: &str) -> Result<EditPlan, EditError> {
    let nl = newline_of(base);
    let text = target.text.trim();
    if text.is_empty() {
        return Err(EditError::Empty);
    }
    let text = with_newlines(text, nl);
    let scene = scene_of(target.path, base);
    let name = file_name(target.path);
    let (range, new_text, description) = match target.mode {
        EditMode::AppendBody => append(base, &scene, &text, nl, name),
        EditMode::ReplaceBody => {
            let body = scene.body.start.min(base.len())..base.len();
            let lead = if scene.frontmatter.is_some() { nl } else { "" };
            let what = if base[body.clone()].trim().is_empty() {
                format!("becomes the text of {name}, which has none yet")
            } else {
                format!(
                    "replaces the whole text of {name}, lines {}–{}",
                    line_at(base, body.start),
                    line_at(base, base.trim_end().len().saturating_sub(1))
                )
            };
            (body, format!("{lead}{text}{nl}"), what)
        }
        EditMode::NewFile => {
            if !base.is_empty() {
                return Err(EditError::Exists { path: target.path.to_string() });
            }
            (0..0, format!("{text}{nl}"), format!("creates {}", target.path))
        }
        EditMode::SetFrontmatter => {
            let field = target.field.ok_or(EditError::NoField)?;
            set_field(base, &scene, field, &text, nl, name, is_fountain(target.path))
        }
        EditMode::Replace | EditMode::InsertAfter => {
            let sel = target
                .selection
                .filter(|s| !s.text.is_empty())
                .ok_or(EditError::NoSelection { mode: target.mode.as_str() })?;
            let start =
                find_selection(base, sel).ok_or_else(|| EditError::SelectionGone { path: target.path.to_string() })?;
            let end = start + sel.text.len();
            let last = line_at(base, end.saturating_sub(1).max(start));
            if target.mode == EditMode::InsertAfter {
                let rest = &base[end..];
                if rest.starts_with(['\n', '\r']) || rest.is_empty() {
                    let what = format!("will be added after line {last} of {name}, as a new paragraph");
                    (end..end, format!("{nl}{nl}{text}"), what)
                } else {
                    let what = format!("will be added after the selection, on line {last} of {name}");
                    (end..end, format!(" {text}"), what)
                }
            } else {
                // Keep the selection's own surrounding white space.
                let selected = &sel.text;
                let lead = &selected[..selected.len() - selected.trim_start().len()];
                let trail = &selected[selected.trim_end().len()..];
                let first = line_at(base, start);
                let what = if first == last {
                    format!("replaces the selection on line {first} of {name}")
                } else {
                    format!("replaces lines {first}–{last} of {name} (the selection)")
                };
                (start..end, format!("{lead}{text}{trail}"), what)
            }
        }
    };
    let (diff, first_line, last_line) = unified_diff(target.path, base, &range, &new_text);
    let mut plan = EditPlan {
        id: target.id.to_string(),
        path: target.path.to_string(),
        mode: target.mode,
        field: target.field.map(str::to_string),
        selection: target.selection.cloned(),
        text: target.text.to_string(),
        old_text: base[range.clone()].to_string(),
        range,
        new_text,
        description,
        diff,
        first_line,
        last_line,
        base_hash: text_hash(base),
        result_hash: String::new(),
    };
    plan.result_hash = text_hash(&plan.apply(base));
    Ok(plan)
}

/// Where the selection is now: at its old place when the text there is unchanged, else the
/// nearest place holding the same passage.
fn find_selection(base: &str, sel: &Selection) -> Option<usize> {
    if base.get(sel.start..sel.end) == Some(sel.text.as_str()) {
        return Some(sel.start);
    }
    base.match_indices(sel.text.as_str()).map(|(i, _)| i).min_by_key(|i| i.abs_diff(sel.start))
}

fn append(base: &str, scene: &Scene, text: &str, nl: &str, name: &str) -> (Range<usize>, String, String) {
    let body_start = scene.body.start.min(base.len());
    let kept = base.trim_end().len().max(body_start);
    if base[body_start..kept].trim().is_empty() {
        // Right after the frontmatter (or at the top), a blank line between.
        let lead = if scene.frontmatter.is_some() { nl } else { "" };
        let what = format!("becomes the text of {name}, which has none yet");
        return (body_start..base.len(), format!("{lead}{text}{nl}"), what);
    }
    let what = format!(
        "will be added after line {} of {name}, at the end of the scene",
        line_at(base, kept.saturating_sub(1))
    );
    (kept..base.len(), format!("{nl}{nl}{text}{nl}"), what)
}

/// Sets `field:` to `text` on one line; the rest of the frontmatter or title page is kept.
fn set_field(
    base: &str,
    scene: &Scene,
    field: &str,
    text: &str,
    nl: &str,
    name: &str,
    fountain: bool,
) -> (Range<usize>, String, String) {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = if fountain {
        // Title-page keys are capitalised: `Summary: …`.
        let mut key = field.to_string();
        if let Some(f) = key.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        format!("{key}: {one_line}{nl}")
    } else {
        format!("{field}: {}{nl}", serde_json::to_string(&one_line).unwrap_or_default())
    };
    let Some(block) = scene.frontmatter.clone() else {
        let new = if fountain { format!("{line}{nl}") } else { format!("---{nl}{line}---{nl}") };
        let what = if fountain {
            format!("adds a title page with `{field}:` at the top of {name}")
        } else {
            format!("adds a frontmatter with `{field}:` at the top of {name}")
        };
        return (0..0, new, what);
    };
    // The field's line (with its indented continuation lines) inside the block.
    let mut at = block.start;
    let mut found: Option<Range<usize>> = None;
    let mut closing: Option<usize> = None;
    let mut last_content_end = block.start;
    for l in base[block.clone()].split_inclusive('\n') {
        let (s, e) = (at, at + l.len());
        at = e;
        let trimmed = l.trim_end();
        if let Some(r) = &mut found {
            if !trimmed.is_empty() && l.starts_with([' ', '\t']) {
                r.end = e;
                continue;
            }
            break;
        }
        if !fountain && s > block.start && matches!(trimmed, "---" | "...") {
            closing = Some(s);
            break;
        }
        let key = trimmed.split_once(':').map(|(k, _)| k.trim()).unwrap_or("");
        if !l.starts_with([' ', '\t']) && key.eq_ignore_ascii_case(field) {
            found = Some(s..e);
            continue;
        }
        if !trimmed.is_empty() {
            last_content_end = e;
        }
    }
    match found {
        Some(r) => {
            let what =
                format!("sets `{field}:` on line {} of {name}, replacing its current value", line_at(base, r.start));
            // A field on a last line without a line break stays without one.
            let line = if base[..r.end].ends_with('\n') { line } else { line.trim_end().to_string() };
            (r, line, what)
        }
        None => {
            // Before the closing `---`, or after the title page's last line.
            let start = closing.unwrap_or(last_content_end);
            let line =
                if start == 0 || base[..start].ends_with('\n') { line } else { format!("{nl}{}", line.trim_end()) };
            let what = format!("sets `{field}:` as a new line {} of {name}", line_at(base, start));
            (start..start, line, what)
        }
    }
}

/// A unified diff of replacing `range` of `base` with `new`, and the 1-based lines it touches.
/// Lines the replacement leaves as they were (a paragraph added after the last line) are
/// context, not removed and added again.
fn unified_diff(path: &str, base: &str, range: &Range<usize>, new: &str) -> (String, usize, usize) {
    const CONTEXT: usize = 3;
    let ls = base[..range.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let le = if range.end > range.start && base[..range.end].ends_with('\n') {
        range.end
    } else {
        base[range.end..].find('\n').map(|i| range.end + i + 1).unwrap_or(base.len())
    };
    let new_region = format!("{}{new}{}", &base[ls..range.start], &base[range.end..le]);
    let lines = |s: &str| s.split_inclusive('\n').map(str::to_string).collect::<Vec<_>>();
    let (old_lines, new_lines) = (lines(&base[ls..le]), lines(&new_region));
    // What the replacement leaves alone at either end is context.
    let same_front = old_lines.iter().zip(&new_lines).take_while(|(a, b)| a == b).count();
    let max_back = old_lines.len().min(new_lines.len()) - same_front;
    let same_back =
        old_lines.iter().rev().zip(new_lines.iter().rev()).take(max_back).take_while(|(a, b)| a == b).count();
    let removed = &old_lines[same_front..old_lines.len() - same_back];
    let added = &new_lines[same_front..new_lines.len() - same_back];
    let mut before = lines(&base[..ls]);
    before.extend(old_lines[..same_front].iter().cloned());
    let mut after: Vec<String> = old_lines[old_lines.len() - same_back..].to_vec();
    after.extend(lines(&base[le..]));
    let ctx_before = &before[before.len().saturating_sub(CONTEXT)..];
    let ctx_after = &after[..after.len().min(CONTEXT)];
    let first = line_at(base, ls) + same_front;
    let last = first + removed.len().max(1) - 1;
    let start = first - ctx_before.len();
    let count = |n: usize| ctx_before.len() + n + ctx_after.len();
    // An empty side starts at the line before it, as `diff` writes it.
    let side = |n: usize| if n == 0 { format!("{},0", start.saturating_sub(1)) } else { format!("{start},{n}") };
    let mut out =
        format!("--- a/{path}\n+++ b/{path}\n@@ -{} +{} @@\n", side(count(removed.len())), side(count(added.len())));
    let mut push = |mark: char, l: &str| {
        out.push(mark);
        let body = l.strip_suffix('\n').unwrap_or(l);
        out.push_str(body.strip_suffix('\r').unwrap_or(body));
        out.push('\n');
        if !l.ends_with('\n') {
            out.push_str("\\ No newline at end of file\n");
        }
    };
    ctx_before.iter().for_each(|l| push(' ', l));
    removed.iter().for_each(|l| push('-', l));
    added.iter().for_each(|l| push('+', l));
    ctx_after.iter().for_each(|l| push(' ', l));
    (out, first, last)
}

impl EditPlan {
    /// The text after the change.
    pub fn apply(&self, base: &str) -> String {
        let mut out = String::with_capacity(base.len() + self.new_text.len());
        out.push_str(&base[..self.range.start]);
        out.push_str(&self.new_text);
        out.push_str(&base[self.range.end..]);
        out
    }

    /// Whether `current` is exactly what applying the plan gave (it was applied already).
    pub fn is_applied_in(&self, current: &str) -> bool {
        text_hash(current) == self.result_hash
    }

    /// The plan moved onto `current`: itself when the text is the one it was planned against,
    /// else planned again from the same inputs — which works when its target is unchanged (the
    /// selection is still there; an append or a field always has its place) and says why not
    /// otherwise. The plan keeps its id, so it is still applied once.
    pub fn rebase(&self, current: &str) -> Result<EditPlan, EditError> {
        if text_hash(current) == self.base_hash {
            return Ok(self.clone());
        }
        plan(&self.target(), current)
    }

    /// The same plan for another approved text (the writer edited it at the gate).
    pub fn with_text(&self, text: &str, base: &str) -> Result<EditPlan, EditError> {
        plan(&Target { text, ..self.target() }, base)
    }

    fn target(&self) -> Target<'_> {
        Target {
            id: &self.id,
            path: &self.path,
            mode: self.mode,
            field: self.field.as_deref(),
            selection: self.selection.as_ref(),
            text: &self.text,
        }
    }
}

/// Applies a one-hunk unified diff (as [`EditPlan::diff`] writes it) to `old`: what a reader of
/// the diff expects the file to become. Tests compare it with what actually lands.
pub fn apply_unified_diff(old: &str, diff: &str) -> Option<String> {
    let mut lines = diff.lines().skip(2);
    let header = lines.next()?;
    let old_side = header.strip_prefix("@@ -")?.split(' ').next()?;
    let (start, count) = old_side.split_once(',')?;
    let (start, count): (usize, usize) = (start.parse().ok()?, count.parse().ok()?);
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let nl = newline_of(old);
    let skip = if count == 0 { start } else { start.checked_sub(1)? };
    let mut out: String = old_lines.get(..skip)?.concat();
    let mut consumed = skip;
    let body: Vec<&str> = lines.collect();
    for (i, l) in body.iter().enumerate() {
        let end = if body.get(i + 1).is_some_and(|n| n.starts_with('\\')) { "" } else { nl };
        match l.chars().next() {
            Some(' ') => {
                out.push_str(&l[1..]);
                out.push_str(end);
                consumed += 1;
            }
            Some('-') => consumed += 1,
            Some('+') => {
                out.push_str(&l[1..]);
                out.push_str(end);
            }
            _ => {}
        }
    }
    out.push_str(&old_lines.get(consumed..)?.concat());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(mode: EditMode, sel: Option<&'a Selection>, text: &'a str) -> Target<'a> {
        Target { id: "run-1-apply", path: "story/ch01/03-supper.md", mode, field: None, selection: sel, text }
    }

    fn check_diff(base: &str, p: &EditPlan) {
        assert_eq!(apply_unified_diff(base, &p.diff).as_deref(), Some(p.apply(base).as_str()), "{}", p.diff);
    }

    const SCENE: &str =
        "---\nid: supper\nsummary: Old.\npov: zoe\n---\n\nZoë waited. Łukasz came.\n\nThe soup 🍲 cooled.\n";

    #[test]
    fn append_adds_a_paragraph_and_says_where() {
        let p = plan(&target(EditMode::AppendBody, None, "  Night fell.\n"), SCENE).unwrap();
        assert_eq!(p.description, "will be added after line 9 of 03-supper.md, at the end of the scene");
        let after = p.apply(SCENE);
        assert_eq!(after, format!("{SCENE}\nNight fell.\n"));
        check_diff(SCENE, &p);
        // Nothing is removed: the scene's last line is context, not taken out and put back.
        assert!(!p.diff.lines().skip(2).any(|l| l.starts_with('-')), "{}", p.diff);
        assert!(p.diff.ends_with(" The soup 🍲 cooled.\n+\n+Night fell.\n"), "{}", p.diff);
        assert!(p.is_applied_in(&after) && !p.is_applied_in(SCENE));
    }

    #[test]
    fn a_bucket_file_is_replaced_whole_even_with_yaml_document_markers() {
        // `---` opens a YAML document; it is not a scene's frontmatter. CRLF is kept.
        let base = "---\r\nid: zoe\r\nname: Zoë\r\n---\r\nsummary: Old.\r\n";
        let t = Target {
            path: "characters/zoe.yaml",
            ..target(EditMode::ReplaceBody, None, "id: zoe\nname: Zoë Adler\n")
        };
        let p = plan(&t, base).unwrap();
        assert_eq!(p.range, 0..base.len());
        assert_eq!(p.apply(base), "id: zoe\r\nname: Zoë Adler\r\n");
        assert_eq!(p.description, "replaces the whole text of zoe.yaml, lines 1–5");
        check_diff(base, &p);
        // Planned again onto a changed file, it still replaces all of it.
        let changed = format!("{base}aliases: [Z]\r\n");
        assert_eq!(p.rebase(&changed).unwrap().apply(&changed), "id: zoe\r\nname: Zoë Adler\r\n");
    }

    #[test]
    fn an_empty_body_is_filled_after_the_frontmatter() {
        let base = "---\nid: s\n---\n";
        let p = plan(&target(EditMode::AppendBody, None, "First."), base).unwrap();
        assert_eq!(p.apply(base), "---\nid: s\n---\n\nFirst.\n");
        assert!(p.description.contains("which has none yet"), "{}", p.description);
        check_diff(base, &p);
    }

    #[test]
    fn replace_selection_keeps_its_white_space_and_follows_the_text() {
        let at = SCENE.find("Zoë waited.").unwrap();
        let sel = Selection { start: at, end: at + "Zoë waited.".len(), text: "Zoë waited.".into() };
        let p = plan(&target(EditMode::Replace, Some(&sel), "Zoë waited, counting waves."), SCENE).unwrap();
        assert_eq!(&SCENE[p.range.clone()], "Zoë waited.");
        assert_eq!(p.description, "replaces the selection on line 7 of 03-supper.md");
        check_diff(SCENE, &p);
        // The writer typed above: the plan is based again onto the new text.
        let moved = SCENE.replace("\n\nZoë", "\n\nA new line.\n\nZoë");
        let q = p.rebase(&moved).unwrap();
        assert_eq!(q.apply(&moved), moved.replace("Zoë waited.", "Zoë waited, counting waves."));
        assert_eq!(q.id, p.id);
        // The passage itself changed: nothing is applied blindly.
        let gone = SCENE.replace("Zoë waited.", "Zoë left.");
        assert!(matches!(p.rebase(&gone), Err(EditError::SelectionGone { .. })));
    }

    #[test]
    fn insert_after_a_selection_at_a_line_end_is_a_new_paragraph() {
        let s = "The soup 🍲 cooled.";
        let at = SCENE.find(s).unwrap();
        let sel = Selection { start: at, end: at + s.len(), text: s.into() };
        let p = plan(&target(EditMode::InsertAfter, Some(&sel), "Steam rose."), SCENE).unwrap();
        assert_eq!(p.apply(SCENE), SCENE.replace("cooled.\n", "cooled.\n\nSteam rose.\n"));
        assert_eq!(p.description, "will be added after line 9 of 03-supper.md, as a new paragraph");
        check_diff(SCENE, &p);
    }

    #[test]
    fn set_field_replaces_only_that_line() {
        let t = Target {
            field: Some("summary"),
            ..target(EditMode::SetFrontmatter, None, "Zoë waits;\n Łukasz comes \"home\".")
        };
        let p = plan(&t, SCENE).unwrap();
        let after = p.apply(SCENE);
        assert_eq!(after, SCENE.replace("summary: Old.", "summary: \"Zoë waits; Łukasz comes \\\"home\\\".\""));
        assert_eq!(p.description, "sets `summary:` on line 3 of 03-supper.md, replacing its current value");
        check_diff(SCENE, &p);
        // Without the field: a new line at the end of the frontmatter, CRLF kept.
        let base = "---\r\nid: s\r\npov: zoe\r\n---\r\nText.\r\n";
        let p = plan(&t, base).unwrap();
        assert_eq!(
            p.apply(base),
            "---\r\nid: s\r\npov: zoe\r\nsummary: \"Zoë waits; Łukasz comes \\\"home\\\".\"\r\n---\r\nText.\r\n"
        );
        check_diff(base, &p);
        // A block scalar with continuation lines is replaced whole.
        let base = "---\nid: s\nsummary: |\n  Two\n  lines.\npov: zoe\n---\nText.\n";
        let p = plan(&t, base).unwrap();
        assert_eq!(
            p.apply(base),
            "---\nid: s\nsummary: \"Zoë waits; Łukasz comes \\\"home\\\".\"\npov: zoe\n---\nText.\n"
        );
        check_diff(base, &p);
        // No frontmatter at all: one is added.
        let p = plan(&t, "Text.\n").unwrap();
        assert_eq!(p.apply("Text.\n"), "---\nsummary: \"Zoë waits; Łukasz comes \\\"home\\\".\"\n---\nText.\n");
        check_diff("Text.\n", &p);
    }

    #[test]
    fn a_new_file_is_all_text_and_an_existing_one_is_refused() {
        let t = Target { path: "buckets/research/fog.yaml", ..target(EditMode::NewFile, None, "id: fog\nname: Fog") };
        let p = plan(&t, "").unwrap();
        assert_eq!(p.apply(""), "id: fog\nname: Fog\n");
        assert_eq!(p.description, "creates buckets/research/fog.yaml");
        check_diff("", &p);
        assert_eq!(plan(&t, "x"), Err(EditError::Exists { path: "buckets/research/fog.yaml".into() }));
    }

    #[test]
    fn crlf_files_keep_crlf() {
        let base = "---\r\nid: s\r\n---\r\n\r\nFirst.\r\n";
        let p = plan(&target(EditMode::AppendBody, None, "Second.\nThird."), base).unwrap();
        assert_eq!(p.apply(base), "---\r\nid: s\r\n---\r\n\r\nFirst.\r\n\r\nSecond.\r\nThird.\r\n");
        check_diff(base, &p);
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert_eq!(plan(&target(EditMode::AppendBody, None, "  \n"), SCENE), Err(EditError::Empty));
        assert_eq!(plan(&target(EditMode::Replace, None, "x"), SCENE), Err(EditError::NoSelection { mode: "replace" }));
        assert_eq!(plan(&target(EditMode::SetFrontmatter, None, "x"), SCENE), Err(EditError::NoField));
        assert!("nonsense".parse::<EditMode>().unwrap_err().contains("append_body"));
        // Earlier names still read; the names written are spec 10's.
        assert_eq!("replace_selection".parse::<EditMode>(), Ok(EditMode::Replace));
        assert_eq!(serde_json::from_str::<EditMode>("\"set_field\"").unwrap(), EditMode::SetFrontmatter);
        assert_eq!(serde_json::to_string(&EditMode::InsertAfter).unwrap(), "\"insert_after\"");
    }
}
