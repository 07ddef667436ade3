//! The session: open documents and the projects they belong to.
//!
//! Each project holds an `Arc<Analysis>` (disk contents overlaid with the editor's unsaved
//! text) and a lazily built context engine. Handlers take cheap snapshots (`Arc` clones) under the
//! lock and do their work outside it; no lock is held across an `.await`. Typing in a scene
//! re-checks that scene alone in memory: nothing on that path touches SQLite or the disk.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ropey::Rope;
use showrunner_context::ContextEngine;
use showrunner_model::analysis::{Analysis, Content, SourceFile};
use showrunner_model::config::CONFIG_FILE;
use showrunner_model::text::LineIndex;
use showrunner_model::window::Edit;
use showrunner_store::discover::{classify, relative};
use tower_lsp_server::ls_types::Uri;

use crate::pos::Encoding;

pub struct Project {
    pub root: PathBuf,
    pub analysis: Arc<Analysis>,
    engine: Option<Arc<ContextEngine>>,
}

impl Project {
    pub fn load(root: &Path) -> Project {
        let p = showrunner_store::load_project(root);
        Project { root: root.to_path_buf(), analysis: Arc::new(p.analysis), engine: None }
    }

    /// Forgets the context engine; the next request builds it from the current analysis.
    pub fn invalidate_engine(&mut self) {
        self.engine = None;
    }

    /// The context engine for the current analysis, built on first use after a change of
    /// buckets or structure.
    pub fn engine(&mut self) -> Arc<ContextEngine> {
        if self.engine.is_none() {
            self.engine = Some(Arc::new(ContextEngine::new(&self.analysis)));
        }
        self.engine.clone().expect("just built")
    }
}

pub struct Doc {
    pub rope: Rope,
    pub text: Arc<str>,
    pub lines: Arc<LineIndex>,
    pub version: i32,
    /// The project root and the path inside it, for files of a project.
    pub place: Option<(PathBuf, String)>,
    /// The file's path, for `file:` documents.
    pub path: Option<PathBuf>,
}

impl Doc {
    pub fn new(text: &str, version: i32, place: Option<(PathBuf, String)>, path: Option<PathBuf>) -> Doc {
        Doc {
            rope: Rope::from_str(text),
            text: text.into(),
            lines: Arc::new(LineIndex::new(text)),
            version,
            place,
            path,
        }
    }

    /// Takes the rope's text after a change: `edit` (when the change's place is known) says how
    /// the previous text became it, and the line index is then updated around it instead of built
    /// from a scan of the whole text.
    pub fn sync_text(&mut self, edit: Option<Edit>) {
        let text = shared_text(&self.rope);
        let lines = match edit {
            Some(e) if e.fits(&self.text, &text) => self.lines.edited(&self.text, &text, e),
            _ => LineIndex::new(&text),
        };
        self.lines = Arc::new(lines);
        self.text = text;
    }
}

/// The rope's text as one shared string, copied once: its chunks straight into the allocation
/// (`rope.to_string()` and then an `Arc<str>` copied it two or three times, growing as it went).
fn shared_text(rope: &Rope) -> Arc<str> {
    let len = rope.len_bytes();
    let mut bytes: Arc<[std::mem::MaybeUninit<u8>]> = Arc::new_uninit_slice(len);
    let buf = Arc::get_mut(&mut bytes).expect("a new Arc has no other owner");
    let mut at = 0;
    for chunk in rope.chunks() {
        let chunk = chunk.as_bytes();
        assert!(at + chunk.len() <= len, "the rope's chunks add up to its length");
        // SAFETY: `at + chunk.len() <= len` (asserted), the regions are distinct allocations.
        unsafe { std::ptr::copy_nonoverlapping(chunk.as_ptr(), buf.as_mut_ptr().add(at).cast::<u8>(), chunk.len()) };
        at += chunk.len();
    }
    assert_eq!(at, len, "the rope's chunks add up to its length");
    // SAFETY: every byte was written just above (the chunks cover `0..len`).
    let bytes = unsafe { bytes.assume_init() };
    // SAFETY: the bytes are the rope's chunks in order, each valid UTF-8 and split on char
    // boundaries, so the whole is valid UTF-8; `str` and `[u8]` have the same layout.
    unsafe { Arc::from_raw(Arc::into_raw(bytes) as *const str) }
}

