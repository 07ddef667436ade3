//! `epub`: EPUB 3 (zip): one XHTML file per chapter of the structure, a navigation document
//! (the table of contents), metadata (title, author, language, identifier, modified), a style
//! sheet, and a cover when the project has `cover.jpg`, `cover.jpeg` or `cover.png` at its root.
//! Scene breaks are `<hr class="scene-break"/>`; emphasis `<em>`, `<strong>`, `<u>`; a Fountain
//! scene is set as a simple script with a class per element, dual dialogue side by side (a table
//! of two columns). Valid under epubcheck.

use std::io::Write;

use showrunner_model::scene::SceneFormat;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::doc::{self, manuscript_blocks, pieces, screenplay, Block, Element, Kind, Piece};
use crate::output::Tell;
use crate::plan::Plan;
use crate::ExportError;

/// A cover image: its bytes and media type.
pub struct Cover {
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub media_type: &'static str,
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn inline(text: &str, underscore_underlines: bool) -> String {
    let mut out = String::new();
    for r in doc::runs(text, underscore_underlines) {
        let mut t = escape(&r.text).replace('\n', "<br/>");
        if r.underline {
            t = format!("<u>{t}</u>");
        }
        if r.italic {
            t = format!("<em>{t}</em>");
        }
        if r.bold {
            t = format!("<strong>{t}</strong>");
        }
        out.push_str(&t);
    }
    out
}

const CSS: &str = "body { font-family: serif; line-height: 1.4; }\n\
h1 { text-align: center; margin: 3em 0 2em; font-weight: normal; }\n\
p { margin: 0; text-indent: 1.5em; }\n\
p.first, h1 + p, hr + p { text-indent: 0; }\n\
hr.scene-break { border: none; margin: 1em 0; text-align: center; }\n\
hr.scene-break::after { content: \"* * *\"; }\n\
p.scene-heading { text-indent: 0; margin-top: 1em; font-weight: bold; text-transform: uppercase; }\n\
p.action, p.centered, p.transition { text-indent: 0; margin-top: 1em; }\n\
p.centered { text-align: center; }\n\
p.transition { text-align: right; }\n\
p.character { text-indent: 0; margin: 1em 0 0 40%; }\n\
p.parenthetical { text-indent: 0; margin-left: 30%; }\n\
p.dialogue { text-indent: 0; margin: 0 20% 0 20%; }\n\
table.dual { width: 100%; border-collapse: collapse; table-layout: fixed; }\n\
table.dual td { width: 50%; vertical-align: top; padding: 0 0.5em; }\n\
table.dual p.character { margin: 1em 0 0 25%; }\n\
table.dual p.parenthetical { margin-left: 15%; }\n\
table.dual p.dialogue { margin: 0 5% 0 5%; }\n\
div.title { text-align: center; margin-top: 30%; }\n\
div.title p { text-indent: 0; }\n\
img.cover { max-width: 100%; max-height: 100%; }\n";

fn page(title: &str, lang: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\" lang=\"{lang}\" xml:lang=\"{lang}\">\n<head>\n<meta charset=\"UTF-8\"/>\n<title>{}</title>\n<link rel=\"stylesheet\" type=\"text/css\" href=\"style.css\"/>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

fn script(body: &str, out: &mut String) {
    let els = screenplay(body);
    for piece in pieces(&els) {
        match piece {
            Piece::One(e) => element(e, out),
            Piece::Dual(left, right) => {
                // Two speeches side by side: a table of two columns, for every reading system.
                out.push_str("<table class=\"dual\"><tr>\n");
                for speech in [left, right] {
                    out.push_str("<td>\n");
                    speech.iter().for_each(|e| element(e, out));
                    out.push_str("</td>\n");
                }
                out.push_str("</tr></table>\n");
            }
        }
    }
}

fn element(e: &Element, out: &mut String) {
    let class = match e.kind {
        Kind::SceneHeading => "scene-heading",
        Kind::Action => "action",
        Kind::Character => "character",
        Kind::Parenthetical => "parenthetical",
        Kind::Dialogue | Kind::Lyric => "dialogue",
        Kind::Transition => "transition",
        Kind::Centered => "centered",
        Kind::PageBreak | Kind::Section | Kind::Synopsis => return,
    };
    out.push_str(&format!("<p class=\"{class}\">{}</p>\n", inline(&e.text, true)));
}

/// The EPUB of a plan. `modified`: `CCYY-MM-DDThh:mm:ssZ`.
pub fn epub(plan: &Plan, language: &str, cover: Option<&Cover>, modified: &str) -> Result<Vec<u8>, ExportError> {
    epub_with(plan, language, cover, modified, &Tell::NOBODY)
}

pub(crate) fn epub_with(
    plan: &Plan,
    language: &str,
    cover: Option<&Cover>,
    modified: &str,
    tell: &Tell<'_>,
) -> Result<Vec<u8>, ExportError> {
    let lang = if language.trim().is_empty() { "en" } else { language.trim() };
    let title = &plan.meta.title;
    let mut files: Vec<(String, String, String)> = Vec::new(); // (file, label, xhtml)
    for (n, chapter) in plan.chapters.iter().enumerate() {
        let label = chapter
            .title
            .clone()
            .or_else(|| chapter.scenes.first().and_then(|s| s.title.clone()))
            .unwrap_or_else(|| if plan.chapters.len() == 1 { title.clone() } else { format!("Part {}", n + 1) });
        let mut body = format!("<section epub:type=\"chapter\" role=\"doc-chapter\">\n<h1>{}</h1>\n", escape(&label));
        for (i, scene) in chapter.scenes.iter().enumerate() {
            if i > 0 {
                body.push_str("<hr class=\"scene-break\"/>\n");
            }
            match scene.format {
                SceneFormat::Markdown => {
                    for b in manuscript_blocks(&scene.body) {
                        match b {
                            Block::Para(p) => body.push_str(&format!("<p>{}</p>\n", inline(&p, false))),
                            Block::Break => body.push_str("<hr class=\"scene-break\"/>\n"),
                            Block::Heading(level, h) => {
                                let l = (level + 1).min(6);
                                body.push_str(&format!("<h{l}>{}</h{l}>\n", inline(&h, false)));
                            }
                        }
                    }
                }
                SceneFormat::Fountain => script(&scene.body, &mut body),
            }
        }
        body.push_str("</section>\n");
        files.push((format!("chapter-{:03}.xhtml", n + 1), label.clone(), page(&label, lang, &body)));
        tell.done(n);
    }

    let mut title_body = format!("<div class=\"title\">\n<h1>{}</h1>\n", escape(title));
    if let Some(a) = &plan.meta.author {
        title_body.push_str(&format!("<p>{}</p>\n", escape(a)));
    }
    title_body.push_str("</div>\n");
    let title_page = page(title, lang, &title_body);

    let mut toc = String::from("<nav epub:type=\"toc\" id=\"toc\" role=\"doc-toc\">\n<h1>Contents</h1>\n<ol>\n");
    for (file, label, _) in &files {
        toc.push_str(&format!("<li><a href=\"{file}\">{}</a></li>\n", escape(label)));
    }
    toc.push_str("</ol>\n</nav>\n");
    let nav = page("Contents", lang, &toc);

    let slug = showrunner_model::id::slugify(&plan.meta.project).unwrap_or_else(|| "book".into());
    let identifier = format!("urn:showrunner:{slug}:{}", plan.file_stem());
    let mut manifest = String::from(
        "<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" properties=\"nav\"/>\n\
         <item id=\"css\" href=\"style.css\" media-type=\"text/css\"/>\n\
         <item id=\"title\" href=\"title.xhtml\" media-type=\"application/xhtml+xml\"/>\n",
    );
    let mut spine = String::new();
    let cover_ext = cover.map(|c| if c.media_type == "image/png" { "png" } else { "jpg" });
    if let (Some(c), Some(ext)) = (cover, cover_ext) {
        manifest.push_str(&format!(
            "<item id=\"cover-image\" href=\"cover.{ext}\" media-type=\"{}\" properties=\"cover-image\"/>\n<item id=\"cover\" href=\"cover.xhtml\" media-type=\"application/xhtml+xml\"/>\n",
            c.media_type
        ));
        spine.push_str("<itemref idref=\"cover\"/>\n");
    }
    spine.push_str("<itemref idref=\"title\"/>\n<itemref idref=\"nav\"/>\n");
    for (i, (file, _, _)) in files.iter().enumerate() {
        manifest.push_str(&format!("<item id=\"c{}\" href=\"{file}\" media-type=\"application/xhtml+xml\"/>\n", i + 1));
        spine.push_str(&format!("<itemref idref=\"c{}\"/>\n", i + 1));
    }
    let creator = plan
        .meta
        .author
        .as_ref()
        .map(|a| format!("<dc:creator id=\"creator\">{}</dc:creator>\n", escape(a)))
        .unwrap_or_default();
    let opf = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" unique-identifier=\"bookid\" xml:lang=\"{lang}\">\n<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<dc:identifier id=\"bookid\">{}</dc:identifier>\n<dc:title>{}</dc:title>\n{creator}<dc:language>{lang}</dc:language>\n<meta property=\"dcterms:modified\">{modified}</meta>\n</metadata>\n<manifest>\n{manifest}</manifest>\n<spine>\n{spine}</spine>\n</package>\n",
        escape(&identifier),
        escape(title)
    );
    let container = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n<rootfiles>\n<rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/>\n</rootfiles>\n</container>\n";

    let zerr = |e: zip::result::ZipError| ExportError::Render(format!("EPUB: {e}"));
    let ierr = |e: std::io::Error| ExportError::Render(format!("EPUB: {e}"));
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // The mimetype first and stored, as readers sniff it at a fixed offset.
    zip.start_file("mimetype", SimpleFileOptions::default().compression_method(CompressionMethod::Stored))
        .map_err(zerr)?;
    zip.write_all(b"application/epub+zip").map_err(ierr)?;
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut add = |name: &str, bytes: &[u8]| -> Result<(), ExportError> {
        zip.start_file(name, deflated).map_err(zerr)?;
        zip.write_all(bytes).map_err(ierr)
    };
    add("META-INF/container.xml", container.as_bytes())?;
    add("OEBPS/content.opf", opf.as_bytes())?;
    add("OEBPS/style.css", CSS.as_bytes())?;
    add("OEBPS/nav.xhtml", nav.as_bytes())?;
    add("OEBPS/title.xhtml", title_page.as_bytes())?;
    if let (Some(c), Some(ext)) = (cover, cover_ext) {
        add(&format!("OEBPS/cover.{ext}"), &c.bytes)?;
        let body = format!(
            "<div class=\"cover\"><img class=\"cover\" src=\"cover.{ext}\" alt=\"{}\"/></div>\n",
            escape(title)
        );
        add("OEBPS/cover.xhtml", page(title, lang, &body).as_bytes())?;
    }
    for (file, _, xhtml) in &files {
        add(&format!("OEBPS/{file}"), xhtml.as_bytes())?;
    }
    Ok(zip.finish().map_err(zerr)?.into_inner())
}
