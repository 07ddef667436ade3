//! `sr-bench wire [EDITS]`: the bytes a keystroke puts on the wire, server to client (issue 22).
//!
//! The scale project's 20k- and 500k-word scenes (see [`crate::scale`]), SR001 link hints off
//! (the default) and on. `EDITS` one-character insertions (default 20) at the start of random body
//! lines; after each, what the client gets for it, counted as JSON bodies (headers left out):
//! - **push, whole tokens** (every client before issue 22): the `publishDiagnostics` of that
//!   version and a `semanticTokens/full` answer;
//! - **push, token deltas** (Neovim 0.11, eglot — no tokens — and every client that does not
//!   pull): the `publishDiagnostics` and a `semanticTokens/full/delta` answer;
//! - **pull, token deltas** (VS Code): a `textDocument/diagnostic` answer with the previous result
//!   id, a delta answer, and whatever else the server sent meanwhile (refreshes).
//!
//! Then one `workspace/diagnostic` of the whole project with every result id held (what VS Code
//! asks every 2 seconds while idle).

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{json, Value};
use showrunner_testkit::Client;

use crate::{binary, gen, scale};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    PushFull,
    PushDelta,
    PullDelta,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::PushFull => "push, whole tokens (before)",
            Mode::PushDelta => "push, token deltas",
            Mode::PullDelta => "pull, token deltas",
        }
    }
}

fn size(v: &Value) -> usize {
    serde_json::to_string(v).map_or(0, |s| s.len())
}

fn median(mut v: Vec<usize>) -> usize {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

fn human(b: usize) -> String {
    if b >= 1 << 20 {
        format!("{:.2} MB", b as f64 / (1 << 20) as f64)
    } else if b >= 1 << 10 {
        format!("{:.1} KB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

struct Row {
    words: usize,
    hints: bool,
    mode: Mode,
    diagnostics: Vec<usize>,
    tokens: Vec<usize>,
}

fn client(mode: Mode, dir: &Path) -> Client {
    let mut c = Client::spawn(&binary(), &[]);
    let more = match mode {
        Mode::PullDelta => {
            json!({ "textDocument": { "diagnostic": {} }, "workspace": { "diagnostics": { "refreshSupport": true } } })
        }
        _ => json!({}),
    };
    c.initialize_with(&[dir], false, more);
    c
}

/// `edits` keystrokes into `path`, measured as `mode` delivers them.
fn type_into(mode: Mode, dir: &Path, path: &Path, words: usize, hints: bool, edits: usize) -> Result<Row> {
    let mut c = client(mode, dir);
    let text = std::fs::read_to_string(path)?;
    let lines = text.lines().count();
    let body_from = text.lines().skip(1).position(|l| l == "---").map_or(1, |i| i + 2);
    let u = c.open(path, "markdown");
    let doc = json!({ "textDocument": { "uri": u } });
    let mut diagnostics_id = match mode {
        Mode::PullDelta => c.request("textDocument/diagnostic", doc.clone())["resultId"].clone(),
        _ => {
            c.published(&u, 1);
            Value::Null
        }
    };
    let mut tokens_id = c.request("textDocument/semanticTokens/full", doc.clone())["resultId"].clone();
    c.clear();
    let mut rng = gen::Rng::new(words as u64 ^ 0x22);
    let mut row = Row { words, hints, mode, diagnostics: Vec::new(), tokens: Vec::new() };
    for version in 2..2 + edits as i64 {
        let line = body_from + rng.below(lines - body_from);
        let at = json!({ "line": line, "character": 0 });
        c.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": version },
                    "contentChanges": [{ "range": { "start": at, "end": at }, "text": "a" }] }),
        );
        let diagnostics = match mode {
            Mode::PullDelta => {
                let r = c.request_raw(
                    "textDocument/diagnostic",
                    json!({ "textDocument": { "uri": u }, "previousResultId": diagnostics_id }),
                );
                diagnostics_id = r["result"]["resultId"].clone();
                size(&r)
            }
            _ => size(&c.published(&u, version)),
        };
        let r = match mode {
            Mode::PushFull => c.request_raw("textDocument/semanticTokens/full", doc.clone()),
            _ => c.request_raw(
                "textDocument/semanticTokens/full/delta",
                json!({ "textDocument": { "uri": u }, "previousResultId": tokens_id }),
            ),
        };
        tokens_id = r["result"]["resultId"].clone();
        anyhow::ensure!(tokens_id.is_string(), "no resultId: {r}");
        // Anything else that came for this keystroke counts with the diagnostics.
        let others: usize = c.take_received().iter().map(size).sum();
        row.diagnostics.push(diagnostics + others);
        row.tokens.push(size(&r));
    }
    c.finish();
    Ok(row)
}

pub fn run(edits: usize) -> Result<()> {
    let base = std::env::var_os("BENCH_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| "bench-out".into());
    let (dir, scenes) = scale::project(&base)?;
    let scenes: Vec<(usize, std::path::PathBuf)> =
        scenes.into_iter().filter(|(w, _)| *w == 20_000 || *w == 500_000).collect();
    anyhow::ensure!(scenes.len() == 2, "the 20k and 500k scenes");
    let mut rows = Vec::new();
    for hints in [false, true] {
        scale::set_hints(&dir, hints)?;
        for (words, path) in &scenes {
            for mode in [Mode::PushFull, Mode::PushDelta, Mode::PullDelta] {
                rows.push(type_into(mode, &dir, path, *words, hints, edits)?);
            }
        }
    }
    scale::set_hints(&dir, true)?;

    println!("| open scene | link hints | client | diagnostics | semantic tokens | per keystroke (median) |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        let total: Vec<usize> = r.diagnostics.iter().zip(&r.tokens).map(|(a, b)| a + b).collect();
        println!(
            "| {}k words | {} | {} | {} | {} | **{}** |",
            r.words / 1000,
            if r.hints { "on" } else { "off" },
            r.mode.name(),
            human(median(r.diagnostics.clone())),
            human(median(r.tokens.clone())),
            human(median(total))
        );
    }

    // What an idle pull client asks every 2 seconds: the whole project, every result id held.
    scale::set_hints(&dir, false)?;
    let mut c = client(Mode::PullDelta, &dir);
    let first = c.request_raw("workspace/diagnostic", json!({ "previousResultIds": [] }));
    let items = first["result"]["items"].as_array().context("items")?;
    let held: Vec<Value> = items.iter().map(|i| json!({ "uri": i["uri"], "value": i["resultId"] })).collect();
    let again = c.request_raw("workspace/diagnostic", json!({ "previousResultIds": held }));
    let unchanged =
        again["result"]["items"].as_array().map_or(0, |v| v.iter().filter(|i| i["kind"] == "unchanged").count());
    println!();
    println!(
        "workspace/diagnostic on the scale project ({} files): first {}, then {} ({unchanged} unchanged)",
        items.len(),
        human(size(&first)),
        human(size(&again))
    );
    c.finish();
    scale::set_hints(&dir, true)?;
    Ok(())
}
