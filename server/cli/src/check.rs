//! `showrunner check`: index every project under a folder and print every diagnostic.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use showrunner_model::diag::{Diagnostic, Severity};
use showrunner_model::text::LineIndex;
use showrunner_store::discover::find_projects;
use showrunner_store::{index_path, load_project, Index};

use crate::paths::{absolute, display_relative};
use crate::Format;

#[derive(Serialize)]
struct Row {
    path: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    severity: &'static str,
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct Report {
    diagnostics: Vec<Row>,
    projects: usize,
    buckets: usize,
    scenes: usize,
}

/// Returns `Ok(false)` when any error was found (exit code 1).
pub fn run(dir: &Path, format: Format, hints: bool) -> Result<bool> {
    let roots = find_projects(dir)?;
    let dir_abs = absolute(dir);
    let progress = std::io::stderr().is_terminal();
    let mut report = Report { diagnostics: Vec::new(), projects: roots.len(), buckets: 0, scenes: 0 };
    let mut errors = 0;
    for root in &roots {
        let root_abs = absolute(root);
        if progress {
            eprint!("\rChecking {} …\x1b[K", display_relative(&dir_abs, &root_abs));
        }
        let project = load_project(root);
        let analysis = &project.analysis;
        if let Err(err) = Index::open(&index_path(root)).and_then(|mut i| i.sync(analysis, &project.hashes)) {
            if progress {
                eprint!("\r\x1b[K");
            }
            eprintln!("showrunner: warning: the index of {} was not updated: {err}", root.display());
        }
        report.buckets += analysis.buckets.len();
        report.scenes += analysis.scenes.len();
        // Checking a folder inside a project prints only that folder's files.
        let only_under = (dir_abs != root_abs && dir_abs.starts_with(&root_abs)).then_some(&dir_abs);
        let mut scene_of_file = vec![None; analysis.files.len()];
        for (i, s) in analysis.scenes.iter().enumerate() {
            scene_of_file[s.file] = Some(i);
        }
        // `--hints` prints SR001 unless the project turns them off; whether editors get them
        // (`entities: { link_hints: true }`) does not matter here.
        let show_hints = hints && analysis.config.check_hints();
        for (fi, file) in analysis.files.iter().enumerate() {
            let abs = root_abs.join(&file.path);
            if only_under.is_some_and(|d| !abs.starts_with(d)) {
                continue;
            }
            let mut diags: Vec<Diagnostic> = analysis.diagnostics[fi].clone();
            if show_hints {
                if let Some(si) = scene_of_file[fi] {
                    diags.extend(analysis.link_hints(&analysis.scenes[si]));
                }
            }
            if diags.is_empty() {
                continue;
            }
            let text = file.text().unwrap_or("");
            let lines = LineIndex::new(text);
            let path = display_relative(&dir_abs, &abs);
            for d in diags {
                if d.severity == Severity::Error {
                    errors += 1;
                }
                let start = lines.line_col(text, d.range.start);
                let end = lines.line_col(text, d.range.end);
                report.diagnostics.push(Row {
                    path: path.clone(),
                    line: start.line,
                    column: start.column,
                    end_line: end.line,
                    end_column: end.column,
                    severity: d.severity.as_str(),
                    code: d.code.as_str(),
                    message: d.message,
                });
            }
        }
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    report.diagnostics.sort_by(|a, b| (&a.path, a.line, a.column, a.code).cmp(&(&b.path, b.line, b.column, b.code)));
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => {
            serde_json::to_writer(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Text => {
            for r in &report.diagnostics {
                writeln!(out, "{}:{}:{}: {}[{}]: {}", r.path, r.line, r.column, r.severity, r.code, r.message)?;
            }
            writeln!(out, "{}", summary(&report))?;
        }
    }
    out.flush()?;
    Ok(errors == 0)
}

fn summary(report: &Report) -> String {
    let count = |sev: &str| report.diagnostics.iter().filter(|d| d.severity == sev).count();
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![
        plural(count("error"), "error", "errors"),
        plural(count("warning"), "warning", "warnings"),
        plural(count("info"), "info", "infos"),
    ];
    let hints = count("hint");
    if hints > 0 {
        parts.push(plural(hints, "hint", "hints"));
    }
    format!(
        "{} in {} ({}, {})",
        parts.join(", "),
        plural(report.projects, "project", "projects"),
        plural(report.buckets, "bucket", "buckets"),
        plural(report.scenes, "scene", "scenes")
    )
}
