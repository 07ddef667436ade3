//! Finding projects and reading their files from disk.
//!
//! A project is a folder holding `showrunner.yaml`; projects may nest, and each file belongs to
//! the innermost project above it. Story files are recognised by place and name (spec 1):
//! `buckets/**/*.yaml`, `story/**/*.md`, `**/*.scene.md`, `**/*.fountain`. Reading never fails
//! as a whole: a file that cannot be used (not UTF-8, too large, unreadable, a symlink loop)
//! becomes [`Content::Unreadable`] with a message, and its neighbours are read as usual.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use showrunner_model::analysis::{Content, FileKind, SourceFile};
use showrunner_model::config::{ProjectConfig, CONFIG_FILE};
use showrunner_model::scene::SceneFormat;
use showrunner_model::text::LineIndex;
use walkdir::WalkDir;

use crate::StoreError;

/// Folders never entered: machine state, version control, build output.
fn is_ignored_dir(name: &str) -> bool {
    name.starts_with('.') || matches!(name, "node_modules" | "target")
}

/// Every project at or below `dir`; if there is none, the project enclosing `dir`.
pub fn find_projects(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    if !dir.is_dir() {
        return Err(StoreError::NotADirectory(dir.to_path_buf()));
    }
    let mut roots = Vec::new();
    let walker = WalkDir::new(dir).follow_links(true).sort_by_file_name().into_iter().filter_entry(|e| {
        e.depth() == 0 || !e.file_type().is_dir() || !is_ignored_dir(&e.file_name().to_string_lossy())
    });
    for entry in walker.flatten() {
        if entry.file_type().is_file() && entry.file_name() == CONFIG_FILE {
            if let Some(parent) = entry.path().parent() {
                roots.push(parent.to_path_buf());
            }
        }
    }
    if roots.is_empty() {
        let abs = dir.canonicalize().map_err(|e| StoreError::Io(dir.to_path_buf(), e))?;
        if let Some(root) = abs.ancestors().skip(1).find(|a| a.join(CONFIG_FILE).is_file()) {
            roots.push(root.to_path_buf());
        }
    }
    if roots.is_empty() {
        return Err(StoreError::NoProject(dir.to_path_buf()));
    }
    Ok(roots)
}

/// The project a file or folder belongs to: the nearest folder at or above it holding
/// `showrunner.yaml`.
pub fn project_of(path: &Path) -> Result<PathBuf, StoreError> {
    let abs = path.canonicalize().map_err(|e| StoreError::Io(path.to_path_buf(), e))?;
    let start = if abs.is_dir() { abs.as_path() } else { abs.parent().unwrap_or(&abs) };
    start
        .ancestors()
        .find(|a| a.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| StoreError::NoProject(path.to_path_buf()))
}

/// The project folder exports go to by default; nothing in it is read as part of the story.
pub const EXPORTS_DIR: &str = "exports";

/// What kind of story file a project-relative path is, if any.
pub fn classify(rel: &str) -> Option<FileKind> {
    if rel == CONFIG_FILE {
        return Some(FileKind::Config);
    }
    // `showrunner export` writes there by default: an exported `.fountain` is no scene.
    if rel.starts_with(EXPORTS_DIR) && rel.as_bytes().get(EXPORTS_DIR.len()) == Some(&b'/') {
        return None;
    }
    let lower = rel.to_lowercase();
    if lower.ends_with(".fountain") {
        return Some(FileKind::Scene(SceneFormat::Fountain));
    }
    if lower.ends_with(".scene.md") || (rel.starts_with("story/") && lower.ends_with(".md")) {
        return Some(FileKind::Scene(SceneFormat::Markdown));
    }
    if rel.starts_with("buckets/") && (lower.ends_with(".yaml") || lower.ends_with(".yml")) {
        return Some(FileKind::Bucket);
    }
    None
}

