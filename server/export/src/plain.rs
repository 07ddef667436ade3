//! `md` and `fountain`: one clean file of the whole target, frontmatter stripped.
//!
//! Markdown: each chapter under `# Chapter name`, its scenes' headings one level down, scenes as
//! written. Fountain: a title page from `showrunner.yaml`, chapters as `#` sections, screenplay
//! scenes as written (title pages stripped) and prose scenes as action (forced with `!` where a
//! paragraph would read as something else), their emphasis in Fountain's markers.

use showrunner_model::fountain::{line_kinds, LineKind};
use showrunner_model::scene::SceneFormat;

use crate::doc::{prose_blocks, runs, Block, Run};
use crate::output::Tell;
use crate::plan::Plan;

pub fn markdown(plan: &Plan) -> String {
    markdown_with(plan, &Tell::NOBODY)
}

pub(crate) fn markdown_with(plan: &Plan, tell: &Tell<'_>) -> String {
    let mut out = String::new();
    for (n, chapter) in plan.chapters.iter().enumerate() {
        let shift = usize::from(chapter.title.is_some());
        if let Some(title) = &chapter.title {
            push_para(&mut out, &format!("# {title}"));
        }
        for scene in &chapter.scenes {
            let mut fenced = false;
            let mut text = String::new();
            for line in scene.body.split('\n') {
                if line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~") {
                    fenced = !fenced;
                }
                let level = line.bytes().take_while(|b| *b == b'#').count();
                if !fenced
                    && scene.format == SceneFormat::Markdown
                    && (1..6).contains(&level)
                    && line[level..].starts_with(' ')
                {
                    text.push_str(&"#".repeat(shift));
                }
                text.push_str(line);
                text.push('\n');
            }
            push_para(&mut out, text.trim_end());
        }
        tell.done(n);
    }
    out
}

fn push_para(out: &mut String, text: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(text);
    out.push('\n');
}

/// Runs in Fountain's markers: `*italic*`, `**bold**`, `_underline_`, nested as a stack (so
/// `_under *both* under_` reads back as it was), delimiters kept next to the words they mark
/// (whitespace moved outside), literal `*` and `_` escaped.
pub fn fountain_markup(runs: &[Run]) -> String {
    const MARKS: [&str; 3] = ["**", "*", "_"];
    let mut out = String::new();
    let mut stack: Vec<usize> = Vec::new();
    let close_to = |out: &mut String, stack: &mut Vec<usize>, keep: &dyn Fn(usize) -> bool| {
        let Some(low) = stack.iter().position(|m| !keep(*m)) else { return };
        let trimmed = out.trim_end().len();
        let tail = out.split_off(trimmed);
        while stack.len() > low {
            let m = stack.pop().expect("non-empty");
            out.push_str(MARKS[m]);
        }
        out.push_str(&tail);
    };
    for r in runs {
        let want = [r.bold, r.italic, r.underline];
        close_to(&mut out, &mut stack, &|m| want[m]);
        let text = r.text.replace('\\', "\\\\").replace('*', "\\*").replace('_', "\\_");
        let opening: Vec<usize> = (0..3).filter(|m| want[*m] && !stack.contains(m)).collect();
        if opening.is_empty() {
            out.push_str(&text);
            continue;
        }
        let body = text.trim_start();
        out.push_str(&text[..text.len() - body.len()]);
        for m in opening {
            out.push_str(MARKS[m]);
            stack.push(m);
        }
        out.push_str(body);
    }
    close_to(&mut out, &mut stack, &|_| false);
    out
}

/// A Fountain title page from the plan's metadata (values on indented lines when they have several).
pub fn title_page(plan: &Plan) -> String {
    let mut out = String::new();
    let mut key = |k: &str, v: &str| {
        let lines: Vec<&str> = v.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        match lines.as_slice() {
            [] => {}
            [one] => out.push_str(&format!("{k}: {one}\n")),
            many => {
                out.push_str(&format!("{k}:\n"));
                for l in many {
                    out.push_str(&format!("    {l}\n"));
                }
            }
        }
    };
    key("Title", &plan.meta.title);
    if let Some(a) = &plan.meta.author {
        key("Credit", "Written by");
        key("Author", a);
    }
    if let Some(c) = &plan.meta.contact {
        key("Contact", c);
    }
    out
}

pub fn fountain(plan: &Plan) -> String {
    fountain_with(plan, &Tell::NOBODY)
}

pub(crate) fn fountain_with(plan: &Plan, tell: &Tell<'_>) -> String {
    let mut out = title_page(plan);
    for (n, chapter) in plan.chapters.iter().enumerate() {
        if let Some(title) = &chapter.title {
            push_para(&mut out, &format!("# {title}"));
        }
        for scene in &chapter.scenes {
            match scene.format {
                SceneFormat::Fountain => push_para(&mut out, scene.body.trim_end()),
                SceneFormat::Markdown => {
                    for block in prose_blocks(&scene.body) {
                        let text = match block {
                            Block::Heading(level, h) => format!("{} {h}", "#".repeat(level as usize + 1)),
                            Block::Break => "> * * * <".to_string(),
                            Block::Para(p) => as_action(&fountain_markup(&runs(&p, false))),
                        };
                        push_para(&mut out, &text);
                    }
                }
            }
        }
        tell.done(n);
    }
    out
}

/// A paragraph as Fountain action: forced with `!` when alone it would read as anything else.
pub(crate) fn as_action(p: &str) -> String {
    let alone = format!("\n{p}\n\n");
    let kinds = line_kinds(&alone);
    if kinds.get(1) == Some(&LineKind::Action) && !p.starts_with(char::is_whitespace) {
        p.to_string()
    } else {
        format!("!{p}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_nests_and_reads_back() {
        for text in [
            "From INCHES AWAY.  _Steel's face FILLS the *Leupold Mark 4* scope_.",
            "**bold *and italic*** then *word* next, Zoë's 李雷 🌊",
            r"a \*literal\* star and snake\_case",
        ] {
            let once = crate::doc::runs(text, true);
            let again = crate::doc::runs(&fountain_markup(&once), true);
            assert_eq!(once, again, "{text} -> {}", fountain_markup(&once));
        }
        let spaced = [
            Run { text: "word ".into(), italic: true, ..Run::default() },
            Run { text: "next".into(), ..Run::default() },
        ];
        assert_eq!(fountain_markup(&spaced), "*word* next");
    }

    #[test]
    fn action_is_forced_only_when_needed() {
        assert_eq!(as_action("Zoë waits."), "Zoë waits.");
        assert_eq!(as_action("INT. THE HUT"), "!INT. THE HUT");
        assert_eq!(as_action("CUT TO:"), "!CUT TO:");
        assert_eq!(as_action("> a quote"), "!> a quote");
    }
}
