//! A screenplay in the industry's layout: US Letter, Courier 12 pt at six lines an inch, 55 lines
//! a page from a 1-inch top margin; scene headings and action from 1.5 inches, 6 inches wide;
//! character cues at 3.7 inches; parentheticals at 3.1; dialogue at 2.5, 3.5 inches wide;
//! transitions set flush against the 1-inch right margin; dual dialogue as two columns side by
//! side; scene numbers in both margins when the script numbers its scenes; page numbers ("2.")
//! top right from the second page; a title page from the script's Fountain title page.
//!
//! Pages break where a reader expects: never after a scene heading, never before a transition,
//! a short action paragraph (three lines or fewer) kept whole and a longer one left with at least
//! two lines on each page; a speech split between lines of dialogue (at the end of a sentence
//! when it can be) with `(MORE)` under it and `NAME (CONT'D)` on the next page; dual dialogue
//! kept whole.

use super::fonts::{Fonts, Style};
use super::{aligned_x, header, spans, text_of, wrap, Align, Mark, Page, Placed, Sheet, Span, ASCENT, IN, SIZE};
use crate::doc::{pieces, screenplay, Element, Kind, Piece};
use crate::output::Tell;
use crate::plan::{Plan, Target};

const TOP: f32 = 1.0 * IN;
const LEFT: f32 = 1.5 * IN;
/// The line pitch: six lines an inch.
const LINE: f32 = SIZE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Heading,
    Action,
    Cue,
    Paren,
    Dialogue,
    Other,
}

/// Text set from a left edge (points).
pub(super) type Placement = (f32, Vec<Span>);

/// One line of the script: what is set on it (two pieces side by side for dual dialogue).
#[derive(Debug, Clone, PartialEq)]
struct Row {
    parts: Vec<Placement>,
    role: Role,
}

