//! `fdx`: Final Draft XML (quick-xml), and `showrunner import fdx` back to Fountain.
//!
//! Every screenplay element is a `<Paragraph Type=…>`: Scene Heading (with `Number` when the
//! script numbers its scenes), Action, Character, Parenthetical, Dialogue, Transition; centred
//! text is Action with `Alignment="Center"`, lyrics `Type="Lyrics"`, a page break
//! `StartsNewPage="Yes"` on the next paragraph; dual dialogue is a `<DualDialogue>` holding both
//! speeches. Emphasis becomes `<Text Style="Italic|Bold|Underline">` runs. The title page is a
//! `<TitlePage>`: title, "Written by", author, contact. What FDX does not hold — Fountain
//! sections, synopses, notes and boneyard, chapter titles — is left out and listed.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};
use showrunner_model::scene::SceneFormat;

use crate::doc::{self, pieces, prose_blocks, screenplay, Block, Element, Kind, Piece, Run};
use crate::output::Tell;
use crate::plain::{as_action, fountain_markup};
use crate::plan::Plan;
use crate::ExportError;

/// An FDX export and what it could not hold.
pub struct Fdx {
    pub xml: Vec<u8>,
    pub left_out: Vec<String>,
}

fn type_name(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::SceneHeading => "Scene Heading",
        Kind::Action | Kind::Centered => "Action",
        Kind::Character => "Character",
        Kind::Parenthetical => "Parenthetical",
        Kind::Dialogue => "Dialogue",
        Kind::Transition => "Transition",
        Kind::Lyric => "Lyrics",
        Kind::PageBreak | Kind::Section | Kind::Synopsis => return None,
    })
}

type W = Writer<Vec<u8>>;

fn io(e: std::io::Error) -> ExportError {
    ExportError::Render(format!("FDX: {e}"))
}

fn paragraph(w: &mut W, attrs: &[(&str, &str)], runs: &[Run]) -> Result<(), ExportError> {
    w.write_event(Event::Start(BytesStart::new("Paragraph").with_attributes(attrs.iter().copied()))).map_err(io)?;
    let runs: Vec<Run> = if runs.is_empty() { vec![Run::default()] } else { runs.to_vec() };
    for r in runs {
        let mut style = Vec::new();
        if r.bold {
            style.push("Bold");
        }
        if r.italic {
            style.push("Italic");
        }
        if r.underline {
            style.push("Underline");
        }
        let joined = style.join("+");
        let mut t = BytesStart::new("Text");
        if !joined.is_empty() {
            t.push_attribute(("Style", joined.as_str()));
        }
        w.write_event(Event::Start(t)).map_err(io)?;
        w.write_event(Event::Text(BytesText::new(&r.text))).map_err(io)?;
        w.write_event(Event::End(BytesEnd::new("Text"))).map_err(io)?;
    }
    w.write_event(Event::End(BytesEnd::new("Paragraph"))).map_err(io)?;
    Ok(())
}

fn element(w: &mut W, e: &Element, new_page: bool) -> Result<(), ExportError> {
    let Some(ty) = type_name(e.kind) else { return Ok(()) };
    let mut attrs: Vec<(&str, &str)> = vec![("Type", ty)];
    if let Some(n) = &e.number {
        attrs.push(("Number", n));
    }
    if e.kind == Kind::Centered {
        attrs.push(("Alignment", "Center"));
    }
    if new_page {
        attrs.push(("StartsNewPage", "Yes"));
    }
    paragraph(w, &attrs, &doc::runs(&e.text, true))
}

/// The elements of a plan: screenplay scenes as they are, prose scenes as action.
fn elements(plan: &Plan, left_out: &mut Vec<String>, tell: &Tell<'_>) -> Vec<Element> {
    let mut out = Vec::new();
    let mut chapters = 0;
    for (n, chapter) in plan.chapters.iter().enumerate() {
        chapters += usize::from(chapter.title.is_some());
        for scene in &chapter.scenes {
            match scene.format {
                SceneFormat::Fountain => out.extend(screenplay(&scene.body)),
                SceneFormat::Markdown => {
                    for b in prose_blocks(&scene.body) {
                        let text = match b {
                            Block::Para(p) => fountain_markup(&doc::runs(&p, false)),
                            Block::Heading(_, h) => h.to_uppercase(),
                            Block::Break => continue,
                        };
                        out.push(Element { kind: Kind::Action, text, number: None, dual: false });
                    }
                }
            }
        }
        tell.done(n);
    }
    let count = |k: Kind| out.iter().filter(|e| e.kind == k).count();
    for (k, what) in [(Kind::Section, "section"), (Kind::Synopsis, "synopsis")] {
        let n = count(k);
        if n > 0 {
            left_out.push(format!("{n} {what}{}", if n == 1 { "" } else { "s" }));
        }
    }
    if chapters > 0 {
        left_out.push(format!("{chapters} chapter title{}", if chapters == 1 { "" } else { "s" }));
    }
    out
}

