//! `sr-bench scale [EDITS]`: what a keystroke costs against the size of the open scene.
//!
//! One project (M) with four long scenes of 5k, 20k, 100k and 500k words. For each scene, with
//! SR001 link hints on and off, `EDITS` one-word insertions (default 100), each timed from
//! `didChange` to the `publishDiagnostics` of exactly that document `version`; the size of each
//! publish (its JSON body, as the client parses it); and the slope: extra milliseconds per
//! thousand words of the open scene. Then edits made while the L project (5,000 scenes) is still
//! being indexed, and the peak memory with M and L open.
//!
//! The client declares no pull diagnostics: it times what push clients get.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;
use showrunner_testkit::Client;

use crate::{binary, gen, peak_rss_kb, percentile, type_and_wait};

const SIZES: [usize; 4] = [5_000, 20_000, 100_000, 500_000];

struct Row {
    words: usize,
    hints: bool,
    diagnostics: usize,
    times: Vec<Duration>,
    bytes: Vec<usize>,
}

/// The M project with the four long scenes (generated once under `base`).
pub(crate) fn project(base: &Path) -> Result<(PathBuf, Vec<(usize, PathBuf)>)> {
    let dir = base.join("scale");
    if !dir.join("showrunner.yaml").exists() {
        gen::generate(gen::size("M").expect("M"), &dir)?;
    }
    let mut scenes = Vec::new();
    for words in SIZES {
        let id = format!("scale-{}k", words / 1000);
        let path = dir.join(format!("story/long/{id}.md"));
        if !path.exists() {
            gen::long_scene_named(&dir, words, &id)?;
        }
        scenes.push((words, path));
    }
    Ok((dir, scenes))
}

/// Turns SR001 hints to editors on or off in the project's config.
pub(crate) fn set_hints(dir: &Path, on: bool) -> Result<()> {
    let path = dir.join("showrunner.yaml");
    let cfg = std::fs::read_to_string(&path)?;
    let cfg = cfg.replace(&format!("link_hints: {}", !on), &format!("link_hints: {on}"));
    anyhow::ensure!(cfg.contains(&format!("link_hints: {on}")), "showrunner.yaml sets no link_hints: {cfg}");
    std::fs::write(path, cfg)?;
    Ok(())
}

/// `edits` insertions of "and " at the start of random body lines, each timed to its own publish.
fn type_into(c: &mut Client, path: &Path, words: usize, hints: bool, edits: usize) -> Result<Row> {
    let text = std::fs::read_to_string(path)?;
    let lines = text.lines().count();
    let body_from = text.lines().skip(1).position(|l| l == "---").map_or(1, |i| i + 2);
    let u = c.open(path, "markdown");
    let first = c.diagnostics(&u, |_| true);
    let mut rng = gen::Rng::new(words as u64);
    let mut row = Row { words, hints, diagnostics: first.len(), times: Vec::new(), bytes: Vec::new() };
    for version in 2..2 + edits as i64 {
        let line = body_from + rng.below(lines - body_from);
        let (published, took) = type_and_wait(c, &u, version, line);
        row.times.push(took);
        row.bytes.push(serde_json::to_string(&published).map_or(0, |s| s.len()));
        row.diagnostics = published["params"]["diagnostics"].as_array().map_or(0, Vec::len);
    }
    c.notify("textDocument/didClose", json!({ "textDocument": { "uri": u } }));
    c.clear();
    Ok(row)
}

fn fmt(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn p50(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    percentile(&v, 0.5)
}

fn p99(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    percentile(&v, 0.99)
}

fn kb(bytes: &[usize]) -> String {
    let mut v = bytes.to_vec();
    v.sort_unstable();
    let b = v[v.len() / 2];
    if b >= 1 << 20 {
        format!("{:.1} MB", b as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KB", b as f64 / 1024.0)
    }
}

/// `only`: one scene size (in words) instead of all four, and no indexing or memory part.
pub fn run(edits: usize, only: Option<usize>) -> Result<()> {
    let base = std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("bench-out"));
    let bin = binary();
    let (dir, scenes) = project(&base)?;
    let mut rows = Vec::new();
    for hints in [true, false] {
        set_hints(&dir, hints)?;
        let mut c = Client::spawn(&bin, &[]);
        c.initialize(&[&dir], false);
        for (words, path) in scenes.iter().filter(|(w, _)| only.is_none_or(|o| o == *w)) {
            rows.push(type_into(&mut c, path, *words, hints, edits)?);
        }
        c.finish();
    }
    set_hints(&dir, true)?;

    println!("| open scene | link hints | diagnostics per publish | edit → diagnostics p50 / p99 (ms) | publish size (median) |");
    println!("|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {}k words | {} | {} | {} / {} | {} |",
            r.words / 1000,
            if r.hints { "on" } else { "off" },
            r.diagnostics,
            fmt(p50(&r.times)),
            fmt(p99(&r.times)),
            kb(&r.bytes)
        );
    }
    for hints in [true, false] {
        let of = |w: usize| rows.iter().find(|r| r.words == w && r.hints == hints).map(|r| p50(&r.times));
        if let (Some(small), Some(big)) = (of(SIZES[0]), of(SIZES[3])) {
            let slope = (big.as_secs_f64() - small.as_secs_f64()) * 1000.0 / ((SIZES[3] - SIZES[0]) as f64 / 1000.0);
            println!(
                "slope, hints {}: {slope:.4} ms per 1k words (500k p50 is {:.1}× the 5k p50)",
                if hints { "on" } else { "off" },
                big.as_secs_f64() / small.as_secs_f64().max(1e-9)
            );
        }
    }

    if only.is_some() {
        return Ok(());
    }
    // Memory on M as generated (the scale project adds the four long scenes to it).
    let m = base.join("M");
    if !m.join("showrunner.yaml").exists() {
        gen::generate(gen::size("M").expect("M"), &m)?;
    }
    indexing(&base, Some(&m))
}