/// A page of the script: its lines (none for a blank one) and its bookmarks by line.
#[derive(Debug, Default)]
struct ScriptPage {
    rows: Vec<Option<Row>>,
    marks: Vec<(usize, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Heading,
    Action,
    Speech,
    Dual,
    Transition,
    Other,
}

/// Rows that go to a page together, or are split by the rules above.
#[derive(Debug, Clone)]
struct Block {
    what: What,
    rows: Vec<Row>,
    /// Blank lines before it (none at the top of a page).
    space: usize,
    /// A forced page break (`===`) before it.
    new_page: bool,
    /// A scene heading's bookmark.
    mark: Option<String>,
    /// A speech's cue (for `NAME (CONT'D)`) and where cues go.
    cue: Option<(String, f32)>,
}

/// Where an element is set: its column's left edge, width and alignment.
fn column(kind: Kind, sheet: Sheet) -> (f32, f32, Align) {
    let right = sheet.right();
    match kind {
        Kind::Character => (3.7 * IN, right - 3.7 * IN, Align::Left),
        Kind::Parenthetical => (3.1 * IN, 2.6 * IN, Align::Left),
        Kind::Dialogue | Kind::Lyric => (2.5 * IN, 3.5 * IN, Align::Left),
        Kind::Transition => (LEFT, right - LEFT, Align::Right),
        Kind::Centered => (LEFT, right - LEFT, Align::Center),
        _ => (LEFT, right - LEFT, Align::Left),
    }
}

/// Dual dialogue: each speech in a half of the line, dialogue 2.8 inches wide (the right half
/// from 2.9 inches before the right margin: 4.6 on US Letter).
fn dual_column(kind: Kind, right: bool, sheet: Sheet) -> (f32, f32, Align) {
    let base = if right { sheet.right() - 2.9 * IN } else { LEFT };
    match kind {
        Kind::Character => (base + 1.0 * IN, 2.8 * IN - 1.0 * IN, Align::Left),
        Kind::Parenthetical => (base + 0.5 * IN, 2.3 * IN, Align::Left),
        _ => (base, 2.8 * IN, Align::Left),
    }
}

fn role(kind: Kind) -> Role {
    match kind {
        Kind::SceneHeading => Role::Heading,
        Kind::Action => Role::Action,
        Kind::Character => Role::Cue,
        Kind::Parenthetical => Role::Paren,
        Kind::Dialogue | Kind::Lyric => Role::Dialogue,
        _ => Role::Other,
    }
}

/// An element's text as spans: Fountain emphasis, lyrics in italics.
fn element_spans(e: &Element) -> Vec<Span> {
    let mut out = spans(&e.text, true);
    if e.kind == Kind::Lyric {
        for s in &mut out {
            s.style.italic = true;
        }
    }
    out
}

/// The lines of one element in its column.
fn lines_of(fonts: &mut Fonts, e: &Element, (x, width, align): (f32, f32, Align)) -> Vec<Placement> {
    wrap(fonts, &element_spans(e), width)
        .into_iter()
        .map(|line| (aligned_x(fonts, &line, x, width, align), line))
        .collect()
}

/// The rows of one element set alone.
fn rows_of(fonts: &mut Fonts, sheet: Sheet, e: &Element) -> Vec<Row> {
    let mut rows: Vec<Row> = lines_of(fonts, e, column(e.kind, sheet))
        .into_iter()
        .map(|part| Row { parts: vec![part], role: role(e.kind) })
        .collect();
    if let (Some(number), Some(first)) = (&e.number, rows.first_mut()) {
        let n = vec![Span::plain(number.clone())];
        let w = fonts.width(number, Style::PLAIN, SIZE);
        first.parts.insert(0, (LEFT - 0.5 * IN - w, n.clone()));
        first.parts.push((sheet.right() + 0.3 * IN, n));
    }
    rows
}

/// Two speeches side by side: row by row, the left half's line and the right half's.
fn dual_rows(fonts: &mut Fonts, sheet: Sheet, left: &[Element], right: &[Element]) -> Vec<Row> {
    let mut half = |els: &[Element], is_right: bool| -> Vec<Placement> {
        els.iter().flat_map(|e| lines_of(fonts, e, dual_column(e.kind, is_right, sheet))).collect::<Vec<_>>()
    };
    let (l, r) = (half(left, false), half(right, true));
    (0..l.len().max(r.len()))
        .map(|i| Row {
            parts: l.get(i).into_iter().chain(r.get(i)).cloned().collect(),
            role: if i == 0 { Role::Cue } else { Role::Dialogue },
        })
        .collect()
}

/// A script's elements as blocks.
fn blocks(fonts: &mut Fonts, sheet: Sheet, els: &[Element]) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut new_page = false;
    let mut last_kind: Option<Kind> = None;
    for piece in pieces(els) {
        let block = |what: What, rows: Vec<Row>, space: usize| Block {
            what,
            rows,
            space,
            new_page: false,
            mark: None,
            cue: None,
        };
        let mut b = match piece {
            // Kept whole: no (MORE), so no cue to repeat.
            Piece::Dual(left, right) => block(What::Dual, dual_rows(fonts, sheet, left, right), 1),
            Piece::One(e) => match e.kind {
                Kind::Section | Kind::Synopsis => continue,
                Kind::PageBreak => {
                    new_page = true;
                    continue;
                }
                Kind::Parenthetical | Kind::Dialogue if out.last().is_some_and(|b| b.what == What::Speech) => {
                    let rows = rows_of(fonts, sheet, e);
                    out.last_mut().expect("checked").rows.extend(rows);
                    last_kind = Some(e.kind);
                    continue;
                }
                Kind::SceneHeading => {
                    let mark = match &e.number {
                        Some(n) => format!("{n} {}", e.text),
                        None => e.text.clone(),
                    };
                    Block { mark: Some(mark), ..block(What::Heading, rows_of(fonts, sheet, e), 1) }
                }
                Kind::Character => {
                    let cue = (text_of(&element_spans(e)), column(Kind::Character, sheet).0);
                    Block { cue: Some(cue), ..block(What::Speech, rows_of(fonts, sheet, e), 1) }
                }
                Kind::Action => block(What::Action, rows_of(fonts, sheet, e), 1),
                Kind::Transition => block(What::Transition, rows_of(fonts, sheet, e), 1),
                Kind::Lyric => {
                    block(What::Other, rows_of(fonts, sheet, e), usize::from(last_kind != Some(Kind::Lyric)))
                }
                _ => block(What::Other, rows_of(fonts, sheet, e), 1),
            },
        };
        last_kind = match piece {
            Piece::One(e) => Some(e.kind),
            Piece::Dual(..) => None,
        };
        b.new_page = std::mem::take(&mut new_page);
        out.push(b);
    }
    out
}

