//! The projects one `showrunner mcp [DIR]` serves: the project DIR is in, or every project under
//! DIR. Each has a short name (its folder relative to DIR, or the folder's name) that tools take
//! as `project` and resource URIs carry. A project read once is kept between requests; each
//! request first compares the project's files' metadata with the kept copy's
//! ([`fingerprint`]) and reads the project again when anything changed, so what an agent sees
//! is what is on disk now (an editor's unsaved text is the writer's, not shared).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use showrunner_store::discover::{find_projects, fingerprint, project_of};
use showrunner_store::{load_project, Project};

#[derive(Clone)]
pub struct Projects {
    /// `(name, root)`, sorted by name.
    pub list: Vec<(String, PathBuf)>,
    /// Each project as last read, with the stamp of its files then.
    loaded: Arc<Mutex<HashMap<PathBuf, Kept>>>,
}

/// A project as read, and the stamp of its files when the read began.
type Kept = (u64, Arc<Project>);

impl Projects {
    /// The projects of `dir`: the project it is in, else every project below it.
    pub fn find(dir: &Path) -> anyhow::Result<Projects> {
        if let Ok(root) = project_of(dir) {
            let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "project".into());
            return Ok(Projects { list: vec![(slug(&name), root)], loaded: Arc::default() });
        }
        let base = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let mut list: Vec<(String, PathBuf)> = find_projects(dir)?
            .into_iter()
            .map(|root| {
                let rel = root.strip_prefix(&base).unwrap_or(&root).to_string_lossy().replace('\\', "/");
                (slug(&rel), root)
            })
            .collect();
        if list.is_empty() {
            anyhow::bail!(
                "no showrunner.yaml in {} or below it: start `showrunner mcp` in a project (or a folder of projects); create one with `showrunner init`",
                dir.display()
            );
        }
        list.sort();
        Ok(Projects { list, loaded: Arc::default() })
    }

    /// The project a request names; with one project, naming none means it.
    pub fn root(&self, name: Option<&str>) -> Result<&Path, String> {
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            None if self.list.len() == 1 => Ok(&self.list[0].1),
            None => Err(format!("this server has several projects; name one with `project`: {}", self.names())),
            Some(n) => self
                .list
                .iter()
                .find(|(name, _)| name == n)
                .map(|(_, r)| r.as_path())
                .ok_or_else(|| format!("no project `{n}`; projects: {}", self.names())),
        }
    }

    pub fn name_of(&self, root: &Path) -> &str {
        self.list.iter().find(|(_, r)| r == root).map(|(n, _)| n.as_str()).unwrap_or("")
    }

    fn names(&self) -> String {
        self.list.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// The project as it is on disk now.
    pub fn load(&self, name: Option<&str>) -> Result<(PathBuf, Arc<Project>), String> {
        let root = self.root(name)?.to_path_buf();
        let project = self.project(&root);
        Ok((root, project))
    }

    /// The project at `root` as it is on disk now: the copy kept from an earlier request when
    /// its files' stamp is unchanged, else read again (and kept).
    pub fn project(&self, root: &Path) -> Arc<Project> {
        // Stamped before reading: a file changed during the read changes the next stamp.
        let stamp = fingerprint(root);
        let kept = self.loaded.lock().unwrap_or_else(|e| e.into_inner()).get(root).cloned();
        if let Some((s, p)) = kept {
            if s == stamp {
                return p;
            }
        }
        let p = Arc::new(load_project(root));
        self.loaded.lock().unwrap_or_else(|e| e.into_inner()).insert(root.to_path_buf(), (stamp, p.clone()));
        p
    }
}

/// A project's name in URIs: its folder path with anything but letters, digits, `-` and `_`
/// (a `/` of a nested folder too) made `-`.
fn slug(rel: &str) -> String {
    let s: String = rel.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    if s.is_empty() || s == "-" {
        "project".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_one_uri_segment() {
        assert_eq!(super::slug("novel"), "novel");
        assert_eq!(super::slug("series/book one"), "series-book-one");
        assert_eq!(super::slug("."), "project");
        assert_eq!(super::slug(""), "project");
    }
}