pub fn fdx(plan: &Plan) -> Result<Fdx, ExportError> {
    fdx_with(plan, &Tell::NOBODY)
}

pub(crate) fn fdx_with(plan: &Plan, tell: &Tell<'_>) -> Result<Fdx, ExportError> {
    let mut left_out = Vec::new();
    let els = elements(plan, &mut left_out, tell);
    let notes: usize =
        plan.scenes().filter(|s| s.format == SceneFormat::Fountain).map(|s| s.body.matches("[[").count()).sum();
    if notes > 0 {
        left_out.push(format!("{notes} note{}", if notes == 1 { "" } else { "s" }));
    }
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), Some("no")))).map_err(io)?;
    w.write_event(Event::Start(BytesStart::new("FinalDraft").with_attributes([
        ("DocumentType", "Script"),
        ("Template", "No"),
        ("Version", "5"),
    ])))
    .map_err(io)?;
    w.write_event(Event::Start(BytesStart::new("Content"))).map_err(io)?;
    let mut new_page = false;
    for piece in pieces(&els) {
        match piece {
            Piece::Dual(left, right) => {
                w.write_event(Event::Start(BytesStart::new("Paragraph"))).map_err(io)?;
                w.write_event(Event::Start(BytesStart::new("DualDialogue"))).map_err(io)?;
                for d in left.iter().chain(right) {
                    element(&mut w, d, false)?;
                }
                w.write_event(Event::End(BytesEnd::new("DualDialogue"))).map_err(io)?;
                w.write_event(Event::End(BytesEnd::new("Paragraph"))).map_err(io)?;
            }
            Piece::One(e) => {
                if e.kind == Kind::PageBreak {
                    new_page = true;
                }
                if type_name(e.kind).is_some() {
                    element(&mut w, e, std::mem::take(&mut new_page))?;
                }
            }
        }
    }
    w.write_event(Event::End(BytesEnd::new("Content"))).map_err(io)?;

    // The title page.
    w.write_event(Event::Start(BytesStart::new("TitlePage"))).map_err(io)?;
    w.write_event(Event::Start(BytesStart::new("Content"))).map_err(io)?;
    let line = |w: &mut W, text: &str, align: &str| {
        let run = Run { text: text.to_string(), ..Run::default() };
        paragraph(w, &[("Alignment", align), ("Type", "Action")], &[run])
    };
    line(&mut w, &plan.meta.title, "Center")?;
    if let Some(a) = &plan.meta.author {
        line(&mut w, "Written by", "Center")?;
        line(&mut w, a, "Center")?;
    }
    if let Some(c) = &plan.meta.contact {
        for l in c.lines().map(str::trim).filter(|l| !l.is_empty()) {
            line(&mut w, l, "Left")?;
        }
    }
    w.write_event(Event::End(BytesEnd::new("Content"))).map_err(io)?;
    w.write_event(Event::End(BytesEnd::new("TitlePage"))).map_err(io)?;
    w.write_event(Event::End(BytesEnd::new("FinalDraft"))).map_err(io)?;
    let mut xml = w.into_inner();
    xml.push(b'\n');
    Ok(Fdx { xml, left_out })
}

/// One paragraph read from an FDX file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FdxParagraph {
    pub kind: String,
    pub runs: Vec<Run>,
    pub number: Option<String>,
    pub align: Option<String>,
    pub new_page: bool,
    pub dual: bool,
    pub title_page: bool,
}

