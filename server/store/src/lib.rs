//! Showrunner's storage edge: the file system and SQLite.
//!
//! - [`discover`]: find projects, list and read their story files (never failing as a whole);
//! - [`index`]: the derived SQLite index at `.showrunner/index.db`;
//! - [`search`]: full-text search over the story and the project's memory (runs, history), in that index;
//! - [`fsx`]: atomic writes of project files;
//! - [`buckets`]: new bucket files, through the history;
//! - [`history`]: the event log, the one write path, timelines and crash recovery;
//! - [`sqlite`]: how every SQLite file is opened and written, so processes can share them;
//! - [`load_project`]: read and analyse one project, optionally bringing its index up to date.
//!
//! The domain logic lives in `showrunner-model`; this crate only feeds it and stores its results.

pub mod buckets;
pub mod discover;
pub mod editing;
pub mod fsx;
pub mod history;
pub mod index;
pub mod progress;
pub mod runs;
pub mod search;
pub mod sqlite;
pub mod user;

use std::path::{Path, PathBuf};

use showrunner_model::analysis::{analyze, Analysis};
use showrunner_model::config::{parse_config, ProjectConfig};

pub use index::Index;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no showrunner.yaml found in {0} or any folder above it; create a project with `showrunner init`")]
    NoProject(PathBuf),
    #[error("{0} is not a folder")]
    NotADirectory(PathBuf),
    #[error("cannot access {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error("index database: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// A project read from disk and analysed.
pub struct Project {
    pub root: PathBuf,
    pub analysis: Analysis,
    /// Content hash of each of `analysis.files` (same order).
    pub hashes: Vec<u64>,
}

/// Reads and analyses the project at `root`.
pub fn load_project(root: &Path) -> Project {
    let fallback_name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".into());
    let config = match discover::read_config_text(root) {
        Some(text) => parse_config(&text, &fallback_name).0,
        None => ProjectConfig::with_name(&fallback_name),
    };
    let files = discover::read_project_files(root, &config);
    let (sources, hashes): (Vec<_>, Vec<_>) = files.into_iter().map(|f| (f.source, f.hash)).unzip();
    let analysis = analyze(&fallback_name, sources);
    // `analyze` keeps the file order, so the hashes still line up.
    Project { root: root.to_path_buf(), analysis, hashes }
}

/// Re-reads the project and brings its index up to date (the last step of the write path).
pub fn reindex(root: &Path) -> Result<index::SyncStats, StoreError> {
    let project = load_project(root);
    Index::open(&index_path(root))?.sync(&project.analysis, &project.hashes)
}

/// Where a project's index lives.
pub fn index_path(root: &Path) -> PathBuf {
    root.join(".showrunner").join("index.db")
}