/// An approved edit an editor applied to its buffer: recorded in the history when the writer
/// saves the file.
#[derive(Clone, Debug)]
pub struct UnsavedPlan {
    pub root: PathBuf,
    pub run: String,
    pub pipeline: String,
    pub plan: showrunner_pipeline::EditPlan,
}

#[derive(Default)]
pub struct State {
    /// Projects being loaded (off the lock), so that a second caller waits for the first load.
    loading: HashMap<PathBuf, Loading>,
    /// Approved edits in open buffers, not saved yet.
    pub unsaved_plans: HashMap<Uri, Vec<UnsavedPlan>>,
    pub encoding: Option<Encoding>,
    pub folders: Vec<PathBuf>,
    pub projects: BTreeMap<PathBuf, Project>,
    pub docs: HashMap<Uri, Doc>,
    /// Each project's recalled past defect reports by scene path ([`crate::recall`]): read
    /// here, never from SQLite, by the context lens and view.
    pub recalls: HashMap<PathBuf, Arc<crate::recall::Recalled>>,
    pub shutdown: bool,
}

/// Everything a read-only handler needs about one file of a project.
#[derive(Clone)]
pub struct FileSnap {
    pub root: PathBuf,
    pub rel: String,
    pub analysis: Arc<Analysis>,
    /// Index into `analysis.files`, if the project knows the file.
    pub file: Option<usize>,
    pub text: Arc<str>,
    pub lines: Arc<LineIndex>,
    pub enc: Encoding,
}

impl FileSnap {
    pub fn scene(&self) -> Option<usize> {
        self.file.and_then(|f| self.analysis.scene_of_file[f])
    }

    pub fn bucket(&self) -> Option<usize> {
        let f = self.file?;
        self.analysis.buckets.iter().position(|b| b.file == f)
    }
}

/// [`release_free_memory`] at most once a second: after bursts of typing, freed buffers (old
/// texts, diagnostics) otherwise stay in the allocator's arenas and the server's resident memory
/// creeps up over a long session.
pub fn release_free_memory_now_and_then() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = START.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1_000;
    let last = LAST.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 1_000
        && LAST.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    {
        release_free_memory();
    }
}

/// Returns freed heap memory to the system (glibc keeps it otherwise, and a long session that
/// re-analyses its project now and then would creep up in RSS).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it has no other effect.
    unsafe {
        libc::malloc_trim(0);
    }
}

pub fn uri_path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

