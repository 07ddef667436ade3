//! `docx`: standard manuscript format (docx-rs), the layout agents and editors ask for.
//!
//! US Letter (or A4: `manuscript: { paper: a4 }`), 1-inch margins, Times New Roman (or Courier New: `manuscript: { font: courier }`)
//! 12 pt, double-spaced. A title page (no header):
//! the contact block top left (single-spaced), the word count top right rounded as agents expect
//! ("about 7,300 words"), the title and "by Author" centred halfway down. Every chapter starts on
//! a new page a third of the way down, its title centred. Paragraphs have a half-inch first-line
//! indent, except the first after a chapter title or a scene break; scenes are separated by a
//! centred `#`. The running header, right-aligned from the second page: "Surname / TITLE / page".
//! Markdown *emphasis* is italic, **strong** bold. A Fountain scene is set as a simple script
//! (headings in capitals, cues and dialogue indented, dual dialogue side by side). Styles carry the formatting, so a reader
//! (Word, LibreOffice, python-docx) sees `Manuscript Body`, `Chapter Title` and so on by name.

use docx_rs::{
    AlignmentType, Docx, FieldCharType, Header, InstrPAGE, InstrText, LineSpacing, LineSpacingType, PageMargin,
    Paragraph, Run, RunFonts, SpecialIndentType, Style, StyleType, Tab, TabValueType, Table, TableCell, TableRow,
    WidthType,
};

use crate::doc::{self, pieces, Element, Kind, Part as ManuscriptPart, Piece};
use crate::output::Tell;
use crate::plan::{about_words, Plan};
use crate::ExportError;

/// Half-points: 12 pt.
const SIZE: usize = 24;
const INCH: i32 = 1440;
const DOUBLE: i32 = 480;

pub const BODY: &str = "ManuscriptBody";
pub const BODY_FIRST: &str = "ManuscriptBodyFirst";
pub const CHAPTER: &str = "ChapterTitle";
pub const BREAK: &str = "SceneBreak";
pub const TITLE_PAGE: &str = "TitlePage";
pub const SCRIPT: &str = "ScriptElement";

fn fonts(font: &str) -> RunFonts {
    RunFonts::new().ascii(font).hi_ansi(font).cs(font).east_asia(font)
}

fn spacing(line: i32) -> LineSpacing {
    LineSpacing::new().line(line).line_rule(LineSpacingType::Auto).before(0).after(0)
}

fn style(id: &str, name: &str, line: i32, font: &str) -> Style {
    Style::new(id, StyleType::Paragraph)
        .name(name)
        .based_on("Normal")
        .fonts(fonts(font))
        .size(SIZE)
        .line_spacing(spacing(line))
}

fn runs(text: &str, underscore_underlines: bool) -> Vec<Run> {
    doc::runs(text, underscore_underlines)
        .into_iter()
        .map(|r| {
            let mut run = Run::new().add_text(r.text);
            if r.italic {
                run = run.italic();
            }
            if r.bold {
                run = run.bold();
            }
            if r.underline {
                run = run.underline("single");
            }
            run
        })
        .collect()
}

fn para(style_id: &str, text: &str) -> Paragraph {
    runs(text, false).into_iter().fold(Paragraph::new().style(style_id), Paragraph::add_run)
}

pub fn docx(plan: &Plan) -> Result<Vec<u8>, ExportError> {
    docx_with(plan, &Tell::NOBODY)
}

