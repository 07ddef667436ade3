//! `showrunner timeline list|create|switch`, `showrunner log [BUCKET|FILE]` and
//! `showrunner bucket create`: the history from the command line.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use showrunner_store::discover::{project_of, relative};
use showrunner_store::history::History;
use showrunner_store::load_project;

use crate::Format;

fn open(dir: &Path) -> Result<(std::path::PathBuf, History)> {
    let root = project_of(dir)?;
    let history = History::open(&root).with_context(|| format!("opening the history of {}", root.display()))?;
    Ok((root, history))
}

/// The project for the timeline commands: the usual one, or else the nearest folder holding a
/// log (`.showrunner/events.db`), so a project whose `showrunner.yaml` went missing can still be
/// switched to a timeline that has it.
fn open_timelines(dir: &Path) -> Result<(std::path::PathBuf, History)> {
    match project_of(dir) {
        Ok(_) => open(dir),
        Err(e) => {
            let abs = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
            let Some(root) = abs.ancestors().find(|a| showrunner_store::history::events_path(a).is_file()) else {
                return Err(e.into());
            };
            let history = History::open(root).with_context(|| format!("opening the history of {}", root.display()))?;
            Ok((root.to_path_buf(), history))
        }
    }
}

/// The write path ends with an index upsert; a failure there is reported, not fatal (the index
/// is derived and the next `check` rebuilds it).
fn reindex(dir: &Path) {
    if let Err(e) = project_of(dir).map_err(anyhow::Error::from).and_then(|r| Ok(showrunner_store::reindex(&r)?)) {
        eprintln!("showrunner: warning: the index was not updated: {e}");
    }
}

pub fn list(dir: &Path, format: Format) -> Result<()> {
    let (_, h) = open_timelines(dir)?;
    let timelines = h.timelines()?;
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &timelines)?;
        writeln!(out)?;
        return Ok(());
    }
    for t in timelines {
        let fork = t.forked_from.map(|f| format!(", forked at event {f}")).unwrap_or_default();
        writeln!(out, "{} {:<20} {} events{fork}", if t.current { "*" } else { " " }, t.name, t.events)?;
    }
    Ok(())
}

pub fn create(dir: &Path, name: &str, from: Option<&str>) -> Result<()> {
    let (_, mut h) = open(dir)?;
    let t = h.create_timeline(name, from)?;
    println!(
        "Created timeline `{}` ({} events). Switch to it with: showrunner timeline switch {}",
        t.name, t.events, t.name
    );
    Ok(())
}

pub fn switch(dir: &Path, name: &str) -> Result<()> {
    let (root, mut h) = open_timelines(dir)?;
    let changed = h.switch(name)?;
    reindex(&root);
    println!("Switched to timeline `{name}` ({changed} files rewritten).");
    Ok(())
}

pub fn log(dir: &Path, what: Option<&str>, format: Format) -> Result<()> {
    // A file names its own project, wherever the command runs from.
    let dir = match what.map(Path::new).filter(|p| p.exists() && dir == Path::new(".")) {
        Some(file) => showrunner_store::discover::project_of(file)?,
        None => dir.to_path_buf(),
    };
    let (root, h) = open(&dir)?;
    // A bucket id or a file path.
    let path = match what {
        None => None,
        Some(w) => {
            let as_file = Path::new(w);
            if as_file.exists() {
                Some(relative(&root, &as_file.canonicalize()?))
            } else {
                let project = load_project(&root);
                let b =
                    project.analysis.bucket(w).with_context(|| format!("`{w}` is neither a file nor a bucket id"))?;
                Some(project.analysis.files[b.file].path.clone())
            }
        }
    };
    let events = h.log(path.as_deref())?;
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &events)?;
        writeln!(out)?;
        return Ok(());
    }
    for e in &events {
        writeln!(
            out,
            "{:>6}  {:<12} {:<16} {:<16} v{:<4} {}",
            e.seq, e.timeline, e.kind, e.actor, e.new_version, e.path
        )?;
    }
    if events.is_empty() {
        writeln!(out, "(no history yet)")?;
    }
    Ok(())
}

pub fn create_bucket(dir: &Path, kind: &str, name: &str, aliases: &[String], parent: Option<&str>) -> Result<()> {
    let root = project_of(dir)?;
    let project = load_project(&root);
    let a = &project.analysis;
    let new = showrunner_store::buckets::NewBucket { kind, name, aliases, parent };
    let (id, path) =
        showrunner_store::buckets::create_bucket(&root, &a.config.kinds, &new, &|id| a.by_id.contains_key(id), "user")
            .map_err(anyhow::Error::msg)?;
    reindex(&root);
    println!("Created bucket `{id}` at {}", relative(&root, &path));
    Ok(())
}
