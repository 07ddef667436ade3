//! The model cascade (spec 6): the model for a step resolves
//! **step > scene `model:` > the scene's primary bucket's `model_preference` > agent default >
//! project `default_model` > user default** (`$XDG_CONFIG_HOME/showrunner/config.yaml`).
//! The answer always carries the whole chain, empty levels included, so a writer can see why.

use serde::Serialize;
use showrunner_model::analysis::Analysis;
use showrunner_model::config::ProjectConfig;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Level {
    pub level: &'static str,
    /// The model this level names, or `null` when it names none.
    pub value: Option<String>,
    /// Where the value comes from (a bucket, an agent, a file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Resolution {
    /// The first non-empty level; `null` when no level names a model.
    pub model: Option<String>,
    pub chain: Vec<Level>,
    /// Why a call to `model` cannot go out as things stand (see [`model_problem`]): an editor
    /// flags it before the writer approves a prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The model a call goes to when no level of the cascade names one (what `showrunner init`
/// suggests, a local Ollama's usual model).
pub const FALLBACK_MODEL: &str = "local/llama3.1";

impl Resolution {
    /// The model to call: the cascade's, else [`FALLBACK_MODEL`].
    pub fn model_or_fallback(&self) -> String {
        self.model.clone().unwrap_or_else(|| FALLBACK_MODEL.to_string())
    }
}

/// What each level of the cascade says, as known to the caller.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    pub step: Option<&'a str>,
    pub scene: Option<(&'a str, &'a str)>,
    /// `(bucket id, model_preference)` of the scene's primary bucket.
    pub bucket: Option<(&'a str, Option<&'a str>)>,
    /// `(agent id, its default model)`.
    pub agent: Option<(&'a str, Option<&'a str>)>,
    pub project: Option<&'a str>,
    /// `(file, default_model)` from the user's own config.
    pub user: Option<(&'a str, Option<&'a str>)>,
}

pub fn resolve(inputs: &Inputs<'_>) -> Resolution {
    let owned = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let chain = vec![
        Level { level: "step", value: owned(inputs.step), source: None },
        Level {
            level: "scene",
            value: owned(inputs.scene.map(|s| s.1)),
            source: inputs.scene.map(|(id, _)| format!("scene {id} (`model:`)")),
        },
        Level {
            level: "bucket",
            value: owned(inputs.bucket.and_then(|b| b.1)),
            source: inputs.bucket.map(|(id, _)| format!("bucket {id} (`model_preference`)")),
        },
        Level {
            level: "agent",
            value: owned(inputs.agent.and_then(|a| a.1)),
            source: inputs.agent.map(|(id, _)| format!("agent {id}")),
        },
        Level {
            level: "project",
            value: owned(inputs.project),
            source: Some("showrunner.yaml (`default_model`)".into()),
        },
        Level {
            level: "user",
            value: owned(inputs.user.and_then(|u| u.1)),
            source: inputs.user.map(|(file, _)| file.to_string()),
        },
    ];
    let model = chain.iter().find_map(|l| l.value.clone());
    Resolution { model, chain, problem: None }
}

/// What a scene contributes to the cascade.
#[derive(Debug, Clone, Copy, Default)]
pub struct SceneModels<'a> {
    /// `(scene id, its model:)`.
    pub scene: Option<(&'a str, &'a str)>,
    /// `(primary bucket id, its model_preference)`.
    pub bucket: Option<(&'a str, Option<&'a str>)>,
}

/// The cascade inputs a scene provides: its own `model:` and its primary bucket (the POV
/// character; without one, the most mentioned bucket).
pub fn scene_inputs(analysis: &Analysis, scene: usize) -> SceneModels<'_> {
    let entry = &analysis.scenes[scene];
    let s = &entry.scene;
    let own = s.model.as_deref().map(|m| (s.id.value.as_str(), m));
    let primary = s
        .pov
        .as_ref()
        .and_then(|p| analysis.bucket(&p.value))
        .or_else(|| {
            let mut counts: Vec<(u32, usize)> = Vec::new();
            for m in &entry.mentions {
                match counts.iter_mut().find(|(b, _)| *b == m.bucket) {
                    Some(c) => c.1 += 1,
                    None => counts.push((m.bucket, 1)),
                }
            }
            counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            counts.first().map(|(b, _)| &analysis.buckets[*b as usize])
        })
        .map(|b| (b.bucket.id.value.as_str(), b.bucket.model_preference.as_deref()));
    SceneModels { scene: own, bucket: primary }
}

