//! Domain diagnostics → the protocol's diagnostics, and what a pull client was told: one
//! computation (`gather` + `convert`, driven by the publisher in `lib.rs`), delivered by push
//! (`textDocument/publishDiagnostics`) or by pull (`textDocument/diagnostic`,
//! `workspace/diagnostic`, answered from the [`Ledger`]).

use std::collections::{HashMap, HashSet};
use std::hash::Hasher;
use std::sync::Mutex;

use showrunner_model::analysis::Analysis;
use showrunner_model::diag::{Code, Diagnostic, Severity};
use showrunner_model::text::LineIndex;
use tower_lsp_server::ls_types::{self as lsp, DiagnosticSeverity, NumberOrString, Uri};

use crate::pos::{to_range, Encoding};

pub fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Information => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

pub fn to_lsp(text: &str, lines: &LineIndex, d: &Diagnostic, enc: Encoding) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: to_range(text, lines, &d.range, enc),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some("showrunner".into()),
        message: d.message.clone(),
        tags: (d.code == Code::SR001).then(Vec::new),
        ..Default::default()
    }
}

/// The domain diagnostics of one file (SR001 hints included only when the project sets
/// `entities: { link_hints: true }`), to be converted later without holding on to the analysis.
pub fn gather(analysis: &Analysis, file: usize) -> Vec<Diagnostic> {
    let mut out = analysis.diagnostics[file].clone();
    if analysis.config.editor_hints() {
        if let Some(si) = analysis.scene_of_file[file] {
            out.extend(analysis.link_hints(&analysis.scenes[si]).iter().cloned());
        }
    }
    out
}

/// Converts gathered diagnostics for the protocol.
pub fn convert(text: &str, lines: &LineIndex, diags: &[Diagnostic], enc: Encoding) -> Vec<lsp::Diagnostic> {
    diags.iter().map(|d| to_lsp(text, lines, d, enc)).collect()
}

/// What pull diagnostics answer from: for every file of the loaded projects, a hash of its current
/// diagnostics (the result id is made of it), and the diagnostics themselves for open documents
/// (the ones a client asks about after each edit). The publisher records each computed set here
/// instead of pushing it; a file's result id changes exactly when its diagnostics do.
pub struct Ledger {
    /// Differs between server processes: a result id from an earlier session is never taken for
    /// a current one.
    epoch: u64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    files: HashMap<Uri, Entry>,
    /// Files that left the project (deleted, moved): reported once more, empty, by the next
    /// workspace pull.
    gone: HashSet<Uri>,
}

struct Entry {
    hash: u64,
    /// Kept for open documents only.
    items: Option<Vec<lsp::Diagnostic>>,
}

/// What the ledger knows of a file.
pub enum Known {
    /// The client's result id is the current one.
    Unchanged(String),
    /// The current diagnostics, with their result id.
    Full(String, Vec<lsp::Diagnostic>),
    /// Not recorded (or not kept): compute them.
    Unknown,
}

impl Default for Ledger {
    fn default() -> Ledger {
        static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let made = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let epoch = (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32) ^ made.rotate_left(48);
        Ledger { epoch, inner: Default::default() }
    }
}

impl Ledger {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The result id of a set of diagnostics.
    pub fn result_id(&self, items: &[lsp::Diagnostic]) -> String {
        self.id_of(hash(items))
    }

    fn id_of(&self, hash: u64) -> String {
        format!("{:x}-{hash:016x}", self.epoch)
    }

    /// Records freshly computed diagnostics (`version`: the open document's, `None` for a file
    /// not open). Returns the files whose diagnostics changed (new files included).
    pub fn record(&self, batches: Vec<(Uri, Option<i32>, Vec<lsp::Diagnostic>)>) -> Vec<Uri> {
        let mut changed = Vec::new();
        let mut inner = self.lock();
        for (uri, version, items) in batches {
            let h = hash(&items);
            inner.gone.remove(&uri);
            let items = version.is_some().then_some(items);
            match inner.files.insert(uri.clone(), Entry { hash: h, items }) {
                Some(old) if old.hash == h => {}
                _ => changed.push(uri),
            }
        }
        changed
    }