/// A script set inside a manuscript: for each element (or dual speech), the blank lines before
/// it and its lines, each the pieces set on it and where.
pub(super) fn rows_in_manuscript(
    fonts: &mut Fonts,
    sheet: Sheet,
    els: &[Element],
) -> Vec<(usize, Vec<Vec<Placement>>)> {
    blocks(fonts, sheet, els).into_iter().map(|b| (b.space, b.rows.into_iter().map(|r| r.parts).collect())).collect()
}

fn ends_sentence(row: &Row) -> bool {
    let text = row.parts.iter().map(|(_, s)| text_of(s)).collect::<String>();
    let t = text.trim_end().trim_end_matches(['"', '\'', '”', '’', ')']);
    t.ends_with(['.', '!', '?', '…', '。', '！', '？'])
}

/// How many rows of `b` may stay on a page with `room` lines left (a speech's `(MORE)` line
/// included), by the rules; `forced` when the block is alone on its page and must split anyway.
fn split_at(b: &Block, room: usize, forced: bool) -> Option<usize> {
    let n = b.rows.len();
    match b.what {
        What::Action if n >= 4 || forced => {
            let k = room.min(if forced { n - 1 } else { n - 2 });
            (k >= 2 || (forced && k >= 1)).then_some(k)
        }
        What::Speech => {
            let ok = |k: usize| k < room && speech_breaks_after(b, k);
            let best = (2..n).rev().find(|&k| ok(k) && ends_sentence(&b.rows[k - 1]));
            best.or_else(|| (2..n).rev().find(|&k| ok(k)))
        }
        _ if forced => (room >= 1 && n > 1).then_some(room.min(n - 1)),
        _ => None,
    }
}

/// Whether a speech may break after its first `k` rows: the cue and at least a line of
/// dialogue stay, the last of them dialogue (not a parenthetical), and dialogue follows.
fn speech_breaks_after(b: &Block, k: usize) -> bool {
    k >= 2
        && k < b.rows.len()
        && b.rows[k - 1].role == Role::Dialogue
        && b.rows[k..].iter().any(|r| r.role == Role::Dialogue)
}

/// The fewest lines `b` can leave at the foot of a page (all of it when it cannot break): what
/// a scene heading needs under it, so that it is never stranded.
fn fewest_first(b: &Block) -> usize {
    let n = b.rows.len();
    match b.what {
        What::Action if n >= 4 => 2,
        // The lines before the first place it may break, and its (MORE).
        What::Speech => (2..n).find(|&k| speech_breaks_after(b, k)).map_or(n, |k| k + 1),
        _ => n,
    }
}

/// `(MORE)` at the foot of a split speech, and the cue again, `(CONT'D)`, atop the rest.
fn split(b: &Block, k: usize) -> (Vec<Row>, Block) {
    let mut here = b.rows[..k].to_vec();
    let mut rest = Block { rows: b.rows[k..].to_vec(), space: 0, new_page: false, mark: None, ..b.clone() };
    if b.what == What::Speech {
        let (cue, x) = b.cue.clone().unwrap_or_default();
        here.push(Row { parts: vec![(x, vec![Span::plain("(MORE)")])], role: Role::Paren });
        let name = cue.trim_end().trim_end_matches("(CONT'D)").trim_end_matches("(CONT’D)").trim_end();
        rest.rows.insert(0, Row { parts: vec![(x, vec![Span::plain(format!("{name} (CONT'D)"))])], role: Role::Cue });
    }
    (here, rest)
}

