//! `showrunner graph` and `showrunner stats`: pictures of the story. The relation graph and
//! the structure tree as Mermaid, Graphviz DOT or JSON; word counts, scenes per POV and the
//! mention heatmap as tables or JSON, with the writer's goals. The work is in
//! `showrunner_context::{graph, stats, goals}`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use showrunner_context::graph::{graph, to_dot, to_mermaid, GraphOptions};
use showrunner_context::stats::{stats, to_text, DEFAULT_GAP};
use showrunner_store::discover::{find_projects, project_of};
use showrunner_store::{load_project, Project};

use crate::paths::{absolute, display_relative};
use crate::Format;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    Mermaid,
    Dot,
    Json,
}

#[derive(Args)]
pub struct GraphArgs {
    /// A project folder, or a folder inside one (default: the current folder)
    dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "mermaid")]
    format: GraphFormat,
    /// Only nodes of this kind (`scene` for scenes); repeat it or separate kinds with commas
    #[arg(long = "kind", value_name = "KIND", value_delimiter = ',')]
    kinds: Vec<String>,
    /// Only what is within --depth edges of this bucket or scene id
    #[arg(long, value_name = "ID")]
    around: Option<String>,
    /// How far from --around to go (edges, in either direction)
    #[arg(long, default_value_t = 1, requires = "around")]
    depth: usize,
}

#[derive(Args)]
pub struct StatsArgs {
    /// A project folder, or a folder inside one (default: the current folder)
    dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Report entities absent for more than N chapters between two appearances
    #[arg(long, value_name = "N", default_value_t = DEFAULT_GAP)]
    gap: usize,
}

/// The one project `dir` is (or is in); a folder holding several projects must name one.
fn load(dir: Option<&Path>) -> Result<Project> {
    let dir = dir.unwrap_or(Path::new("."));
    let root = match project_of(dir) {
        Ok(root) => root,
        Err(err) => {
            let Ok(mut roots) = find_projects(dir) else { return Err(err.into()) };
            if roots.len() != 1 {
                let base = absolute(dir);
                let names: Vec<String> = roots.iter().map(|r| display_relative(&base, &absolute(r))).collect();
                bail!("{} holds {} projects; name one of them: {}", dir.display(), roots.len(), names.join(", "));
            }
            roots.remove(0)
        }
    };
    let progress = std::io::stderr().is_terminal();
    if progress {
        eprint!("\rReading {} …\x1b[K", root.display());
    }
    let project = load_project(&root);
    if progress {
        eprint!("\r\x1b[K");
    }
    Ok(project)
}

pub fn run_graph(args: &GraphArgs) -> Result<()> {
    let project = load(args.dir.as_deref())?;
    let opts = GraphOptions { kinds: args.kinds.clone(), around: args.around.clone(), depth: args.depth };
    let g = graph(&project.analysis, &opts)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        GraphFormat::Mermaid => out.write_all(to_mermaid(&g).as_bytes())?,
        GraphFormat::Dot => out.write_all(to_dot(&g).as_bytes())?,
        GraphFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &g)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}

pub fn run_stats(args: &StatsArgs) -> Result<()> {
    let project = load(args.dir.as_deref())?;
    let mut s = stats(&project.analysis, args.gap);
    // Words today and in this session, from the saved history (the same numbers as the editors').
    s.goals = Some(showrunner_lsp::pictures::project_goals(&project.root, &project.analysis)?);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Text => out.write_all(to_text(&s).as_bytes())?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &s)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}
