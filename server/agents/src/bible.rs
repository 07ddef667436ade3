//! The story bible's questions, answered once for every edge that asks them: the agents' tools
//! (`read_bucket`, `read_scene`, `list_mentions`, `search_buckets`) and the MCP server. A
//! bucket as it stands at a story position (progressions applied), a scene with its position and
//! who it mentions, where an entity is mentioned, and search over the story and the project's
//! memory. Plain data out; the edges decide how it looks.

use std::path::Path;

use serde::Serialize;
use showrunner_context::render::{at_position, full_form};
use showrunner_model::analysis::Analysis;
use showrunner_model::bucket::Positions;
use showrunner_model::text::LineIndex;
use showrunner_pipeline::RunError;
use showrunner_store::search::{search_project, text_hashes, Hit, Query, Scope};

/// A bucket, as the story knows it at a position.
#[derive(Debug, Clone, Serialize)]
pub struct BucketView {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub path: String,
    /// The position its state is read at (empty: before any progression).
    pub at: Vec<(String, i64)>,
    /// Readable Markdown: summary, what changed by then, attributes, relations, body, sources.
    pub text: String,
    /// The bucket file as it is.
    pub yaml: String,
}

/// A scene: where it sits, who it mentions, and its text.
#[derive(Debug, Clone, Serialize)]
pub struct SceneView {
    pub id: String,
    pub path: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pov: Option<String>,
    pub words: usize,
    /// Its position on each timeline (its own or inherited).
    pub position: Vec<(String, i64)>,
    /// Buckets it mentions, most mentioned first: `(id, count)`.
    pub mentions: Vec<(String, usize)>,
    /// The prose (after the frontmatter).
    pub text: String,
}

/// The mentions of an entity in one scene.
#[derive(Debug, Clone, Serialize)]
pub struct MentionsIn {
    pub scene: String,
    pub path: String,
    pub count: usize,
    /// 1-based lines of each mention.
    pub lines: Vec<usize>,
    /// The aliases that matched, each once.
    pub aliases: Vec<String>,
}

fn invalid(message: String) -> RunError {
    RunError::Invalid(message)
}

/// A story position: `timeline:number` (`main:12`), or a scene's id (its position).
pub fn position(a: &Analysis, spec: &str) -> Result<Positions, RunError> {
    let spec = spec.trim();
    if let Some((t, n)) = spec.split_once(':') {
        let n: i64 = n
            .trim()
            .parse()
            .map_err(|_| invalid(format!("`{spec}` is not a position: write `timeline:number`, e.g. main:12")))?;
        return Ok(vec![(t.trim().to_string(), n)]);
    }
    let i = scene_index(a, spec)?;
    Ok(a.scene_positions.get(i).cloned().unwrap_or_default())
}

