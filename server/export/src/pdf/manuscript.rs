//! Prose in standard manuscript format, set from the same parts as the DOCX
//! ([`crate::doc::manuscript`]): US Letter (or A4), 1-inch margins, Times (Tinos) or Courier 12 pt,
//! double-spaced, ragged right; a title page with the contact block top left, the word count top
//! right ("about 7,300 words") and the title and "by Author" halfway down; every chapter on a new
//! page, its title centred a third of the way down; half-inch first-line indents except after a
//! chapter title or a scene break; `#` between scenes; the running header "Surname / TITLE / page"
//! top right from the second page. A Fountain scene is set in the screenplay's geometry,
//! single-spaced.

use super::fonts::Fonts;
use super::script::{rows_in_manuscript, Placement};
use super::{aligned_x, header, spans, wrap, wrap_indented, Align, Mark, Page, Placed, Sheet, Span, ASCENT, IN, SIZE};
use crate::doc::{manuscript, Part};
use crate::output::Tell;
use crate::plan::{about_words, Plan};

const MARGIN: f32 = IN;
const DOUBLE: f32 = 2.0 * SIZE;

/// Lines going down pages.
struct Flow<'f> {
    fonts: &'f mut Fonts,
    sheet: Sheet,
    /// The text block's width.
    width: f32,
    pages: Vec<Page>,
    page: Page,
    /// The top of the next line.
    y: f32,
}

impl Flow<'_> {
    fn new_page(&mut self) {
        self.pages.push(std::mem::take(&mut self.page));
        self.y = MARGIN;
    }

    /// A line `pitch` high, on a new page when this one is full: the pieces set on it, each
    /// from its left edge (two for dual dialogue).
    fn row(&mut self, parts: Vec<Placement>, pitch: f32) {
        if self.y + pitch > self.sheet.bottom() + 0.5 {
            self.new_page();
        }
        for (x, spans) in parts.into_iter().filter(|(_, spans)| !spans.is_empty()) {
            self.page.lines.push(Placed { x, y: self.y + ASCENT, spans });
        }
        self.y += pitch;
    }

    fn line(&mut self, x: f32, spans: Vec<Span>, pitch: f32) {
        self.row(vec![(x, spans)], pitch);
    }

    fn centred(&mut self, spans: Vec<Span>) {
        let x = aligned_x(self.fonts, &spans, MARGIN, self.width, Align::Center);
        self.line(x, spans, DOUBLE);
    }

    fn paragraph(&mut self, text: &str, indent: f32) {
        let width = self.width;
        for (i, line) in wrap_indented(self.fonts, &spans(text, false), width - indent, width).into_iter().enumerate() {
            self.line(MARGIN + if i == 0 { indent } else { 0.0 }, line, DOUBLE);
        }
    }
}

fn title_page(flow: &mut Flow<'_>, plan: &Plan) {
    let contact = plan.meta.contact_lines();
    let words = vec![Span::plain(about_words(plan.words()))];
    let x = aligned_x(flow.fonts, &words, MARGIN, flow.width, Align::Right);
    flow.page.lines.push(Placed { x, y: MARGIN + ASCENT, spans: words });
    for line in contact {
        flow.line(MARGIN, vec![Span::plain(line)], SIZE);
    }
    flow.y = flow.y.max(MARGIN + SIZE) + 4.0 * IN;
    for line in wrap(flow.fonts, &[Span::plain(plan.meta.title.to_uppercase())], flow.width) {
        flow.centred(line);
    }
    if let Some(a) = &plan.meta.author {
        flow.centred(vec![Span::plain(format!("by {a}"))]);
    }
}

/// The manuscript's pages.
pub(crate) fn lay_out(plan: &Plan, fonts: &mut Fonts, sheet: Sheet, tell: &Tell<'_>) -> Vec<Page> {
    let width = sheet.width - 2.0 * MARGIN;
    let mut flow = Flow { fonts, sheet, width, pages: Vec::new(), page: Page::default(), y: MARGIN };
    title_page(&mut flow, plan);
    flow.new_page();
    let mut fresh = true;
    for (n, chapter) in plan.chapters.iter().enumerate() {
        for part in manuscript(chapter) {
            match part {
                Part::Chapter(title) => {
                    if !std::mem::take(&mut fresh) {
                        flow.new_page();
                    }
                    flow.y = MARGIN + 2.5 * IN;
                    flow.page.marks.push(Mark { title: title.clone(), y: flow.y });
                    for line in wrap(flow.fonts, &spans(&title, false), flow.width) {
                        flow.centred(line);
                    }
                }
                Part::Break => flow.centred(vec![Span::plain("#")]),
                Part::Heading(h) => flow.centred(spans(&h, false)),
                Part::Para { text, first } => flow.paragraph(&text, if first { 0.0 } else { 0.5 * IN }),
                Part::Script(els) => {
                    for (space, rows) in rows_in_manuscript(flow.fonts, sheet, &els) {
                        flow.y += space as f32 * SIZE;
                        for parts in rows {
                            flow.row(parts, SIZE);
                        }
                    }
                }
            }
            fresh = false;
        }
        tell.done(n);
    }
    flow.pages.push(std::mem::take(&mut flow.page));
    let head = plan.meta.running_head();
    let mut pages = flow.pages;
    pages.retain(|p| !p.lines.is_empty());
    for (i, page) in pages.iter_mut().enumerate().skip(1) {
        page.lines.push(header(flow.fonts, sheet, format!("{head}{}", i + 1)));
    }
    pages
}