    /// Records one file's diagnostics, computed for a pull request; their result id.
    pub fn record_one(&self, uri: &Uri, version: Option<i32>, items: &[lsp::Diagnostic]) -> String {
        let h = hash(items);
        let mut inner = self.lock();
        inner.gone.remove(uri);
        inner.files.insert(uri.clone(), Entry { hash: h, items: version.is_some().then(|| items.to_vec()) });
        self.id_of(h)
    }

    /// What to answer a client that holds `previous` for `uri`.
    pub fn known(&self, uri: &Uri, previous: Option<&str>) -> Known {
        let inner = self.lock();
        let Some(entry) = inner.files.get(uri) else { return Known::Unknown };
        let id = self.id_of(entry.hash);
        if previous == Some(id.as_str()) {
            return Known::Unchanged(id);
        }
        match &entry.items {
            Some(items) => Known::Full(id, items.clone()),
            None => Known::Unknown,
        }
    }

    /// A file left its project: its diagnostics are gone. Whether a client may hold some.
    pub fn forget(&self, uri: &Uri) -> bool {
        let mut inner = self.lock();
        let known = inner.files.remove(uri).is_some();
        if known {
            inner.gone.insert(uri.clone());
        }
        known
    }

    /// Files recorded that are not in `current` any more (they left their project without
    /// being reported), and the ones [`Ledger::forget`] took: each once.
    pub fn take_gone(&self, current: &HashSet<Uri>) -> Vec<Uri> {
        let mut inner = self.lock();
        let left: Vec<Uri> = inner.files.keys().filter(|u| !current.contains(*u)).cloned().collect();
        for u in &left {
            inner.files.remove(u);
        }
        let mut gone: Vec<Uri> = inner.gone.drain().filter(|u| !current.contains(u)).collect();
        gone.extend(left);
        gone
    }
}

/// A hash of diagnostics as they go on the wire (their JSON), without building the JSON.
fn hash(items: &[lsp::Diagnostic]) -> u64 {
    struct Feed(std::collections::hash_map::DefaultHasher);
    impl std::io::Write for Feed {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut feed = Feed(Default::default());
    // Serialising plain structs into a sink that cannot fail does not fail.
    let _ = serde_json::to_writer(&mut feed, items);
    feed.0.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(message: &str) -> lsp::Diagnostic {
        lsp::Diagnostic { message: message.into(), ..Default::default() }
    }

    #[test]
    fn a_result_id_changes_exactly_when_the_diagnostics_do() {
        let ledger = Ledger::default();
        let a: Uri = "file:///p/story/a.md".parse().unwrap();
        let b: Uri = "file:///p/story/b.md".parse().unwrap();
        let changed = ledger.record(vec![(a.clone(), Some(1), vec![diag("x")]), (b.clone(), None, vec![])]);
        assert_eq!(changed, vec![a.clone(), b.clone()], "new files count as changed");
        let Known::Full(id, items) = ledger.known(&a, None) else { panic!("an open document's diagnostics are kept") };
        assert_eq!((items.len(), &id), (1, &ledger.result_id(&[diag("x")])));
        assert!(matches!(ledger.known(&a, Some(&id)), Known::Unchanged(ref same) if *same == id));
        // A closed file is known by its hash only.
        assert!(matches!(ledger.known(&b, None), Known::Unknown));
        assert!(matches!(ledger.known(&b, Some(&ledger.result_id(&[]))), Known::Unchanged(_)));
        // The same set again changes nothing; another set changes the id.
        assert!(ledger.record(vec![(a.clone(), Some(2), vec![diag("x")])]).is_empty());
        assert_eq!(ledger.record(vec![(a.clone(), Some(3), vec![diag("y")])]), vec![a.clone()]);
        assert!(matches!(ledger.known(&a, Some(&id)), Known::Full(ref other, _) if *other != id));
        // Another server process gives other ids for the same diagnostics.
        assert_ne!(Ledger::default().result_id(&[diag("x")]), id);
        // Files that left: once.
        assert!(ledger.forget(&b));
        let current: HashSet<Uri> = [a.clone()].into();
        assert_eq!(ledger.take_gone(&current), vec![b.clone()]);
        assert!(ledger.take_gone(&current).is_empty());
        assert_eq!(ledger.take_gone(&HashSet::new()), vec![a]);
    }
}