/// A file read from disk, with the hash of its bytes (for incremental indexing).
#[derive(Debug, Clone)]
pub struct ReadFile {
    pub source: SourceFile,
    pub hash: u64,
}

/// Whether a path (a symbolic link) resolves to somewhere inside `canonical_root`.
pub fn points_inside(path: &Path, canonical_root: &Path) -> bool {
    path.canonicalize().is_ok_and(|target| target.starts_with(canonical_root))
}

/// Reads `showrunner.yaml` of a project (if readable) for settings needed before the walk.
pub fn read_config_text(root: &Path) -> Option<String> {
    std::fs::read(root.join(CONFIG_FILE)).ok().and_then(|b| String::from_utf8(b).ok())
}

/// Lists and reads every story file of the project at `root`, skipping nested projects.
pub fn read_project_files(root: &Path, config: &ProjectConfig) -> Vec<ReadFile> {
    let mut found: Vec<(String, PathBuf, FileKind)> = Vec::new();
    let mut problems: Vec<ReadFile> = Vec::new();
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    // Symlinks inside the project are followed; one that leads outside it is not (a project
    // never reads, or later writes, a file elsewhere on the machine).
    let mut outside: Vec<String> = Vec::new();
    for entry in walk(root, &canonical_root, &mut outside) {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let rel = relative(root, e.path());
                if let Some(kind) = classify(&rel) {
                    found.push((rel, e.path().to_path_buf(), kind));
                }
            }
            Ok(_) => {}
            Err(err) => {
                let path = err.path().map(|p| relative(root, p)).unwrap_or_default();
                let message = match err.loop_ancestor() {
                    Some(anc) => {
                        format!("symlink loop: `{path}` points back to `{}`; not followed", relative(root, anc))
                    }
                    None => format!(
                        "cannot read `{path}`: {}",
                        err.io_error().map(|e| e.to_string()).unwrap_or_else(|| err.to_string())
                    ),
                };
                let kind = classify(&path).unwrap_or(FileKind::Other);
                problems.push(ReadFile {
                    source: SourceFile { path, kind, content: Content::Unreadable(message) },
                    hash: 0,
                });
            }
        }
    }
    for path in outside {
        if let Some(kind) = classify(&path) {
            let message = format!("`{path}` is a symbolic link to a place outside the project; not followed");
            problems
                .push(ReadFile { source: SourceFile { path, kind, content: Content::Unreadable(message) }, hash: 0 });
        }
    }
    let max = config.max_file_bytes;
    let mut files: Vec<ReadFile> =
        found.into_par_iter().map(|(rel, abs, kind)| read_one(rel, &abs, kind, max)).collect();
    files.extend(problems);
    files
}

/// The walk of a project's folders that [`read_project_files`] and [`fingerprint`] share.
/// Symlinks inside the project are followed; one that leads outside it is not (a project never
/// reads, or later writes, a file elsewhere on the machine): its path goes to `outside`.
fn walk<'a>(
    root: &'a Path,
    canonical_root: &'a Path,
    outside: &'a mut Vec<String>,
) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> + 'a {
    WalkDir::new(root).follow_links(true).sort_by_file_name().into_iter().filter_entry(move |e| {
        if e.depth() > 0 && e.path_is_symlink() && !points_inside(e.path(), canonical_root) {
            outside.push(relative(root, e.path()));
            return false;
        }
        if e.depth() == 0 || !e.file_type().is_dir() {
            return true;
        }
        let name = e.file_name().to_string_lossy();
        // A nested project is its own world.
        !is_ignored_dir(&name) && !e.path().join(CONFIG_FILE).is_file()
    })
}

