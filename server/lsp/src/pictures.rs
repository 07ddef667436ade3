//! `showrunner.graph` and `showrunner.stats`: the pictures of the story for an editor (the
//! relation graph, the mention heatmap, the Story view's word counts). Translation only: the
//! numbers come from `showrunner_context::{graph, stats}` over the session's analysis, so unsaved
//! text counts. The result is the JSON of `showrunner graph|stats --format json`; with a text
//! `format` (`mermaid`, `dot`, `text`) it is `{format, text}` holding what the CLI prints.

use serde_json::Value;
use showrunner_context::graph::{graph, to_dot, to_mermaid, GraphOptions};
use showrunner_context::stats::{stats, to_text, DEFAULT_GAP};
use tower_lsp_server::jsonrpc::Result;

use crate::glass::to_value;
use crate::protocol::{GraphResult, Kinds, PictureArgs, Rendered, StatsResult};
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

impl Backend {
    pub(crate) async fn pictures_command(&self, command: &str, args: &[Value]) -> Result<Option<Value>> {
        let a: PictureArgs = params(args)?;
        let root = self.project_for(a.project.as_deref(), a.uri.as_ref()).await?;
        let analysis = self.analysis_of(&root)?;
        let format = a.format.as_deref().unwrap_or("json");
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
                let s = stats(&analysis, a.gap.unwrap_or(DEFAULT_GAP));
                match format {
                    "text" => to_value(StatsResult::Text(Rendered { format: format.into(), text: to_text(&s) })),
                    "json" => to_value(StatsResult::Json(s)),
                    other => Err(invalid(format!("unknown format `{other}`: use json or text"))),
                }
            }
        })
    }
}
