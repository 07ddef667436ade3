//! Where an export goes, and writing it: the one entry point the CLI and the language server call;
//! and an import (FDX → Fountain) written the same careful way.
//!
//! Without `-o` an export goes to `exports/<target>.<format>` in the project (the folder is
//! created; nothing in it is read as part of the story). An output path never lands in
//! `story/`, `buckets/` or `.showrunner/`, never on `showrunner.yaml` or on a file the project
//! reads as a scene (so never on a file open in an editor as part of the story), and its folder
//! must exist. The language server also keeps it inside the project. Writes are atomic.

use std::path::{Component, Path, PathBuf};

use showrunner_model::analysis::Analysis;
use showrunner_store::discover::{classify, EXPORTS_DIR};

use crate::plan::{plan, Plan};
use crate::{ExportError, Format};

/// Where an output path may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place<'a> {
    /// Anywhere the user can write (the command line).
    Anywhere,
    /// Inside the project only, and never on a file `open` in the editor (an editor's command:
    /// the editor's buffer of a past export is not replaced under it).
    InsideProject { open: &'a [PathBuf] },
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub format: Format,
    pub bytes: usize,
    pub scenes: usize,
    pub words: usize,
    /// What the format could not hold (e.g. FDX: "2 synopses"), for the writer to know.
    pub left_out: Vec<String>,
}

/// What a format needs beyond the plan: an EPUB's cover and modification time.
#[derive(Default)]
pub struct Assets {
    pub cover: Option<crate::epub::Cover>,
    /// `CCYY-MM-DDThh:mm:ssZ`.
    pub modified: String,
}

impl Assets {
    /// The cover (`cover.jpg`, `cover.jpeg` or `cover.png` at the project root) and now.
    pub fn of_project(root: &Path) -> Assets {
        let cover = [("cover.jpg", "image/jpeg"), ("cover.jpeg", "image/jpeg"), ("cover.png", "image/png")]
            .iter()
            .find_map(|(name, media_type)| {
                std::fs::read(root.join(name)).ok().map(|bytes| crate::epub::Cover { bytes, media_type })
            });
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let day = showrunner_model::goals::Date::from_days((secs / 86_400) as i64);
        let t = secs % 86_400;
        let modified = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            day.year,
            day.month,
            day.day,
            t / 3600,
            t / 60 % 60,
            t % 60
        );
        Assets { cover, modified }
    }
}

/// Told as an export goes: each chapter rendered (of how many), then the bytes written.
pub trait Progress {
    fn chapter(&self, _done: usize, _of: usize) {}
    fn writing(&self, _bytes: usize) {}
}

/// Nobody is told.
impl Progress for () {}

/// What a progress display says while the file is written: "writing 1,204 KB".
pub fn writing_message(bytes: usize) -> String {
    format!("writing {} KB", showrunner_model::text::group_digits(bytes.div_ceil(1024)))
}

/// Renders a plan in a format: the bytes, and what the format could not hold.
pub fn render(plan: &Plan, format: Format, assets: &Assets) -> Result<(Vec<u8>, Vec<String>), ExportError> {
    render_with(plan, format, assets, &())
}

/// [`render`], telling `progress` of each chapter.
pub fn render_with(
    plan: &Plan,
    format: Format,
    assets: &Assets,
    progress: &dyn Progress,
) -> Result<(Vec<u8>, Vec<String>), ExportError> {
    let tell = Tell { progress, of: plan.chapters.len() };
    match format {
        Format::Md => Ok((crate::plain::markdown_with(plan, &tell).into_bytes(), Vec::new())),
        Format::Fountain => Ok((crate::plain::fountain_with(plan, &tell).into_bytes(), Vec::new())),
        Format::Docx => Ok((crate::docx::docx_with(plan, &tell)?, Vec::new())),
        Format::Fdx => crate::fdx::fdx_with(plan, &tell).map(|f| (f.xml, f.left_out)),
        Format::Epub => {
            let modified = if assets.modified.is_empty() { "2000-01-01T00:00:00Z" } else { &assets.modified };
            let cover = assets.cover.as_ref();
            Ok((crate::epub::epub_with(plan, &plan.meta.language, cover, modified, &tell)?, Vec::new()))
        }
        Format::Pdf => crate::pdf::pdf_with(plan, &tell),
    }
}

/// How far a renderer is: the chapters it has rendered, told as they go.
pub(crate) struct Tell<'a> {
    progress: &'a dyn Progress,
    of: usize,
}

impl Tell<'_> {
    /// Chapter `index` (0-based) is rendered.
    pub(crate) fn done(&self, index: usize) {
        self.progress.chapter(index + 1, self.of);
    }

    /// Nobody is told (a renderer called on its own).
    pub(crate) const NOBODY: Tell<'static> = Tell { progress: &(), of: 0 };
}

/// Plans, renders and writes an export of `target` from the project at `root` (its analysis),
/// telling `progress` as it goes (`&()`: nobody). `out`: absolute, or relative to the project
/// root; a folder means a file named after the target in it.
pub fn export(
    analysis: &Analysis,
    root: &Path,
    format: Format,
    target: Option<&str>,
    out: Option<&Path>,
    place: Place<'_>,
    progress: &dyn Progress,
) -> Result<Written, ExportError> {
    let plan = plan(analysis, target)?;
    let file_name = format!("{}.{}", plan.file_stem(), format.extension());
    let path = output_path(analysis, root, out, &file_name, place)?;
    let assets = if format == Format::Epub { Assets::of_project(root) } else { Assets::default() };
    let (bytes, left_out) = render_with(&plan, format, &assets, progress)?;
    progress.writing(bytes.len());
    if out.is_none() {
        std::fs::create_dir_all(path.parent().unwrap_or(root))
            .map_err(|e| ExportError::Write(path.clone(), e.to_string()))?;
    }
    showrunner_store::fsx::write_atomic(&path, &bytes).map_err(|e| match e {
        showrunner_store::StoreError::Io(_, io) => ExportError::Write(path.clone(), io.to_string()),
        other => ExportError::Write(path.clone(), other.to_string()),
    })?;
    Ok(Written { path, format, bytes: bytes.len(), scenes: plan.scenes().count(), words: plan.words(), left_out })
}

