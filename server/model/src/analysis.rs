//! Whole-project analysis: from the files of one project to buckets, scenes, mentions and every
//! diagnostic (spec 3.1), with no I/O.
//!
//! [`analyze`] parses each file on its own (in parallel), then runs the checks that need the
//! whole project: duplicate ids (SR012), unknown references (SR004), shared aliases (SR005),
//! structure levels and cycles (SR006), Fountain cues without a bucket (SR002) and capitalised
//! names without a bucket (SR003). Broken files still contribute what could be read.
//!
//! While a writer types, [`Analysis::update_file`] re-checks only the edited scene (parse, links,
//! its references, its SR003 names against project-wide counts); editing a bucket or the config
//! changes the dictionary and re-analyses the project.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rayon::prelude::*;

use crate::bucket::{parse_bucket, Bucket, Spanned};
use crate::config::{parse_config, ProjectConfig};
use crate::diag::{Code, Diagnostic};
use crate::fountain::parse_fountain;
use crate::id;
use crate::kind::{structure_level, AttrType};
use crate::matcher::Dictionary;
use crate::names::{capitalised_names, NameCandidate, NotNames};
use crate::scene::{parse_markdown_scene, reparse_markdown_scene, Scene, SceneFormat};
use crate::story::{Story, StoryParts};
use crate::text::TextRange;
use crate::window::{clip, Edit, Layout, Window};

/// How often a capitalised name must appear (mid-sentence) before SR003 suggests a bucket.
pub const NAME_THRESHOLD: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Config,
    Bucket,
    Scene(SceneFormat),
    /// Anything else the loader wants to report on (a symlink loop, an unreadable folder).
    Other,
}

/// A file as read from disk: its text, or why there is none.
#[derive(Debug, Clone)]
pub enum Content {
    Text(Arc<str>),
    /// The file could not be used; the message says why (not UTF-8, too large, unreadable …).
    Unreadable(String),
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the project root, with `/` separators.
    pub path: String,
    pub kind: FileKind,
    pub content: Content,
}

impl SourceFile {
    pub fn text(&self) -> Option<&str> {
        match &self.content {
            Content::Text(t) => Some(t),
            Content::Unreadable(_) => None,
        }
    }

    /// The file name without its story extension (`.yaml`, `.scene.md`, `.md`, `.fountain`).
    pub fn stem(&self) -> &str {
        let name = self.path.rsplit('/').next().unwrap_or(&self.path);
        for ext in [".scene.md", ".md", ".fountain", ".yaml", ".yml"] {
            if let Some(stem) = name.strip_suffix(ext) {
                return stem;
            }
        }
        name
    }
}

/// A mention of a bucket in a scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    /// Index into [`Analysis::buckets`].
    pub bucket: u32,
    /// Index of the matched alias in [`Analysis::dictionary`].
    pub alias: u32,
    /// The alias is shared by several buckets; `bucket` is the first of them by id.
    pub ambiguous: bool,
    /// A Fountain character cue rather than a mention in the text.
    pub cue: bool,
}

impl Mention {
    pub fn range(&self) -> TextRange {
        self.start..self.end
    }
}

#[derive(Debug, Clone)]
pub struct BucketEntry {
    /// Index into [`Analysis::files`].
    pub file: usize,
    pub bucket: Bucket,
}

#[derive(Debug, Clone)]
pub struct SceneEntry {
    pub file: usize,
    pub scene: Scene,
    /// Sorted by position.
    pub mentions: Vec<Mention>,
}

#[derive(Debug, Clone)]
pub struct Analysis {
    pub config: ProjectConfig,
    pub files: Vec<SourceFile>,
    pub buckets: Vec<BucketEntry>,
    pub scenes: Vec<SceneEntry>,
    pub dictionary: Arc<Dictionary>,
    /// Words of the project's languages that are no names (SR003), from `linking:` in the config.
    pub not_names: Arc<NotNames>,
    /// Bucket id → index into `buckets` (the first file wins for duplicate ids).
    pub by_id: HashMap<String, u32>,
    /// Project-relative path → index into `files` (the language server looks a file up on every
    /// keystroke).
    by_path: HashMap<String, usize>,
    /// Per file (same index as `files`), sorted by position. SR001 hints are not included:
    /// see [`Analysis::link_hints`].
    pub diagnostics: Vec<Vec<Diagnostic>>,
    /// File index → scene index.
    pub scene_of_file: Vec<Option<usize>>,
    /// Each scene's position on each timeline (explicit or inherited in reading order).
    pub scene_positions: Vec<crate::bucket::Positions>,
    project_name: String,
    /// The parts `diagnostics` is made of, kept so one scene can be re-checked alone.
    parse_diags: Vec<Vec<Diagnostic>>,
    cross_diags: Vec<Vec<Diagnostic>>,
    scene_diags: Vec<Vec<Diagnostic>>,
    names: Vec<Vec<NameCandidate>>,
    name_counts: HashMap<String, usize>,
    scene_ids: HashMap<String, Vec<usize>>,
}

