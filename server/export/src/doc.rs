//! What the formats render: a scene body as blocks (prose) or elements (a screenplay), with
//! inline emphasis as runs. Markdown `*em*` / `_em_` are italics and `**strong**` / `__strong__`
//! bold; Fountain's `*italic*`, `**bold**` and `_underline_` the same. A delimiter without its
//! closing twin in the paragraph is text.

use showrunner_model::fountain::{masked_line_kinds, scene_number, LineKind};
use showrunner_model::text::lines_with_offsets;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub italic: bool,
    pub bold: bool,
    pub underline: bool,
}

/// Inline emphasis of one paragraph (`underscore_underlines`: Fountain's `_underline_`;
/// Markdown's `_em_` is italics).
pub fn runs(text: &str, underscore_underlines: bool) -> Vec<Run> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Run> = Vec::new();
    let (mut italic, mut bold, mut underline) = (false, false, false);
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<Run>, i: bool, b: bool, u: bool| {
        if !cur.is_empty() {
            out.push(Run { text: std::mem::take(cur), italic: i, bold: b, underline: u });
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() && matches!(chars[i + 1], '*' | '_' | '\\') {
            cur.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if c == '*' || c == '_' {
            let double = chars.get(i + 1) == Some(&c);
            let delim: Vec<char> = if double { vec![c, c] } else { vec![c] };
            let open_state = match (c, double) {
                ('*', true) | ('_', true) => bold,
                ('_', false) if underscore_underlines => underline,
                _ => italic,
            };
            // `_` inside a word (snake_case, Łukasz_Nowak) is text.
            let prev_word = i > 0 && chars[i - 1].is_alphanumeric();
            let next_word = chars.get(i + delim.len()).is_some_and(|n| n.is_alphanumeric());
            let intraword = c == '_' && prev_word && next_word;
            let closes_later = {
                let rest = &chars[i + delim.len()..];
                let mut k = 1;
                let mut found = false;
                while k + delim.len() <= rest.len() {
                    if rest[k..k + delim.len()] == delim[..] {
                        if !double && rest.get(k + 1) == Some(&c) {
                            k += 2;
                            continue;
                        }
                        found = !rest[k - 1].is_whitespace();
                        break;
                    }
                    k += 1;
                }
                found && !next_is_space(&chars, i + delim.len())
            };
            if !intraword && (open_state || closes_later) {
                flush(&mut cur, &mut out, italic, bold, underline);
                match (c, double) {
                    ('*', true) | ('_', true) => bold = !bold,
                    ('_', false) if underscore_underlines => underline = !underline,
                    _ => italic = !italic,
                }
                i += delim.len();
                continue;
            }
        }
        cur.push(c);
        i += 1;
    }
    flush(&mut cur, &mut out, italic, bold, underline);
    out
}

fn next_is_space(chars: &[char], at: usize) -> bool {
    chars.get(at).is_none_or(|c| c.is_whitespace())
}

/// Runs without their emphasis: the text a reader sees.
pub fn plain(runs: &[Run]) -> String {
    runs.iter().map(|r| r.text.as_str()).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A Markdown heading inside a scene (level 1–6).
    Heading(u8, String),
    Para(String),
    /// A scene break written in the text (`***`, `* * *`, `---`, `#`, `⁂`).
    Break,
}

fn is_break(t: &str) -> bool {
    let squeezed: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    matches!(squeezed.as_str(), "#" | "⁂")
        || (squeezed.len() >= 3
            && (squeezed.chars().all(|c| c == '*')
                || squeezed.chars().all(|c| c == '-')
                || squeezed.chars().all(|c| c == '_')))
}

/// A Markdown scene body as blocks: paragraphs (their lines joined with spaces), headings and
/// scene breaks; HTML comments are dropped.
pub fn prose_blocks(body: &str) -> Vec<Block> {
    let mut text = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("<!--") {
        text.push_str(&rest[..start]);
        rest = rest[start..].find("-->").map(|e| &rest[start + e + 3..]).unwrap_or("");
    }
    text.push_str(rest);
    let mut blocks = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let end_para = |para: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !para.is_empty() {
            blocks.push(Block::Para(para.join(" ")));
            para.clear();
        }
    };
    for line in text.split('\n') {
        let t = line.trim();
        if t.is_empty() {
            end_para(&mut para, &mut blocks);
        } else if is_break(t) {
            end_para(&mut para, &mut blocks);
            blocks.push(Block::Break);
        } else if let Some(level) = heading_level(t) {
            end_para(&mut para, &mut blocks);
            blocks.push(Block::Heading(level, t[level as usize..].trim().trim_end_matches('#').trim().to_string()));
        } else {
            let t = t.strip_suffix('\\').unwrap_or(t).trim_end();
            para.push(t);
        }
    }
    end_para(&mut para, &mut blocks);
    blocks
}

