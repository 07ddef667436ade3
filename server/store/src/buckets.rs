//! New buckets: `<folder>/<id>.yaml` with a fresh id, written through the history, in the folder
//! the project already uses for that kind ([`folder_for_kind`]).
//!
//! This module sits above [`crate::history`], which it writes through; the history in turn writes
//! with [`crate::fsx`]. So the dependency goes one way: buckets → history → fsx.

use std::path::{Path, PathBuf};

use showrunner_model::id::{is_valid_id, slugify};
use showrunner_model::kind::{structure_level, Kinds};

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

/// The project-relative folder new buckets of `kind` go to, for every edge (the command line,
/// the editor's quick fix and command, the AI's tools): where the project keeps most buckets of
/// that kind; for a structure kind with none yet, where most structure buckets are; else
/// `buckets/<kind>s` (`buckets/research` stays singular).
pub fn folder_for_kind(root: &Path, kind: &str) -> String {
    use std::collections::BTreeMap;
    let mut same: BTreeMap<String, usize> = BTreeMap::new();
    let mut structure: BTreeMap<String, usize> = BTreeMap::new();
    let buckets = root.join("buckets");
    let walker = walkdir::WalkDir::new(&buckets).sort_by_file_name().into_iter().filter_entry(|e| {
        e.depth() == 0 || !e.file_type().is_dir() || !e.file_name().to_string_lossy().starts_with('.')
    });
    for e in walker.flatten() {
        let name = e.file_name().to_string_lossy().to_lowercase();
        if !e.file_type().is_file() || !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let Some(text) = std::fs::read(e.path()).ok().and_then(|b| String::from_utf8(b).ok()) else { continue };
        let parsed = showrunner_model::yaml::parse(&text);
        let Some(k) = parsed.root.as_ref().and_then(|r| r.get("kind")).and_then(|k| k.as_str().map(str::to_string))
        else {
            continue;
        };
        let Some(dir) = e.path().parent() else { continue };
        let dir = crate::discover::relative(root, dir);
        if k == kind {
            *same.entry(dir.clone()).or_default() += 1;
        }
        if structure_level(&k).is_some() {
            *structure.entry(dir).or_default() += 1;
        }
    }
    // The most used folder; the first in name order on a tie.
    let most =
        |m: &BTreeMap<String, usize>| m.iter().max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0))).map(|(d, _)| d.clone());
    if let Some(dir) = most(&same) {
        return dir;
    }
    if structure_level(kind).is_some() {
        if let Some(dir) = most(&structure) {
            return dir;
        }
    }
    format!("buckets/{}", plural(kind))
}

/// An English plural for a folder name (`character` → `characters`, `ally` → `allies`).
fn plural(kind: &str) -> String {
    if kind == "research" {
        return kind.to_string();
    }
    if ["s", "x", "ch", "sh"].iter().any(|end| kind.ends_with(end)) {
        return format!("{kind}es");
    }
    match kind.strip_suffix('y') {
        Some(stem) if stem.chars().last().is_some_and(|c| c.is_ascii_alphabetic() && !"aeiou".contains(c)) => {
            format!("{stem}ies")
        }
        _ => format!("{kind}s"),
    }
}

/// Creates `<folder>/<id>.yaml` for a new bucket (the folder per [`folder_for_kind`]), with an id made from its name that no
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
    let dir = root.join(folder_for_kind(root, new.kind));
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
    // A placeholder that says what the field is for; as a comment, no empty value reaches hovers
    // or the AI.
    yaml.push_str(&format!("# summary: who or what {name} is, in one line (hovers show it, the AI reads it)\n"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural("character"), "characters");
        assert_eq!(plural("note"), "notes");
        assert_eq!(plural("research"), "research");
        assert_eq!(plural("ally"), "allies");
        assert_eq!(plural("day"), "days");
        assert_eq!(plural("box"), "boxes");
        assert_eq!(plural("class"), "classes");
    }

    #[test]
    fn folders_follow_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        showrunner_testkit::write_file(r, "buckets/people/zoë.yaml", "kind: character\nname: Zoë\n");
        showrunner_testkit::write_file(r, "buckets/people/łukasz.yaml", "kind: character\nname: Łukasz\n");
        showrunner_testkit::write_file(r, "buckets/misc/tom.yaml", "kind: character\nname: Tom\n");
        showrunner_testkit::write_file(r, "buckets/plan/ch01.yaml", "kind: chapter\nname: One\n");
        assert_eq!(folder_for_kind(r, "character"), "buckets/people");
        assert_eq!(folder_for_kind(r, "act"), "buckets/plan");
        assert_eq!(folder_for_kind(r, "location"), "buckets/locations");
        assert_eq!(folder_for_kind(r, "research"), "buckets/research");
    }
}
