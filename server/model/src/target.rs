//! What a command is about, as a writer names it: the whole project, a part of the story (a
//! season, arc, act or chapter id), a scene (its id or file) or a folder of scenes. One reading
//! for every command that takes targets: exports, batches.

use crate::analysis::Analysis;
use crate::kind::structure_level;
use crate::story::Story;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Project,
    /// A season, arc, act or chapter: `kind` is its level's name.
    Structure {
        id: String,
        kind: String,
        name: String,
    },
    Scene {
        id: String,
        path: String,
    },
    /// The scenes in a folder (relative to the project, no trailing `/`), at any depth.
    Folder {
        path: String,
    },
}

impl Target {
    /// Reads a target; `None`, empty, `.` and the project's name are the whole project.
    pub fn resolve(analysis: &Analysis, target: Option<&str>) -> Result<Target, String> {
        let Some(raw) = target.map(str::trim).filter(|t| !t.is_empty() && *t != ".") else {
            return Ok(Target::Project);
        };
        if raw == analysis.config.name {
            return Ok(Target::Project);
        }
        if let Some(b) = analysis.bucket(raw) {
            let kind = &b.bucket.kind.value;
            return match structure_level(kind) {
                Some(_) if kind != "scene" => Ok(Target::Structure {
                    id: raw.to_string(),
                    kind: kind.clone(),
                    name: b.bucket.name.value.clone(),
                }),
                _ => Err(format!(
                    "`{raw}` is a {kind} bucket, not a part of the story: give a season, arc, act or chapter id, a scene id or a scene file"
                )),
            };
        }
        let path = raw.replace('\\', "/");
        let path = path.trim_start_matches("./").trim_end_matches('/');
        for entry in &analysis.scenes {
            let file = &analysis.files[entry.file].path;
            if entry.scene.id.value == raw || file == path {
                return Ok(Target::Scene { id: entry.scene.id.value.clone(), path: file.clone() });
            }
        }
        let folder = format!("{path}/");
        if !path.is_empty() && analysis.scenes.iter().any(|s| analysis.files[s.file].path.starts_with(&folder)) {
            return Ok(Target::Folder { path: path.to_string() });
        }
        let candidates = analysis
            .buckets
            .iter()
            .filter(|b| structure_level(&b.bucket.kind.value).is_some())
            .map(|b| b.bucket.id.value.as_str())
            .chain(analysis.scenes.iter().map(|s| s.scene.id.value.as_str()));
        let hint = crate::id::closest(raw, candidates).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default();
        Err(format!(
            "nothing called `{raw}` in project \"{}\": give a season, arc, act or chapter id, a scene id, a scene file or a folder of scenes{hint}",
            analysis.config.name
        ))
    }

    /// The target's scenes (indices into `analysis.scenes`), in reading order.
    pub fn scenes(&self, analysis: &Analysis, story: &Story) -> Vec<usize> {
        story
            .order
            .iter()
            .copied()
            .filter(|&s| {
                let path = &analysis.files[analysis.scenes[s].file].path;
                match self {
                    Target::Project => true,
                    Target::Structure { id, .. } => {
                        let entry = &analysis.scenes[s].scene;
                        entry.parent.as_ref().is_some_and(|p| &p.value == id)
                            || story.chain(analysis, s).iter().any(|&b| analysis.buckets[b].bucket.id.value == *id)
                    }
                    Target::Scene { path: p, .. } => path == p,
                    Target::Folder { path: folder } => {
                        path.strip_prefix(folder.as_str()).is_some_and(|rest| rest.starts_with('/'))
                    }
                }
            })
            .collect()
    }

    /// How the target is named in messages: `chapter `ch02``, `scene story/a.md`.
    pub fn describe(&self, project: &str) -> String {
        match self {
            Target::Project => format!("project \"{project}\""),
            Target::Structure { id, kind, .. } => format!("{kind} `{id}`"),
            Target::Scene { path, .. } => format!("scene {path}"),
            Target::Folder { path } => format!("folder {path}/"),
        }
    }
}