/// A stamp of what [`read_project_files`] would read, from the folders' listing and each story
/// file's metadata (path, size, modification and change times, inode), reading no contents:
/// a file written, added, removed or replaced changes it. For a reader that keeps a loaded
/// project between requests and must see the disk as it is now (`showrunner mcp`).
pub fn fingerprint(root: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut outside: Vec<String> = Vec::new();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for entry in walk(root, &canonical_root, &mut outside) {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let rel = relative(root, e.path());
                if classify(&rel).is_none() {
                    continue;
                }
                rel.hash(&mut h);
                match e.metadata() {
                    Ok(m) => {
                        m.len().hash(&mut h);
                        m.modified().ok().hash(&mut h);
                        #[cfg(unix)]
                        {
                            use std::os::unix::fs::MetadataExt;
                            (m.ino(), m.ctime(), m.ctime_nsec()).hash(&mut h);
                        }
                    }
                    Err(err) => err.to_string().hash(&mut h),
                }
            }
            Ok(_) => {}
            Err(err) => err.to_string().hash(&mut h),
        }
    }
    outside.hash(&mut h);
    h.finish()
}

/// One file as indexing reads it (`rel` relative to its project): its text, or why it cannot be
/// used (SR015). Changes seen on disk later are read through here too.
pub fn read_source(rel: String, abs: &Path, kind: FileKind, max: u64) -> SourceFile {
    read_one(rel, abs, kind, max).source
}

fn read_one(rel: String, abs: &Path, kind: FileKind, max: u64) -> ReadFile {
    let unreadable = |rel: String, msg: String| ReadFile {
        source: SourceFile { path: rel, kind, content: Content::Unreadable(msg) },
        hash: 0,
    };
    match std::fs::metadata(abs) {
        Ok(m) if m.len() > max => {
            let msg = format!(
                "file is {:.1} MB, over the {} MB limit; not indexed (raise `index: {{ max_file_mb: N }}` in showrunner.yaml, or split the file)",
                m.len() as f64 / 1_048_576.0,
                max / 1_048_576
            );
            return unreadable(rel, msg);
        }
        Ok(_) => {}
        Err(e) => return unreadable(rel, format!("cannot read file: {e}")),
    }
    let bytes = match std::fs::read(abs) {
        Ok(b) => b,
        Err(e) => return unreadable(rel, format!("cannot read file: {e}")),
    };
    let hash = xxhash_rust::xxh3::xxh3_64(&bytes);
    match String::from_utf8(bytes) {
        Ok(text) => ReadFile { source: SourceFile { path: rel, kind, content: Content::Text(Arc::from(text)) }, hash },
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let prefix = std::str::from_utf8(&err.as_bytes()[..valid]).unwrap_or("");
            let at = LineIndex::new(prefix).line_col(prefix, valid);
            let msg = format!(
                "file is not valid UTF-8 (first bad byte at line {}, column {}); skipped: save it as UTF-8",
                at.line, at.column
            );
            ReadFile { source: SourceFile { path: rel, kind, content: Content::Unreadable(msg) }, hash }
        }
    }
}

/// `path` relative to `root`, with `/` separators.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_spec_layout() {
        assert_eq!(classify("showrunner.yaml"), Some(FileKind::Config));
        assert_eq!(classify("buckets/people/alice.yaml"), Some(FileKind::Bucket));
        assert_eq!(classify("buckets/a.yml"), Some(FileKind::Bucket));
        assert_eq!(classify("story/ch1/one.md"), Some(FileKind::Scene(SceneFormat::Markdown)));
        assert_eq!(classify("notes/x.scene.md"), Some(FileKind::Scene(SceneFormat::Markdown)));
        assert_eq!(classify("drafts/ep.fountain"), Some(FileKind::Scene(SceneFormat::Fountain)));
        assert_eq!(classify("exports/the-lighthouse.fountain"), None);
        assert_eq!(classify("exports-old/ep.fountain"), Some(FileKind::Scene(SceneFormat::Fountain)));
        assert_eq!(classify("README.md"), None);
        assert_eq!(classify("notes/x.yaml"), None);
        assert_eq!(classify("workflows/a.yaml"), None);
    }
}