fn unescape_entity(name: &str) -> Option<String> {
    Some(match name {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        n if n.starts_with("#x") || n.starts_with("#X") => {
            char::from_u32(u32::from_str_radix(&n[2..], 16).ok()?)?.into()
        }
        n if n.starts_with('#') => char::from_u32(n[1..].parse().ok()?)?.into(),
        _ => return None,
    })
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        match rest[amp..].find(';').and_then(|semi| unescape_entity(&rest[amp + 1..amp + semi]).map(|t| (t, semi))) {
            Some((t, semi)) => {
                out.push_str(&t);
                rest = &rest[amp + semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[amp + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name.as_bytes())
        .map(|a| unescape(&String::from_utf8_lossy(&a.value)))
}

/// Every paragraph of an FDX document, in order (the script's, then the title page's).
pub fn read_fdx(xml: &str) -> Result<Vec<FdxParagraph>, ExportError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut out: Vec<FdxParagraph> = Vec::new();
    let mut current: Option<FdxParagraph> = None;
    let mut text: Option<Run> = None;
    let (mut in_title, mut in_dual, mut saw_root) = (false, false, false);
    let bad =
        |e: &dyn std::fmt::Display, pos: u64| ExportError::Render(format!("not an FDX file: {e} (at byte {pos})"));
    loop {
        let pos = reader.buffer_position();
        let ev = reader.read_event().map_err(|e| bad(&e, pos))?;
        match ev {
            Event::Start(e) | Event::Empty(e) if !saw_root => {
                if e.name().as_ref() != b"FinalDraft" {
                    return Err(ExportError::Render(format!(
                        "not an FDX file: the root element is <{}>, not <FinalDraft>",
                        String::from_utf8_lossy(e.name().as_ref())
                    )));
                }
                saw_root = true;
            }
            Event::Start(e) => match e.name().as_ref() {
                b"TitlePage" => in_title = true,
                b"DualDialogue" => in_dual = true,
                b"Paragraph" => {
                    current = Some(FdxParagraph {
                        kind: attr(&e, "Type").unwrap_or_default(),
                        number: attr(&e, "Number").filter(|n| !n.is_empty()),
                        align: attr(&e, "Alignment"),
                        new_page: attr(&e, "StartsNewPage").as_deref() == Some("Yes"),
                        dual: in_dual,
                        title_page: in_title,
                        runs: Vec::new(),
                    })
                }
                b"Text" => {
                    let style = attr(&e, "Style").unwrap_or_default();
                    let has = |s: &str| style.split('+').any(|p| p.eq_ignore_ascii_case(s));
                    text = Some(Run {
                        text: String::new(),
                        italic: has("Italic"),
                        bold: has("Bold"),
                        underline: has("Underline"),
                    });
                }
                _ => {}
            },
            Event::Text(t) => {
                if let Some(r) = text.as_mut() {
                    r.text.push_str(&t.decode().map_err(|e| bad(&e, pos))?);
                }
            }
            Event::CData(t) => {
                if let Some(r) = text.as_mut() {
                    r.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(g) => {
                if let Some(r) = text.as_mut() {
                    let name = String::from_utf8_lossy(&g).into_owned();
                    r.text.push_str(&unescape_entity(&name).unwrap_or_else(|| format!("&{name};")));
                }
            }
            Event::End(e) => match e.name().as_ref() {
                b"TitlePage" => in_title = false,
                b"DualDialogue" => in_dual = false,
                b"Text" => {
                    if let (Some(r), Some(p)) = (text.take(), current.as_mut()) {
                        p.runs.push(r);
                    }
                }
                b"Paragraph" => {
                    // The wrapper of a DualDialogue has no Type: only leaves are kept.
                    if let Some(p) = current.take().filter(|p| !p.kind.is_empty() || !p.runs.is_empty()) {
                        out.push(p);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(ExportError::Render("not an FDX file: no <FinalDraft> element".into()));
    }
    Ok(out)
}

/// An FDX document as Fountain, and what Fountain could not hold.
pub struct Imported {
    pub fountain: String,
    pub left_out: Vec<String>,
}

fn is_heading_prefix(t: &str) -> bool {
    let u = t.to_uppercase();
    ["INT./EXT", "INT/EXT", "I/E", "INT", "EXT", "EST"]
        .iter()
        .any(|p| u.starts_with(p) && matches!(u[p.len()..].chars().next(), Some('.' | ' ')))
}

pub fn fdx_to_fountain(xml: &str) -> Result<Imported, ExportError> {
    let paragraphs = read_fdx(xml)?;
    let mut out = String::new();
    let mut left_out: Vec<String> = Vec::new();
    // Title page: the first centred line is the title; "Written by" then the author; the rest contact.
    let title: Vec<&FdxParagraph> = paragraphs.iter().filter(|p| p.title_page).collect();
    let lines: Vec<(String, bool)> = title
        .iter()
        .map(|p| (doc::plain(&p.runs).trim().to_string(), p.align.as_deref() == Some("Center")))
        .filter(|(t, _)| !t.is_empty())
        .collect();
    let mut contact = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (t, centred) = &lines[i];
        if i == 0 && *centred {
            out.push_str(&format!("Title: {t}\n"));
        } else if t.eq_ignore_ascii_case("written by") || t.eq_ignore_ascii_case("by") {
            out.push_str(&format!("Credit: {t}\n"));
            if let Some((a, _)) = lines.get(i + 1) {
                out.push_str(&format!("Author: {a}\n"));
                i += 1;
            }
        } else {
            contact.push(t.clone());
        }
        i += 1;
    }
    if !contact.is_empty() {
        out.push_str("Contact:\n");
        for c in contact {
            out.push_str(&format!("    {c}\n"));
        }
    }
    let mut prev_kind = String::new();
    let mut prev_dual_char = false;
    let mut unknown: Vec<String> = Vec::new();
    for p in paragraphs.iter().filter(|p| !p.title_page) {
        let text = fountain_markup(&p.runs);
        let plain = doc::plain(&p.runs);
        let speech = matches!(p.kind.as_str(), "Parenthetical" | "Dialogue" | "Lyrics");
        let block = match p.kind.as_str() {
            "Scene Heading" => {
                let t = plain.trim();
                let mut h = if is_heading_prefix(t) { t.to_string() } else { format!(".{t}") };
                if let Some(n) = &p.number {
                    h.push_str(&format!(" #{n}#"));
                }
                h
            }
            "Character" => {
                let t = plain.trim();
                let mut c = if t.chars().any(char::is_lowercase) { format!("@{t}") } else { t.to_string() };
                if p.dual && prev_dual_char {
                    c.push_str(" ^");
                    prev_dual_char = false;
                } else {
                    prev_dual_char = p.dual;
                }
                c
            }
            "Parenthetical" => plain.trim().to_string(),
            // A blank line inside a speech is two spaces, or it would end the speech.
            "Dialogue" => text
                .trim_matches('\n')
                .split('\n')
                .map(|l| if l.trim().is_empty() { "  " } else { l })
                .collect::<Vec<_>>()
                .join("\n"),
            "Lyrics" => text.lines().map(|l| format!("~{l}")).collect::<Vec<_>>().join("\n"),
            "Transition" => {
                let t = plain.trim();
                if t.ends_with("TO:") && !t.chars().any(char::is_lowercase) {
                    t.to_string()
                } else {
                    format!("> {t}")
                }
            }
            "Action" if p.align.as_deref() == Some("Center") => format!("> {} <", text.trim()),
            other => {
                if other != "Action" && other != "General" {
                    unknown.push(other.to_string());
                }
                text.lines().map(as_action).collect::<Vec<_>>().join("\n")
            }
        };
        if p.kind != "Character" && !speech {
            prev_dual_char = false;
        }
        if p.new_page {
            out.push_str("\n\n===");
        }
        // A speech stays together; everything else is its own paragraph.
        let joined = !p.new_page
            && speech
            && matches!(prev_kind.as_str(), "Character" | "Parenthetical" | "Dialogue" | "Lyrics");
        out.push_str(if joined { "\n" } else { "\n\n" });
        out.push_str(&block);
        prev_kind = p.kind.clone();
    }
    out.push('\n');
    unknown.sort();
    unknown.dedup();
    for u in unknown {
        left_out.push(format!("paragraphs of type \"{u}\" (imported as action)"));
    }
    // One blank line after the title page; none before a script without one.
    let start = out.find("\n\n").map(|i| i + usize::from(i > 0)).unwrap_or(0);
    let lead = out[start..].len() - out[start..].trim_start_matches('\n').len();
    out.replace_range(start..start + lead, if start > 0 { "\n" } else { "" });
    // Action that opens a script without a title page must not read as one (`Title: …`).
    if opens_like_a_title_page(&out) {
        out.insert(0, '!');
    }
    Ok(Imported { fountain: out, left_out })
}

/// Whether the text's first line would open a title page though it is no title page of ours.
fn opens_like_a_title_page(text: &str) -> bool {
    !text.starts_with("Title: ")
        && showrunner_model::fountain::line_kinds(text).first()
            == Some(&showrunner_model::fountain::LineKind::TitlePage)
}
