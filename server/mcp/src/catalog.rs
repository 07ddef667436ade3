//! MCP resources and prompts. Resources: every bucket and scene by URI,
//! `showrunner://<project>/bucket/<id>` (Markdown as the story knows it; `?at=main:12` or
//! `?at=<scene id>` applies progressions up to that position) and
//! `showrunner://<project>/scene/<id>` (the scene file). Prompts: the built-in pipelines'
//! templates, rendered for a scene the way a run renders them.

use serde_json::{json, Map, Value};
use showrunner_agents::{bible, studio};
use showrunner_pipeline::{render, Layer, StepKind};

use crate::projects::Projects;

pub const SCHEME: &str = "showrunner://";

/// `(uri, name, title, description, mime type)` of every bucket and scene.
pub fn resources(projects: &Projects) -> Vec<(String, String, String, String, &'static str)> {
    let mut out = Vec::new();
    for (name, root) in &projects.list {
        let p = projects.project(root);
        let a = &p.analysis;
        for b in &a.buckets {
            let bk = &b.bucket;
            out.push((
                format!("{SCHEME}{name}/bucket/{}", bk.id.value),
                bk.id.value.clone(),
                bk.name.value.clone(),
                format!("{} · {}", bk.kind.value, bk.summary.as_deref().unwrap_or("").trim()),
                "text/markdown",
            ));
        }
        for s in &a.scenes {
            let sc = &s.scene;
            out.push((
                format!("{SCHEME}{name}/scene/{}", sc.id.value),
                sc.id.value.clone(),
                sc.title.clone().unwrap_or_else(|| sc.id.value.clone()),
                format!("scene · {} · {} words", a.files[s.file].path, sc.word_count),
                if a.files[s.file].path.ends_with(".fountain") { "text/plain" } else { "text/markdown" },
            ));
        }
    }
    out
}

/// `(uri template, name, description)`.
pub const TEMPLATES: &[(&str, &str, &str)] = &[
    ("showrunner://{project}/bucket/{id}", "bucket", "A bucket as Markdown (summary, attributes, relations, body)"),
    (
        "showrunner://{project}/bucket/{id}?at={position}",
        "bucket at a position",
        "A bucket as the story knows it at a position (timeline:number or a scene's id): progressions applied",
    ),
    ("showrunner://{project}/scene/{id}", "scene", "A scene's file"),
];

/// The text of the resource at `uri`, and its mime type.
pub fn read(projects: &Projects, uri: &str) -> Result<(String, &'static str), String> {
    let bad = || {
        format!(
            "`{}` is not a Showrunner resource: showrunner://<project>/bucket/<id>[?at=<position>] or showrunner://<project>/scene/<id>",
            uri.chars().take(200).collect::<String>()
        )
    };
    let rest = uri.strip_prefix(SCHEME).ok_or_else(bad)?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let parts: Vec<&str> = path.split('/').collect();
    let [project, what, id] = parts.as_slice() else { return Err(bad()) };
    if !showrunner_model::id::is_valid_id(id) {
        return Err(format!("`{id}` is not an id: ids are slugs (letters, digits, - and _), never paths"));
    }
    let (_, p) = projects.load(Some(project))?;
    let a = &p.analysis;
    match *what {
        "bucket" => {
            let at = query.split('&').find_map(|kv| kv.strip_prefix("at=")).map(unescape);
            let view = bible::read_bucket(a, id, at.as_deref()).map_err(|e| e.to_string())?;
            Ok((view.text, "text/markdown"))
        }
        "scene" => {
            let i = bible::scene_index(a, id).map_err(|e| e.to_string())?;
            let f = a.scenes[i].file;
            let mime = if a.files[f].path.ends_with(".fountain") { "text/plain" } else { "text/markdown" };
            Ok((a.text(f).to_string(), mime))
        }
        _ => Err(bad()),
    }
}

/// `%3A` and friends in a query value.
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            if let Some(Ok(b)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A prompt argument: name, description, required.
pub type PromptArg = (&'static str, &'static str, bool);

/// `(name, description, arguments)` of every built-in pipeline with a prompt template.
pub fn prompts() -> Vec<(String, String, Vec<PromptArg>)> {
    let (all, _) = showrunner_pipeline::catalogue(&[]);
    all.into_iter()
        .filter(|p| {
            p.layer != Layer::Custom && p.steps.iter().any(|s| s.kind == StepKind::Prompt && s.template.is_some())
        })
        .map(|p| {
            let mut args = vec![
                ("scene", "The scene (id or path) whose text and context fill the template", false),
                ("project", "The project, when the server has several", false),
            ];
            let template = p.steps.iter().filter_map(|s| s.template.as_deref()).collect::<String>();
            if template.contains("selection") {
                args.push(("selection", "The passage to work on", false));
            }
            if template.contains("question") {
                args.push(("question", "The question to research", false));
            }
            (p.id.clone(), format!("{} — {}", p.title, p.description), args)
        })
        .collect()
}

/// A built-in pipeline's prompt, rendered for a scene (its text, its assembled context) and the
/// given selection or question; without a scene, the template with those alone.
pub fn prompt(projects: &Projects, name: &str, args: &Map<String, Value>) -> Result<(String, String), String> {
    let (all, _) = showrunner_pipeline::catalogue(&[]);
    let p = all.iter().find(|p| p.id == name && p.layer != Layer::Custom).ok_or_else(|| {
        let names: Vec<String> = prompts().into_iter().map(|p| p.0).collect();
        format!("no prompt `{}`; prompts: {}", name.chars().take(80).collect::<String>(), names.join(", "))
    })?;
    let arg = |k: &str| -> Result<Option<String>, String> {
        match args.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() > crate::tools::MAX_TEXT => Err(format!("`{k}` is too long")),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`{k}` should be a string")),
        }
    };
    let template =
        p.steps.iter().find_map(|s| s.template.as_deref().filter(|_| s.kind == StepKind::Prompt)).unwrap_or("");
    let question = arg("question")?;
    let mut vars = match arg("scene")? {
        Some(scene) => {
            let (_, project) = projects.load(arg("project")?.as_deref())?;
            let a = &project.analysis;
            let i = bible::scene_index(a, &scene).map_err(|e| e.to_string())?;
            let (context, _, _) = studio::scene_context(a, i, None);
            studio::scene_vars(a, i, &context, question.as_deref(), None)
        }
        None => {
            json!({ "context": "", "scene": {}, "selection": "", "question": question.clone().unwrap_or_default() })
        }
    };
    if let Some(sel) = arg("selection")? {
        vars["selection"] = json!(sel);
    }
    let text = render(template, &vars).map_err(|e| e.to_string())?;
    Ok((format!("{} — {}", p.title, p.description), text))
}