enum Parsed {
    Bucket(Option<Bucket>, Vec<Diagnostic>),
    Scene(Scene, Vec<Diagnostic>),
    Nothing(Vec<Diagnostic>),
}

/// Analyses one project. `project_name` is used when `showrunner.yaml` has no `name`.
pub fn analyze(project_name: &str, files: Vec<SourceFile>) -> Analysis {
    // The config comes first: custom kinds shape how buckets are read.
    let config_file = files.iter().position(|f| f.kind == FileKind::Config);
    let (config, config_diags) = match config_file.and_then(|i| files[i].text()) {
        Some(text) => parse_config(text, project_name),
        None => (ProjectConfig::with_name(project_name), Vec::new()),
    };
    let kinds = &config.kinds;
    let not_names = Arc::new(config.linking.not_names());

    let parsed: Vec<Parsed> = files
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            let text = match &f.content {
                Content::Text(t) => t,
                Content::Unreadable(why) => {
                    return Parsed::Nothing(vec![Diagnostic::new(Code::SR015, 0..0, why.clone())]);
                }
            };
            match f.kind {
                FileKind::Config if Some(i) == config_file => Parsed::Nothing(config_diags.clone()),
                FileKind::Config | FileKind::Other => Parsed::Nothing(Vec::new()),
                FileKind::Bucket => {
                    let (b, d) = parse_bucket(text, f.stem(), kinds);
                    Parsed::Bucket(b, d)
                }
                FileKind::Scene(SceneFormat::Markdown) => {
                    let (s, d) = parse_markdown_scene(text, f.stem());
                    Parsed::Scene(s, d)
                }
                FileKind::Scene(SceneFormat::Fountain) => {
                    let (s, d) = parse_fountain(text, f.stem());
                    Parsed::Scene(s, d)
                }
            }
        })
        .collect();

    let mut parse_diags: Vec<Vec<Diagnostic>> = vec![Vec::new(); files.len()];
    let mut buckets = Vec::new();
    let mut scenes = Vec::new();
    for (i, p) in parsed.into_iter().enumerate() {
        match p {
            Parsed::Nothing(d) => parse_diags[i] = d,
            Parsed::Bucket(b, d) => {
                parse_diags[i] = d;
                if let Some(bucket) = b {
                    buckets.push(BucketEntry { file: i, bucket });
                }
            }
            Parsed::Scene(scene, d) => {
                parse_diags[i] = d;
                scenes.push(SceneEntry { file: i, scene, mentions: Vec::new() });
            }
        }
    }
    // A stable order (by id, then path) makes every later choice deterministic.
    buckets.sort_by(|a, b| a.bucket.id.value.cmp(&b.bucket.id.value).then(files[a.file].path.cmp(&files[b.file].path)));
    scenes.sort_by(|a, b| files[a.file].path.cmp(&files[b.file].path));

    let mut by_id: HashMap<String, u32> = HashMap::with_capacity(buckets.len());
    for (i, b) in buckets.iter().enumerate() {
        by_id.entry(b.bucket.id.value.clone()).or_insert(i as u32);
    }
    let dictionary = Arc::new(Dictionary::new(
        buckets.iter().enumerate().flat_map(|(i, b)| b.bucket.names().map(move |n| (n.value.as_str(), i as u32))),
    ));
    let mut scene_of_file = vec![None; files.len()];
    let mut scene_ids: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, s) in scenes.iter().enumerate() {
        scene_of_file[s.file] = Some(i);
        scene_ids.entry(s.scene.id.value.clone()).or_default().push(i);
    }
    let n_files = files.len();
    let n_scenes = scenes.len();
    let mut by_path = HashMap::with_capacity(n_files);
    for (i, f) in files.iter().enumerate() {
        by_path.entry(f.path.clone()).or_insert(i);
    }
    let mut analysis = Analysis {
        config,
        by_path,
        files,
        buckets,
        scenes,
        dictionary,
        not_names,
        by_id,
        diagnostics: vec![Vec::new(); n_files],
        scene_of_file,
        scene_positions: Vec::new(),
        project_name: project_name.to_string(),
        parse_diags,
        cross_diags: vec![Vec::new(); n_files],
        scene_diags: vec![Vec::new(); n_scenes],
        names: vec![Vec::new(); n_scenes],
        name_counts: HashMap::new(),
        scene_ids,
    };
    analysis.scene_positions = Story::new(&analysis).positions;
    analysis.check_duplicate_ids();
    analysis.check_references();
    analysis.check_structure();
    analysis.check_shared_aliases();
    let checked: Vec<SceneCheck> = (0..n_scenes).into_par_iter().map(|i| analysis.check_scene(i)).collect();
    for (i, c) in checked.into_iter().enumerate() {
        analysis.scenes[i].mentions = c.mentions;
        analysis.scene_diags[i] = c.diags;
        for n in &c.names {
            *analysis.name_counts.entry(n.name.clone()).or_default() += 1;
        }
        analysis.names[i] = c.names;
    }
    for f in 0..n_files {
        analysis.refresh(f);
    }
    analysis
}

