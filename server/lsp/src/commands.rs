//! The context lens on line 0 of a scene, and the work behind `showrunner.context.show` and
//! `showrunner.models.resolve` (their arguments and results are in [`crate::protocol`]).

use showrunner_context::tokens::default_counter;
use showrunner_context::{Context, ContextEngine, Request};
use tower_lsp_server::ls_types::*;

use crate::pos::to_offset;
use crate::state::FileSnap;

pub fn context(
    snap: &FileSnap,
    engine: &ContextEngine,
    position: Option<Position>,
    budget: Option<usize>,
) -> Option<Context> {
    let scene = snap.scene()?;
    let cursor = position.map(|p| to_offset(&snap.text, &snap.lines, p, snap.enc));
    Some(engine.assemble(&snap.analysis, Request { scene, cursor, budget }, default_counter()))
}

/// `Context: Alice, Tom, The Lighthouse +2 · 1,840/6,000 tokens` on line 0 of a scene.
pub fn code_lens(snap: &FileSnap, engine: &ContextEngine, uri: &Uri) -> Vec<CodeLens> {
    let Some(ctx) = context(snap, engine, None, None) else { return Vec::new() };
    let a = &snap.analysis;
    let names: Vec<String> = ctx
        .items
        .iter()
        .map(|i| match a.bucket(&i.bucket) {
            Some(b) if i.kind != "scene" => b.bucket.name.value.clone(),
            _ => "previous scene".to_string(),
        })
        .collect();
    let shown = names.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    let more = if names.len() > 3 { format!(" +{}", names.len() - 3) } else { String::new() };
    let dropped = if ctx.dropped.is_empty() { String::new() } else { format!(" · {} dropped", ctx.dropped.len()) };
    let title = format!(
        "Context: {}{more} · {}/{} tokens{dropped}",
        if shown.is_empty() { "nothing".into() } else { shown },
        showrunner_model::text::group_digits(ctx.used_tokens),
        showrunner_model::text::group_digits(ctx.budget)
    );
    let range = Range { start: Position { line: 0, character: 0 }, end: Position { line: 0, character: 0 } };
    vec![CodeLens {
        range,
        command: Some(Command {
            title,
            command: "showrunner.context.show".into(),
            arguments: Some(vec![serde_json::json!({ "uri": uri })]),
        }),
        data: None,
    }]
}
