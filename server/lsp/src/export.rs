//! `showrunner.export`: translation only. The export is planned, rendered and written by
//! `showrunner_export` from the project as saved (an AI edit waiting at a gate, or applied to a
//! buffer and not saved, is in no export); the output stays inside the project, out of
//! `story/` and `buckets/`, and never on a document open in the editor. The result names the file.

use std::path::{Path, PathBuf};

use serde_json::Value;
use showrunner_export::output::Place;
use showrunner_export::Format;
use tower_lsp_server::jsonrpc::Result;

use crate::glass::to_value;
use crate::protocol::{ExportArgs, Exported};
use crate::state::{path_uri, uri_path};
use crate::{internal, invalid, params, Backend};

impl Backend {
    pub(crate) async fn export_command(&self, args: &[Value]) -> Result<Option<Value>> {
        let a: ExportArgs = params(args)?;
        let format: Format = a.format.parse().map_err(invalid)?;
        let root = self.project_for(a.project.as_deref(), a.uri.as_ref()).await?;
        // A target given as a URI or an absolute path is a scene file: relative to the project.
        let target = a.target.as_deref().map(|t| scene_target(&root, t));
        let output = a.output.as_deref().map(|o| {
            let p = o.parse::<tower_lsp_server::ls_types::Uri>().ok().and_then(|u| uri_path(&u));
            p.unwrap_or_else(|| PathBuf::from(o))
        });
        let open: Vec<PathBuf> = self.lock().docs.values().filter_map(|d| d.path.clone()).collect();
        let r = root.clone();
        let written = tokio::task::spawn_blocking(move || {
            let project = showrunner_store::load_project(&r);
            showrunner_export::export(
                &project.analysis,
                &r,
                format,
                target.as_deref(),
                output.as_deref(),
                Place::InsideProject { open: &open },
                &(),
            )
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(invalid)?;
        let uri = path_uri(&written.path).ok_or_else(|| internal("the export's path is not a file URI"))?;
        to_value(Exported {
            path: written.path.display().to_string(),
            uri,
            format: format.name().to_string(),
            scenes: written.scenes,
            words: written.words,
            bytes: written.bytes,
            left_out: written.left_out,
        })
    }
}

fn scene_target(root: &Path, t: &str) -> String {
    let path = t.parse::<tower_lsp_server::ls_types::Uri>().ok().and_then(|u| uri_path(&u)).or_else(|| {
        let p = PathBuf::from(t);
        p.is_absolute().then_some(p)
    });
    match path {
        Some(p) => {
            let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
            let p = p.canonicalize().unwrap_or(p);
            p.strip_prefix(&root).map(|r| r.to_string_lossy().replace('\\', "/")).unwrap_or_else(|_| t.to_string())
        }
        None => t.to_string(),
    }
}