/// The script's pages.
fn paginate(sheet: Sheet, blocks: Vec<Block>) -> Vec<ScriptPage> {
    let mut pages: Vec<ScriptPage> = Vec::new();
    let mut page = ScriptPage::default();
    let mut new_page = |page: &mut ScriptPage| {
        if !page.rows.is_empty() {
            pages.push(std::mem::take(page));
        }
    };
    let mut queue: std::collections::VecDeque<Block> = blocks.into();
    while let Some(b) = queue.pop_front() {
        if b.new_page {
            new_page(&mut page);
        }
        let space = if page.rows.is_empty() { 0 } else { b.space };
        let room = sheet.script_lines - page.rows.len();
        // What must come along: a heading's next lines; the transition after a block.
        let glue = match queue.front() {
            Some(next) if b.what == What::Heading && !next.new_page => next.space + fewest_first(next),
            Some(next) if next.what == What::Transition && !next.new_page => next.space + next.rows.len(),
            _ => 0,
        };
        let whole = space + b.rows.len();
        if whole + glue <= room || (page.rows.is_empty() && whole <= room) {
            page.rows.extend(std::iter::repeat_n(None, space));
            if let Some(m) = &b.mark {
                page.marks.push((page.rows.len(), m.clone()));
            }
            page.rows.extend(b.rows.into_iter().map(Some));
            continue;
        }
        let forced = page.rows.is_empty();
        if room > space {
            if let Some(k) = split_at(&b, room - space, forced) {
                let (here, rest) = split(&b, k);
                page.rows.extend(std::iter::repeat_n(None, space));
                page.rows.extend(here.into_iter().map(Some));
                new_page(&mut page);
                queue.push_front(rest);
                continue;
            }
        }
        if forced {
            // Nothing the rules allow fits an empty page (a dual speech taller than a page):
            // as much as fits, and the rest on the next.
            let k = room.min(b.rows.len() - 1).max(1);
            page.rows.extend(b.rows[..k].iter().cloned().map(Some));
            new_page(&mut page);
            queue.push_front(Block { rows: b.rows[k..].to_vec(), space: 0, new_page: false, mark: None, ..b });
            continue;
        }
        new_page(&mut page);
        queue.push_front(Block { new_page: false, ..b });
    }
    new_page(&mut page);
    pages
}

/// The title page's facts: the script's own Fountain title page, else (for more than one
/// scene) the project's title, author and contact; none for a scene without one.
fn title_facts(plan: &Plan) -> Vec<(String, String)> {
    let own = plan.scenes().next().map(|s| s.title_page.clone()).unwrap_or_default();
    let printed = [
        "title",
        "credit",
        "author",
        "authors",
        "source",
        "draft_date",
        "date",
        "contact",
        "copyright",
        "notes",
        "revision",
    ];
    let mut facts: Vec<(String, String)> = own.into_iter().filter(|(k, _)| printed.contains(&k.as_str())).collect();
    if facts.is_empty() && matches!(plan.target, Target::Scene { .. }) {
        return facts;
    }
    let has = |facts: &[(String, String)], k: &str| facts.iter().any(|(key, _)| key == k);
    if !has(&facts, "title") {
        facts.insert(0, ("title".into(), plan.meta.title.clone()));
    }
    if !has(&facts, "author") && !has(&facts, "authors") {
        if let Some(a) = &plan.meta.author {
            facts.push(("author".into(), a.clone()));
        }
    }
    if !has(&facts, "contact") {
        if let Some(c) = &plan.meta.contact {
            facts.push(("contact".into(), c.trim_end().to_string()));
        }
    }
    facts
}