fn heading_level(t: &str) -> Option<u8> {
    let n = t.bytes().take_while(|b| *b == b'#').count();
    ((1..=6).contains(&n) && t[n..].starts_with([' ', '\t'])).then_some(n as u8)
}

/// A scene's blocks for a manuscript: the leading level-1 heading (the scene's title) dropped,
/// since a manuscript prints chapters and scene breaks, not scene titles.
pub fn manuscript_blocks(body: &str) -> Vec<Block> {
    let mut blocks = prose_blocks(body);
    if matches!(blocks.first(), Some(Block::Heading(1, _))) {
        blocks.remove(0);
    }
    blocks
}

/// One piece of a manuscript, in reading order: what the DOCX and the PDF manuscripts both set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A chapter's title; the chapter starts on a new page.
    Chapter(String),
    /// A scene break (`#`): between scenes, and where a scene marks one.
    Break,
    /// A heading inside a scene, set like a scene break.
    Heading(String),
    /// A paragraph; `first` after a chapter title or a break (no first-line indent).
    Para { text: String, first: bool },
    /// A Fountain scene, set as a simple script.
    Script(Vec<Element>),
}

/// A chapter of a manuscript as the parts it is set in.
pub fn manuscript(chapter: &crate::plan::Chapter) -> Vec<Part> {
    let mut out = Vec::new();
    let mut after_break = true;
    if let Some(t) = &chapter.title {
        out.push(Part::Chapter(t.clone()));
    }
    for (i, scene) in chapter.scenes.iter().enumerate() {
        if i > 0 {
            out.push(Part::Break);
            after_break = true;
        }
        match scene.format {
            showrunner_model::scene::SceneFormat::Markdown => {
                for block in manuscript_blocks(&scene.body) {
                    out.push(match block {
                        Block::Break => {
                            after_break = true;
                            Part::Break
                        }
                        Block::Heading(_, h) => {
                            after_break = true;
                            Part::Heading(h)
                        }
                        Block::Para(text) => Part::Para { text, first: std::mem::replace(&mut after_break, false) },
                    });
                }
            }
            showrunner_model::scene::SceneFormat::Fountain => {
                out.push(Part::Script(screenplay(&scene.body)));
                after_break = false;
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SceneHeading,
    Action,
    Character,
    Parenthetical,
    Dialogue,
    Transition,
    Centered,
    Lyric,
    PageBreak,
    /// `# Act One`: structure only; no FDX paragraph holds it.
    Section,
    /// `= synopsis`: a note; no FDX paragraph holds it.
    Synopsis,
}

/// One screenplay element. Consecutive lines of action or of one speech are one element, the
/// lines joined with `\n`; text keeps Fountain's emphasis markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub kind: Kind,
    pub text: String,
    /// A scene heading's number (`#12A#`).
    pub number: Option<String>,
    /// A character cue (and its speech) that is half of dual dialogue.
    pub dual: bool,
}

/// A Fountain body (no title page) as elements; boneyard and notes dropped.
pub fn screenplay(body: &str) -> Vec<Element> {
    // A body whose first line looks like `Key: value` is still body (its title page, if any,
    // was stripped): a blank line before it keeps the parser from reading a title page there.
    let padded = format!("\n{body}");
    let (masked, kinds) = masked_line_kinds(&padded);
    let mut out: Vec<Element> = Vec::new();
    let mut joinable = false;
    for ((s, e, _), kind) in lines_with_offsets(&masked).zip(kinds) {
        let raw = &masked[s..e];
        let t = raw.trim();
        let el = |k: Kind, text: &str| Element { kind: k, text: text.to_string(), number: None, dual: false };
        let element = match kind {
            LineKind::Blank | LineKind::TitlePage => {
                joinable = false;
                continue;
            }
            LineKind::SceneHeading => {
                let t = t.strip_prefix('.').unwrap_or(t);
                let (heading, number) = scene_number(t);
                Element { number: number.map(str::to_string), ..el(Kind::SceneHeading, heading.trim()) }
            }
            LineKind::Action => {
                let line = raw.trim_end();
                let line = line.strip_prefix('!').unwrap_or(line);
                if joinable && out.last().is_some_and(|l| l.kind == Kind::Action) {
                    let last = out.last_mut().expect("checked");
                    last.text.push('\n');
                    last.text.push_str(line);
                    continue;
                }
                joinable = true;
                el(Kind::Action, line)
            }
            LineKind::Cue => {
                let dual = t.ends_with('^');
                let name = t.strip_prefix('@').unwrap_or(t);
                let name = name.strip_suffix('^').unwrap_or(name).trim_end();
                if dual {
                    if let Some(prev) = out.iter_mut().rev().find(|e| e.kind == Kind::Character) {
                        prev.dual = true;
                    }
                }
                joinable = false;
                Element { dual, ..el(Kind::Character, name) }
            }
            LineKind::Parenthetical => {
                joinable = false;
                el(Kind::Parenthetical, t)
            }
            LineKind::Dialogue => {
                if joinable && out.last().is_some_and(|l| l.kind == Kind::Dialogue) {
                    let last = out.last_mut().expect("checked");
                    last.text.push('\n');
                    last.text.push_str(t);
                    continue;
                }
                joinable = true;
                el(Kind::Dialogue, t)
            }
            LineKind::Transition => el(Kind::Transition, t.strip_prefix('>').unwrap_or(t).trim()),
            LineKind::Centered => el(Kind::Centered, t.trim_start_matches('>').trim_end_matches('<').trim()),
            LineKind::Lyric => el(Kind::Lyric, t.strip_prefix('~').unwrap_or(t).trim_start()),
            LineKind::Section => el(Kind::Section, t),
            LineKind::Synopsis => el(Kind::Synopsis, t.strip_prefix('=').unwrap_or(t).trim()),
            LineKind::PageBreak => el(Kind::PageBreak, ""),
        };
        if !matches!(kind, LineKind::Action | LineKind::Dialogue) {
            joinable = false;
        }
        out.push(element);
    }
    // A speech's dual mark: the character's, carried by its parentheticals and dialogue.
    let mut dual = false;
    for e in &mut out {
        match e.kind {
            Kind::Character => dual = e.dual,
            Kind::Parenthetical | Kind::Dialogue => e.dual = dual,
            _ => dual = false,
        }
    }
    out
}

/// A screenplay element as a format sets it: alone, or two speeches side by side (dual
/// dialogue: each a cue with its parentheticals and dialogue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    One(&'a Element),
    Dual(&'a [Element], &'a [Element]),
}

/// The elements in the pieces a format sets. A dual mark with no second speaker after it (a
/// lone `^`) is a speech like any other.
pub fn pieces(els: &[Element]) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < els.len() {
        if els[i].dual && els[i].kind == Kind::Character {
            let speech_end = |from: usize| {
                let mut end = from + 1;
                while end < els.len() && els[end].dual && els[end].kind != Kind::Character {
                    end += 1;
                }
                end
            };
            let split = speech_end(i);
            if split < els.len() && els[split].dual && els[split].kind == Kind::Character {
                let end = speech_end(split);
                out.push(Piece::Dual(&els[i..split], &els[split..end]));
                i = end;
                continue;
            }
        }
        out.push(Piece::One(&els[i]));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dual_dialogue_is_two_speeches_side_by_side() {
        let body = "INT. HUT - NIGHT\n\nZOË\n(quietly)\nThe glass is falling.\n\n李雷 ^\nI know.\nIt fell all day.\n\nThey listen.\n\nTOM ^\nAlone, after all.\n";
        let els = screenplay(body);
        let ps = pieces(&els);
        let kinds = |s: &[Element]| s.iter().map(|e| (e.kind, e.text.clone())).collect::<Vec<_>>();
        let dual: Vec<_> = ps
            .iter()
            .filter_map(|p| if let Piece::Dual(l, r) = p { Some((kinds(l), kinds(r))) } else { None })
            .collect();
        assert_eq!(dual.len(), 1, "{ps:?}");
        assert_eq!(
            dual[0].0,
            [
                (Kind::Character, "ZOË".into()),
                (Kind::Parenthetical, "(quietly)".into()),
                (Kind::Dialogue, "The glass is falling.".into())
            ]
        );
        assert_eq!(dual[0].1, [(Kind::Character, "李雷".into()), (Kind::Dialogue, "I know.\nIt fell all day.".into())]);
        // A lone `^` (no speech after it to pair with) stays a speech of its own.
        assert!(matches!(ps.last(), Some(Piece::One(e)) if e.kind == Kind::Dialogue));
        assert_eq!(ps.iter().filter(|p| matches!(p, Piece::One(e) if e.kind == Kind::Character)).count(), 1);
    }

    fn styled(rs: &[Run]) -> Vec<(String, bool, bool, bool)> {
        rs.iter().map(|r| (r.text.clone(), r.italic, r.bold, r.underline)).collect()
    }

    #[test]
    fn emphasis_becomes_runs() {
        let r = runs("Zoë said *never* and **meant it**, snake_case stays, 2 * 3 = 6.", false);
        assert_eq!(
            styled(&r),
            vec![
                ("Zoë said ".into(), false, false, false),
                ("never".into(), true, false, false),
                (" and ".into(), false, false, false),
                ("meant it".into(), false, true, false),
                (", snake_case stays, 2 * 3 = 6.".into(), false, false, false),
            ]
        );
        let r = runs("_Łukasz_ and _李雷_", true);
        assert_eq!(styled(&r)[0], ("Łukasz".into(), false, false, true));
        assert_eq!(plain(&r), "Łukasz and 李雷");
        assert_eq!(plain(&runs(r"a \*literal\* star", false)), "a *literal* star");
    }

    #[test]
    fn prose_blocks_join_lines_and_find_breaks() {
        let body = "# Arrival\n\nThe boat came\nround the point. 🌊\n\n* * *\n\n<!-- a note -->Later.\n#\n## Part\n";
        assert_eq!(
            prose_blocks(body),
            vec![
                Block::Heading(1, "Arrival".into()),
                Block::Para("The boat came round the point. 🌊".into()),
                Block::Break,
                Block::Para("Later.".into()),
                Block::Break,
                Block::Heading(2, "Part".into()),
            ]
        );
        assert_eq!(manuscript_blocks(body)[0], Block::Para("The boat came round the point. 🌊".into()));
    }

    #[test]
    fn screenplay_elements() {
        let body = "INT. WIRELESS HUT - NIGHT #12A#\n\nLi Lei taps the key.\nStatic.\n\nLI LEI\n(quietly)\nGannet Rock to Ainsley.\nOver.\n\nZOË ^\nNo.\n\n> CUT TO:\n\n[[a note]]\n= synopsis\n";
        let els = screenplay(body);
        let kinds: Vec<Kind> = els.iter().map(|e| e.kind).collect();
        use Kind::*;
        assert_eq!(
            kinds,
            vec![SceneHeading, Action, Character, Parenthetical, Dialogue, Character, Dialogue, Transition, Synopsis]
        );
        assert_eq!(els[0].text, "INT. WIRELESS HUT - NIGHT");
        assert_eq!(els[0].number.as_deref(), Some("12A"));
        assert_eq!(els[1].text, "Li Lei taps the key.\nStatic.");
        assert_eq!(els[4].text, "Gannet Rock to Ainsley.\nOver.");
        assert!(els[2].dual && els[4].dual && els[5].dual && els[6].dual, "{els:?}");
        assert_eq!(els[5].text, "ZOË");
        assert_eq!(els[7].text, "CUT TO:");
    }
}
