//! Scene documents: Markdown with optional YAML frontmatter (spec 1.3).
//!
//! A scene is parsed into its metadata (id, parent, pov, pinned context, timeline position …)
//! and the byte ranges the rest of the system reads: `scan` (where mentions are looked for:
//! everything but frontmatter and fenced code) and `blocks` (paragraphs of running prose, each
//! starting a sentence, used by the SR003 name finder). Fountain screenplays produce the same
//! [`Scene`] through [`crate::fountain`].

use crate::bucket::{Positions, Spanned};
use crate::diag::{Code, Diagnostic};
use crate::id;
use crate::text::{lines_with_offsets, TextRange};
use crate::window::Edit;
use crate::yaml::{self, Node, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SceneFormat {
    Markdown,
    Fountain,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Heading {
    /// 1–6 for Markdown headings; 0 for Fountain scene headings.
    pub level: u8,
    pub text: String,
    /// The whole heading line (without the line break).
    pub range: TextRange,
}

/// A Fountain character cue: `ALICE (V.O.) ^`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// The character's name as written, without `@`, extensions or `^`.
    pub name: String,
    pub name_range: TextRange,
    /// Extensions as written, e.g. `(V.O.)` or `(CONT'D)`.
    pub extensions: Vec<String>,
    /// Part of dual dialogue: this cue carries `^`, or the cue before one that does.
    pub dual: bool,
    pub forced: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub id: Spanned<String>,
    pub format: SceneFormat,
    pub title: Option<String>,
    pub parent: Option<Spanned<String>>,
    pub pov: Option<Spanned<String>>,
    pub context: Vec<Spanned<String>>,
    pub timeline: Positions,
    pub model: Option<String>,
    pub flashback: bool,
    pub summary: Option<String>,
    /// The frontmatter block (or Fountain title page), delimiters included.
    pub frontmatter: Option<TextRange>,
    /// Everything after the frontmatter.
    pub body: TextRange,
    /// Where mentions are looked for.
    pub scan: Vec<TextRange>,
    /// Stretches of running prose (not headings, cues or transitions), each starting a sentence:
    /// paragraphs, list items, lines after a hard line break, lines of verse and of Fountain.
    pub blocks: Vec<TextRange>,
    pub headings: Vec<Heading>,
    pub cues: Vec<Cue>,
    pub word_count: usize,
}

impl Scene {
    /// The scene's metadata, without the (large) ranges of its body.
    fn clone_meta(&self) -> Scene {
        Scene {
            id: self.id.clone(),
            format: self.format,
            title: self.title.clone(),
            parent: self.parent.clone(),
            pov: self.pov.clone(),
            context: self.context.clone(),
            timeline: self.timeline.clone(),
            model: self.model.clone(),
            flashback: self.flashback,
            summary: self.summary.clone(),
            frontmatter: self.frontmatter.clone(),
            body: self.body.clone(),
            scan: Vec::new(),
            blocks: Vec::new(),
            headings: Vec::new(),
            cues: self.cues.clone(),
            word_count: self.word_count,
        }
    }

    pub(crate) fn empty(stem: &str, format: SceneFormat, len: usize) -> Scene {
        Scene {
            id: Spanned::new(default_scene_id(stem), 0..0),
            format,
            title: None,
            parent: None,
            pov: None,
            context: Vec::new(),
            timeline: Vec::new(),
            model: None,
            flashback: false,
            summary: None,
            frontmatter: None,
            body: 0..len,
            scan: Vec::new(),
            blocks: Vec::new(),
            headings: Vec::new(),
            cues: Vec::new(),
            word_count: 0,
        }
    }
}

fn default_scene_id(stem: &str) -> String {
    if id::is_valid_id(stem) {
        stem.to_string()
    } else {
        id::slugify(stem).unwrap_or_else(|| "scene".into())
    }
}

/// Parses a Markdown scene. `stem` is the file name without `.md` / `.scene.md`.
pub fn parse_markdown_scene(text: &str, stem: &str) -> (Scene, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut scene = Scene::empty(stem, SceneFormat::Markdown, text.len());
    let body_start = match split_frontmatter(text) {
        Frontmatter::None => 0,
        Frontmatter::Unclosed { open } => {
            diags.push(Diagnostic::new(
                Code::SR010,
                open,
                "frontmatter is not closed: add a line with `---` after the metadata",
            ));
            0
        }
        Frontmatter::Closed { block, yaml, body_start } => {
            scene.frontmatter = Some(block);
            read_frontmatter(text, yaml, &mut scene, &mut diags);
            body_start
        }
    };
    scene.body = body_start..text.len();
    scan_markdown(text, body_start, &mut scene);
    (scene, diags)
}

enum Frontmatter {
    None,
    Unclosed { open: TextRange },
    Closed { block: TextRange, yaml: TextRange, body_start: usize },
}

fn split_frontmatter(text: &str) -> Frontmatter {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut lines = lines_with_offsets(text).skip_while(|(s, _, _)| *s < start);
    let Some((s, e, next)) = lines.next() else { return Frontmatter::None };
    if text[s..e].trim_end() != "---" {
        return Frontmatter::None;
    }
    for (ls, le, lnext) in lines {
        let line = text[ls..le].trim_end();
        if line == "---" || line == "..." {
            return Frontmatter::Closed { block: s..le, yaml: next..ls, body_start: lnext };
        }
    }
    Frontmatter::Unclosed { open: s..e }
}

fn read_frontmatter(text: &str, yaml_range: TextRange, scene: &mut Scene, diags: &mut Vec<Diagnostic>) {
    let base = yaml_range.start;
    let parsed = yaml::parse(&text[yaml_range]);
    for e in parsed.errors {
        diags.push(Diagnostic::new(
            Code::SR010,
            e.range.start + base..e.range.end + base,
            format!("YAML syntax error in frontmatter: {}", e.message),
        ));
    }
    let Some(root) = parsed.root else { return };
    let Some(entries) = root.as_map() else {
        diags.push(Diagnostic::new(
            Code::SR011,
            shift(&root.span, base),
            format!("frontmatter must be a mapping of keys, found {}", root.type_name()),
        ));
        return;
    };
    for (k, v) in entries {
        let key = k.scalar_text().unwrap_or_default();
        apply_meta(&key, v, base, scene, diags);
    }
}

fn shift(r: &TextRange, base: usize) -> TextRange {
    r.start + base..r.end + base
}

/// Applies one metadata key (from frontmatter or a Fountain title page) to a scene.
pub(crate) fn apply_meta(key: &str, v: &Node, base: usize, scene: &mut Scene, diags: &mut Vec<Diagnostic>) {
    let span = shift(&v.span, base);
    let mut bad = |what: &str| {
        diags.push(Diagnostic::new(
            Code::SR011,
            span.clone(),
            format!("`{key}` must be {what}, found {}", v.type_name()),
        ))
    };
    match key {
        "id" => match v.scalar_text() {
            Some(s) if id::is_valid_id(&s) => scene.id = Spanned::new(s, span.clone()),
            Some(s) => {
                let fallback = id::slugify(&s).unwrap_or_else(|| scene.id.value.clone());
                diags.push(Diagnostic::new(
                    Code::SR011,
                    span.clone(),
                    format!("id `{s}` is not a valid id (letters, digits, - and _ only); read as `{fallback}`"),
                ));
                scene.id = Spanned::new(fallback, span.clone());
            }
            None if v.is_null() => {}
            None => bad("text"),
        },
        "parent" | "pov" => {
            let value = match v.scalar_text() {
                Some(s) if !s.is_empty() => Some(Spanned::new(s, span.clone())),
                _ if v.is_null() => None,
                _ => {
                    bad("a bucket id");
                    None
                }
            };
            if key == "parent" {
                scene.parent = value;
            } else {
                scene.pov = value;
            }
        }
        "context" => match &v.value {
            Value::Seq(items) => {
                scene.context = items
                    .iter()
                    .filter_map(|i| i.scalar_text().map(|s| Spanned::new(s, shift(&i.span, base))))
                    .collect()
            }
            Value::Str(s) => scene.context = vec![Spanned::new(s.clone(), span.clone())],
            Value::Null => {}
            _ => bad("a list of bucket ids"),
        },
        "timeline" => match &v.value {
            Value::Map(entries) => {
                scene.timeline = entries
                    .iter()
                    .filter_map(|(k, v)| match v.value {
                        Value::Int(n) => Some((k.scalar_text().unwrap_or_default(), n)),
                        Value::Float(f) => Some((k.scalar_text().unwrap_or_default(), f as i64)),
                        _ => None,
                    })
                    .collect()
            }
            Value::Int(n) => scene.timeline = vec![("main".into(), *n)],
            Value::Null => {}
            _ => bad("a mapping of timelines to positions, e.g. `{ main: 3 }`"),
        },
        "model" => scene.model = v.scalar_text(),
        "flashback" => match v.value {
            Value::Bool(b) => scene.flashback = b,
            Value::Null => {}
            _ => bad("true or false"),
        },
        "summary" => scene.summary = v.scalar_text(),
        "title" => scene.title = v.scalar_text(),
        _ => {}
    }
}

/// Finds the scanned ranges (all but fenced code), headings and prose blocks of a Markdown body.
///
/// A block is where a sentence starts (for the SR003 name finder): a paragraph, a list item, a
/// line after a hard line break (two trailing spaces or a `\`), each line of a paragraph of
/// verse, and the line after a speaker label. Speaker labels themselves (`HAMLET.`,
/// `**Hamlet:**`, `_Exit_`) are cues, not prose, and belong to no block.
fn scan_markdown(text: &str, body_start: usize, scene: &mut Scene) {
    let (out, _) = scan_lines(text, body_start, None);
    scene.scan = out.scan;
    scene.blocks = out.blocks;
    scene.headings = out.headings;
    scene.word_count = out.words;
}

/// What [`scan_lines`] found in a stretch of a Markdown body.
#[derive(Debug, Default)]
struct Scanned {
    scan: Vec<TextRange>,
    blocks: Vec<TextRange>,
    headings: Vec<Heading>,
    words: usize,
    /// Fence lines (```` ``` ````, `~~~`) met.
    fences: usize,
}

/// Reads the lines of `text` from `from` (a line start where no paragraph is open: the body's
/// start, or the line after a blank one) to the end, or — with `stop_at` — up to and including
/// the first blank line that starts after `stop_at` with a `\n` before it, where the state is the
/// same whatever came before. Returns what it found and where it stopped.
fn scan_lines(text: &str, from: usize, stop_at: Option<usize>) -> (Scanned, usize) {
    let mut out = Scanned::default();
    let mut fence: Option<(u8, usize)> = None;
    let mut scan_start = Some(from);
    // The lines (content start, end) of the paragraph being read.
    let mut para: Vec<(usize, usize)> = Vec::new();
    let mut hard_break = false;
    let mut end = text.len();
    for (s, e, next) in lines_with_offsets(&text[from..]).map(|(s, e, n)| (s + from, e + from, n + from)) {
        let line = &text[s..e];
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let fence_char = trimmed.as_bytes().first().copied().filter(|c| *c == b'`' || *c == b'~');
        let fence_len = fence_char.map(|c| trimmed.bytes().take_while(|b| *b == c).count()).unwrap_or(0);
        if let Some((c, n)) = fence {
            if fence_char == Some(c) && fence_len >= n && trimmed[fence_len..].trim().is_empty() {
                fence = None;
                scan_start = Some(next);
                out.fences += 1;
            }
            continue;
        }
        if indent <= 3 && fence_len >= 3 {
            if let Some(start) = scan_start.take() {
                if s > start {
                    out.scan.push(start..s);
                }
            }
            flush(text, &mut para, &mut out.blocks);
            hard_break = false;
            fence = Some((fence_char.unwrap_or(b'`'), fence_len));
            out.fences += 1;
            continue;
        }
        out.words += count_words(line);
        let after_break = std::mem::replace(&mut hard_break, ends_with_hard_break(line));
        if trimmed.is_empty() {
            flush(text, &mut para, &mut out.blocks);
            if stop_at.is_some_and(|at| s > at && text.as_bytes()[s - 1] == b'\n') {
                end = next;
                break;
            }
            continue;
        }
        let hashes = trimmed.bytes().take_while(|b| *b == b'#').count();
        if indent <= 3 && (1..=6).contains(&hashes) && trimmed[hashes..].chars().next().is_none_or(char::is_whitespace)
        {
            flush(text, &mut para, &mut out.blocks);
            let title = trimmed[hashes..].trim().trim_end_matches('#').trim().to_string();
            out.headings.push(Heading { level: hashes as u8, text: title, range: s..e });
            continue;
        }
        match speaker_label(trimmed, para.is_empty() || after_break) {
            Label::No => {}
            Label::Cue => {
                flush(text, &mut para, &mut out.blocks);
                continue;
            }
            Label::OwnBlock => {
                flush(text, &mut para, &mut out.blocks);
                para.push((s + indent, e));
                flush(text, &mut para, &mut out.blocks);
                continue;
            }
        }
        // List items, block quotes and table rows start a new block after their marker; so
        // does a line after a hard line break.
        let marker = list_marker_len(trimmed);
        if marker > 0 || after_break {
            flush(text, &mut para, &mut out.blocks);
        }
        para.push((s + indent + marker, e));
    }
    flush(text, &mut para, &mut out.blocks);
    if let Some(start) = scan_start {
        if fence.is_none() && end > start {
            out.scan.push(start..end);
        }
    }
    (out, end)
}

/// Parses a Markdown scene again after one edit (`old` parsed from `old_text`; `new_text` is
/// `old_text` with bytes `edit.start..edit.old_end` replaced by `edit.start..edit.new_end` of
/// `new_text`), reading only the paragraphs the edit touches: from the line after the last blank
/// line before it to the first blank line after it. What lies outside is kept (moved by the
/// edit's length), and the word count is kept per stretch. The result equals
/// [`parse_markdown_scene`] of `new_text`; `None` when the edit needs a whole parse — it touches
/// the frontmatter, the scene has fenced code, or lone `\r` line ends meet at its edge.
pub fn reparse_markdown_scene(old_text: &str, old: &Scene, new_text: &str, edit: &Edit) -> Option<Scene> {
    let bytes = new_text.as_bytes();
    let body_start = old.body.start;
    // No fenced code: the whole body is scanned, in one range.
    let whole = old_text.len() > body_start;
    if old.format != SceneFormat::Markdown
        || edit.start < body_start
        || old.scan.len() != usize::from(whole)
        || old.scan.first().is_some_and(|r| *r != (body_start..old_text.len()))
    {
        return None;
    }
    match &old.frontmatter {
        Some(block) if block.end < body_start => {}
        Some(_) => return None,
        // Without frontmatter, a `---` on the first line could open one.
        None => {
            if body_start != 0
                || [old_text, new_text].iter().any(|t| t.trim_start_matches('\u{feff}').starts_with("---"))
            {
                return None;
            }
        }
    }
    // Back to where no paragraph is open: the body's start, or the line after a blank line.
    let line_start = |mut i: usize| {
        while i > body_start && bytes[i - 1] != b'\n' && bytes[i - 1] != b'\r' {
            i -= 1;
        }
        i
    };
    let mut from = line_start(edit.start);
    while from > body_start {
        if bytes[from - 1] != b'\n' {
            return None;
        }
        let prev_end = if from >= 2 && bytes[from - 2] == b'\r' { from - 2 } else { from - 1 };
        let prev = line_start(prev_end);
        if new_text[prev..prev_end].trim().is_empty() {
            break;
        }
        from = prev;
    }
    let (found, new_end) = scan_lines(new_text, from, Some(edit.new_end));
    if found.fences > 0 {
        return None;
    }
    // The same place in the old text: after the edit, both texts are the same.
    let old_end = new_end - edit.new_end + edit.old_end;
    let shift = |r: &TextRange| (r.start + new_end - old_end)..(r.end + new_end - old_end);
    let mut scene = Scene {
        scan: if new_text.len() > body_start { vec![body_start..new_text.len()] } else { Vec::new() },
        blocks: Vec::new(),
        headings: Vec::new(),
        body: body_start..new_text.len(),
        word_count: old.word_count - count_words(&old_text[from..old_end]) + found.words,
        ..Scene::empty("", SceneFormat::Markdown, 0)
    };
    let before = old.blocks.partition_point(|b| b.start < from);
    let after = old.blocks.partition_point(|b| b.start < old_end);
    scene.blocks.reserve(before + found.blocks.len() + old.blocks.len() - after);
    scene.blocks.extend_from_slice(&old.blocks[..before]);
    scene.blocks.extend(found.blocks);
    scene.blocks.extend(old.blocks[after..].iter().map(shift));
    let before = old.headings.partition_point(|h| h.range.start < from);
    let after = old.headings.partition_point(|h| h.range.start < old_end);
    scene.headings.extend_from_slice(&old.headings[..before]);
    scene.headings.extend(found.headings);
    scene.headings.extend(old.headings[after..].iter().map(|h| Heading { range: shift(&h.range), ..h.clone() }));
    let Scene {
        id, format, title, parent, pov, context, timeline, model, flashback, summary, frontmatter, cues, ..
    } = old.clone_meta();
    Some(Scene {
        id,
        format,
        title,
        parent,
        pov,
        context,
        timeline,
        model,
        flashback,
        summary,
        frontmatter,
        cues,
        ..scene
    })
}

/// Ends a paragraph: one block, or one block a line when it is verse.
fn flush(text: &str, para: &mut Vec<(usize, usize)>, blocks: &mut Vec<TextRange>) {
    if is_verse(text, para) {
        blocks.extend(para.iter().filter(|(s, e)| e > s).map(|(s, e)| *s..*e));
    } else if let (Some(first), Some(last)) = (para.first(), para.last()) {
        if last.1 > first.0 {
            blocks.push(first.0..last.1);
        }
    }
    para.clear();
}

/// A Markdown hard line break ends the line: two or more spaces, or a backslash.
fn ends_with_hard_break(line: &str) -> bool {
    line.ends_with("  ") || line.ends_with('\\')
}

/// Lines of verse start with a capital letter whatever the sentence does; hard-wrapped prose
/// goes on in lowercase. A paragraph whose later lines begin with a capital (at least three in
/// four) is verse — or one sentence a line, where each line starts a sentence too. Of two
/// lines, the second must begin with a capital after a line ending in punctuation.
fn is_verse(text: &str, para: &[(usize, usize)]) -> bool {
    let starts_capital = |(s, e): &(usize, usize)| {
        text[*s..*e].chars().find(|c| crate::matcher::is_word_char(*c)).is_some_and(char::is_uppercase)
    };
    match para {
        [] | [_] => false,
        [first, second] => {
            starts_capital(second)
                && text[first.0..first.1].trim_end().ends_with([',', ';', ':', '.', '!', '?', '—', '-', '…'])
        }
        [_, rest @ ..] => rest.iter().filter(|l| starts_capital(l)).count() * 4 >= rest.len() * 3,
    }
}

enum Label {
    No,
    /// A cue or stage direction: in no block.
    Cue,
    /// Perhaps a label, perhaps a short line of prose: a block of its own.
    OwnBlock,
}

/// A line that only says who speaks next, in a play: `**Hamlet**`, `_Hamlet:_`, `**First
/// Clown.**`, `HAMLET` or `HAMLET.` are cues, and so are short, wholly emphasised lines (stage
/// directions such as `_Exit_`). `Hamlet.` or `Lady Macbeth:` where a paragraph starts may be a
/// label or a short line of prose: either way the next line starts a sentence.
fn speaker_label(line: &str, paragraph_start: bool) -> Label {
    // A label is short: most lines are not, and are done with here.
    if line.len() > 200 {
        return Label::No;
    }
    let line = line.trim_end().trim_end_matches('\\').trim_end();
    let outer = line.trim_end_matches(['.', ':']);
    let emphasised = outer.len() >= 3 && outer.starts_with(['*', '_']) && outer.ends_with(['*', '_']);
    let inner = outer.trim_matches(['*', '_']).trim_end_matches(['.', ':']);
    let punctuated = inner.len() < line.trim_matches(['*', '_']).len();
    let words: Vec<&str> = inner.split_whitespace().collect();
    let plain = |w: &&str| w.chars().all(|c| c.is_alphanumeric() || matches!(c, '\'' | '’' | '-' | '&'));
    if words.is_empty()
        || words.len() > 4
        || inner.chars().count() > 40
        || !words.iter().all(plain)
        || !inner.chars().next().is_some_and(char::is_uppercase)
    {
        return Label::No;
    }
    let letters = inner.chars().filter(|c| c.is_alphabetic()).count();
    let all_caps = letters >= 2 && !inner.chars().any(char::is_lowercase);
    let capitalised = words.iter().all(|w| w.chars().next().is_some_and(|c| !c.is_lowercase()));
    if emphasised || all_caps {
        Label::Cue
    } else if paragraph_start && punctuated && capitalised {
        Label::OwnBlock
    } else {
        Label::No
    }
}

/// Length of a list/quote marker at the start of a trimmed line (`- `, `* `, `1. `, `> `).
fn list_marker_len(line: &str) -> usize {
    let b = line.as_bytes();
    match b.first() {
        Some(b'-' | b'*' | b'+' | b'>') if b.get(1).is_some_and(|c| *c == b' ') => 2,
        Some(b'|') => 1,
        Some(c) if c.is_ascii_digit() => {
            let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            match (b.get(digits), b.get(digits + 1)) {
                (Some(b'.' | b')'), Some(b' ')) => digits + 2,
                _ => 0,
            }
        }
        _ => 0,
    }
}

/// Words as a writer counts them: runs of letters/digits (with inner apostrophes and hyphens);
/// each CJK ideograph counts as a word.
const SPACE: u8 = 0;
const WORD: u8 = 1;
/// `'` and `-` inside a word (`isn't`, `lamp-oil`) keep it one word.
const JOIN: u8 = 2;

static ASCII_CLASS: [u8; 128] = {
    let mut t = [SPACE; 128];
    let mut b = 0;
    while b < 128 {
        if (b as u8).is_ascii_alphanumeric() {
            t[b] = WORD;
        }
        b += 1;
    }
    t[b'\'' as usize] = JOIN;
    t[b'-' as usize] = JOIN;
    t
};

pub fn count_words(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut n = 0;
    let mut in_word = false;
    let mut i = 0;
    while i < bytes.len() {
        // ASCII, the bulk of most manuscripts, without decoding or branching: a table says what
        // each byte is, and the state (inside a word or not) is carried in a bit.
        let run = bytes[i..].iter().position(|b| *b >= 0x80).map_or(bytes.len(), |k| i + k);
        let mut state = u8::from(in_word);
        for &b in &bytes[i..run] {
            let class = ASCII_CLASS[b as usize];
            // A word starts at a word byte outside a word; a joiner keeps the state as it is.
            n += usize::from(class & WORD & !state);
            state = (state & (class >> 1)) | (class & WORD);
        }
        in_word = state == 1;
        i = run;
        if i == bytes.len() {
            break;
        }
        let c = text[i..].chars().next().expect("a char starts here");
        if crate::matcher::is_unspaced_script(c) {
            n += 1;
            in_word = false;
        } else if c.is_alphanumeric() {
            if !in_word {
                n += 1;
                in_word = true;
            }
        } else if !(in_word && c == '’') {
            in_word = false;
        }
        i += c.len_utf8();
    }
    n
}

#[cfg(test)]
mod tests {
    use crate::window::Edit;

    /// Reading a scene again around an edit gives what reading it whole gives, for keystrokes
    /// anywhere in prose with headings, lists, verse, speaker labels, hard breaks and CRLF — and
    /// most keystrokes are read incrementally.
    #[test]
    fn reparse_equals_a_whole_parse() {
        let mut text = String::from(
            "---\nid: long\npov: zoe\n---\n# Part One\n\nZoë walked. Łukasz 李雷 😀 waited.\nShe said so.\n\n",
        );
        text.push_str("- a list item\n- Another One\n\nUpon the wall,\nAnd Quillan with Bexley,\nThen Quillan\n\n**HAMLET**\nTo be.  \nNot to be.\\\nMaybe.\r\n\r\n");
        for i in 0..40 {
            text.push_str(&format!(
                "Paragraph {i} with Quillan and Bexley, then more words here.\nA second line of it.\n\n"
            ));
        }
        let typed = [
            "a",
            " ",
            "\n",
            "\n\n",
            "\r\n",
            "Quillan ",
            "# ",
            "## Night\n",
            "- ",
            "> ",
            "  \n",
            "\\\n",
            "**HAMLET**\n",
            "Upon the wall,\nAnd the sea\n",
            "```\n",
            "---\n",
            "😀",
            "’s",
            "",
        ];
        let (mut scene, _) = parse_markdown_scene(&text, "long");
        let mut seed = 5usize;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 24) % n.max(1)
        };
        let mut incremental = 0;
        for step in 0..3000 {
            let floor = |t: &str, mut at: usize| {
                while !t.is_char_boundary(at) {
                    at -= 1;
                }
                at
            };
            let mut at = floor(&text, next(text.len() + 1));
            if next(3) == 0 {
                at = text[..at].rfind('\n').map_or(0, |i| i + 1);
            }
            let del = if next(3) == 0 { floor(&text, (at + next(30)).min(text.len())) } else { at };
            let t = typed[next(typed.len())];
            let new = format!("{}{t}{}", &text[..at], &text[del..]);
            let whole = parse_markdown_scene(&new, "long").0;
            if let Some(again) = reparse_markdown_scene(&text, &scene, &new, &Edit::between(&text, &new)) {
                assert_eq!(again, whole, "step {step}: {t:?} at {at}..{del}\n{new}");
                incremental += 1;
            }
            scene = whole;
            text = new;
            // Keep the text from growing without end or losing its frontmatter for good.
            if text.len() > 20_000 || !text.starts_with("---\nid: long") {
                text = String::from("---\nid: long\n---\nAgain from the top.\n\nQuillan.\n");
                scene = parse_markdown_scene(&text, "long").0;
            }
        }
        assert!(incremental > 1500, "only {incremental} of 3000 edits were read incrementally");
    }

    use super::*;

    /// The count as first written, one character at a time: the fast count must agree.
    fn count_words_by_chars(text: &str) -> usize {
        let (mut n, mut in_word) = (0, false);
        for c in text.chars() {
            if crate::matcher::is_unspaced_script(c) {
                n += 1;
                in_word = false;
            } else if c.is_alphanumeric() {
                n += usize::from(!in_word);
                in_word = true;
            } else if !(in_word && (c == '’' || c == '\'' || c == '-')) {
                in_word = false;
            }
        }
        n
    }

    #[test]
    fn word_counts_agree_with_a_count_by_characters() {
        let pieces = [
            "Zoë", " ", "isn't", "-", "'", "’", "lamp-oil", "李雷", "走了", "😀", "\n", "\r\n", "a", "42", ", ",
            "Łukasz", "--", "_x",
        ];
        let mut seed = 5u64;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..12 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            assert_eq!(count_words(&text), count_words_by_chars(&text), "{text:?}");
        }
    }

    #[test]
    fn frontmatter_and_body() {
        let text = "---\nid: arrival\nparent: chapter-01\npov: alice\ncontext: [lighthouse]\ntimeline: { main: 3 }\nmodel: local/qwen2.5\n---\nThe storm came in.\n\n```\nAlice in code\n```\nAfter.\n";
        let (s, d) = parse_markdown_scene(text, "x");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(s.id.value, "arrival");
        assert_eq!(s.parent.as_ref().unwrap().value, "chapter-01");
        assert_eq!(&text[s.parent.as_ref().unwrap().range.clone()], "chapter-01");
        assert_eq!(s.context[0].value, "lighthouse");
        assert_eq!(&text[s.context[0].range.clone()], "lighthouse");
        assert_eq!(s.timeline, vec![("main".to_string(), 3)]);
        let scanned: Vec<&str> = s.scan.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(scanned, vec!["The storm came in.\n\n", "After.\n"]);
        assert_eq!(s.word_count, 5);
    }

    #[test]
    fn crlf_frontmatter() {
        let text = "---\r\nid: a\r\npov: zoë\r\n---\r\n# Heading\r\nText.\r\n";
        let (s, d) = parse_markdown_scene(text, "x");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(s.pov.unwrap().value, "zoë");
        assert_eq!(s.headings[0].text, "Heading");
        assert_eq!(&text[s.blocks[0].clone()], "Text.");
    }

    #[test]
    fn broken_frontmatter_is_reported_and_body_still_read() {
        let text = "---\nid: [unclosed\n---\nAlice walked.\n";
        let (s, d) = parse_markdown_scene(text, "stem");
        assert_eq!(d[0].code, Code::SR010);
        assert_eq!(s.id.value, "stem");
        assert_eq!(&text[s.scan[0].clone()], "Alice walked.\n");
        let (s, d) = parse_markdown_scene("---\nid: x\nno end\n", "stem");
        assert_eq!(d[0].code, Code::SR010);
        assert!(d[0].message.contains("not closed"));
        assert_eq!(s.scan.len(), 1);
    }

    #[test]
    fn blocks_split_on_blank_lines_and_list_items() {
        let text = "One two\nthree.\n\n- item Alice\n- item two\n> quote\n";
        let (s, _) = parse_markdown_scene(text, "x");
        let blocks: Vec<&str> = s.blocks.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(blocks, vec!["One two\nthree.", "item Alice", "item two", "quote"]);
    }

    fn blocks(text: &str) -> Vec<&str> {
        let (s, _) = parse_markdown_scene(text, "x");
        s.blocks.iter().map(|r| &text[r.clone()]).collect()
    }

    #[test]
    fn hard_line_breaks_start_blocks() {
        let text = "Well, good night.  \nIf you do meet Horatio,\\\nThe rivals of my watch.\nand so on\n";
        assert_eq!(
            blocks(text),
            vec!["Well, good night.  ", "If you do meet Horatio,\\", "The rivals of my watch.\nand so on"]
        );
    }

    #[test]
    fn speaker_labels_and_stage_directions_are_no_prose() {
        let text = "**HAMLET**  \nO, that this too too solid flesh\n\n**Hamlet:**\nUpon my sword.\n\nHAMLET\nSince no man knows.\n\n_Exit Ghost_\n\nLady Macbeth:\nOut, damned spot!\n";
        assert_eq!(
            blocks(text),
            vec![
                "O, that this too too solid flesh",
                "Upon my sword.",
                "Since no man knows.",
                "Lady Macbeth:",
                "Out, damned spot!"
            ]
        );
        // A wrapped line of prose ending in a name is no label.
        let prose = "He walked all the way to the house of\nZoë Łukasz.\n";
        assert_eq!(blocks(prose), vec!["He walked all the way to the house of\nZoë Łukasz."]);
    }

    #[test]
    fn verse_is_a_block_a_line_and_wrapped_prose_is_not() {
        let verse = "O, that this too too solid flesh would melt,\nThaw and resolve itself into a dew!\nOr that the Everlasting had not fix'd\nHis canon 'gainst self-slaughter!\n";
        assert_eq!(blocks(verse).len(), 4);
        let prose = "It is a truth universally acknowledged, that a single man in possession\nof a good fortune, must be in want of a wife. However little known the\nfeelings or views of Zoë may be on his first entering a neighbourhood,\nthis truth is so well fixed.\n";
        assert_eq!(blocks(prose).len(), 1);
        assert_eq!(blocks("Sweet Zoë,\nWhere is Łukasz?\n").len(), 2);
        assert_eq!(blocks("He came to see\nŁukasz at noon.\n").len(), 1);
    }

    #[test]
    fn word_counts() {
        assert_eq!(count_words("Alice’s lamp-oil, isn't it? 李雷走了"), 8);
    }
}
