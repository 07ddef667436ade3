//! Soak: a scripted editor session over stdio. Random edits across open documents (words, names of
//! characters and places, deletions), with bucket renames and new buckets in between. After every
//! batch the documents are saved and the server's diagnostics for each are compared with what
//! `showrunner check --hints --format json` computes from the same files (the generated project
//! sets `entities: { link_hints: true }`: the server publishes the SR001 hints too); the server
//! must never panic, and its memory after the run must stay within 10% of its memory after
//! warm-up (`SOAK_RSS_LIMIT` sets the bound enforced). Investigation switches: `SOAK_ONLY_TYPING`
//! (no renames, new buckets or saves), `SOAK_NO_STRUCT` (no renames or new buckets), `SOAK_TRACE`
//! (RSS after every batch).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use showrunner_testkit::Client;

use crate::gen::Rng;

/// A diagnostic as both sides can state it: 1-based line and column in Unicode scalar values.
pub(crate) type Key = (String, usize, usize, usize, usize, String);

struct Doc {
    path: PathBuf,
    uri: String,
    text: String,
    version: i64,
}

/// Where each line starts, and where its content ends (before its line end), with the line ends
/// of the LSP specification: `\r\n`, `\n` and a lone `\r`. Written here apart from the server's
/// own line index, so that the two check each other.
fn lines(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                out.push((start, i));
                start = i + 1;
            }
            b'\r' => {
                out.push((start, i));
                if b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push((start, b.len()));
    out
}

/// Byte offset of an LSP (UTF-16) position.
pub(crate) fn offset(text: &str, line: u64, character: u64) -> usize {
    let all = lines(text);
    let Some(&(at, end)) = all.get(line as usize) else { return text.len() };
    let mut units = 0u64;
    for (i, c) in text[at..end].char_indices() {
        if units >= character {
            return at + i;
        }
        units += c.len_utf16() as u64;
    }
    end
}

/// The line holding byte offset `at`, and where that line starts.
fn line_at(text: &str, at: usize) -> (usize, usize) {
    let all = lines(text);
    let line = all.partition_point(|&(start, _)| start <= at).saturating_sub(1);
    (line, all[line].0)
}

/// LSP position of a byte offset.
pub(crate) fn position(text: &str, at: usize) -> Value {
    let (line, start) = line_at(text, at);
    json!({ "line": line, "character": text[start..at].encode_utf16().count() })
}

/// 1-based line and scalar column of an LSP position (for comparing with `check`).
pub(crate) fn line_col(text: &str, p: &Value) -> (usize, usize) {
    let at = offset(text, p["line"].as_u64().unwrap_or(0), p["character"].as_u64().unwrap_or(0));
    let (line, start) = line_at(text, at);
    (line + 1, text[start..at].chars().count() + 1)
}

fn rss_kb(pid: u32) -> u64 {
    crate::proc_status(pid, "VmRSS")
}

