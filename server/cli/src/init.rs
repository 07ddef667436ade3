//! `showrunner init`: a new project, or the bundled example story.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use showrunner_model::config::CONFIG_FILE;

include!(concat!(env!("OUT_DIR"), "/example_files.rs"));

pub fn run(dir: PathBuf, example: bool) -> Result<()> {
    if dir.join(CONFIG_FILE).exists() {
        bail!("{} is already a Showrunner project ({} exists)", dir.display(), CONFIG_FILE);
    }
    let files: Vec<(String, Vec<u8>)> = if example {
        EXAMPLE_FILES.iter().map(|(p, b)| (p.to_string(), b.to_vec())).collect()
    } else {
        starter_files(&dir)
    };
    // Never overwrite a writer's file: check everything before writing anything.
    let clashes: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).filter(|p| dir.join(p).exists()).collect();
    if !clashes.is_empty() {
        bail!("{} already holds {}; nothing was written", dir.display(), clashes.join(", "));
    }
    for (rel, bytes) in &files {
        showrunner_store::fsx::write_atomic(&dir.join(rel), bytes)
            .with_context(|| format!("writing {}", dir.join(rel).display()))?;
    }
    let what = if example { "the example story \"The Lighthouse\"" } else { "a new project" };
    println!("Created {what} in {} ({} files).", dir.display(), files.len());
    println!("Next: showrunner check {}", shell_quote(&dir));
    Ok(())
}

fn shell_quote(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars().all(|c| c.is_alphanumeric() || "/._-".contains(c)) {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn starter_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let name = std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|n| showrunner_model::analysis::title_case(&n.replace(['-', '_'], " ")))
        .unwrap_or_else(|| "My Story".into());
    let config = format!(
        "name: {}\n# default_model: local/llama3.1\n# providers:\n#   local: {{ base_url: \"http://127.0.0.1:11434/v1\" }}\ncontext: {{ budget_tokens: 6000 }}\n# entities: {{ link_hints: true }}   # SR001 hint on every mention\n",
        yaml_quote(&name)
    );
    vec![
        (CONFIG_FILE.into(), config.into_bytes()),
        (
            "buckets/structure/chapter-01.yaml".into(),
            b"kind: chapter\nname: Chapter One\nsummary: Where it begins.\n".to_vec(),
        ),
        (
            "story/chapter-01/01-opening.md".into(),
            b"---\nparent: chapter-01\n---\nThe first line goes here.\n".to_vec(),
        ),
        (".gitignore".into(), b".showrunner/index.db*\n".to_vec()),
    ]
}

fn yaml_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_alphanumeric() || c == ' ') {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