/// The scene with id (or project-relative path) `want`.
pub fn scene_index(a: &Analysis, want: &str) -> Result<usize, RunError> {
    let want = want.trim();
    a.scenes.iter().position(|s| s.scene.id.value == want || a.files[s.file].path == want).ok_or_else(|| {
        let ids: Vec<&str> = a.scenes.iter().map(|s| s.scene.id.value.as_str()).collect();
        let hint = showrunner_model::id::closest(want, ids.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        invalid(format!("no scene `{want}`{hint}"))
    })
}

/// The bucket `id` at `at` (no position: as it is before any progression).
pub fn read_bucket(a: &Analysis, id: &str, at: Option<&str>) -> Result<BucketView, RunError> {
    let b = a.bucket(id.trim()).ok_or_else(|| {
        let hint = showrunner_model::id::closest(id, a.by_id.keys().map(String::as_str))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        invalid(format!("no bucket `{id}`{hint}"))
    })?;
    let pos = match at {
        Some(spec) if !spec.trim().is_empty() => position(a, spec)?,
        _ => Vec::new(),
    };
    let view = at_position(&b.bucket, &pos);
    Ok(BucketView {
        id: b.bucket.id.value.clone(),
        kind: b.bucket.kind.value.clone(),
        name: b.bucket.name.value.clone(),
        path: a.files[b.file].path.clone(),
        at: pos.clone(),
        text: full_form(&view, a),
        yaml: a.text(b.file).to_string(),
    })
}

/// The scene with id (or path) `want`.
pub fn read_scene(a: &Analysis, want: &str) -> Result<SceneView, RunError> {
    let i = scene_index(a, want)?;
    let s = &a.scenes[i];
    let mut counts: Vec<(String, usize)> = Vec::new();
    for m in &s.mentions {
        let id = &a.buckets[m.bucket as usize].bucket.id.value;
        match counts.iter_mut().find(|(b, _)| b == id) {
            Some(c) => c.1 += 1,
            None => counts.push((id.clone(), 1)),
        }
    }
    counts.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    Ok(SceneView {
        id: s.scene.id.value.clone(),
        path: a.files[s.file].path.clone(),
        title: s.scene.title.clone().unwrap_or_else(|| s.scene.id.value.clone()),
        pov: s.scene.pov.as_ref().map(|p| p.value.clone()),
        words: s.scene.word_count,
        position: a.scene_positions.get(i).cloned().unwrap_or_default(),
        mentions: counts,
        text: a.text(s.file)[s.scene.body.clone()].to_string(),
    })
}

/// Every scene that mentions bucket `id`, in reading order of the files.
pub fn mentions(a: &Analysis, id: &str) -> Result<Vec<MentionsIn>, RunError> {
    let bi = a.by_id.get(id.trim()).copied().ok_or_else(|| invalid(format!("no bucket `{id}`")))?;
    let mut out = Vec::new();
    for s in &a.scenes {
        let ms: Vec<_> = s.mentions.iter().filter(|m| m.bucket == bi).collect();
        if ms.is_empty() {
            continue;
        }
        let text = a.text(s.file);
        let index = LineIndex::new(text);
        let mut aliases: Vec<String> = Vec::new();
        for m in &ms {
            let alias = &a.dictionary.entry(m.alias).alias;
            if !aliases.contains(alias) {
                aliases.push(alias.clone());
            }
        }
        out.push(MentionsIn {
            scene: s.scene.id.value.clone(),
            path: a.files[s.file].path.clone(),
            count: ms.len(),
            lines: ms.iter().map(|m| index.line_of(m.start) + 1).collect(),
            aliases,
        });
    }
    Ok(out)
}

/// Searches the project at `root` (its story as `a` holds it, and its memory); see
/// [`showrunner_store::search`].
pub fn search(root: &Path, a: &Analysis, q: &Query) -> Result<Vec<Hit>, RunError> {
    search_hashed(root, a, &text_hashes(a), q)
}

/// [`search`] of an analysis read from disk, whose files' content hashes the read kept
/// (`showrunner_store::Project::hashes`): nothing hashed again.
pub fn search_hashed(root: &Path, a: &Analysis, hashes: &[u64], q: &Query) -> Result<Vec<Hit>, RunError> {
    search_project(root, a, hashes, q).map_err(RunError::store)
}

/// The agents' `search_buckets`: buckets (not scenes, not runs) whose words match, best first.
pub fn search_buckets(root: &Path, a: &Analysis, query: &str, limit: usize) -> Result<Vec<Hit>, RunError> {
    let q = Query { text: query.to_string(), scope: Scope::Story, limit: limit * 2, ..Default::default() };
    let mut hits = search(root, a, &q)?;
    hits.retain(|h| h.kind != "scene");
    hits.truncate(limit);
    Ok(hits)
}

/// Which model a step would call, and why: the scene (id or path), the pipeline and its step
/// (whose own `model:` and `agent` count), or an agent alone. The cascade with every level.
pub fn resolve_model(
    root: &Path,
    a: &Analysis,
    scene: Option<&str>,
    pipeline: Option<&str>,
    step: Option<&str>,
    agent: Option<&str>,
) -> Result<showrunner_context::cascade::Resolution, RunError> {
    let scene = scene.filter(|s| !s.trim().is_empty()).map(|s| scene_index(a, s)).transpose()?;
    let mut step_model = None;
    let mut step_agent = agent.map(str::to_string);
    if let Some(pid) = pipeline.filter(|p| !p.trim().is_empty()) {
        let p = crate::studio::find_pipeline(root, pid)?;
        let s = match step.filter(|s| !s.trim().is_empty()) {
            Some(sid) => p.steps.iter().find(|s| s.id == sid).ok_or_else(|| {
                let ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
                invalid(format!("pipeline `{pid}` has no step `{sid}`; its steps: {}", ids.join(", ")))
            })?,
            None => p
                .steps
                .iter()
                .find(|s| s.kind.generates())
                .ok_or_else(|| invalid(format!("pipeline `{pid}` calls no model")))?,
        };
        step_model = s.model.clone();
        if step_agent.is_none() {
            step_agent = s.agent.clone();
        }
    } else if step.is_some_and(|s| !s.trim().is_empty()) {
        return Err(invalid("a `step` belongs to a `pipeline`: name both".into()));
    }
    let (agents, _) = crate::defs::catalogue(Some(root));
    if let Some(id) = &step_agent {
        if !agents.iter().any(|d| &d.id == id) {
            let ids: Vec<&str> = agents.iter().map(|d| d.id.as_str()).collect();
            return Err(invalid(format!("no agent `{id}`; agents: {}", ids.join(", "))));
        }
    }
    Ok(crate::studio::Cascade::new(a, &agents).resolve(scene, step_model.as_deref(), step_agent.as_deref()))
}
