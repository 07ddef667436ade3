//! `showrunner models [DIR]`: providers, the models a project names, and how each model-calling
//! step and each scene resolves through the cascade.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use showrunner_agents::studio::Cascade;
use showrunner_context::cascade::{check_model, Resolution};
use showrunner_pipeline::StepKind;
use showrunner_store::discover::project_of;
use showrunner_store::load_project;

use crate::Format;

/// The step types that call a model (spec 7).
pub const MODEL_STEPS: &[StepKind] =
    &[StepKind::Generate, StepKind::Judge, StepKind::Verify, StepKind::Summarize, StepKind::Research];

#[derive(Serialize)]
struct ProviderRow {
    name: String,
    base_url: Option<String>,
    api_key_env: Option<String>,
    /// Whether that variable is set (its value is never read into output).
    key_set: Option<bool>,
}

#[derive(Serialize)]
struct ModelRow {
    model: String,
    used_by: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

#[derive(Serialize)]
struct StepRow {
    step: &'static str,
    #[serde(flatten)]
    resolution: Resolution,
}

#[derive(Serialize)]
struct SceneRow {
    path: String,
    #[serde(flatten)]
    resolution: Resolution,
}

#[derive(Serialize)]
struct Report {
    project: String,
    providers: Vec<ProviderRow>,
    default_model: Option<String>,
    user_config: String,
    user_default: Option<String>,
    models: Vec<ModelRow>,
    steps: Vec<StepRow>,
    scenes: Vec<SceneRow>,
}

pub fn run(dir: &Path, format: Format) -> Result<()> {
    let root = project_of(dir)?;
    let project = load_project(&root);
    let a = &project.analysis;
    let cfg = &a.config;
    let (agents, _) = showrunner_agents::defs::catalogue(Some(&root));
    let cascade = Cascade::new(a, &agents);
    let (user_file, user_model) = cascade.user();
    let (user_file, user_model) = (user_file.to_string(), user_model.map(str::to_string));

    let providers = cfg
        .providers
        .iter()
        .map(|p| ProviderRow {
            name: p.name.clone(),
            base_url: p.base_url.clone(),
            api_key_env: p.api_key_env.clone(),
            key_set: p.api_key_env.as_deref().map(showrunner_agents::studio::key_set),
        })
        .collect();

    let mut named: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(m) = &cfg.default_model {
        named.entry(m.clone()).or_default().push("default_model".into());
    }
    if let Some(m) = &user_model {
        named.entry(m.clone()).or_default().push("user default".into());
    }
    for b in &a.buckets {
        if let Some(m) = &b.bucket.model_preference {
            named.entry(m.clone()).or_default().push(format!("bucket {}", b.bucket.id.value));
        }
    }
    for s in &a.scenes {
        if let Some(m) = &s.scene.model {
            named.entry(m.clone()).or_default().push(format!("scene {}", a.files[s.file].path));
        }
    }
    let models = named
        .into_iter()
        .map(|(model, used_by)| ModelRow { problem: check_model(cfg, &model), model, used_by })
        .collect();

    let steps = MODEL_STEPS
        .iter()
        .map(|&step| StepRow { step: step.as_str(), resolution: cascade.resolve(None, None, None) })
        .collect();
    let scenes = (0..a.scenes.len())
        .map(|i| SceneRow {
            path: a.files[a.scenes[i].file].path.clone(),
            resolution: cascade.resolve(Some(i), None, None),
        })
        .collect();
    let report = Report {
        project: cfg.name.clone(),
        providers,
        default_model: cfg.default_model.clone(),
        user_config: user_file.clone(),
        user_default: user_model.clone(),
        models,
        steps,
        scenes,
    };

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(());
    }
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    writeln!(out, "Project: {} ({})\n", report.project, root.display())?;
    writeln!(out, "Providers:")?;
    if report.providers.is_empty() {
        writeln!(out, "  (none: add `providers:` to showrunner.yaml)")?;
    }
    for p in &report.providers {
        let key = match (&p.api_key_env, p.key_set) {
            (Some(v), Some(true)) => format!("key from ${v} (set)"),
            (Some(v), _) => format!("key from ${v} (NOT set)"),
            (None, _) => "no key".into(),
        };
        writeln!(out, "  {:<10} {:<40} {key}", p.name, dash(&p.base_url))?;
    }
    writeln!(out, "\nDefault model: {}", dash(&report.default_model))?;
    writeln!(out, "User default:  {} ({})", dash(&report.user_default), report.user_config)?;
    writeln!(out, "\nModels named in the project:")?;
    for m in &report.models {
        let problem = m.problem.as_ref().map(|p| format!("  ⚠ {p}")).unwrap_or_default();
        writeln!(out, "  {:<28} {}{problem}", m.model, m.used_by.join(", "))?;
    }
    let chain = |r: &Resolution| {
        r.chain.iter().map(|l| format!("{} {}", l.level, dash(&l.value))).collect::<Vec<_>>().join(" › ")
    };
    writeln!(out, "\nSteps (no scene, no agent):")?;
    for s in &report.steps {
        writeln!(out, "  {:<10} → {:<24} {}", s.step, dash(&s.resolution.model), chain(&s.resolution))?;
    }
    writeln!(out, "\nScenes (generate step):")?;
    for s in &report.scenes {
        writeln!(out, "  {:<40} → {:<24} {}", s.path, dash(&s.resolution.model), chain(&s.resolution))?;
    }
    out.flush()?;
    Ok(())
}