/// The title page: title, credit, author and source centred from a third of the way down;
/// contact, copyright and notes bottom left; draft date and revision bottom right.
fn title_page(fonts: &mut Fonts, sheet: Sheet, facts: &[(String, String)]) -> Page {
    let right = sheet.right();
    let get = |k: &str| facts.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let mut page = Page::default();
    // Each value with the blank lines before it; a value's own lines single-spaced.
    let block =
        |fonts: &mut Fonts, values: &[(&str, usize)], x: f32, width: f32, align: Align| -> Vec<(f32, Vec<Span>)> {
            let mut out = Vec::new();
            for (i, (v, gap)) in values.iter().enumerate() {
                if i > 0 {
                    out.extend(std::iter::repeat_n((x, Vec::new()), *gap));
                }
                for line in v.split('\n') {
                    for l in wrap(fonts, &spans(line.trim(), true), width) {
                        out.push((aligned_x(fonts, &l, x, width, align), l));
                    }
                }
            }
            out
        };
    let author = get("author").or(get("authors"));
    let credit = get("credit").or(author.map(|_| "Written by"));
    let centre: Vec<(&str, usize)> = [(get("title"), 0), (credit, 3), (author, 1), (get("source"), 3)]
        .into_iter()
        .filter_map(|(v, gap)| Some((v?, gap)))
        .collect();
    for (i, (x, spans)) in block(fonts, &centre, LEFT, right - LEFT, Align::Center).into_iter().enumerate() {
        page.lines.push(Placed { x, y: 3.5 * IN + i as f32 * LINE + ASCENT, spans });
    }
    let bottom = sheet.bottom();
    let left: Vec<(&str, usize)> =
        [get("contact"), get("copyright"), get("notes")].into_iter().flatten().map(|v| (v, 1)).collect();
    let dated: Vec<(&str, usize)> =
        [get("draft_date"), get("date"), get("revision")].into_iter().flatten().map(|v| (v, 1)).collect();
    for (values, x, width, align) in
        [(left, LEFT, 3.5 * IN, Align::Left), (dated, 5.0 * IN, right - 5.0 * IN, Align::Right)]
    {
        let lines = block(fonts, &values, x, width, align);
        let top = bottom - lines.len() as f32 * LINE;
        for (i, (x, spans)) in lines.into_iter().enumerate() {
            page.lines.push(Placed { x, y: top + i as f32 * LINE + ASCENT, spans });
        }
    }
    page.lines.retain(|l| !l.spans.is_empty());
    page
}

