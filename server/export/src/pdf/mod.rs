//! `pdf`: a screenplay in the industry's layout, or prose in standard manuscript format, laid out
//! here (lines, pages) and written by krilla (a maintained PDF writer: fonts embedded as subsets,
//! text extractable, bookmarks). Every format's choice of what is exported is the plan's; this
//! module decides only where each line goes.
//!
//! A story whose scenes are all Fountain is a screenplay ([`script`]); anything else is a
//! manuscript ([`manuscript`]), in which a Fountain scene is set in the script's geometry.

pub mod fonts;
pub mod manuscript;
pub mod script;

use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::text::TextDirection;
use krilla::Document;

use crate::doc;
use crate::output::Tell;
use crate::plan::Plan;
use crate::ExportError;
use fonts::{Fonts, Style};
use showrunner_model::config::Paper;

/// Points per inch.
pub const IN: f32 = 72.0;

/// The page an export is set on (`manuscript: { paper }`), with 1-inch margins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sheet {
    pub width: f32,
    pub height: f32,
    /// The lines of a screenplay page, from a 1-inch top margin: 55 on US Letter, 57 on A4.
    pub script_lines: usize,
}

impl Sheet {
    pub fn of(paper: Paper) -> Sheet {
        let (width, height) = paper.points();
        let script_lines = match paper {
            Paper::Letter => 55,
            Paper::A4 => 57,
        };
        Sheet { width, height, script_lines }
    }

    /// Where the 1-inch right margin begins.
    pub fn right(&self) -> f32 {
        self.width - IN
    }

    /// Where the 1-inch bottom margin begins.
    pub fn bottom(&self) -> f32 {
        self.height - IN
    }
}

/// 12-point type everywhere.
pub const SIZE: f32 = 12.0;
/// From the top of a line to its baseline.
pub const ASCENT: f32 = 9.6;

/// A piece of text in one style.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub text: String,
    pub style: Style,
}

impl Span {
    pub fn plain(text: impl Into<String>) -> Span {
        Span { text: text.into(), style: Style::PLAIN }
    }
}

/// Text with Fountain's or Markdown's emphasis as spans; a tab is four spaces, other control
/// characters (but line breaks) are dropped.
pub fn spans(text: &str, underscore_underlines: bool) -> Vec<Span> {
    doc::runs(text, underscore_underlines)
        .into_iter()
        .map(|r| {
            let text = r.text.replace('\t', "    ").chars().filter(|c| *c == '\n' || !c.is_control()).collect();
            Span { text, style: Style { bold: r.bold, italic: r.italic, underline: r.underline } }
        })
        .collect()
}

/// The text of spans, without their styles.
pub fn text_of(spans: &[Span]) -> String {
    spans.iter().map(|s| s.text.as_str()).collect()
}

/// One line of text placed on a page: its left edge and baseline, in points from the page's
/// top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub x: f32,
    pub y: f32,
    pub spans: Vec<Span>,
}

/// A bookmark: a chapter, or a scene heading.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub title: String,
    pub y: f32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub lines: Vec<Placed>,
    pub marks: Vec<Mark>,
}

/// How a line sits in its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// The left edge of `spans` set in a column from `x`, `width` wide.
pub fn aligned_x(fonts: &mut Fonts, spans: &[Span], x: f32, width: f32, align: Align) -> f32 {
    match align {
        Align::Left => x,
        Align::Center | Align::Right => {
            let used: f32 = spans.iter().map(|s| fonts.width(&s.text, s.style, SIZE)).sum();
            let free = (width - used).max(0.0);
            x + if align == Align::Center { free / 2.0 } else { free }
        }
    }
}

/// A page's header, set flush against the right margin half an inch from the top: a script's
/// page number, a manuscript's "Surname / TITLE / page".
pub fn header(fonts: &mut Fonts, sheet: Sheet, text: String) -> Placed {
    let spans = vec![Span::plain(text)];
    let x = aligned_x(fonts, &spans, 0.0, sheet.right(), Align::Right);
    Placed { x, y: 0.5 * IN + ASCENT, spans }
}

/// Where a line may break after `c` (or before it, for `next`): after a space or a hyphen, and
/// around Chinese and Japanese characters, which are written without spaces.
fn breaks_between(c: char, next: char) -> bool {
    let cjk = |c: char| matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF);
    c == ' ' || (c == '-' && next != ' ' && next != '-') || c == '\u{2014}' || (cjk(c) || cjk(next)) && next != ' '
}

/// Spans broken into lines no wider than `width` points: at the text's own line breaks, then
/// between words (a word wider than the line is broken where it must be). Spaces at a soft break
/// are dropped; a line's own leading spaces (Fountain indents) are kept.
pub fn wrap(fonts: &mut Fonts, spans: &[Span], width: f32) -> Vec<Vec<Span>> {
    wrap_indented(fonts, spans, width, width)
}

