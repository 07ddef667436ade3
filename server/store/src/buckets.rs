//! New buckets: `buckets/<kind>/<id>.yaml` with a fresh id, written through the history.
//!
//! This module sits above [`crate::history`], which it writes through; the history in turn writes
//! with [`crate::fsx`]. So the dependency goes one way: buckets → history → fsx.

use std::path::{Path, PathBuf};

use showrunner_model::id::{is_valid_id, slugify};
use showrunner_model::kind::Kinds;

use crate::history::{Change, History, HistoryError};

/// Why a bucket was not created.
#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    #[error("a bucket needs a one-line name")]
    Name,
    #[error("unknown kind `{kind}`; known kinds are {known}")]
    Kind { kind: String, known: String },
    #[error("parent `{0}` is not a valid bucket id")]
    Parent(String),
    #[error("cannot make an id from `{0}`")]
    NoId(String),
    #[error(transparent)]
    History(#[from] HistoryError),
}

#[derive(Debug, Clone)]
pub struct NewBucket<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub aliases: &'a [String],
    pub parent: Option<&'a str>,
}

/// Creates `buckets/<kind>/<id>.yaml` for a new bucket, with an id made from its name that no
/// existing bucket uses (`taken`), through the history write path. Returns the id and the path.
pub fn create_bucket(
    root: &Path,
    kinds: &Kinds,
    new: &NewBucket<'_>,
    taken: &dyn Fn(&str) -> bool,
    actor: &str,
) -> Result<(String, PathBuf), BucketError> {
    let name = new.name.trim();
    if name.is_empty() || name.contains(['\n', '\r']) {
        return Err(BucketError::Name);
    }
    if !kinds.contains(new.kind) || !is_valid_id(new.kind) {
        let known: Vec<&str> = kinds.names().collect();
        return Err(BucketError::Kind { kind: new.kind.to_string(), known: known.join(", ") });
    }
    if let Some(p) = new.parent {
        if !is_valid_id(p) {
            return Err(BucketError::Parent(p.to_string()));
        }
    }
    let base = slugify(name).ok_or_else(|| BucketError::NoId(name.to_string()))?;
    let dir = root.join("buckets").join(new.kind);
    let mut id = base.clone();
    let mut n = 2;
    while taken(&id) || dir.join(format!("{id}.yaml")).exists() {
        id = format!("{base}-{n}");
        n += 1;
    }
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut yaml = format!("id: {id}\nkind: {}\nname: {}\n", new.kind, quote(name));
    if !new.aliases.is_empty() {
        let list: Vec<String> = new.aliases.iter().map(|a| quote(a)).collect();
        yaml.push_str(&format!("aliases: [{}]\n", list.join(", ")));
    }
    if let Some(p) = new.parent {
        yaml.push_str(&format!("parent: {p}\n"));
    }
    yaml.push_str("summary: \n");
    let path = dir.join(format!("{id}.yaml"));
    let rel = crate::discover::relative(root, &path);
    let mut history = History::open(root)?;
    history.write(&Change {
        path: &rel,
        content: Some(yaml.as_bytes()),
        expected_version: Some(0),
        actor,
        kind: "bucket.create",
        container: Some(&id),
        payload: serde_json::json!({ "kind": new.kind, "name": name }),
        id: None,
    })?;
    Ok((id, path))
}
