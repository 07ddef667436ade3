//! The writer's own settings, below every project: `$XDG_CONFIG_HOME/showrunner/config.yaml`
//! (else `~/.config/showrunner/config.yaml`). Today it holds `default_model`, the last level of
//! the model cascade.

use std::path::PathBuf;

use showrunner_model::yaml;

pub fn config_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"));
    base.join("showrunner").join("config.yaml")
}

/// `(path of the user config, its default_model if any)`.
pub fn default_model() -> (String, Option<String>) {
    let path = config_path();
    let model = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| yaml::parse(&t).root)
        .and_then(|r| r.get("default_model").and_then(|v| v.scalar_text()));
    (path.display().to_string(), model)
}
