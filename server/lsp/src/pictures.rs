//! `showrunner.graph` and `showrunner.stats`: the pictures of the story for an editor (the
//! relation graph, the mention heatmap, the Story view's word counts). Translation only: the
//! numbers come from `showrunner_context::{graph, stats}` over the session's analysis, so unsaved
//! text counts. The result is the JSON of `showrunner graph|stats --format json`; with a text
//! `format` (`mermaid`, `dot`, `text`) it is `{format, text}` holding what the CLI prints.
//! Stats carry `goals` ([`project_goals`], shared with the CLI): words today and in the session
//! from the saved history, and with a `uri` (and `range`) the scene's (and selection's) words.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use showrunner_context::goals::{goals, Goals, Starts};
use showrunner_context::graph::{graph, to_dot, to_mermaid, GraphOptions};
use showrunner_context::stats::{stats, to_text, DEFAULT_GAP};
use showrunner_store::progress::{progress, scene_words, Clock};
use tower_lsp_server::jsonrpc::Result;

use crate::glass::to_value;
use crate::pos::to_text_range;
use crate::protocol::{GoalsOnly, GraphResult, Kinds, PictureArgs, Rendered, StatsResult};
use crate::{guarded, invalid, params, Backend};

/// The kinds a picture keeps, from `kind` (one, a comma list, or a list).
trait KindList {
    fn kinds(&self) -> Vec<String>;
}

impl KindList for PictureArgs {
    fn kinds(&self) -> Vec<String> {
        let all = match &self.kind {
            None => Vec::new(),
            Some(Kinds::One(k)) => vec![k.clone()],
            Some(Kinds::Many(ks)) => ks.clone(),
        };
        all.iter().flat_map(|k| k.split(',')).map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect()
    }
}

/// The goals' numbers of the project at `root` whose words are those of `analysis` (unsaved
/// text included in the server); the day's and the session's start come from the saved history.
pub fn project_goals(
    root: &Path,
    analysis: &showrunner_model::analysis::Analysis,
) -> std::result::Result<Goals, showrunner_store::history::HistoryError> {
    let words_now: HashMap<String, usize> =
        analysis.scenes.iter().map(|s| (analysis.files[s.file].path.clone(), s.scene.word_count)).collect();
    let p = progress(root, &words_now, Clock::system())?;
    let starts = Starts {
        today: p.today,
        day_start_words: p.day_start_words,
        session_start_words: p.session_start_words,
        session_started: p.session_started,
    };
    Ok(goals(&analysis.config.goals, words_now.values().sum(), &starts))
}

impl Backend {
    pub(crate) async fn pictures_command(&self, command: &str, args: &[Value]) -> Result<Option<Value>> {
        let a: PictureArgs = params(args)?;
        let root = self.project_for(a.project.as_deref(), a.uri.as_ref()).await?;
        let analysis = self.analysis_of(&root)?;
        let format = a.format.as_deref().unwrap_or("json");
        let mut goals = None;
        if command == "showrunner.stats" {
            if a.range.is_some() && a.uri.is_none() {
                return Err(invalid("`range` needs `uri` (the scene it is in)"));
            }
            let (r, an) = (root.clone(), analysis.clone());
            let counted = tokio::task::spawn_blocking(move || project_goals(&r, &an)).await;
            let mut g = match counted {
                Ok(Ok(g)) => g,
                Ok(Err(e)) => return Err(invalid(format!("the history of {} could not be read: {e}", root.display()))),
                Err(e) => return Err(invalid(format!("counting the goals failed: {e}"))),
            };
            if let Some(snap) = a.uri.as_ref().and_then(|u| self.lock().snapshot(u)) {
                let scene = snap.file.and_then(|f| snap.analysis.scenes.iter().find(|s| s.file == f));
                g.scene_words = scene.map(|s| s.scene.word_count);
                if let (Some(range), Some(_)) = (a.range, scene) {
                    let r = to_text_range(&snap.text, &snap.lines, range, snap.enc);
                    g.selection_words = snap.text.get(r).map(|t| scene_words(&snap.rel, t));
                }
            }
            goals = Some(g);
        }
        guarded(command, || match command {
            "showrunner.graph" => {
                if a.depth.is_some() && a.around.is_none() {
                    return Err(invalid("`depth` needs `around` (the bucket or scene to start from)"));
                }
                let opts = GraphOptions { kinds: a.kinds(), around: a.around.clone(), depth: a.depth.unwrap_or(1) };
                let g = graph(&analysis, &opts).map_err(|e| invalid(e.to_string()))?;
                match format {
                    "json" => to_value(GraphResult::Json(g)),
                    "mermaid" => to_value(GraphResult::Text(Rendered { format: format.into(), text: to_mermaid(&g) })),
                    "dot" => to_value(GraphResult::Text(Rendered { format: format.into(), text: to_dot(&g) })),
                    other => Err(invalid(format!("unknown format `{other}`: use json, mermaid or dot"))),
                }
            }
            _ => {
                if a.only.as_deref() == Some("goals") {
                    return to_value(StatsResult::Goals(GoalsOnly { goals: goals.expect("counted above") }));
                }
                if let Some(other) = &a.only {
                    return Err(invalid(format!("unknown `only` value `{other}`: use goals")));
                }
                let mut s = stats(&analysis, a.gap.unwrap_or(DEFAULT_GAP));
                s.goals = goals;
                match format {
                    "text" => to_value(StatsResult::Text(Rendered { format: format.into(), text: to_text(&s) })),
                    "json" => to_value(StatsResult::Json(s)),
                    other => Err(invalid(format!("unknown format `{other}`: use json or text"))),
                }
            }
        })
    }
}
