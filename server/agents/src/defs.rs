//! Agent definitions: `agents/*.md`, Markdown with a YAML frontmatter (`id`, `name`,
//! `description`, `keywords`, `model`, `tools`, `temperature`); the body is the system prompt.
//! Ten ship in the binary; a project's `agents/<id>.md` overrides the built-in with that id.

use std::path::Path;

use serde::Serialize;
use showrunner_model::yaml::{self, Node};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentDef {
    pub id: String,
    pub name: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub model: Option<String>,
    pub tools: Vec<String>,
    pub temperature: Option<f64>,
    /// The system prompt.
    #[serde(skip)]
    pub system: String,
    /// `built-in` or the project file it came from.
    pub source: String,
}

pub const BUILTIN: &[(&str, &str)] = &[
    ("scene-writer", include_str!("../../../agents/scene-writer.md")),
    ("editor", include_str!("../../../agents/editor.md")),
    ("dialogue-doctor", include_str!("../../../agents/dialogue-doctor.md")),
    ("continuity-checker", include_str!("../../../agents/continuity-checker.md")),
    ("researcher", include_str!("../../../agents/researcher.md")),
    ("brainstormer", include_str!("../../../agents/brainstormer.md")),
    ("outliner", include_str!("../../../agents/outliner.md")),
    ("character-smith", include_str!("../../../agents/character-smith.md")),
    ("summarizer", include_str!("../../../agents/summarizer.md")),
    ("judge", include_str!("../../../agents/judge.md")),
];

/// The tools an agent may name.
pub const TOOLS: &[&str] =
    &["search_buckets", "read_bucket", "read_scene", "list_mentions", "propose_bucket", "propose_edit", "research"];

/// What is wrong with an agent file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentDefError {
    #[error("an agent file starts with a `---` frontmatter block")]
    NoFrontmatter,
    #[error("the frontmatter has no closing `---`")]
    Unclosed,
    #[error("line {line}: {message}")]
    Yaml { line: usize, message: String },
    #[error("the frontmatter is empty")]
    Empty,
    #[error("the agent needs an `id`")]
    NoId,
    #[error("`{0}` is not a valid agent id (letters, digits, - and _)")]
    BadId(String),
    #[error("unknown tool `{0}`; the tools are {tools}", tools = TOOLS.join(", "))]
    UnknownTool(String),
}

/// Parses one agent file. Errors name the line.
pub fn parse(text: &str, source: &str) -> Result<AgentDef, AgentDefError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest =
        text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")).ok_or(AgentDefError::NoFrontmatter)?;
    let end = rest
        .find("\n---\n")
        .or_else(|| rest.find("\n---\r\n"))
        .or_else(|| rest.strip_suffix("\n---").map(|r| r.len()))
        .ok_or(AgentDefError::Unclosed)?;
    let front = &rest[..end + 1];
    let body = rest[end + 1..].trim_start_matches("---").trim_start_matches(['\r', '\n']).trim();
    let parsed = yaml::parse(front);
    if let Some(e) = parsed.errors.first() {
        let line = front[..e.range.start.min(front.len())].matches('\n').count() + 2;
        return Err(AgentDefError::Yaml { line, message: e.message.clone() });
    }
    let root = parsed.root.ok_or(AgentDefError::Empty)?;
    let get = |k: &str| root.get(k).and_then(Node::scalar_text);
    let list = |k: &str| -> Vec<String> {
        match root.get(k) {
            Some(n) => match n.as_seq() {
                Some(items) => items.iter().filter_map(Node::scalar_text).collect(),
                None => {
                    n.scalar_text().map(|s| s.split(',').map(|x| x.trim().to_string()).collect()).unwrap_or_default()
                }
            },
            None => Vec::new(),
        }
    };
    let id = get("id").ok_or(AgentDefError::NoId)?;
    if !showrunner_model::id::is_valid_id(&id) {
        return Err(AgentDefError::BadId(id));
    }
    let tools = list("tools");
    if let Some(bad) = tools.iter().find(|t| !TOOLS.contains(&t.as_str())) {
        return Err(AgentDefError::UnknownTool(bad.clone()));
    }
    Ok(AgentDef {
        name: get("name").unwrap_or_else(|| id.clone()),
        description: get("description").unwrap_or_default(),
        keywords: list("keywords").into_iter().map(|k| k.to_lowercase()).collect(),
        model: get("model").filter(|m| !m.is_empty()),
        tools,
        temperature: get("temperature").and_then(|t| t.parse().ok()),
        system: body.to_string(),
        source: source.to_string(),
        id,
    })
}

/// Every agent of a project: the built-ins, overridden by `agents/*.md` with the same id. Broken
/// project files are reported, and the built-in stays.
pub fn catalogue(root: Option<&Path>) -> (Vec<AgentDef>, Vec<(String, String)>) {
    let mut out: Vec<AgentDef> = BUILTIN.iter().filter_map(|(_, text)| parse(text, "built-in").ok()).collect();
    let mut problems = Vec::new();
    if let Some(rd) = root.and_then(|r| std::fs::read_dir(r.join("agents")).ok()) {
        let mut files: Vec<_> =
            rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "md")).collect();
        files.sort();
        for p in files {
            let rel = format!("agents/{}", p.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
            match std::fs::read_to_string(&p)
                .map_err(|e| e.to_string())
                .and_then(|t| parse(&t, &rel).map_err(|e| e.to_string()))
            {
                Ok(a) => {
                    out.retain(|b| b.id != a.id);
                    out.push(a);
                }
                Err(e) => problems.push((rel, e)),
            }
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ten_builtins_parse_with_prompts_and_known_tools() {
        let (all, problems) = catalogue(None);
        assert!(problems.is_empty());
        let ids: Vec<&str> = all.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "scene-writer",
                "editor",
                "dialogue-doctor",
                "continuity-checker",
                "researcher",
                "brainstormer",
                "outliner",
                "character-smith",
                "summarizer",
                "judge"
            ]
        );
        for a in &all {
            assert!(a.system.split_whitespace().count() > 100, "{} has a real system prompt", a.id);
            assert!(!a.keywords.is_empty(), "{} has keywords", a.id);
            assert!(!a.description.is_empty());
        }
        let researcher = all.iter().find(|a| a.id == "researcher").unwrap();
        assert!(researcher.tools.iter().any(|t| t == "propose_bucket"));
    }

    #[test]
    fn project_agents_override_and_broken_ones_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("agents")).unwrap();
        std::fs::write(
            dir.path().join("agents/editor.md"),
            "---\nid: editor\nname: House Editor\nkeywords: [house]\ntools: [read_scene]\ntemperature: 0.2\n---\nYou edit in house style.\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("agents/bad.md"), "---\nid: bad\ntools: [fly]\n---\nx\n").unwrap();
        std::fs::write(dir.path().join("agents/worse.md"), "no frontmatter").unwrap();
        let (all, problems) = catalogue(Some(dir.path()));
        let editor = all.iter().find(|a| a.id == "editor").unwrap();
        assert_eq!(editor.name, "House Editor");
        assert_eq!(editor.system, "You edit in house style.");
        assert_eq!(editor.temperature, Some(0.2));
        assert_eq!(editor.source, "agents/editor.md");
        assert_eq!(problems.len(), 2);
        assert!(problems[0].1.contains("unknown tool `fly`"), "{problems:?}");
        assert!(problems[1].1.contains("frontmatter"), "{problems:?}");
    }
}