/// What a scene's own text says about it before its project has been read: the diagnostics of
/// its parse (frontmatter and fields), sorted as [`Analysis`] sorts them. A subset of what the
/// whole analysis reports for the file — nothing here depends on buckets or other scenes, so
/// nothing here is taken back once they are read. `None` for a file that is not a scene.
pub fn scene_alone(file: &SourceFile) -> Option<Vec<Diagnostic>> {
    let mut diags = match (&file.content, file.kind) {
        (Content::Unreadable(why), FileKind::Scene(_)) => vec![Diagnostic::new(Code::SR015, 0..0, why.clone())],
        (Content::Text(t), FileKind::Scene(SceneFormat::Markdown)) => parse_markdown_scene(t, file.stem()).1,
        (Content::Text(t), FileKind::Scene(SceneFormat::Fountain)) => parse_fountain(t, file.stem()).1,
        _ => return None,
    };
    diags.sort_by(|a, b| a.range.start.cmp(&b.range.start).then(a.code.cmp(&b.code)));
    Some(diags)
}

/// A scene as it was before an edit, with what checking it found.
#[derive(Clone, Copy)]
struct Previous<'a> {
    text: &'a str,
    /// How `text` became the scene's text now.
    edit: Edit,
    scene: &'a Scene,
    mentions: &'a [Mention],
    names: &'a [NameCandidate],
}

/// What checking one scene yields.
struct SceneCheck {
    mentions: Vec<Mention>,
    diags: Vec<Diagnostic>,
    names: Vec<NameCandidate>,
}

/// Reading order works on the analysis's buckets and scenes (see [`Story`]).
impl StoryParts for Analysis {
    fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    fn bucket_at(&self, i: usize) -> &Bucket {
        &self.buckets[i].bucket
    }

    fn bucket_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).map(|&i| i as usize)
    }

    fn scene_count(&self) -> usize {
        self.scenes.len()
    }

    fn scene_at(&self, i: usize) -> &Scene {
        &self.scenes[i].scene
    }

    fn scene_path(&self, i: usize) -> &str {
        &self.files[self.scenes[i].file].path
    }
}

impl Analysis {
    pub fn bucket(&self, id: &str) -> Option<&BucketEntry> {
        self.by_id.get(id).map(|&i| &self.buckets[i as usize])
    }

    pub fn text(&self, file: usize) -> &str {
        self.files[file].text().unwrap_or("")
    }

    fn push(&mut self, file: usize, d: Diagnostic) {
        self.cross_diags[file].push(d);
    }

    /// Rebuilds `diagnostics[file]` from its parts.
    fn refresh(&mut self, file: usize) {
        let mut all = self.parse_diags[file].clone();
        all.extend(self.cross_diags[file].iter().cloned());
        if let Some(si) = self.scene_of_file[file] {
            all.extend(self.scene_diags[si].iter().cloned());
            all.extend(self.unknown_names(si));
        }
        all.sort_by(|a, b| a.range.start.cmp(&b.range.start).then(a.code.cmp(&b.code)));
        self.diagnostics[file] = all;
    }