/// A problem with a `provider/model` name under this config, if any.
pub fn check_model(config: &ProjectConfig, model: &str) -> Option<String> {
    let Some((provider, name)) = model.split_once('/') else {
        return Some(format!("`{model}` should be `provider/model`, e.g. `local/llama3.1`"));
    };
    if name.is_empty() {
        return Some(format!("`{model}` names no model after the provider"));
    }
    if !config.providers.iter().any(|p| p.name == provider) {
        let known: Vec<&str> = config.providers.iter().map(|p| p.name.as_str()).collect();
        return Some(if known.is_empty() {
            format!("provider `{provider}` is not configured: add it under `providers:` in showrunner.yaml")
        } else {
            format!("provider `{provider}` is not configured (known: {})", known.join(", "))
        });
    }
    None
}

/// Why a call to `model` cannot go out: what [`check_model`] finds, a provider without a
/// `base_url`, or an `api_key_env` naming a variable that holds no key (`key_set` answers for a
/// variable's name; the key itself is never read here).
pub fn model_problem(config: &ProjectConfig, model: &str, key_set: impl Fn(&str) -> bool) -> Option<String> {
    if let Some(problem) = check_model(config, model) {
        return Some(problem);
    }
    let provider = model.split_once('/').map(|(p, _)| p)?;
    let p = config.providers.iter().find(|p| p.name == provider)?;
    if p.base_url.is_none() {
        return Some(format!("`providers.{provider}.base_url` is not set in showrunner.yaml"));
    }
    match &p.api_key_env {
        Some(var) if !key_set(var) => {
            Some(format!("the environment variable {var} (named by `providers.{provider}.api_key_env`) holds no key"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_non_empty_level_wins_and_chain_is_complete() {
        let r = resolve(&Inputs {
            step: None,
            scene: None,
            bucket: Some(("alice", Some("openai/gpt-4o"))),
            agent: Some(("scene-writer", Some("local/qwen2.5"))),
            project: Some("local/llama3.1"),
            user: None,
        });
        assert_eq!(r.model.as_deref(), Some("openai/gpt-4o"));
        let levels: Vec<(&str, Option<&str>)> = r.chain.iter().map(|l| (l.level, l.value.as_deref())).collect();
        assert_eq!(
            levels,
            vec![
                ("step", None),
                ("scene", None),
                ("bucket", Some("openai/gpt-4o")),
                ("agent", Some("local/qwen2.5")),
                ("project", Some("local/llama3.1")),
                ("user", None)
            ]
        );
        let r = resolve(&Inputs { step: Some("x/y"), project: Some("local/a"), ..Default::default() });
        assert_eq!(r.model.as_deref(), Some("x/y"));
        assert_eq!(resolve(&Inputs::default()).model, None);
        let r = resolve(&Inputs {
            user: Some(("~/.config/showrunner/config.yaml", Some("local/u"))),
            ..Default::default()
        });
        assert_eq!(r.model.as_deref(), Some("local/u"));
    }

    #[test]
    fn model_problem_names_the_missing_key_and_never_reads_it() {
        let cfg = showrunner_model::config::parse_config(
            "name: x\nproviders:\n  openai: { base_url: \"https://api.example/v1\", api_key_env: SR_KEY_A }\n  local: { base_url: \"http://127.0.0.1:1/v1\" }\n  bare: {}\n",
            "x",
        )
        .0;
        let none = |_: &str| false;
        let p = model_problem(&cfg, "openai/gpt-4o", none).unwrap();
        assert!(p.contains("SR_KEY_A") && p.contains("providers.openai.api_key_env"), "{p}");
        assert_eq!(model_problem(&cfg, "openai/gpt-4o", |v| v == "SR_KEY_A"), None);
        assert_eq!(model_problem(&cfg, "local/smollm2", none), None);
        assert!(model_problem(&cfg, "bare/m", none).unwrap().contains("base_url"));
        assert!(model_problem(&cfg, "anthropic/claude", none).unwrap().contains("not configured"));
    }
}