pub(crate) fn docx_with(plan: &Plan, tell: &Tell<'_>) -> Result<Vec<u8>, ExportError> {
    let title = &plan.meta.title;
    let author = plan.meta.author.as_deref();
    let font = plan.meta.font.family();
    // Twips: 20 a point.
    let (page_w, page_h) = {
        let (w, h) = plan.meta.paper.points();
        ((w * 20.0).round() as i32, (h * 20.0).round() as i32)
    };
    let text_width = page_w - 2 * INCH;
    let mut d = Docx::new()
        .page_size(page_w as u32, page_h as u32)
        .page_margin(PageMargin {
            top: INCH,
            left: INCH,
            bottom: INCH,
            right: INCH,
            header: INCH / 2,
            footer: INCH / 2,
            gutter: 0,
        })
        .default_fonts(fonts(font))
        .default_size(SIZE)
        .add_style(style(BODY, "Manuscript Body", DOUBLE, font).indent(
            None,
            Some(SpecialIndentType::FirstLine(INCH / 2)),
            None,
            None,
        ))
        .add_style(style(BODY_FIRST, "Manuscript Body First", DOUBLE, font))
        .add_style(style(CHAPTER, "Chapter Title", DOUBLE, font).align(AlignmentType::Center))
        .add_style(style(BREAK, "Scene Break", DOUBLE, font).align(AlignmentType::Center))
        .add_style(style(TITLE_PAGE, "Title Page", 240, font))
        .add_style(style(SCRIPT, "Script Element", 240, font));

    // The running header, from the second page on.
    let head = plan.meta.running_head();
    let page = Run::new()
        .add_field_char(FieldCharType::Begin, false)
        .add_instr_text(InstrText::PAGE(InstrPAGE::new()))
        .add_field_char(FieldCharType::Separate, false)
        .add_text("2")
        .add_field_char(FieldCharType::End, false);
    let header =
        Paragraph::new().style(TITLE_PAGE).align(AlignmentType::Right).add_run(Run::new().add_text(head)).add_run(page);
    d = d.header(Header::new().add_paragraph(header)).first_header(Header::new()).title_pg();

    // The title page.
    let words = about_words(plan.words());
    let contact = plan.meta.contact_lines();
    let right_tab = Tab::new().val(TabValueType::Right).pos(text_width as usize);
    let first = contact.first().cloned().unwrap_or_default();
    d = d.add_paragraph(
        Paragraph::new()
            .style(TITLE_PAGE)
            .add_tab(right_tab)
            .add_run(Run::new().add_text(first).add_tab().add_text(words)),
    );
    for line in contact.iter().skip(1) {
        d = d.add_paragraph(Paragraph::new().style(TITLE_PAGE).add_run(Run::new().add_text(line.clone())));
    }
    d = d.add_paragraph(
        Paragraph::new()
            .style(CHAPTER)
            .line_spacing(spacing(DOUBLE).before(4 * INCH as u32))
            .add_run(Run::new().add_text(title.to_uppercase())),
    );
    if let Some(a) = author {
        d = d.add_paragraph(Paragraph::new().style(CHAPTER).add_run(Run::new().add_text(format!("by {a}"))));
    }

    // The text.
    let mut new_page = true;
    for (n, chapter) in plan.chapters.iter().enumerate() {
        let mut parts: Vec<Part> = Vec::new();
        for part in doc::manuscript(chapter) {
            match part {
                ManuscriptPart::Chapter(t) => {
                    parts.push(Part::P(Box::new(
                        para(CHAPTER, &t)
                            .page_break_before(true)
                            .line_spacing(spacing(DOUBLE).before((2 * INCH + INCH / 2) as u32)),
                    )));
                    new_page = false;
                }
                ManuscriptPart::Break => {
                    parts.push(Part::P(Box::new(Paragraph::new().style(BREAK).add_run(Run::new().add_text("#")))))
                }
                ManuscriptPart::Heading(h) => parts.push(Part::P(Box::new(para(BREAK, &h)))),
                ManuscriptPart::Para { text, first } => {
                    parts.push(Part::P(Box::new(para(if first { BODY_FIRST } else { BODY }, &text))))
                }
                ManuscriptPart::Script(els) => parts.extend(script(&els, text_width)),
            }
        }
        for part in parts {
            d = match part {
                Part::P(p) => {
                    let p = *p;
                    d.add_paragraph(if std::mem::take(&mut new_page) { p.page_break_before(true) } else { p })
                }
                Part::T(t) => {
                    if std::mem::take(&mut new_page) {
                        d = d.add_paragraph(Paragraph::new().style(SCRIPT).page_break_before(true));
                    }
                    d.add_table(*t)
                }
            };
        }
        tell.done(n);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    d.build().pack(&mut out).map_err(|e| ExportError::Render(format!("DOCX: {e}")))?;
    Ok(out.into_inner())
}

/// One piece of a script in the manuscript: a paragraph, or dual dialogue as a table.
enum Part {
    P(Box<Paragraph>),
    T(Box<Table>),
}

/// A Fountain scene as a simple script in the manuscript: capitals for headings and cues,
/// dialogue indented, transitions to the right; dual dialogue side by side, in a table of two
/// columns without borders; notes, sections and synopses left out.
fn script(els: &[Element], text_width: i32) -> Vec<Part> {
    let mut out = Vec::new();
    for piece in pieces(els) {
        match piece {
            Piece::One(e) => out.extend(element(e, false).map(|p| Part::P(Box::new(p)))),
            Piece::Dual(left, right) => {
                // Each speech gets half of the text block.
                let half = (text_width / 2) as usize;
                let cell = |speech: &[Element]| {
                    speech
                        .iter()
                        .filter_map(|e| element(e, true))
                        .fold(TableCell::new().width(half, WidthType::Dxa), TableCell::add_paragraph)
                };
                let row = TableRow::new(vec![cell(left), cell(right)]);
                out.push(Part::T(Box::new(Table::without_borders(vec![row]).set_grid(vec![half, half]))));
            }
        }
    }
    out
}

/// One script element as a paragraph (`None`: left out). `half`: in one column of dual
/// dialogue, where the indents are halved.
fn element(e: &Element, half: bool) -> Option<Paragraph> {
    let text = e.text.replace('\n', " ");
    let scale = |twips: i32| if half { twips / 2 } else { twips };
    let p = match e.kind {
        Kind::SceneHeading => Paragraph::new()
            .style(SCRIPT)
            .line_spacing(spacing(240).before(240))
            .add_run(Run::new().add_text(text.to_uppercase()).bold()),
        Kind::Action => runs(&text, true)
            .into_iter()
            .fold(Paragraph::new().style(SCRIPT).line_spacing(spacing(240).before(240)), Paragraph::add_run),
        Kind::Character => Paragraph::new()
            .style(SCRIPT)
            .line_spacing(spacing(240).before(240))
            .indent(Some(scale(INCH * 2)), None, None, None)
            .add_run(Run::new().add_text(text.to_uppercase())),
        Kind::Parenthetical => Paragraph::new()
            .style(SCRIPT)
            .indent(Some(scale(INCH * 3 / 2)), None, Some(scale(INCH * 2)), None)
            .add_run(Run::new().add_text(text)),
        Kind::Dialogue | Kind::Lyric => runs(&text, true).into_iter().fold(
            Paragraph::new().style(SCRIPT).indent(Some(scale(INCH)), None, Some(scale(INCH * 3 / 2)), None),
            Paragraph::add_run,
        ),
        Kind::Transition => Paragraph::new()
            .style(SCRIPT)
            .line_spacing(spacing(240).before(240))
            .align(AlignmentType::Right)
            .add_run(Run::new().add_text(text.to_uppercase())),
        Kind::Centered => {
            Paragraph::new().style(SCRIPT).align(AlignmentType::Center).add_run(Run::new().add_text(text))
        }
        Kind::PageBreak | Kind::Section | Kind::Synopsis => return None,
    };
    Some(p)
}