/// Applies LSP text edits (from one WorkspaceEdit entry) to `text`.
fn apply_edits(text: &str, edits: &[Value]) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let s = &e["range"]["start"];
            let en = &e["range"]["end"];
            (
                offset(text, s["line"].as_u64().unwrap_or(0), s["character"].as_u64().unwrap_or(0)),
                offset(text, en["line"].as_u64().unwrap_or(0), en["character"].as_u64().unwrap_or(0)),
                e["newText"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (a, b, t) in spans {
        out.replace_range(a..b, &t);
    }
    out
}

pub fn run(edits: usize, docs: usize) -> Result<()> {
    let bin = crate::binary();
    let base = std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("bench-out"));
    let dir = base.join("soak");
    let _ = std::fs::remove_dir_all(&dir);
    crate::gen::generate(crate::gen::size("S").expect("S"), &dir)?;
    let dir = dir.canonicalize()?;
    let project = showrunner_store::load_project(&dir);
    let names: Vec<String> = project.analysis.buckets.iter().map(|b| b.bucket.name.value.clone()).collect();
    let mut scenes: Vec<PathBuf> =
        project.analysis.scenes.iter().map(|s| dir.join(&project.analysis.files[s.file].path)).collect();
    scenes.sort();
    scenes.truncate(docs);
    drop(project);

    // The server's log (read for panics at the end), beside the project: not in the user's
    // state folder.
    let log = base.join("soak-lsp.log");
    let _ = std::fs::remove_file(&log);
    let mut c = Client::spawn(&bin, &[("SHOWRUNNER_LOG_FILE", &log.to_string_lossy())]);
    c.initialize(&[&dir], false);
    let mut open: Vec<Doc> = Vec::new();
    for p in &scenes {
        let u = c.open(p, "markdown");
        open.push(Doc { path: p.clone(), uri: u, text: std::fs::read_to_string(p)?, version: 1 });
    }
    let words = ["and", "the", "lamp", "storm", "Zoë", "Łukasz", "李雷", "quietly", "😀", "—", "O'Brien"];
    let mut rng = Rng::new(0x50A4);
    let batch = 500.min(edits.max(1));
    let batches = edits.div_ceil(batch);
    let mut warm_rss = 0;
    let mut checks = 0;
    let mut renames = 0;
    let mut created = 0;
    let started = Instant::now();
    let mut last_edited: Option<usize> = None;
    let mut last_created: Option<String> = None;
    let mut renamed: Option<(String, String)> = None;
    for b in 0..=batches {
        // Batch 0 is the warm-up.
        for k in 0..batch {
            // A writer types in bursts: every 25 edits the editor waits until the server has
            // answered the latest one (as a debounced editor does), and its notifications are read.
            if k % 25 == 24 {
                if let Some(i) = last_edited {
                    let (u, v) = (open[i].uri.clone(), open[i].version);
                    c.diagnostics_at(&u, v);
                    c.clear();
                }
            }
            let i = rng.below(docs.min(scenes.len()));
            last_edited = Some(i);
            let d = &mut open[i];
            // After the frontmatter: the body.
            let body = d.text.find("\n---\n").map_or(0, |i| i + 5);
            let lines = d.text[body..].matches('\n').count().max(1);
            let line_no = d.text[..body].matches('\n').count() + rng.below(lines);
            let at = offset(&d.text, line_no as u64, 0);
            let line_end = d.text[at..].find('\n').map_or(d.text.len(), |i| at + i);
            let (range_end, insert) = if rng.below(2) == 0 && line_end > at {
                // Delete the first word of the line and its space: as much text goes as comes, so
                // the documents keep their size and memory can be compared across the run.
                let word = d.text[at..line_end].find(' ').map_or(line_end, |i| at + i + 1);
                (word, String::new())
            } else {
                let w = if rng.below(3) == 0 {
                    names[rng.below(names.len())].clone()
                } else {
                    words[rng.below(words.len())].to_string()
                };
                (at, format!("{w} "))
            };
            let range = json!({ "start": position(&d.text, at), "end": position(&d.text, range_end) });
            d.text.replace_range(at..range_end, &insert);
            d.version += 1;
            c.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": d.uri, "version": d.version }, "contentChanges": [{ "range": range, "text": insert }] }),
            );
        }
        // Between batches: rename a character everywhere, or add a bucket on disk.
        // SOAK_ONLY_TYPING: no renames, no new buckets, no saves (to tell where memory goes).
        let only_typing = std::env::var_os("SOAK_ONLY_TYPING").is_some();
        if only_typing || std::env::var_os("SOAK_NO_STRUCT").is_some() {
        } else if b > 0 && b % 2 == 0 {
            // Rename a character everywhere; the next time, rename it back (so the names the
            // typing uses keep meaning something).
            let (from, to) = match renamed.take() {
                Some((original, current)) => (current, original),
                None => {
                    let n = names[rng.below(names.len())].clone();
                    (n, format!("Renamed {b}"))
                }
            };
            let found =
                open.iter().find_map(|d| d.text.find(from.as_str()).map(|i| (d.uri.clone(), position(&d.text, i))));
            if let Some((u, at)) = found {
                let edit = c.request_raw(
                    "textDocument/rename",
                    json!({ "textDocument": { "uri": u }, "position": at, "newName": to }),
                );
                if let Some(changes) = edit["result"]["changes"].as_object() {
                    renames += 1;
                    if !names.contains(&to) {
                        renamed = Some((from.clone(), to.clone()));
                    }
                    for (u, edits) in changes {
                        let edits = edits.as_array().cloned().unwrap_or_default();
                        if let Some(d) = open.iter_mut().find(|d| &d.uri == u) {
                            d.text = apply_edits(&d.text, &edits);
                            d.version += 1;
                            c.notify(
                                "textDocument/didChange",
                                json!({ "textDocument": { "uri": d.uri, "version": d.version }, "contentChanges": [{ "text": d.text }] }),
                            );
                        } else {
                            let path = showrunner_testkit::uri_path(u);
                            let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
                            std::fs::write(&path, apply_edits(&text, &edits))?;
                            c.notify(
                                "workspace/didChangeWatchedFiles",
                                json!({ "changes": [{ "uri": u, "type": 2 }] }),
                            );
                        }
                    }
                }
            }
        } else if b > 0 {
            // A new bucket; the one made before goes (a writer trying names), so the project keeps
            // its size and memory can be compared.
            if let Some(old) = last_created.take() {
                let old: String = old;
                let _ = std::fs::remove_file(showrunner_testkit::uri_path(&old));
                c.notify("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": old, "type": 3 }] }));
            }
            let made = c.request(
                "workspace/executeCommand",
                json!({ "command": "showrunner.bucket.create", "arguments": [{ "kind": "character", "name": format!("Newcomer {b}") }] }),
            );
            last_created = made["uri"].as_str().map(str::to_string);
            created += 1;
        }
        if b == 0 {
            continue;
        }
        // Save everything, then compare with `showrunner check` on the same files.
        for d in &mut open {
            std::fs::write(&d.path, &d.text)?;
            if !only_typing {
                c.notify("textDocument/didSave", json!({ "textDocument": { "uri": d.uri } }));
            }
            d.version += 1;
            c.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": d.uri, "version": d.version }, "contentChanges": [{ "text": d.text }] }),
            );
        }
        let mut live: BTreeSet<Key> = BTreeSet::new();
        for d in &open {
            let rel = d.path.strip_prefix(&dir).unwrap_or(&d.path).to_string_lossy().into_owned();
            live.extend(keys(&rel, &d.text, &c.diagnostics_at(&d.uri, d.version)));
        }
        let open_paths: BTreeSet<String> =
            open.iter().map(|d| d.path.strip_prefix(&dir).unwrap_or(&d.path).to_string_lossy().into_owned()).collect();
        let disk = check_on_disk(&bin, &dir, &open_paths)?;
        if live != disk {
            let only_live: Vec<_> = live.difference(&disk).take(5).collect();
            let only_disk: Vec<_> = disk.difference(&live).take(5).collect();
            bail!("batch {b}: the server's diagnostics differ from `check`: server only {only_live:?}; check only {only_disk:?}");
        }
        checks += live.len();
        // Everything published so far has been read: stale notifications can go.
        c.clear();
        // Warm-up: the first quarter of the run (caches, the log, the allocator settle).
        if b == (batches / 4).max(1) {
            warm_rss = rss_kb(c.pid());
        }
        if std::env::var_os("SOAK_TRACE").is_some() {
            let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{}/task", c.pid()))
                .map(|d| {
                    d.flatten()
                        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                        .map(|n| n.trim().to_string())
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            let mut counted: Vec<(String, usize)> = Vec::new();
            for n in names {
                match counted.last_mut() {
                    Some((last, k)) if *last == n => *k += 1,
                    _ => counted.push((n, 1)),
                }
            }
            eprintln!("batch {b}: threads {counted:?}");
            eprintln!(
                "batch {b}: RSS {} KB (anon {} kB, file {} kB, threads {})",
                rss_kb(c.pid()),
                crate::proc_status(c.pid(), "RssAnon"),
                crate::proc_status(c.pid(), "RssFile"),
                crate::proc_status(c.pid(), "Threads")
            );
        }
    }
    let elapsed = started.elapsed();
    let end_rss = rss_kb(c.pid());
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    if log.contains("panicked") {
        bail!("the server logged a panic");
    }
    c.finish();
    let growth = end_rss as f64 / warm_rss.max(1) as f64 - 1.0;
    println!(
        "soak: {} edits over {} open documents in {:.1} s ({:.0} edits/s), {renames} renames, {created} new buckets, {batches} checks ({checks} diagnostics compared, all equal to `showrunner check`); RSS {} MB after warm-up (the first quarter), {} MB at the end ({:+.1}%)",
        batches * batch,
        open.len(),
        elapsed.as_secs_f64(),
        (batches * batch) as f64 / elapsed.as_secs_f64(),
        warm_rss / 1024,
        end_rss / 1024,
        growth * 100.0
    );
    // The target is 10%; SOAK_RSS_LIMIT (percent) sets the bound the run enforces.
    let limit: f64 = std::env::var("SOAK_RSS_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(10.0);
    if growth * 100.0 > limit {
        bail!("memory grew {:.1}% after warm-up (limit {limit}%)", growth * 100.0);
    }
    Ok(())
}

/// The published diagnostics of the file `rel` (text `text`) as comparable keys.
pub(crate) fn keys(rel: &str, text: &str, diagnostics: &[Value]) -> Vec<Key> {
    diagnostics
        .iter()
        .map(|diag| {
            let (l1, c1) = line_col(text, &diag["range"]["start"]);
            let (l2, c2) = line_col(text, &diag["range"]["end"]);
            let what = format!("{} {}", diag["code"].as_str().unwrap_or(""), diag["message"].as_str().unwrap_or(""));
            (rel.to_string(), l1, c1, l2, c2, what)
        })
        .collect()
}

/// What `showrunner check` finds on disk in the files `paths` (relative to `dir`): with `--hints`
/// when the project publishes SR001 hints to editors (`entities: { link_hints: true }`), so that
/// both sides list the same codes.
pub(crate) fn check_on_disk(bin: &Path, dir: &Path, paths: &BTreeSet<String>) -> Result<BTreeSet<Key>> {
    let config = std::fs::read_to_string(dir.join(showrunner_model::config::CONFIG_FILE)).unwrap_or_default();
    let editor_hints = showrunner_model::config::parse_config(&config, "").0.editor_hints();
    let args: &[&str] =
        if editor_hints { &["check", "--hints", "--format", "json"] } else { &["check", "--format", "json"] };
    let out = Command::new(bin).args(args).arg(dir).output()?;
    let report: Value = serde_json::from_slice(&out.stdout).context("check --format json")?;
    Ok(report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| paths.contains(d["path"].as_str().unwrap_or("")))
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap_or(0) as usize;
            (
                d["path"].as_str().unwrap_or("").to_string(),
                n("line"),
                n("column"),
                n("end_line"),
                n("end_column"),
                format!("{} {}", d["code"].as_str().unwrap_or(""), d["message"].as_str().unwrap_or("")),
            )
        })
        .collect())
}