    /// Replaces a file's content and re-checks what it affects. A scene is re-checked alone
    /// (with the SR003 counts of the whole project); a bucket or the config re-analyses the
    /// project. Returns the indices of the files whose diagnostics may have changed.
    pub fn update_file(&mut self, file: usize, content: Content) -> Vec<usize> {
        self.update_file_by(file, content, None)
    }

    /// [`Analysis::update_file`] for a change whose place the caller knows (an editor's
    /// incremental change): `edit` says how the file's text became `content` (the bytes before
    /// `edit.start` and after `edit.old_end` are unchanged), so the texts are not compared to find it.
    pub fn update_file_by(&mut self, file: usize, content: Content, edit: Option<Edit>) -> Vec<usize> {
        let Some(si) = self.scene_of_file.get(file).copied().flatten() else {
            self.files[file].content = content;
            return self.reanalyze();
        };
        // The text the scene's mentions and names were found in, to keep those the edit left alone.
        let old_content = std::mem::replace(&mut self.files[file].content, content);
        let old_text = match &old_content {
            Content::Text(t) => Some(t.as_ref()),
            Content::Unreadable(_) => None,
        };
        // The edit, found once (the parse and the matching both read only around it).
        let edit = match (old_text, self.files[file].text()) {
            (Some(o), Some(t)) => Some(match edit {
                Some(e) if e.fits(o, t) => e,
                _ => Edit::between(o, t),
            }),
            _ => None,
        };
        let (scene, diags) = {
            let f = &self.files[file];
            let old = &self.scenes[si].scene;
            // A Markdown scene is read again only around the edit (the frontmatter unchanged:
            // its diagnostics too).
            let again = |t: &str| {
                reparse_markdown_scene(old_text?, old, t, edit.as_ref()?).map(|s| (s, self.parse_diags[file].clone()))
            };
            match (&f.content, f.kind) {
                (Content::Text(t), FileKind::Scene(SceneFormat::Fountain)) => parse_fountain(t, f.stem()),
                (Content::Text(t), _) => again(t).unwrap_or_else(|| parse_markdown_scene(t, f.stem())),
                (Content::Unreadable(why), _) => {
                    let mut empty = Scene::empty(f.stem(), SceneFormat::Markdown, 0);
                    empty.body = 0..0;
                    (empty, vec![Diagnostic::new(Code::SR015, 0..0, why.clone())])
                }
            }
        };
        // Where the scene sits (its parent, timeline position, flashback flag) shapes other
        // scenes' positions and SR007: a change there re-analyses the project.
        let old = &self.scenes[si].scene;
        let key = |s: &Scene| (s.parent.as_ref().map(|p| p.value.clone()), s.timeline.clone(), s.flashback);
        if key(old) != key(&scene) {
            return self.reanalyze();
        }
        let mut touched = vec![file];
        // Scene ids: the old and the new id's groups change.
        let old_scene = std::mem::replace(&mut self.scenes[si].scene, scene);
        let old_id = old_scene.id.value.clone();
        let new_id = self.scenes[si].scene.id.value.clone();
        if old_id != new_id {
            if let Some(group) = self.scene_ids.get_mut(&old_id) {
                group.retain(|&x| x != si);
                touched.extend(group.iter().map(|&x| self.scenes[x].file));
            }
            let group = self.scene_ids.entry(new_id).or_default();
            touched.extend(group.iter().map(|&x| self.scenes[x].file));
            group.push(si);
        }
        self.parse_diags[file] = diags;
        let previous = old_text.zip(edit).map(|(text, edit)| Previous {
            text,
            edit,
            scene: &old_scene,
            mentions: &self.scenes[si].mentions,
            names: &self.names[si],
        });
        let c = self.check_scene_after(si, previous);
        self.scenes[si].mentions = c.mentions;
        self.scene_diags[si] = c.diags;
        // SR003 counts: names crossing the threshold change other scenes' diagnostics too.
        let before: HashMap<String, usize> = self.names[si]
            .iter()
            .chain(c.names.iter())
            .map(|n| (n.name.clone(), self.name_counts.get(&n.name).copied().unwrap_or(0)))
            .collect();
        for n in &self.names[si] {
            if let Some(k) = self.name_counts.get_mut(&n.name) {
                *k -= 1;
            }
        }
        for n in &c.names {
            *self.name_counts.entry(n.name.clone()).or_default() += 1;
        }
        // Names typed and deleted again (typos, half-words) must not pile up over a long session.
        for n in &self.names[si] {
            if self.name_counts.get(&n.name) == Some(&0) {
                self.name_counts.remove(&n.name);
            }
        }
        self.names[si] = c.names;
        let changed: Vec<&String> = before
            .iter()
            .filter(|(name, &old)| {
                let new = self.name_counts.get(*name).copied().unwrap_or(0);
                (old >= NAME_THRESHOLD) != (new >= NAME_THRESHOLD) || (new >= NAME_THRESHOLD && new != old)
            })
            .map(|(n, _)| n)
            .collect();
        if !changed.is_empty() {
            for (j, names) in self.names.iter().enumerate() {
                if j != si && names.iter().any(|n| changed.contains(&&n.name)) {
                    touched.push(self.scenes[j].file);
                }
            }
        }
        // Other scenes with the old or new id get their SR012 re-checked.
        let others: Vec<usize> = touched.iter().skip(1).filter_map(|&f| self.scene_of_file[f]).collect();
        for j in others {
            let c = self.check_scene(j);
            self.scene_diags[j] = c.diags;
        }
        touched.sort_unstable();
        touched.dedup();
        for &f in &touched {
            self.refresh(f);
        }
        touched
    }