/// The screenplay's pages.
pub(crate) fn lay_out(plan: &Plan, fonts: &mut Fonts, sheet: Sheet, tell: &Tell<'_>) -> Vec<Page> {
    let mut all: Vec<Block> = Vec::new();
    for (i, chapter) in plan.chapters.iter().enumerate() {
        for scene in &chapter.scenes {
            let mut bs = blocks(fonts, sheet, &screenplay(&scene.body));
            if let Some(first) = bs.first_mut() {
                // Each scene file starts on a line of its own, a blank line after the last.
                first.space = first.space.max(1);
            }
            all.extend(bs);
        }
        tell.done(i);
    }
    let facts = title_facts(plan);
    let mut pages: Vec<Page> = Vec::new();
    if !facts.is_empty() {
        pages.push(title_page(fonts, sheet, &facts));
    }
    for (n, ScriptPage { rows, marks }) in paginate(sheet, all).into_iter().enumerate() {
        let mut page = Page::default();
        if n > 0 {
            page.lines.push(header(fonts, sheet, format!("{}.", n + 1)));
        }
        for (i, row) in rows.into_iter().enumerate() {
            for (x, spans) in row.into_iter().flat_map(|r| r.parts) {
                page.lines.push(Placed { x, y: TOP + i as f32 * LINE + ASCENT, spans });
            }
        }
        page.marks = marks.into_iter().map(|(i, title)| Mark { title, y: TOP + i as f32 * LINE }).collect();
        pages.push(page);
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::super::fonts::Family;
    use super::*;

    const LETTER: Sheet = Sheet { width: 612.0, height: 792.0, script_lines: 55 };

    fn pages_of(body: &str) -> Vec<Vec<Option<Row>>> {
        let mut fonts = Fonts::new(Family::Courier);
        let bs = blocks(&mut fonts, LETTER, &screenplay(body));
        paginate(LETTER, bs).into_iter().map(|p| p.rows).collect()
    }

    /// `head`, then `n` one-line action paragraphs ("Beat 0." …), each with its blank line.
    fn beats(head: &str, n: usize) -> String {
        let mut body = String::from(head);
        for i in 0..n {
            body.push_str(&format!("Beat {i}.\n\n"));
        }
        body
    }

    fn row_text(r: &Option<Row>) -> String {
        r.as_ref().map(|r| r.parts.iter().map(|(_, s)| text_of(s)).collect::<Vec<_>>().join(" | ")).unwrap_or_default()
    }

    #[test]
    fn columns_sit_where_the_industry_puts_them() {
        let mut fonts = Fonts::new(Family::Courier);
        let els =
            screenplay("INT. HUT - NIGHT #7A#\n\nZoë waits.\n\nZOË\n(quietly)\nThe glass is falling.\n\n> CUT TO:\n");
        let rows: Vec<Row> = blocks(&mut fonts, LETTER, &els).into_iter().flat_map(|b| b.rows).collect();
        let xs = |r: &Row| r.parts.iter().map(|p| p.0 / IN).collect::<Vec<f32>>();
        let close = |a: &[f32], b: &[f32]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 0.01);
        // Scene numbers in both margins: "7A" is two characters (0.2 in) ending half an inch left of the heading.
        assert!(close(&xs(&rows[0]), &[0.8, 1.5, 7.8]), "{:?}", xs(&rows[0]));
        assert!(close(&xs(&rows[1]), &[1.5]));
        assert!(close(&xs(&rows[2]), &[3.7]));
        assert!(close(&xs(&rows[3]), &[3.1]));
        assert!(close(&xs(&rows[4]), &[2.5]));
        // "CUT TO:" (7 characters, 0.7 in) ends at the right margin.
        assert!(close(&xs(&rows[5]), &[6.8]), "{:?}", xs(&rows[5]));
    }

    #[test]
    fn a_long_speech_breaks_with_more_and_contd_at_a_sentence_end() {
        let mut body = String::from("INT. HUT - NIGHT\n\n");
        for i in 0..24 {
            body.push_str(&format!("Line {i} of action.\n\n"));
        }
        // Five lines of room after the blank: the cue, three lines and (MORE) would fit, but
        // the second and third lines end mid-sentence, so the break comes after the first.
        body.push_str(
            "ZOË\nThe glass is falling.\nIt fell all day and it will fall\nall night\nand then some more.\nAnd on.\n",
        );
        let pages = pages_of(&body);
        assert_eq!(pages.len(), 2);
        let first: Vec<String> = pages[0].iter().map(row_text).collect();
        let second: Vec<String> = pages[1].iter().map(row_text).collect();
        assert!(first.len() <= LETTER.script_lines);
        assert_eq!(first.last().map(String::as_str), Some("(MORE)"), "{first:?}");
        assert_eq!(first[first.len() - 3..], ["ZOË", "The glass is falling.", "(MORE)"], "{first:?}");
        assert_eq!(
            second,
            ["ZOË (CONT'D)", "It fell all day and it will fall", "all night", "and then some more.", "And on."]
        );
        assert!(!second.iter().any(|l| l == "(MORE)"));
    }

    #[test]
    fn headings_stay_with_what_follows_and_transitions_with_what_precedes() {
        // 53 lines of action (26 one-line paragraphs and blanks, then one more), then a heading:
        // it would be the page's last line but one.
        let mut body = beats("", 27);
        body.push_str("EXT. CLIFF - DAY\n\nWind.\n\nThe end.\n\n> CUT TO:\n");
        let pages = pages_of(&body);
        let first: Vec<String> = pages[0].iter().map(row_text).collect();
        assert!(!first.iter().any(|l| l.starts_with("EXT.")), "{first:?}");
        assert_eq!(row_text(&pages[1][0]), "EXT. CLIFF - DAY");
        // And a transition never opens a page: the line before it comes along.
        let mut body = beats("", 28);
        body.push_str("> CUT TO:\n");
        let pages = pages_of(&body);
        assert_eq!(row_text(&pages[1][0]), "Beat 27.");
    }

    #[test]
    fn a_heading_goes_over_with_an_action_that_cannot_break() {
        // 50 lines, then a heading and a three-line paragraph: the heading and two lines would
        // fit, but a three-line paragraph is not broken, so both go to the next page.
        let mut body = beats("A.\nB.\n\n", 24);
        body.push_str("EXT. CLIFF - DAY\n\nOne.\nTwo.\nThree.\n");
        let pages = pages_of(&body);
        assert_eq!(pages[0].len(), 50, "{:?}", pages[0].iter().map(row_text).collect::<Vec<_>>());
        assert_eq!(
            pages[1].iter().map(row_text).collect::<Vec<_>>(),
            ["EXT. CLIFF - DAY", "", "One.", "Two.", "Three."]
        );
        // A speech: the heading needs the cue, a line and (MORE) under it.
        // 50 lines, then a heading and a speech whose first place to break is after its second
        // line (a parenthetical opens it): the cue, two lines and (MORE) do not fit under it.
        let mut body = beats("A.\nB.\n\n", 24);
        body.push_str("EXT. CLIFF - DAY\n\nZOË\n(low)\nOne.\nTwo.\n");
        let pages = pages_of(&body);
        assert_eq!(row_text(&pages[1][0]), "EXT. CLIFF - DAY");
    }

    #[test]
    fn dual_dialogue_is_set_side_by_side_and_kept_whole() {
        let pages = pages_of("INT. HUT\n\nBRICK\nScrew retirement.\n\nSTEEL ^\nScrew retirement.\n");
        let rows: Vec<&Row> = pages[0].iter().flatten().collect();
        let dual = rows.iter().find(|r| r.parts.len() == 2).expect("a dual row");
        assert_eq!(dual.parts[0].1[0].text, "BRICK");
        assert_eq!(dual.parts[1].1[0].text, "STEEL");
        assert!(dual.parts[1].0 > 5.0 * IN && dual.parts[0].0 < 4.0 * IN);
    }

    #[test]
    fn pagination_loses_nothing_and_invents_nothing_but_more_and_contd() {
        // Random scripts (a fixed seed): every page within its lines; the rows of all pages, less
        // the (MORE) and NAME (CONT'D) lines a break adds, are the script's rows in order.
        let mut seed: u64 = 2026;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let words = ["Zoë", "waits", "李雷", "the", "glass", "is", "falling", "Łukasz", "and", "light"];
        let mut breaks = 0;
        for _ in 0..150 {
            let mut body = String::new();
            for _ in 0..(5 + next(60)) {
                let line = |next: &mut dyn FnMut(usize) -> usize, n: usize| {
                    (0..n).map(|_| words[next(words.len())]).collect::<Vec<_>>().join(" ") + "."
                };
                match next(7) {
                    0 => body.push_str(&format!("INT. ROOM {} - NIGHT\n\n", next(99))),
                    1 | 2 => {
                        let n = 1 + next(80);
                        body.push_str(&format!("{}\n\n", line(&mut next, n)));
                    }
                    3 | 4 => {
                        body.push_str(if next(2) == 0 { "ZOË\n" } else { "李雷\n" });
                        for _ in 0..(1 + next(12)) {
                            if next(5) == 0 {
                                body.push_str("(quietly)\n");
                            }
                            let n = 1 + next(20);
                            body.push_str(&format!("{}\n", line(&mut next, n)));
                        }
                        body.push('\n');
                    }
                    5 => body.push_str("BRICK\nScrew it.\n\nSTEEL ^\nScrew it.\n\n"),
                    _ => body.push_str("> CUT TO:\n\n"),
                }
            }
            let mut fonts = Fonts::new(Family::Courier);
            let bs = blocks(&mut fonts, LETTER, &screenplay(&body));
            let text = |r: &Row| row_text(&Some(r.clone()));
            let expected: Vec<String> = bs.iter().flat_map(|b| b.rows.iter().map(text)).collect();
            let pages = paginate(LETTER, bs);
            let mut got = Vec::new();
            for p in &pages {
                assert!(p.rows.len() <= LETTER.script_lines, "{body}");
                assert!(p.rows.first().is_some_and(Option::is_some), "no page opens with a blank line: {body}");
                got.extend(p.rows.iter().flatten().map(text));
            }
            let before = got.len();
            got.retain(|t| t != "(MORE)" && !t.ends_with(" (CONT'D)"));
            breaks += before - got.len();
            assert_eq!(got, expected, "{body}");
        }
        assert!(breaks > 20, "the scripts break speeches across pages ({breaks} lines added)");
    }
}