/// Edits while L is being indexed (and, given the M project `m`, the peak memory with M open
/// and with L open). `sr-bench scale indexing` runs this part alone.
pub fn indexing(base: &Path, m: Option<&Path>) -> Result<()> {
    let bin = binary();
    let m_rss = match m {
        Some(dir) => memory_with(&bin, dir)?,
        None => 0,
    };
    let scale_rss = memory_with(&bin, &base.join("scale")).unwrap_or(0);
    let l_dir = base.join("L");
    if !l_dir.join("showrunner.yaml").exists() {
        gen::generate(gen::size("L").expect("L"), &l_dir)?;
    }
    let l_scene =
        std::fs::read_dir(l_dir.join("story/ch000"))?.flatten().map(|e| e.path()).min().context("an L scene")?;
    // Edits while L is being indexed: open a scene right after `initialized` and type at once;
    // the first edits land while the other 4,999 scenes are still being read.
    let mut during = Vec::new();
    let mut first_edit = Vec::new();
    let mut l_rss = 0;
    for _ in 0..3 {
        let mut c = Client::spawn(&bin, &[]);
        c.initialize(&[&l_dir], false);
        let u = c.open(&l_scene, "markdown");
        let text = std::fs::read_to_string(&l_scene)?;
        let line = text.lines().count().saturating_sub(1);
        for version in 2..22i64 {
            let (_, d) = type_and_wait(&mut c, &u, version, line);
            if version == 2 {
                first_edit.push(d);
            }
            during.push(d);
        }
        l_rss = l_rss.max(peak_rss_kb(c.pid()));
        c.finish();
    }
    // Edits while L is still being read: a client that does not wait for the indexing to end
    // (no progress asked) opens the scene and types at once.
    let mut reading = Vec::new();
    for _ in 0..3 {
        let mut c = Client::spawn(&bin, &[]);
        c.initialize_plain(&[&l_dir]);
        let u = c.open(&l_scene, "markdown");
        let text = std::fs::read_to_string(&l_scene)?;
        let line = text.lines().count().saturating_sub(1);
        for version in 2..22i64 {
            reading.push(type_and_wait(&mut c, &u, version, line).1);
        }
        c.finish();
    }
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| edit → diagnostics while L (5,000 scenes) is being read (3 starts × 20 edits from its start), p50 / p99 | {} / {} ms |",
        fmt(p50(&reading)),
        fmt(p99(&reading))
    );
    println!(
        "| edit → diagnostics right after opening L (5,000 scenes; 3 starts × 20 edits), p50 / p99 | {} / {} ms |",
        fmt(p50(&during)),
        fmt(p99(&during))
    );
    println!(
        "| the first edit after opening L (3 starts) | {} ms |",
        first_edit.iter().map(|d| fmt(*d)).collect::<Vec<_>>().join(", ")
    );
    if m.is_some() {
        println!("| peak RSS, M open | {:.0} MB |", m_rss as f64 / 1024.0);
        println!(
            "| peak RSS, M with the four long scenes (625k more words) open | {:.0} MB |",
            scale_rss as f64 / 1024.0
        );
    }
    println!("| peak RSS, L open | {:.0} MB |", l_rss as f64 / 1024.0);
    Ok(())
}

/// Peak memory with the project `dir` open (one ordinary scene, its diagnostics and lenses in), in KB.
fn memory_with(bin: &Path, dir: &Path) -> Result<u64> {
    let mut c = Client::spawn(bin, &[]);
    c.initialize(&[dir], false);
    let first = std::fs::read_dir(dir.join("story"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.ends_with("long") && !p.ends_with("hub"))
        .min()
        .context("a chapter folder")?;
    let scene = std::fs::read_dir(&first)?.flatten().map(|e| e.path()).min().context("an M scene")?;
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);
    // The lenses an editor asks for count the context's tokens (the tokenizer is loaded).
    let lenses = c.request("textDocument/codeLens", json!({ "textDocument": { "uri": u } }));
    anyhow::ensure!(lenses.to_string().contains("tokens"), "no token count in the lenses: {lenses}");
    let rss = peak_rss_kb(c.pid());
    c.finish();
    Ok(rss)
}
