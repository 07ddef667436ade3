//! `showrunner export FORMAT [TARGET] [-o FILE]` and `showrunner import fdx FILE [-o FILE]`:
//! arguments into one call of `showrunner_export`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use showrunner_export::output::Place;
use showrunner_export::Format;
use showrunner_store::discover::project_of;
use showrunner_store::load_project;

use crate::paths::{absolute, display_relative};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Docx,
    Pdf,
    Fdx,
    Epub,
    Md,
    Fountain,
}

impl From<ExportFormat> for Format {
    fn from(f: ExportFormat) -> Format {
        match f {
            ExportFormat::Docx => Format::Docx,
            ExportFormat::Pdf => Format::Pdf,
            ExportFormat::Fdx => Format::Fdx,
            ExportFormat::Epub => Format::Epub,
            ExportFormat::Md => Format::Md,
            ExportFormat::Fountain => Format::Fountain,
        }
    }
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    format: ExportFormat,
    /// What to export: a season, arc, act or chapter id, a scene id or scene file, or the project
    /// (a project folder, or nothing: the project of --dir)
    target: Option<String>,
    /// The file to write (default: exports/TARGET.FORMAT in the project); a folder means
    /// TARGET.FORMAT in it
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// The project, for an id TARGET (default: the current folder's project)
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn run(args: &ExportArgs) -> Result<()> {
    let (root, target) = locate(args.dir.as_deref(), args.target.as_deref())?;
    // On a terminal: a spinner while the project is read, then a bar of the chapters rendered.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner().with_message(format!("reading {}", root.display()));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let project = load_project(&root);
    let shown = Bar { bar: bar.as_ref(), format: args.format_name() };
    // `-o` is relative to the current folder, as a shell user means it.
    let out = args.output.as_ref().map(|o| if o.is_absolute() { o.clone() } else { cwd().join(o) });
    let result = showrunner_export::export(
        &project.analysis,
        &project.root,
        args.format.into(),
        target.as_deref(),
        out.as_deref(),
        Place::Anywhere,
        &shown,
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let written = result?;
    println!(
        "wrote {} ({} {}, {} words)",
        display_relative(&cwd(), &written.path),
        written.scenes,
        if written.scenes == 1 { "scene" } else { "scenes" },
        showrunner_export::plan::thousands(written.words)
    );
    if !written.left_out.is_empty() {
        println!("left out ({} cannot hold them): {}", args.format_name(), written.left_out.join(", "));
    }
    Ok(())
}

/// An export's progress on a terminal: chapters rendered, then the file written.
struct Bar<'a> {
    bar: Option<&'a ProgressBar>,
    format: &'a str,
}

impl showrunner_export::Progress for Bar<'_> {
    fn chapter(&self, done: usize, of: usize) {
        let Some(bar) = self.bar else { return };
        if bar.length() != Some(of as u64) {
            bar.set_message(format!("rendering {}", self.format));
            bar.set_length(of as u64);
            bar.set_style(
                ProgressStyle::with_template("{msg} {bar:28.cyan/blue} {pos}/{len} chapters · {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
        bar.set_position(done as u64);
    }

    fn writing(&self, bytes: usize) {
        if let Some(bar) = self.bar {
            bar.set_message(showrunner_export::output::writing_message(bytes));
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ImportFormat {
    Fdx,
}

#[derive(Args)]
pub struct ImportArgs {
    #[arg(value_enum)]
    format: ImportFormat,
    /// The file to import (Final Draft .fdx)
    file: PathBuf,
    /// The Fountain file to write (default: FILE with .fountain, beside it); never replaced
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn import(args: &ImportArgs) -> Result<()> {
    let ImportFormat::Fdx = args.format;
    let (path, left_out) = showrunner_export::output::import_fdx(&args.file, args.output.as_deref())?;
    println!("wrote {}", display_relative(&cwd(), &absolute(&path)));
    if !left_out.is_empty() {
        println!("not kept (Fountain cannot hold them): {}", left_out.join(", "));
    }
    Ok(())
}

impl ExportArgs {
    fn format_name(&self) -> &'static str {
        Format::from(self.format).name()
    }
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// The project and the target within it: a file or folder TARGET that exists names its project
/// (a scene file becomes its project-relative path); anything else is an id in --dir's project.
fn locate(dir: Option<&Path>, target: Option<&str>) -> Result<(PathBuf, Option<String>)> {
    if let Some(t) = target {
        let p = Path::new(t);
        if p.exists() {
            let Ok(root) = project_of(p) else {
                bail!("{t} is in no Showrunner project (no showrunner.yaml in its folder or above)");
            };
            let root = absolute(&root);
            let abs = absolute(p);
            if abs == root {
                return Ok((root, None));
            }
            if abs.is_dir() {
                bail!("{t} is a folder: give a scene file, a structure or scene id, or the project folder");
            }
            let rel = display_relative(&root, &abs);
            return Ok((root, Some(rel)));
        }
    }
    let root = absolute(&project_of(dir.unwrap_or(Path::new(".")))?);
    Ok((root, target.map(str::to_string)))
}
