//! The context lens on line 0 of a scene, and the work behind `showrunner.context.show` and
//! `showrunner.models.resolve`, `showrunner.search` (their arguments and results are in
//! [`crate::protocol`]).

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
    context_recalling(snap, engine, position, budget, &[])
}

/// [`context`] with past defect reports recalled into it.
pub fn context_recalling(
    snap: &FileSnap,
    engine: &ContextEngine,
    position: Option<Position>,
    budget: Option<usize>,
    recalls: &[showrunner_context::Recall],
) -> Option<Context> {
    let scene = snap.scene()?;
    let cursor = position.map(|p| to_offset(&snap.text, &snap.lines, p, snap.enc));
    Some(engine.assemble_recalling(&snap.analysis, Request { scene, cursor, budget }, default_counter(), recalls))
}

/// `Context: Alice, Tom, The Lighthouse +2 · 1,840/6,000 tokens` on line 0 of a scene; the
/// scene's recalled past defects (`recalls`) count as they do in a run.
pub fn code_lens(
    snap: &FileSnap,
    engine: &ContextEngine,
    recalls: &[showrunner_context::Recall],
    uri: &Uri,
) -> Vec<CodeLens> {
    let Some(ctx) = context_recalling(snap, engine, None, None, recalls) else { return Vec::new() };
    let a = &snap.analysis;
    let names: Vec<String> = ctx
        .items
        .iter()
        .map(|i| match (i.kind.as_str(), a.bucket(&i.bucket)) {
            ("scene", _) => "previous scene".to_string(),
            ("defect", _) => "past defect".to_string(),
            (_, Some(b)) => b.bucket.name.value.clone(),
            (_, None) => i.bucket.clone(),
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

/// `showrunner.search` on the project at `root` as the session holds it (open documents'
/// unsaved text included): the one search of `store::search`. Runs on a blocking thread.
pub fn search(
    root: &std::path::Path,
    analysis: &showrunner_model::analysis::Analysis,
    args: crate::protocol::SearchArgs,
) -> Result<Vec<showrunner_store::search::Hit>, String> {
    use showrunner_store::search::day_ms;
    let day = |d: Option<String>, end: bool, key: &str| -> Result<Option<i64>, String> {
        d.map(|d| day_ms(&d, end).ok_or_else(|| format!("`{key}` should be a day, YYYY-MM-DD, not `{d}`"))).transpose()
    };
    let q = showrunner_store::search::Query {
        text: args.query,
        scope: args.scope.unwrap_or_default(),
        kinds: args.kinds,
        pipeline: args.pipeline,
        model: args.model,
        scene: None,
        since: day(args.since, false, "since")?,
        until: day(args.until, true, "until")?,
        timeline: args.timeline,
        limit: args.limit.unwrap_or(20).min(500),
    };
    showrunner_agents::bible::search(root, analysis, &q).map_err(|e| e.to_string())
}