pub fn path_uri(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

impl State {
    /// The past defect reports the scene of `snap` recalls, as last read ([`crate::recall`]).
    pub fn recalled(&self, snap: &FileSnap) -> Vec<showrunner_context::Recall> {
        self.recalls.get(&snap.root).and_then(|r| r.get(&snap.rel)).cloned().unwrap_or_default()
    }

    pub fn enc(&self) -> Encoding {
        self.encoding.unwrap_or(Encoding::Utf16)
    }

    /// The innermost loaded project containing `path`. Never touches the disk: projects are
    /// loaded outside the lock ([`project_root_on_disk`], [`Project::load`]).
    pub fn root_for(&self, path: &Path) -> Option<PathBuf> {
        self.projects.keys().filter(|r| path.starts_with(r)).max_by_key(|r| r.components().count()).cloned()
    }

    /// Snapshot of a file for a read-only request: the open document if it is open, else the
    /// project's copy. `None` for a file of no loaded project, or one the analysis does not
    /// hold that is not open. Reads nothing from disk and loads nothing.
    pub fn snapshot(&self, uri: &Uri) -> Option<FileSnap> {
        let enc = self.enc();
        let path = uri_path(uri)?;
        let root = self.root_for(&path)?;
        let rel = relative(&root, &path);
        let project = self.projects.get(&root)?;
        let analysis = project.analysis.clone();
        let file = analysis.file_index(&rel);
        let (text, lines) = match self.docs.get(uri) {
            Some(d) => (d.text.clone(), d.lines.clone()),
            None => {
                let t: Arc<str> = file.and_then(|f| analysis.files[f].text())?.into();
                let l = Arc::new(LineIndex::new(&t));
                (t, l)
            }
        };
        Some(FileSnap { root, rel, analysis, file, text, lines, enc })
    }

    /// Feeds the current text of a project file into its analysis. Returns the project root and
    /// the indices of files whose diagnostics may have changed.
    pub fn apply_text(&mut self, root: &Path, rel: &str, text: Arc<str>) -> Vec<usize> {
        self.apply_content_by(root, rel, Content::Text(text), None)
    }

    /// [`State::apply_text`] for an editor's change whose place is known: `edit` made `text` of
    /// `before` (see [`Analysis::update_file_by`]). The edit is used only when the analysis holds
    /// exactly `before` for the file (the same shared text), else the texts are compared.
    pub fn apply_typed(
        &mut self,
        root: &Path,
        rel: &str,
        text: Arc<str>,
        edit: Option<(Edit, Arc<str>)>,
    ) -> Vec<usize> {
        let edit = edit.and_then(|(edit, before)| {
            let project = self.projects.get(root)?;
            let file = &project.analysis.files[project.analysis.file_index(rel)?];
            matches!(&file.content, Content::Text(t) if Arc::ptr_eq(t, &before)).then_some(edit)
        });
        self.apply_content_by(root, rel, Content::Text(text), edit)
    }

    /// Feeds a file's content (text, or why it cannot be used: SR015) into its project's
    /// analysis. An update that panics leaves the analysis as it was before it: the project is
    /// analysed again from the files as they were (the change is not taken), and the panic is
    /// logged.
    pub fn apply_content(&mut self, root: &Path, rel: &str, content: Content) -> Vec<usize> {
        self.apply_content_by(root, rel, content, None)
    }

    fn apply_content_by(&mut self, root: &Path, rel: &str, content: Content, edit: Option<Edit>) -> Vec<usize> {
        let Some(kind) = classify(rel) else { return Vec::new() };
        let Some(project) = self.projects.get_mut(root) else { return Vec::new() };
        let previous = project.analysis.file_index(rel).map(|i| project.analysis.files[i].clone());
        let update = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let analysis = Arc::make_mut(&mut project.analysis);
            let reanalysed;
            let touched = match analysis.file_index(rel) {
                Some(i) if analysis.files[i].kind == kind => {
                    reanalysed = analysis.scene_of_file[i].is_none();
                    analysis.update_file_by(i, content, edit)
                }
                _ => {
                    reanalysed = true;
                    analysis.upsert_file(SourceFile { path: rel.to_string(), kind, content })
                }
            };
            fault_point("update-panic", || {
                analysis.files.iter().any(|f| f.text().is_some_and(|t| t.contains(FAULT_MARK)))
            });
            (touched, reanalysed)
        }));
        let (touched, reanalysed) = match update {
            Ok(done) => done,
            Err(panic) => {
                let msg = crate::panic_message(panic.as_ref());
                tracing::error!(file = rel, panic = %msg, "the analysis update panicked; the change is not taken");
                let mut files: Vec<SourceFile> =
                    project.analysis.files.iter().filter(|f| f.path != rel).cloned().collect();
                files.extend(previous);
                let name = project.analysis.project_name().to_string();
                project.analysis = Arc::new(showrunner_model::analysis::analyze(&name, files));
                (Vec::new(), true)
            }
        };
        if reanalysed {
            project.engine = None;
        }
        if touched.len() > 1 && touched.len() == project.analysis.files.len() {
            // The whole project was analysed again: give the old analysis's memory back.
            release_free_memory();
        }
        touched
    }

    /// A file changed outside the editor: `content` is what the disk holds now, read by the
    /// indexing's own reader (`None`: it is gone). Unless the file is open (the editor's text
    /// wins), the analysis takes it. The caller read the disk without the lock ([`reload_file`]).
    pub fn apply_disk(&mut self, path: &Path, content: Option<Content>) -> Option<(PathBuf, Vec<usize>)> {
        let root = self.root_for(path)?;
        let rel = relative(&root, path);
        classify(&rel)?;
        if self.docs.values().any(|d| d.place.as_ref().is_some_and(|(r, p)| r == &root && p == &rel)) {
            return None;
        }
        match content {
            Some(content) => {
                // Reported twice (the client's watcher and the server's) or written by the
                // session itself: nothing to do when the analysis has it already.
                let same = self
                    .projects
                    .get(&root)
                    .and_then(|p| p.analysis.file_index(&rel).map(|i| &p.analysis.files[i].content))
                    .is_some_and(|now| match (now, &content) {
                        (Content::Text(a), Content::Text(b)) => a == b,
                        (Content::Unreadable(a), Content::Unreadable(b)) => a == b,
                        _ => false,
                    });
                if same {
                    return None;
                }
                let touched = self.apply_content(&root, &rel, content);
                Some((root, touched))
            }
            None => {
                let project = self.projects.get_mut(&root)?;
                let analysis = Arc::make_mut(&mut project.analysis);
                if analysis.remove_file(&rel) {
                    project.engine = None;
                    release_free_memory();
                    let n = project.analysis.files.len();
                    return Some((root, (0..n).collect()));
                }
                None
            }
        }
    }

    /// A freshly loaded project, with the editor's open documents laid over it (they win over
    /// the disk). Returns every file of it, for publishing.
    pub fn install(&mut self, root: &Path, project: Project) -> Vec<usize> {
        let overlays: Vec<(String, Arc<str>)> = self
            .docs
            .values_mut()
            .filter_map(|d| {
                // A document opened before its (nearer) project was loaded moves into it.
                let path = d.path.as_ref()?;
                if path.starts_with(root)
                    && d.place.as_ref().is_none_or(|(r, _)| r.components().count() < root.components().count())
                {
                    let rel = relative(root, path);
                    d.place = classify(&rel).map(|_| (root.to_path_buf(), rel));
                }
                d.place.as_ref().filter(|(r, _)| r == root).map(|(_, rel)| (rel.clone(), d.text.clone()))
            })
            .collect();
        self.projects.insert(root.to_path_buf(), project);
        for (rel, text) in overlays {
            self.apply_text(root, &rel, text);
        }
        (0..self.projects[root].analysis.files.len()).collect()
    }
}

