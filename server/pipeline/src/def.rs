//! Pipeline definitions: YAML (built-in templates embedded in the binary, project
//! `workflows/*.yaml` overriding them by id) validated into a DAG.
//!
//! ```yaml
//! id: draft-scene
//! title: Draft a scene
//! description: Writes a first draft of the scene from its context and your notes.
//! steps:
//!   - { id: context, type: gather_context }
//!   - { id: prompt, type: prompt, template: "Write the scene…{{context}}" }
//!   - { id: review, type: review_prompt }
//!   - { id: draft, type: generate, agent: scene-writer }
//!   - { id: check, type: verify, max_retries: 2 }
//!   - { id: approve, type: approve_output }
//!   - { id: apply, type: apply_edit }
//! ```
//! Steps run in order unless `needs:` names other steps (then they form a DAG); `when:` makes a
//! step conditional. Invalid graphs are refused naming the cycle or the missing step, with the
//! line where it is written.

use serde::Serialize;
use showrunner_model::text::LineIndex;
use showrunner_model::yaml::{self, Node};

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The context the engine assembled for the scene.
    #[default]
    GatherContext,
    /// A template rendered with the run's variables.
    Prompt,
    /// A gate: the writer reviews the prompt.
    ReviewPrompt,
    /// A model call.
    Generate,
    /// A model scores the output; a human decides between the thresholds.
    Judge,
    /// The continuity check: names the story does not know.
    Verify,
    /// A gate: the writer approves the output (and the edit it makes).
    ApproveOutput,
    /// The approved plan is applied.
    ApplyEdit,
    /// The findings become a bucket.
    SaveBucket,
    /// A model call for research findings.
    Research,
    /// A model call for a summary.
    Summarize,
    /// An agent's tool call (agent runs).
    Tool,
    /// The question before going on with an interrupted run.
    Resume,
}

impl StepKind {
    /// The kinds a workflow may use (`tool` and `resume` belong to agent runs and resuming).
    pub const WORKFLOW: [StepKind; 11] = [
        StepKind::GatherContext,
        StepKind::Prompt,
        StepKind::ReviewPrompt,
        StepKind::Generate,
        StepKind::Judge,
        StepKind::Verify,
        StepKind::ApproveOutput,
        StepKind::ApplyEdit,
        StepKind::SaveBucket,
        StepKind::Research,
        StepKind::Summarize,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::GatherContext => "gather_context",
            StepKind::Prompt => "prompt",
            StepKind::ReviewPrompt => "review_prompt",
            StepKind::Generate => "generate",
            StepKind::Judge => "judge",
            StepKind::Verify => "verify",
            StepKind::ApproveOutput => "approve_output",
            StepKind::ApplyEdit => "apply_edit",
            StepKind::SaveBucket => "save_bucket",
            StepKind::Research => "research",
            StepKind::Summarize => "summarize",
            StepKind::Tool => "tool",
            StepKind::Resume => "resume",
        }
    }

    /// Steps that call a model for their output (they can run side by side).
    pub fn generates(self) -> bool {
        matches!(self, StepKind::Generate | StepKind::Research | StepKind::Summarize)
    }

    /// Steps that call a model at all (the ones the cascade names a model for).
    pub fn calls_model(self) -> bool {
        self.generates() || matches!(self, StepKind::Judge)
    }

    /// A prompt, or the writer's review of it.
    pub fn is_prompt(self) -> bool {
        matches!(self, StepKind::Prompt | StepKind::ReviewPrompt)
    }
}

