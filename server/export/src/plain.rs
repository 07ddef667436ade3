//! `md` and `fountain`: one clean file of the whole target, frontmatter stripped.
//!
//! Markdown: each chapter under `# Chapter name`, its scenes' headings one level down, scenes as
//! written. Fountain: a title page from `showrunner.yaml`, chapters as `#` sections, screenplay
//! scenes as written (title pages stripped) and prose scenes as action (forced with `!` where a
//! paragraph would read as something else), their emphasis in Fountain's markers.

use showrunner_model::fountain::{line_kinds, LineKind};
use showrunner_model::scene::SceneFormat;

use crate::doc::{prose_blocks, runs, Block, Run};
use crate::plan::Plan;

pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    for chapter in &plan.chapters {
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

/// Runs in Fountain's markers: `*italic*`, `**bold**`, `_underline_`.
pub fn fountain_markup(runs: &[Run]) -> String {
    let mut out = String::new();
    for r in runs {
        let mut open = String::new();
        if r.bold {
            open.push_str("**");
        }
        if r.italic {
            open.push('*');
        }
        if r.underline {
            open.push('_');
        }
        let close: String = open.chars().rev().collect();
        let text = r.text.replace('*', "\\*");
        let text = if r.underline { text.replace('_', "\\_") } else { text };
        out.push_str(&open);
        out.push_str(&text);
        out.push_str(&close);
    }
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
    let mut out = title_page(plan);
    for chapter in &plan.chapters {
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
    fn action_is_forced_only_when_needed() {
        assert_eq!(as_action("Zoë waits."), "Zoë waits.");
        assert_eq!(as_action("INT. THE HUT"), "!INT. THE HUT");
        assert_eq!(as_action("CUT TO:"), "!CUT TO:");
        assert_eq!(as_action("> a quote"), "!> a quote");
    }
}