/// The project a path belongs to on disk: the innermost folder above it holding
/// `showrunner.yaml`. Reads the disk: call it without the session lock.
pub fn project_root_on_disk(path: &Path) -> Option<PathBuf> {
    path.ancestors().skip(1).find(|a| a.join(CONFIG_FILE).is_file()).map(Path::to_path_buf)
}

/// A project being loaded, for the callers that need it meanwhile: set to done (and the waiters
/// woken) when the load ends, also when it ends in a panic.
type Loading = Arc<(Mutex<bool>, std::sync::Condvar)>;

struct LoadingGuard<'a> {
    state: &'a Mutex<State>,
    root: PathBuf,
    marker: Loading,
}

impl Drop for LoadingGuard<'_> {
    fn drop(&mut self) {
        lock(self.state).loading.remove(&self.root);
        let (done, cv) = &*self.marker;
        *done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }
}

fn wait_for(marker: &Loading) {
    let (done, cv) = &**marker;
    let guard = done.lock().unwrap_or_else(|e| e.into_inner());
    drop(cv.wait_while(guard, |d| !*d).unwrap_or_else(|e| e.into_inner()));
}

/// Makes sure the project holding `path` is loaded, loading it from disk without the session
/// lock (and installing it under the lock, open documents laid over it). Returns its root, and
/// every file when it was loaded just now. A second caller for the same project waits for the
/// first load instead of loading it again.
///
/// `before_load` runs just before this caller reads the project (never when it was loaded or
/// being loaded already): the server starts watching its files there, so a file changed while
/// the project is read is reported, not missed.
pub fn ensure_project(
    state: &Mutex<State>,
    path: &Path,
    before_load: impl FnOnce(&Path),
) -> Option<(PathBuf, Option<Vec<usize>>)> {
    let root = project_root_on_disk(path)?;
    let guard = loop {
        let mut st = lock(state);
        if st.projects.contains_key(&root) {
            return Some((root, None));
        }
        match st.loading.get(&root).cloned() {
            Some(other) => {
                drop(st);
                wait_for(&other);
            }
            None => {
                let marker: Loading = Arc::default();
                st.loading.insert(root.clone(), marker.clone());
                break LoadingGuard { state, root: root.clone(), marker };
            }
        }
    };
    before_load(&root);
    hold_point("hold-load", &root.join(".showrunner").join("go"));
    let project = Project::load(&root);
    let files = lock(state).install(&root, project);
    drop(guard);
    Some((root, Some(files)))
}