/// [`wrap`] with the paragraph's first line `first` points wide (a first-line indent).
pub fn wrap_indented(fonts: &mut Fonts, spans: &[Span], first: f32, width: f32) -> Vec<Vec<Span>> {
    let chars: Vec<(char, Style)> = spans.iter().flat_map(|s| s.text.chars().map(move |c| (c, s.style))).collect();
    let mut lines: Vec<Vec<(char, Style)>> = Vec::new();
    for hard in chars.split(|(c, _)| *c == '\n') {
        let mut start = 0;
        loop {
            let width = if lines.is_empty() { first } else { width };
            // Take characters while they fit; remember the last place a break may go.
            let mut used = 0.0;
            let mut end = start;
            let mut last_break: Option<usize> = None;
            while end < hard.len() {
                let (c, style) = hard[end];
                let w = fonts.width(c.encode_utf8(&mut [0; 4]), style, SIZE);
                if used + w > width + 0.01 && c != ' ' && end > start {
                    break;
                }
                used += w;
                if let Some(&(next, _)) = hard.get(end + 1) {
                    if breaks_between(c, next) {
                        last_break = Some(end + 1);
                    }
                }
                end += 1;
            }
            if end >= hard.len() {
                lines.push(hard[start..].to_vec());
                break;
            }
            let cut = last_break.filter(|&b| b > start).unwrap_or(end);
            let mut line = hard[start..cut].to_vec();
            while line.last().is_some_and(|(c, _)| *c == ' ') {
                line.pop();
            }
            lines.push(line);
            start = cut;
            while hard.get(start).is_some_and(|(c, _)| *c == ' ') {
                start += 1;
            }
            if start >= hard.len() {
                break;
            }
        }
    }
    lines
        .into_iter()
        .map(|line| {
            let mut out: Vec<Span> = Vec::new();
            for (c, style) in line {
                match out.last_mut() {
                    Some(s) if s.style == style => s.text.push(c),
                    _ => out.push(Span { text: c.to_string(), style }),
                }
            }
            out
        })
        .collect()
}

/// The document's metadata and bookmarks.
pub struct Info<'a> {
    pub title: &'a str,
    pub author: Option<&'a str>,
    pub language: &'a str,
}

/// Pages drawn into a PDF: every line in its fonts (falling back character by character),
/// underlines, bookmarks and metadata.
pub fn draw(pages: &[Page], fonts: &mut Fonts, sheet: Sheet, info: &Info<'_>) -> Result<Vec<u8>, ExportError> {
    let mut document = Document::new();
    let mut outline = krilla::outline::Outline::new();
    for (index, page) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(sheet.width, sheet.height).expect("Letter and A4 are page sizes");
        let mut pdf_page = document.start_page_with(settings);
        let mut surface = pdf_page.surface();
        for line in &page.lines {
            let mut x = line.x;
            for span in &line.spans {
                let start = x;
                for (face, range) in fonts.segments(&span.text, span.style) {
                    let text = &span.text[range];
                    if !text.trim().is_empty() {
                        let at = Point::from_xy(x, line.y);
                        match fonts.glyphs(face, text) {
                            Some(glyphs) => surface.draw_glyphs(at, &glyphs, fonts.font(face), text, SIZE, false),
                            None => surface.draw_text(at, fonts.font(face), SIZE, text, false, TextDirection::Auto),
                        }
                    }
                    x += fonts.width(text, span.style, SIZE);
                }
                if span.style.underline && x > start {
                    let mut path = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(start, line.y + 1.8, x - start, 0.6) {
                        path.push_rect(rect);
                    }
                    if let Some(path) = path.finish() {
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        pdf_page.finish();
        for mark in &page.marks {
            let dest =
                krilla::destination::XyzDestination::new(index, Point::from_xy(0.0, (mark.y - 2.0 * SIZE).max(0.0)));
            outline.push_child(krilla::outline::OutlineNode::new(mark.title.clone(), dest));
        }
    }
    document.set_outline(outline);
    let mut metadata = krilla::metadata::Metadata::new()
        .title(info.title.to_string())
        .language(info.language.to_string())
        .creator("Showrunner".to_string());
    if let Some(author) = info.author {
        metadata = metadata.authors(vec![author.to_string()]);
    }
    document.set_metadata(metadata);
    document.finish().map_err(|e| ExportError::Render(format!("the PDF could not be written: {e:?}")))
}

/// The PDF of a plan, and what it could not hold (characters no font has).
pub(crate) fn pdf_with(plan: &Plan, tell: &Tell<'_>) -> Result<(Vec<u8>, Vec<String>), ExportError> {
    let family = if plan.is_screenplay() || plan.meta.font == showrunner_model::config::ManuscriptFont::Courier {
        fonts::Family::Courier
    } else {
        fonts::Family::Times
    };
    let mut fonts = Fonts::new(family);
    let sheet = Sheet::of(plan.meta.paper);
    let pages = if plan.is_screenplay() {
        script::lay_out(plan, &mut fonts, sheet, tell)
    } else {
        manuscript::lay_out(plan, &mut fonts, sheet, tell)
    };
    let info = Info { title: &plan.meta.title, author: plan.meta.author.as_deref(), language: &plan.meta.language };
    let bytes = draw(&pages, &mut fonts, sheet, &info)?;
    Ok((bytes, fonts.missing().into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fonts::Family;

    fn texts(lines: &[Vec<Span>]) -> Vec<String> {
        lines.iter().map(|l| text_of(l)).collect()
    }

    #[test]
    fn wrapping_breaks_between_words_keeps_styles_and_breaks_chinese_anywhere() {
        let mut f = Fonts::new(Family::Courier);
        // 10 characters to the line.
        let lines = wrap(&mut f, &spans("Zoë *never* blinked at the Łukasz-Nowak boat.", true), 72.0);
        assert_eq!(texts(&lines), ["Zoë never", "blinked at", "the", "Łukasz-", "Nowak", "boat."]);
        assert_eq!(lines[0][1], Span { text: "never".into(), style: Style { italic: true, ..Style::PLAIN } });
        let lines = wrap(&mut f, &[Span::plain("李雷李雷李雷李雷")], 48.0);
        assert_eq!(texts(&lines), ["李雷李雷", "李雷李雷"]);
        let lines = wrap(&mut f, &[Span::plain("ABCDEFGHIJKLMNO\n  indented")], 72.0);
        assert_eq!(texts(&lines), ["ABCDEFGHIJ", "KLMNO", "  indented"]);
    }
}