impl<'de> serde::Deserialize<'de> for StepKind {
    /// Every kind by its name; run records written before the kinds were typed also said
    /// `tool:<name>` for an agent's tool call.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "tool" => Ok(StepKind::Tool),
            "resume" => Ok(StepKind::Resume),
            t if t.starts_with("tool:") => Ok(StepKind::Tool),
            t => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so widths and alignment (`{:<16}`) apply as they do to a string.
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for StepKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StepKind::WORKFLOW.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let all: Vec<&str> = StepKind::WORKFLOW.iter().map(|k| k.as_str()).collect();
            format!("unknown type `{s}`; the types are {}", all.join(", "))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(rename = "PipelineLayer"))]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    QuickAction,
    Template,
    Custom,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Step {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: StepKind,
    pub needs: Vec<String>,
    /// `step_id.field == value` style condition, or a step id that must have output.
    pub when: Option<String>,
    pub template: Option<String>,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub max_retries: u32,
    pub json: bool,
    /// `apply_edit`: where the text goes (the default: replace the selection when there is
    /// one, else append to the scene).
    pub mode: Option<crate::edit::EditMode>,
    /// `apply_edit` with `mode: set_frontmatter`: the frontmatter field to set (e.g. `summary`).
    pub field: Option<String>,
    /// 1-based line of the step in its file.
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pipeline {
    pub id: String,
    pub title: String,
    pub description: String,
    pub layer: Layer,
    pub steps: Vec<Step>,
    /// Step indices in an order that respects every `needs:`.
    pub order: Vec<usize>,
}

impl Pipeline {
    /// The pipeline with its answer judged (SPEC §7) before anything uses it: a `judge` step
    /// right after the last step that generates, needed by the steps that needed that one.
    /// Itself when it judges already or generates nothing.
    pub fn judged(&self) -> Pipeline {
        let Some(g) = self.steps.iter().rposition(|s| s.kind.generates()) else { return self.clone() };
        if self.steps.iter().any(|s| s.kind == StepKind::Judge) {
            return self.clone();
        }
        let generator = self.steps[g].id.clone();
        let mut id = String::from("judge");
        while self.steps.iter().any(|s| s.id == id) {
            id.push('_');
        }
        let mut steps = self.steps.clone();
        for n in steps.iter_mut().flat_map(|s| s.needs.iter_mut()).filter(|n| **n == generator) {
            n.clone_from(&id);
        }
        let judge = Step {
            id,
            kind: StepKind::Judge,
            needs: vec![generator],
            max_retries: 2,
            line: steps[g].line,
            ..Step::default()
        };
        steps.insert(g + 1, judge);
        let ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
        let needs: Vec<&[String]> = steps.iter().map(|s| s.needs.as_slice()).collect();
        // A step put between a step and the steps needing it closes no cycle.
        let order = crate::dag::order(&ids, &needs).unwrap_or_default();
        Pipeline { steps, order, ..self.clone() }
    }

    /// Whether the pipeline works on a selection: a prompt that reads `selection`, or an edit
    /// that replaces it. Run without one, it would send an empty passage.
    pub fn needs_selection(&self) -> bool {
        self.steps.iter().any(|s| {
            s.template.as_deref().is_some_and(|t| t.contains("selection"))
                || s.mode == Some(crate::edit::EditMode::Replace)
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DefError {
    pub line: u32,
    pub message: String,
}

impl std::fmt::Display for DefError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn line_of(text: &str, lines: &LineIndex, n: &Node) -> u32 {
    lines.line_col(text, n.span.start).line
}

/// Parses and validates one pipeline definition.
pub fn parse(text: &str, layer: Layer) -> Result<Pipeline, Vec<DefError>> {
    let lines = LineIndex::new(text);
    let parsed = yaml::parse(text);
    let mut errors: Vec<DefError> = parsed
        .errors
        .iter()
        .map(|e| DefError {
            line: lines.line_col(text, e.range.start).line,
            message: format!("YAML syntax error: {}", e.message),
        })
        .collect();
    let Some(root) = parsed.root.filter(|r| r.as_map().is_some()) else {
        errors.push(DefError { line: 1, message: "a pipeline is a mapping with `id` and `steps`".into() });
        return Err(errors);
    };
    let text_of = |key: &str| root.get(key).and_then(Node::scalar_text);
    let id = text_of("id").unwrap_or_default();
    if !showrunner_model::id::is_valid_id(&id) {
        errors.push(DefError { line: 1, message: "the pipeline needs an `id` (letters, digits, - and _)".into() });
    }
    let mut steps = Vec::new();
    match root.get("steps").and_then(Node::as_seq) {
        None => errors.push(DefError { line: 1, message: "the pipeline needs `steps:`, a list".into() }),
        Some(items) => {
            for (i, item) in items.iter().enumerate() {
                let line = line_of(text, &lines, item);
                let get = |k: &str| item.get(k).and_then(Node::scalar_text);
                let sid = get("id").unwrap_or_else(|| format!("step-{}", i + 1));
                let kind = match get("type").unwrap_or_default().parse::<StepKind>() {
                    Ok(k) => k,
                    Err(e) => {
                        errors.push(DefError { line, message: format!("step `{sid}` has an {e}") });
                        StepKind::default()
                    }
                };
                let needs = match item.get("needs") {
                    Some(n) => match n.as_seq() {
                        Some(list) => list.iter().filter_map(Node::scalar_text).collect(),
                        None => n.scalar_text().into_iter().collect(),
                    },
                    // Sequential by default: each step needs the one before it.
                    None => steps.last().map(|s: &Step| vec![s.id.clone()]).unwrap_or_default(),
                };
                let max_retries =
                    item.get("max_retries").and_then(|n| n.scalar_text()).and_then(|s| s.parse().ok()).unwrap_or(2);
                let json = item.get("json").is_some_and(|n| n.scalar_text().as_deref() == Some("true"));
                let mode = match get("mode").map(|m| m.parse::<crate::edit::EditMode>()) {
                    Some(Ok(m)) => Some(m),
                    Some(Err(e)) => {
                        errors.push(DefError { line, message: format!("step `{sid}`: {e}") });
                        None
                    }
                    None => None,
                };
                if mode == Some(crate::edit::EditMode::SetFrontmatter) && get("field").is_none() {
                    errors.push(DefError {
                        line,
                        message: format!("step `{sid}` sets a field: name it with `field:` (e.g. `field: summary`)"),
                    });
                }
                if steps.iter().any(|s: &Step| s.id == sid) {
                    errors.push(DefError { line, message: format!("two steps are called `{sid}`") });
                }
                steps.push(Step {
                    id: sid,
                    kind,
                    needs,
                    when: get("when"),
                    template: get("template"),
                    agent: get("agent"),
                    model: get("model"),
                    max_retries,
                    json,
                    mode,
                    field: get("field"),
                    line,
                });
            }
        }
    }
    let ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
    let needs: Vec<&[String]> = steps.iter().map(|s| s.needs.as_slice()).collect();
    let order = crate::dag::order(&ids, &needs).unwrap_or_else(|graph_errors| {
        errors.extend(
            graph_errors
                .iter()
                .map(|e| DefError { line: steps[e.node()].line, message: e.message(&ids, "step", "this pipeline") }),
        );
        Vec::new()
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    // A built-in may declare itself a quick action (one step on a selection).
    let layer = match (layer, text_of("layer").as_deref()) {
        (Layer::Template, Some("quick_action")) => Layer::QuickAction,
        (layer, _) => layer,
    };
    Ok(Pipeline {
        title: text_of("title").unwrap_or_else(|| id.clone()),
        description: text_of("description").unwrap_or_default(),
        id,
        layer,
        steps,
        order,
    })
}

/// The built-in templates, embedded in the binary.
pub const BUILTIN: &[(&str, &str)] = &[
    ("draft-scene", include_str!("../templates/draft-scene.yaml")),
    ("continue-scene", include_str!("../templates/continue-scene.yaml")),
    ("rewrite-selection", include_str!("../templates/rewrite-selection.yaml")),
    ("brainstorm", include_str!("../templates/brainstorm.yaml")),
    ("outline-chapter", include_str!("../templates/outline-chapter.yaml")),
    ("summarize-scene", include_str!("../templates/summarize-scene.yaml")),
    ("continuity-check", include_str!("../templates/continuity-check.yaml")),
    ("research", include_str!("../templates/research.yaml")),
    ("expand-selection", include_str!("../templates/expand-selection.yaml")),
    ("tighten-selection", include_str!("../templates/tighten-selection.yaml")),
    ("describe-selection", include_str!("../templates/describe-selection.yaml")),
    ("research-selection", include_str!("../templates/research-selection.yaml")),
];

/// Every pipeline a project can run: built-ins, overridden by project `workflows/*.yaml` with the
/// same id. `custom` is `(file name, text)` of each workflow file. Broken files are reported.
pub fn catalogue(custom: &[(String, String)]) -> (Vec<Pipeline>, Vec<(String, Vec<DefError>)>) {
    let mut out: Vec<Pipeline> = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in BUILTIN {
        match parse(text, Layer::Template) {
            Ok(p) => out.push(p),
            Err(e) => problems.push((format!("built-in {name}"), e)),
        }
    }
    for (file, text) in custom {
        match parse(text, Layer::Custom) {
            Ok(p) => {
                out.retain(|b| b.id != p.id);
                out.push(p);
            }
            Err(e) => problems.push((file.clone(), e)),
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_valid() {
        let (all, problems) = catalogue(&[]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(all.len(), 12);
        assert_eq!(all.iter().filter(|p| p.layer == Layer::QuickAction).count(), 5);
    }

    #[test]
    fn sequential_by_default_and_needs_form_a_dag() {
        let p = parse("id: p\nsteps:\n  - { id: a, type: gather_context }\n  - { id: b, type: prompt }\n  - { id: c, type: generate, needs: [a] }\n", Layer::Custom).unwrap();
        assert_eq!(p.steps[1].needs, vec!["a"]);
        assert_eq!(p.steps[2].needs, vec!["a"]);
        assert_eq!(p.order[0], 0);
    }

    #[test]
    fn a_judged_pipeline_scores_the_last_answer_before_it_is_used() {
        let p = parse(BUILTIN.iter().find(|(id, _)| *id == "draft-scene").unwrap().1, Layer::Template).unwrap();
        let j = p.judged();
        let at = |id: &str| j.steps.iter().position(|s| s.id == id).unwrap();
        let judge = &j.steps[at("judge")];
        assert_eq!(judge.kind, StepKind::Judge);
        assert_eq!(judge.needs, ["draft"]);
        assert_eq!(judge.max_retries, 2);
        // Whatever needed the draft now needs the judge; the order puts the judge between.
        assert!(j.steps.iter().filter(|s| s.id != "judge").all(|s| !s.needs.contains(&"draft".to_string())));
        let pos = |i: usize| j.order.iter().position(|&o| o == i).unwrap();
        assert!(pos(at("draft")) < pos(at("judge")) && pos(at("judge")) < pos(at("check")));
        assert_eq!(j.order.len(), j.steps.len());
        // Judged once only.
        assert_eq!(j.judged(), j);
    }

    #[test]
    fn cycles_and_missing_steps_are_named_with_lines() {
        let text = "id: p\nsteps:\n  - { id: a, type: prompt, needs: [c] }\n  - { id: b, type: generate, needs: [a] }\n  - { id: c, type: verify, needs: [b] }\n";
        let err = parse(text, Layer::Custom).unwrap_err();
        assert!(err[0].message.contains("cycle"), "{err:?}");
        assert!(err[0].message.contains('a') && err[0].message.contains('b') && err[0].message.contains('c'));
        let err = parse(
            "id: p\nsteps:\n  - { id: a, type: prompt }\n  - { id: b, type: generate, needs: [zzz] }\n",
            Layer::Custom,
        )
        .unwrap_err();
        assert_eq!(err[0].line, 4);
        assert!(err[0].message.contains("needs `zzz`"));
        let err = parse("id: p\nsteps:\n  - { id: a, type: fly }\n", Layer::Custom).unwrap_err();
        assert!(err[0].message.contains("unknown type `fly`"));
    }

    #[test]
    fn project_workflows_override_builtins() {
        let custom = vec![(
            "workflows/brainstorm.yaml".to_string(),
            "id: brainstorm\ntitle: Mine\nsteps:\n  - { id: g, type: generate }\n".to_string(),
        )];
        let (all, _) = catalogue(&custom);
        let b = all.iter().find(|p| p.id == "brainstorm").unwrap();
        assert_eq!(b.title, "Mine");
        assert_eq!(b.layer, Layer::Custom);
    }
}