/// The files of the project at `root` that are open in the editor (indices into its analysis).
pub fn open_files(state: &Mutex<State>, root: &Path) -> std::collections::HashSet<usize> {
    let st = lock(state);
    let Some(project) = st.projects.get(root) else { return Default::default() };
    st.docs
        .values()
        .filter_map(|d| d.place.as_ref().filter(|(r, _)| r == root))
        .filter_map(|(_, rel)| project.analysis.file_index(rel))
        .collect()
}

/// The first loaded project, after the loads under way have ended; `None` when none is loaded
/// or being loaded.
pub fn any_project(state: &Mutex<State>) -> Option<PathBuf> {
    loop {
        let pending = {
            let st = lock(state);
            if let Some(root) = st.projects.keys().next() {
                return Some(root.clone());
            }
            st.loading.values().next().cloned()?
        };
        wait_for(&pending);
    }
}

/// Takes a change on disk into the session: the project's config reloads the whole project; a
/// story file is read (without the lock) and handed to [`State::apply_disk`].
pub fn reload_file(state: &Mutex<State>, path: &Path) -> Option<(PathBuf, Vec<usize>)> {
    let (root, loaded) = ensure_project(state, path, |_| {})?;
    if let Some(files) = loaded {
        return Some((root, files));
    }
    hold_point("hold-reload", &root.join(".showrunner").join("go"));
    if relative(&root, path) == CONFIG_FILE {
        // A new config changes kinds and everything else: the whole project again.
        let ((), files) = reread_project(state, &root, || ());
        return Some((root, files));
    }
    let _one = disk_reads();
    // The same reader as indexing: a file that is not UTF-8, too large or unreadable becomes
    // SR015, not text with replacement characters.
    let max = lock(state).projects.get(&root).map(|p| p.analysis.config.max_file_bytes)?;
    let rel = relative(&root, path);
    let kind = classify(&rel)?;
    let content = path.exists().then(|| showrunner_store::discover::read_source(rel, path, kind, max).content);
    lock(state).apply_disk(path, content)
}

/// Reads of the disk that go into the session, one at a time: a whole project read again while
/// one of its files is read (or two projects reads, two timeline switches) could put the older
/// read in last, and the session would keep text the disk no longer has — with nothing left to
/// tell it, the watcher's events for those writes having been taken already.
fn disk_reads() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `write` (which may change the project's files on disk), then reads the project at `root`
/// again and installs it; one such read at a time ([`disk_reads`]).
pub fn reread_project<R>(state: &Mutex<State>, root: &Path, write: impl FnOnce() -> R) -> (R, Vec<usize>) {
    let _one = disk_reads();
    let r = write();
    let project = Project::load(root);
    let files = lock(state).install(root, project);
    (r, files)
}

/// Crash tests' marker: with `SHOWRUNNER_FAULT=update-panic`, an analysis update of a project
/// holding this text panics half-way (after the change went in).
const FAULT_MARK: &str = "SHOWRUNNER-FAULT-UPDATE-PANIC";

fn fault_point(point: &str, hit: impl FnOnce() -> bool) {
    static FAULT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let set = FAULT.get_or_init(|| std::env::var("SHOWRUNNER_FAULT").ok());
    if set.as_deref() == Some(point) && hit() {
        panic!("fault injected at {point}");
    }
}

/// Tests' hold: with `SHOWRUNNER_FAULT=<point>`, waits here until `release` exists (a minute at
/// most), so a test can act while, say, a project is still being read.
fn hold_point(point: &str, release: &Path) {
    if std::env::var("SHOWRUNNER_FAULT").is_ok_and(|v| v == point) {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !release.exists() && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}
