//! `showrunner context FILE`: the context the engine assembles for a scene, with reasons and
//! token counts.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use showrunner_context::tokens::default_counter;
use showrunner_context::{render_markdown, ContextEngine, Request};
use showrunner_model::text::LineIndex;
use showrunner_store::discover::{project_of, relative};
use showrunner_store::load_project;

use crate::Format;

pub fn run(file: &Path, at: Option<&str>, budget: Option<usize>, format: Format) -> Result<()> {
    let root = project_of(file)?;
    let abs = file.canonicalize().with_context(|| format!("cannot open {}", file.display()))?;
    let rel = relative(&root, &abs);
    let project = load_project(&root);
    let analysis = &project.analysis;
    let Some(scene) = analysis.scene_at(&rel) else {
        bail!(
            "{} is not a scene of the project \"{}\" (scenes are story/**/*.md, **/*.scene.md and **/*.fountain)",
            file.display(),
            analysis.config.name
        );
    };
    let text = analysis.text(analysis.scenes[scene].file);
    let cursor = match at {
        None => None,
        Some(spec) => Some(parse_at(spec, text)?),
    };
    let engine = ContextEngine::new(analysis);
    // The scene's past defect reports, as its next run would get them.
    let recalls = showrunner_agents::studio::recall(&root, analysis, scene, "");
    let ctx = engine.assemble_recalling(analysis, Request { scene, cursor, budget }, default_counter(), &recalls);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &ctx)?;
            writeln!(out)?;
        }
        Format::Text => {
            writeln!(
                out,
                "Context for {rel} ({}) · {} / {} tokens · {} items, {} dropped\n",
                ctx.scene,
                showrunner_model::text::group_digits(ctx.used_tokens),
                showrunner_model::text::group_digits(ctx.budget),
                ctx.items.len(),
                ctx.dropped.len()
            )?;
            let w = ctx.items.iter().map(|i| i.bucket.chars().count()).max().unwrap_or(6).max(6);
            writeln!(
                out,
                "  #  {:<w$}  {:<9}  {:<7}  {:>6}  {:>7}  reason",
                "bucket", "kind", "form", "tokens", "score"
            )?;
            for (n, i) in ctx.items.iter().enumerate() {
                let form = serde_json::to_value(i.form)?.as_str().unwrap_or("").to_string();
                writeln!(
                    out,
                    "{:>3}  {:<w$}  {:<9}  {:<7}  {:>6}  {:>7.1}  {}",
                    n + 1,
                    i.bucket,
                    i.kind,
                    form,
                    i.tokens,
                    i.score,
                    i.reason
                )?;
            }
            if !ctx.dropped.is_empty() {
                writeln!(out, "\nDropped:")?;
                for d in &ctx.dropped {
                    writeln!(out, "  - {}: {}", d.bucket, d.reason)?;
                }
            }
            writeln!(out, "\n--- the prompt section ---\n")?;
            write!(out, "{}", render_markdown(&ctx))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `LINE:COL` (1-based, column in characters) → byte offset.
fn parse_at(spec: &str, text: &str) -> Result<usize> {
    let (l, c) = spec.split_once(':').unwrap_or((spec, "1"));
    let (Ok(line), Ok(col)) = (l.trim().parse::<usize>(), c.trim().parse::<usize>()) else {
        bail!("--at takes LINE:COL (1-based), e.g. --at 12:5; got `{spec}`");
    };
    let lines = LineIndex::new(text);
    if line == 0 || col == 0 || line > lines.line_count() {
        bail!("--at {spec} is outside the scene (it has {} lines; lines and columns start at 1)", lines.line_count());
    }
    Ok(lines.offset_of_char_col(text, line, col - 1))
}
