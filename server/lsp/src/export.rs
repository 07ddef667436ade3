//! `showrunner.export`: translation only. The export is planned, rendered and written by
//! `showrunner_export` from the project as saved (an AI edit waiting at a gate, or applied to a
//! buffer and not saved, is in no export); the output stays inside the project, out of
//! `story/` and `buckets/`, and never on a document open in the editor. The result names the file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use showrunner_export::output::Place;
use showrunner_export::Format;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::NumberOrString;

use crate::glass::to_value;
use crate::protocol::{ExportArgs, Exported};
use crate::runs::Session;
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
        let session = self.session();
        let written = tokio::task::spawn_blocking(move || {
            let told = Told::begin(&session, format);
            let project = showrunner_store::load_project(&r);
            let written = showrunner_export::export(
                &project.analysis,
                &r,
                format,
                target.as_deref(),
                output.as_deref(),
                Place::InsideProject { open: &open },
                &told,
            )
            .map_err(|e| e.to_string());
            told.end(match &written {
                Ok(w) => format!("wrote {} ({} scenes)", w.path.display(), w.scenes),
                Err(e) => e.clone(),
            });
            written
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

type Bounded = tower_lsp_server::OngoingProgress<tower_lsp_server::Bounded, tower_lsp_server::NotCancellable>;

/// An export's work-done progress in the editor (nothing when the client takes none).
struct Told {
    handle: tokio::runtime::Handle,
    progress: Option<Bounded>,
}

impl Told {
    fn begin(session: &Session, format: Format) -> Told {
        static EXPORTS: AtomicU64 = AtomicU64::new(1);
        let progress = session.caps.work_done_progress.then(|| {
            let token =
                NumberOrString::String(format!("showrunner/export/{}", EXPORTS.fetch_add(1, Ordering::Relaxed)));
            let client = session.client.clone();
            session.handle.block_on(async move {
                crate::runs::create_progress(&client, token.clone()).await.then_some(())?;
                Some(
                    client
                        .progress(token, format!("Showrunner: export {}", format.name()))
                        .with_percentage(0)
                        .begin()
                        .await,
                )
            })
        });
        Told { handle: session.handle.clone(), progress: progress.flatten() }
    }

    fn end(self, message: String) {
        if let Some(p) = self.progress {
            self.handle.block_on(p.finish_with_message(message));
        }
    }
}

impl showrunner_export::Progress for Told {
    fn chapter(&self, done: usize, of: usize) {
        if let Some(p) = &self.progress {
            let percentage = (done * 90 / of.max(1)) as u32;
            self.handle.block_on(p.report_with_message(format!("chapter {done} of {of}"), percentage));
        }
    }

    fn writing(&self, bytes: usize) {
        if let Some(p) = &self.progress {
            self.handle.block_on(p.report_with_message(showrunner_export::output::writing_message(bytes), 95));
        }
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