    /// Adds a file (or replaces the one at the same path) and re-analyses the project.
    pub fn upsert_file(&mut self, source: SourceFile) -> Vec<usize> {
        match self.file_index(&source.path) {
            Some(i) if self.files[i].kind == source.kind => self.update_file(i, source.content),
            Some(i) => {
                self.files[i] = source;
                self.reanalyze()
            }
            None => {
                self.files.push(source);
                self.reanalyze()
            }
        }
    }

    /// Removes the file at `path` (if known) and re-analyses the project.
    pub fn remove_file(&mut self, path: &str) -> bool {
        let Some(i) = self.file_index(path) else { return false };
        self.files.remove(i);
        self.reanalyze();
        true
    }

    /// The project's name, as given to [`analyze`].
    pub fn project_name(&self) -> &str {
        &self.project_name
    }

    fn reanalyze(&mut self) -> Vec<usize> {
        let files = std::mem::take(&mut self.files);
        *self = analyze(&self.project_name, files);
        (0..self.files.len()).collect()
    }

    /// The index of the file at a project-relative path.
    pub fn file_index(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    /// The index (into `scenes`) of the scene at a project-relative path.
    pub fn scene_at(&self, path: &str) -> Option<usize> {
        self.file_index(path).and_then(|f| self.scene_of_file[f])
    }

    /// SR001 hints for a scene: one per mention, e.g. `Alice Marlowe (character)`.
    pub fn link_hints(&self, scene: &SceneEntry) -> Vec<Diagnostic> {
        scene
            .mentions
            .iter()
            .map(|m| {
                let b = &self.buckets[m.bucket as usize].bucket;
                Diagnostic::new(Code::SR001, m.range(), format!("{} ({})", b.name.value, b.kind.value))
            })
            .collect()
    }

    /// Where a diagnostic about a whole bucket goes: its id if written, else its `name:` key.
    fn bucket_anchor(b: &Bucket) -> TextRange {
        if b.id.range.end > b.id.range.start {
            b.id.range.clone()
        } else {
            b.name_key.clone()
        }
    }

    fn check_duplicate_ids(&mut self) {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, b) in self.buckets.iter().enumerate() {
            groups.entry(&b.bucket.id.value).or_default().push(i);
        }
        let mut found = Vec::new();
        for (id, members) in groups.iter().filter(|(_, m)| m.len() > 1) {
            for &i in members {
                let others: Vec<&str> = members
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| self.files[self.buckets[j].file].path.as_str())
                    .collect();
                let b = &self.buckets[i];
                found.push((
                    b.file,
                    Diagnostic::new(
                        Code::SR012,
                        Self::bucket_anchor(&b.bucket),
                        format!("id `{id}` is also used by {}", others.join(", ")),
                    ),
                ));
            }
        }
        for (file, d) in found {
            self.push(file, d);
        }
    }

    fn unknown_ref(&self, r: &Spanned<String>, what: &str) -> Option<Diagnostic> {
        if self.by_id.contains_key(&r.value) {
            return None;
        }
        let hint = id::closest(&r.value, self.by_id.keys().map(String::as_str))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        Some(Diagnostic::new(
            Code::SR004,
            r.range.clone(),
            format!("{what} `{}` is not a known bucket id{hint}", r.value),
        ))
    }

    fn check_references(&mut self) {
        let mut found = Vec::new();
        for b in &self.buckets {
            let bucket = &b.bucket;
            let schema = self.config.kinds.get(&bucket.kind.value);
            let mut refs: Vec<(Spanned<String>, &str)> = Vec::new();
            if let Some(p) = &bucket.parent {
                refs.push((p.clone(), "parent"));
            }
            for r in &bucket.relations {
                refs.push((r.target.clone(), "relation target"));
            }
            for a in &bucket.attributes {
                let ty = schema.and_then(|s| s.attributes.get(&a.key.value));
                match (ty, &a.value) {
                    (Some(AttrType::Ref), serde_json::Value::String(s)) => {
                        refs.push((Spanned::new(s.clone(), a.value_range.clone()), "attribute value"))
                    }
                    (Some(AttrType::RefList), serde_json::Value::Array(items)) => {
                        for item in items.iter().filter_map(|v| v.as_str()) {
                            refs.push((Spanned::new(item.to_string(), a.value_range.clone()), "attribute value"));
                        }
                    }
                    _ => {}
                }
            }
            for (r, what) in refs {
                if let Some(d) = self.unknown_ref(&r, what) {
                    found.push((b.file, d));
                }
            }
        }
        for (file, d) in found {
            self.push(file, d);
        }
    }

    fn check_structure(&mut self) {
        let mut found = Vec::new();
        let describe = |kind: &str| -> String {
            match structure_level(kind) {
                Some(level) => {
                    let outer: Vec<&str> = crate::kind::STRUCTURE_LEVELS[..level as usize - 1].to_vec();
                    if outer.is_empty() {
                        "the project itself (no parent)".to_string()
                    } else {
                        outer.join(", ")
                    }
                }
                None => "any bucket".into(),
            }
        };
        for b in &self.buckets {
            let Some(parent) = &b.bucket.parent else { continue };
            let Some(&pi) = self.by_id.get(&parent.value) else { continue };
            let parent_kind = &self.buckets[pi as usize].bucket.kind.value;
            let kind = &b.bucket.kind.value;
            if let Some(level) = structure_level(kind) {
                let ok = structure_level(parent_kind).is_some_and(|pl| pl < level);
                if !ok {
                    found.push((
                        b.file,
                        Diagnostic::new(
                            Code::SR006,
                            parent.range.clone(),
                            format!(
                                "a {kind} cannot sit inside `{}`, a {parent_kind}: its parent must be one of {}",
                                parent.value,
                                describe(kind)
                            ),
                        ),
                    ));
                }
            }
        }
        // Parent cycles: walk each chain, marking nodes done once their chain is known to end.
        let n = self.buckets.len();
        let parent_of = |i: usize| -> Option<usize> {
            let p = self.buckets[i].bucket.parent.as_ref()?;
            self.by_id.get(&p.value).map(|&j| j as usize)
        };
        let mut state = vec![0u8; n]; // 0 new, 1 on the current path, 2 done
        for start in 0..n {
            let mut path = Vec::new();
            let mut cur = Some(start);
            while let Some(i) = cur {
                match state[i] {
                    2 => break,
                    1 => {
                        let at = path.iter().position(|&p| p == i).unwrap_or(0);
                        let cycle = &path[at..];
                        let names: Vec<&str> = cycle
                            .iter()
                            .chain(std::iter::once(&i))
                            .map(|&j| self.buckets[j].bucket.id.value.as_str())
                            .collect();
                        for &j in cycle {
                            let b = &self.buckets[j];
                            let range = b.bucket.parent.as_ref().map(|p| p.range.clone()).unwrap_or(0..0);
                            found.push((
                                b.file,
                                Diagnostic::new(Code::SR006, range, format!("parent cycle: {}", names.join(" → "))),
                            ));
                        }
                        break;
                    }
                    _ => {
                        state[i] = 1;
                        path.push(i);
                        cur = parent_of(i);
                    }
                }
            }
            for i in path {
                state[i] = 2;
            }
        }
        for (file, d) in found {
            self.push(file, d);
        }
    }

    fn check_shared_aliases(&mut self) {
        let mut found = Vec::new();
        for e in self.dictionary.entries().iter().filter(|e| e.targets.len() > 1) {
            let ids: Vec<&str> = e.targets.iter().map(|&t| self.buckets[t as usize].bucket.id.value.as_str()).collect();
            for &t in &e.targets {
                let b = &self.buckets[t as usize];
                for n in b.bucket.names().filter(|n| n.value.trim() == e.alias) {
                    found.push((
                        b.file,
                        Diagnostic::new(
                            Code::SR005,
                            n.range.clone(),
                            format!("`{}` is a name or alias of {}: mentions are ambiguous", e.alias, ids.join(", ")),
                        ),
                    ));
                }
            }
        }
        for (file, d) in found {
            self.push(file, d);
        }
    }

    /// Everything about one scene that does not depend on other scenes' text: its references
    /// (SR004), its parent's level (SR006), duplicate scene ids (SR012), mentions with SR002 and
    /// SR005, and its capitalised-name candidates.
    fn check_scene(&self, i: usize) -> SceneCheck {
        self.check_scene_after(i, None)
    }

    /// Checks scene `i`; `previous` is what the scene was before an edit, whose results outside
    /// the edit's window are kept.
    fn check_scene_after(&self, i: usize, previous: Option<Previous>) -> SceneCheck {
        let s = &self.scenes[i];
        let scene = &s.scene;
        let text = self.files[s.file].text().unwrap_or("");
        let dict = &self.dictionary;
        let mut diags = Vec::new();

        let refs = scene
            .parent
            .iter()
            .map(|p| (p, "parent"))
            .chain(scene.pov.iter().map(|p| (p, "pov")))
            .chain(scene.context.iter().map(|p| (p, "context")));
        for (r, what) in refs {
            if let Some(d) = self.unknown_ref(r, what) {
                diags.push(d);
            }
        }
        if let Some(parent) = &scene.parent {
            if let Some(&pi) = self.by_id.get(&parent.value) {
                let parent_kind = &self.buckets[pi as usize].bucket.kind.value;
                if structure_level(parent_kind).is_none() {
                    diags.push(Diagnostic::new(
                        Code::SR006,
                        parent.range.clone(),
                        format!("a scene cannot sit inside `{}`, a {parent_kind}: its parent must be a season, arc, act or chapter", parent.value),
                    ));
                }
            }
        }
        if let Some(group) = self.scene_ids.get(&scene.id.value).filter(|g| g.len() > 1) {
            let others: Vec<&str> =
                group.iter().filter(|&&j| j != i).map(|&j| self.files[self.scenes[j].file].path.as_str()).collect();
            diags.push(Diagnostic::new(
                Code::SR012,
                scene.id.range.clone(),
                format!("scene id `{}` is also used by {}", scene.id.value, others.join(", ")),
            ));
        }

        // After an edit, only the lines and blocks around it are scanned again (see `window`).
        let window = previous.filter(|_| dict.single_line()).and_then(|p| {
            let old = Layout { text: p.text, scan: &p.scene.scan, blocks: &p.scene.blocks };
            let new = Layout { text, scan: &scene.scan, blocks: &scene.blocks };
            Window::around(p.edit, &old, &new).map(|w| (p, w))
        });
        let mut mentions: Vec<Mention> = Vec::new();
        match &window {
            Some((p, w)) => {
                mentions.extend(p.mentions.iter().filter(|m| !m.cue && m.end <= w.start));
                self.find_mentions(text, &clip(&scene.scan, w.new_range()), &mut mentions);
                mentions.extend(p.mentions.iter().filter(|m| !m.cue && m.start >= w.old_end).map(|m| {
                    let r = w.moved(&m.range());
                    Mention { start: r.start, end: r.end, ..*m }
                }));
            }
            None => self.find_mentions(text, &scene.scan, &mut mentions),
        }
        for cue in &scene.cues {
            match dict.lookup_cue(&cue.name).first() {
                Some(&entry) => {
                    let e = dict.entry(entry);
                    mentions.push(Mention {
                        start: cue.name_range.start,
                        end: cue.name_range.end,
                        bucket: e.targets[0],
                        alias: entry,
                        ambiguous: e.targets.len() > 1,
                        cue: true,
                    });
                }
                None => diags.push(Diagnostic::new(
                    Code::SR002,
                    cue.name_range.clone(),
                    format!(
                        "character cue `{}` has no bucket; create a character bucket named \"{}\"",
                        cue.name,
                        title_case(&cue.name)
                    ),
                )),
            }
        }
        mentions.sort_by_key(|m| m.start);
        for m in mentions.iter().filter(|m| m.ambiguous) {
            let e = dict.entry(m.alias);
            let ids: Vec<&str> = e.targets.iter().map(|&t| self.buckets[t as usize].bucket.id.value.as_str()).collect();
            diags.push(Diagnostic::new(
                Code::SR005,
                m.range(),
                format!("`{}` is ambiguous: it could be {}", &text[m.range()], ids.join(" or ")),
            ));
        }

        if !scene.flashback {
            if let Some(pos) = self.scene_positions.get(i) {
                for m in &mentions {
                    if let Some(d) = self.continuity(m, pos) {
                        diags.push(d);
                    }
                }
            }
        }

        let skip: Vec<TextRange> = mentions.iter().map(Mention::range).collect();
        let not_a_cue = |c: &NameCandidate| self.dictionary.lookup_cue(&c.name).is_empty();
        let mut names = Vec::new();
        match &window {
            Some((p, w)) => {
                names.extend(p.names.iter().filter(|c| c.range.end <= w.start).cloned());
                let mut found = Vec::new();
                capitalised_names(text, w.blocks(&scene.blocks), &skip, &self.not_names, &mut found);
                names.extend(found.into_iter().filter(not_a_cue));
                names.extend(
                    p.names
                        .iter()
                        .filter(|c| c.range.start >= w.old_end)
                        .map(|c| NameCandidate { name: c.name.clone(), range: w.moved(&c.range) }),
                );
            }
            None => {
                capitalised_names(text, &scene.blocks, &skip, &self.not_names, &mut names);
                names.retain(not_a_cue);
            }
        }
        SceneCheck { mentions, diags, names }
    }

    /// The mentions the dictionary finds in `ranges` of `text`, appended to `out`.
    fn find_mentions(&self, text: &str, ranges: &[TextRange], out: &mut Vec<Mention>) {
        let dict = &self.dictionary;
        let mut found = Vec::new();
        dict.find_in(text, ranges, &mut found);
        out.extend(found.iter().map(|m| {
            let e = dict.entry(m.entry);
            Mention {
                start: m.start,
                end: m.end,
                bucket: e.targets[0],
                alias: m.entry,
                ambiguous: e.targets.len() > 1,
                cue: false,
            }
        }));
    }

    /// SR007: a mention of an entity before it enters the story, or after it died.
    fn continuity(&self, m: &Mention, pos: &crate::bucket::Positions) -> Option<Diagnostic> {
        let b = &self.buckets[m.bucket as usize].bucket;
        let at = |t: &str| pos.iter().find(|(pt, _)| pt == t).map(|(_, p)| *p);
        for (t, enters) in &b.timeline_positions {
            if let Some(p) = at(t) {
                if p < *enters {
                    return Some(Diagnostic::new(
                        Code::SR007,
                        m.range(),
                        format!("{} enters the story at {t} {enters}; this scene is at {t} {p}", b.name.value),
                    ));
                }
            }
        }
        for prog in &b.progressions {
            let dead = prog.attributes.iter().any(|(k, v)| k == "status" && v.as_str() == Some("dead"));
            if !dead {
                continue;
            }
            for (t, from) in &prog.at {
                if let Some(p) = at(t) {
                    if p >= *from {
                        let why = prog.summary.as_deref().map(|s| format!(" ({})", s.trim())).unwrap_or_default();
                        return Some(Diagnostic::new(
                            Code::SR007,
                            m.range(),
                            format!("{} is dead from {t} {from}{why}; this scene is at {t} {p} (mark it `flashback: true` if it looks back)", b.name.value),
                        ));
                    }
                }
            }
        }
        None
    }

    /// SR003 for one scene: its capitalised names seen [`NAME_THRESHOLD`]+ times in the project.
    fn unknown_names(&self, i: usize) -> Vec<Diagnostic> {
        self.names[i]
            .iter()
            .filter_map(|c| {
                let n = self.name_counts.get(&c.name).copied().unwrap_or(0);
                (n >= NAME_THRESHOLD).then(|| {
                    Diagnostic::new(
                        Code::SR003,
                        c.range.clone(),
                        format!("\"{}\" appears {n} times with no bucket; create one?", c.name),
                    )
                })
            })
            .collect()
    }
}

/// `LI LEI` → `Li Lei`, `my novel` → `My Novel`; names in mixed case (`McCLANE`) are kept
/// as written.
pub fn title_case(name: &str) -> String {
    if name.chars().any(char::is_lowercase) && name.chars().any(char::is_uppercase) {
        return name.to_string();
    }
    name.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