/// `..` and `.` taken out without touching the disk.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The checked output path (see the module documentation).
pub fn output_path(
    analysis: &Analysis,
    root: &Path,
    out: Option<&Path>,
    file_name: &str,
    place: Place<'_>,
) -> Result<PathBuf, ExportError> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let path = story_safe_path(analysis, &root, out, file_name, place)?;
    // Open in another process's editor (its language server lists it).
    if let Ok(rel) = path.strip_prefix(&root) {
        let rel = rel.to_string_lossy().replace('\\', "/");
        if let Some(pid) = showrunner_store::editing::open_elsewhere(&root, &rel) {
            return Err(ExportError::Output(format!(
                "will not write an export over {rel}: it is open in an editor (its language server is process {pid}); close it or export under another name"
            )));
        }
    }
    if let Place::InsideProject { open } = place {
        if open.iter().any(|o| o.canonicalize().is_ok_and(|o| o == path)) {
            return Err(ExportError::Output(format!(
                "will not write an export over {}: it is open in the editor; close it or export under another name",
                path.display()
            )));
        }
    }
    Ok(path)
}

/// The output path, checked against the story and the project's bounds (`root` canonical).
fn story_safe_path(
    analysis: &Analysis,
    root: &Path,
    out: Option<&Path>,
    file_name: &str,
    place: Place<'_>,
) -> Result<PathBuf, ExportError> {
    let root = root.to_path_buf();
    let Some(out) = out else {
        return Ok(root.join(EXPORTS_DIR).join(file_name));
    };
    let shown = out.display().to_string();
    let mut path = lexical(&root.join(out));
    if path.is_dir() {
        path = path.join(file_name);
    }
    let parent = path.parent().map(Path::to_path_buf).unwrap_or_else(|| root.clone());
    let Ok(parent) = parent.canonicalize() else {
        return Err(ExportError::Output(format!(
            "cannot write {shown}: the folder {} does not exist",
            parent.display()
        )));
    };
    let Some(name) = path.file_name() else {
        return Err(ExportError::Output(format!("{shown} names no file")));
    };
    let path = parent.join(name);
    match path.strip_prefix(&root) {
        Ok(rel) => {
            let rel = rel.to_string_lossy().replace('\\', "/");
            let first = rel.split('/').next().unwrap_or("");
            if matches!(first, "story" | "buckets" | ".showrunner") {
                return Err(ExportError::Output(format!(
                    "will not write an export into {first}/ ({shown}): that folder is the story itself; use exports/ or a folder outside the project"
                )));
            }
            if classify(&rel).is_some() || analysis.file_index(&rel).is_some() {
                return Err(ExportError::Output(format!(
                    "will not write an export over {rel}: the project reads that file as part of the story; use exports/ or another name"
                )));
            }
        }
        Err(_) if place != Place::Anywhere => {
            return Err(ExportError::Output(format!(
                "the output path {shown} leaves the project; give a path inside it (the default is {EXPORTS_DIR}/{file_name})"
            )));
        }
        Err(_) => {}
    }
    if path.is_dir() {
        return Err(ExportError::Output(format!("{shown} is a folder")));
    }
    // An export replaces only a file of its own kind: never `/etc/passwd`, a script or a photo.
    let ext = Path::new(file_name).extension().and_then(|e| e.to_str()).unwrap_or("");
    let same_kind = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if path.exists() && !same_kind {
        return Err(ExportError::Output(format!(
            "will not overwrite {}: it exists and is not a .{ext} file",
            path.display()
        )));
    }
    Ok(path)
}

/// `showrunner import fdx FILE [-o FILE]`: the Fountain text of an FDX file, written to `out`
/// (default: FILE with `.fountain`, beside it). An existing file is never replaced.
pub fn import_fdx(file: &Path, out: Option<&Path>) -> Result<(PathBuf, Vec<String>), ExportError> {
    let bytes = std::fs::read(file).map_err(|e| ExportError::Output(format!("cannot read {}: {e}", file.display())))?;
    let xml = String::from_utf8(bytes)
        .map_err(|_| ExportError::Output(format!("{} is not UTF-8 text (an FDX file is UTF-8 XML)", file.display())))?;
    let imported = crate::fdx::fdx_to_fountain(xml.strip_prefix('\u{feff}').unwrap_or(&xml))
        .map_err(|e| ExportError::Output(format!("{}: {e}", file.display())))?;
    let path = out.map(Path::to_path_buf).unwrap_or_else(|| file.with_extension("fountain"));
    if path.exists() {
        return Err(ExportError::Output(format!(
            "{} exists; choose another name with -o (an import never replaces a file)",
            path.display()
        )));
    }
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) if !parent.is_dir() => {
            return Err(ExportError::Output(format!(
                "cannot write {}: the folder {} does not exist",
                path.display(),
                parent.display()
            )))
        }
        _ => {}
    }
    showrunner_store::fsx::write_atomic(&path, imported.fountain.as_bytes())
        .map_err(|e| ExportError::Write(path.clone(), e.to_string()))?;
    Ok((path, imported.left_out))
}
