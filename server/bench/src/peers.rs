//! `sr-bench peers`: Showrunner and harper-ls side by side (issue 10).
//!
//! The same generated project (S and M, each with the 20,000-word scene and the 20 "hub" scenes
//! of `sr-bench lsp`) is opened by each server over stdio with the testkit client, timing from
//! the client's side: start → first diagnostics of the long scene, didChange → publishDiagnostics
//! on it, hover on mentions, references of the hub character, and peak RSS (`VmHWM`).
//!
//! harper-ls is not built by CI: `server/bench/peers/setup.sh` installs it into
//! `${PEERS_DIR:-$HOME/.cache/showrunner/peers}`. Without it only Showrunner is measured.
//!
//! Environment: `PEERS_SIZES` (default `S,M`), `PEERS_EDITS` (Showrunner's edits, default 100),
//! `PEERS_HARPER_EDITS` (default 20: one edit takes harper-ls seconds on the long scene),
//! `BENCH_DIR`, `SHOWRUNNER_BIN`, `PEERS_DIR`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{json, Value};
use showrunner_testkit::{uri, Client};

use crate::{gen, percentile};

#[derive(Clone, Copy, PartialEq)]
enum Peer {
    Showrunner,
    Harper,
}

/// One server's figures on one project.
struct Figures {
    /// Spawn → initialize answered (Showrunner: → indexing finished) → didOpen → first diagnostics.
    startup: Duration,
    /// didOpen → first diagnostics of the long scene, and how many.
    open: Duration,
    first_diagnostics: usize,
    /// didChange → publishDiagnostics, sorted.
    edits: Vec<Duration>,
    /// Hover times (sorted) and how many answers were not null; `Err` when not supported.
    hover: Result<(Vec<Duration>, usize), String>,
    /// Locations found, how many of the name's plain-text mentions they cover, and times
    /// (sorted); `Err` when not supported.
    references: Result<(usize, usize, Vec<Duration>), String>,
    rss_kb: u64,
}

/// What the project holds for one size.
struct Project {
    size: &'static str,
    dir: PathBuf,
    long: PathBuf,
    hub_name: String,
    /// Every occurrence of the hub character's name as plain text in the project's scenes (the
    /// files under `story/`): (document URI, line, UTF-16 column).
    hub_mentions: Vec<(String, usize, usize)>,
}

pub fn run() -> Result<()> {
    let base = std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("bench-out"));
    let sizes = std::env::var("PEERS_SIZES").unwrap_or_else(|_| "S,M".into());
    let env_num = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let sr_edits = env_num("PEERS_EDITS", 100);
    let harper_edits = env_num("PEERS_HARPER_EDITS", 20);
    let peers_dir = std::env::var_os("PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/showrunner/peers"));
    let harper_bin = peers_dir.join("bin/harper-ls");
    let harper = if harper_bin.is_file() {
        Some(harper_wrapper(&base, &harper_bin)?)
    } else {
        println!(
            "NOTICE: harper-ls is not installed at {} — run `bash server/bench/peers/setup.sh` \
             (PEERS_DIR to change where); measuring Showrunner alone.\n",
            harper_bin.display()
        );
        None
    };
    let showrunner = crate::binary();
    println!("showrunner: {}", showrunner.display());
    if harper.is_some() {
        let v = std::process::Command::new(&harper_bin).arg("--version").output();
        let v = v.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
        println!("harper-ls: {} ({v}), maxFileLength raised to 1 GB", harper_bin.display());
    }
    println!();

    let mut rows = Vec::new();
    for size in sizes.split(',') {
        let p = project(&base, size.trim())?;
        eprintln!("[{}] showrunner …", p.size);
        let sr = measure(Peer::Showrunner, &showrunner, &p, sr_edits, None)?;
        // The same mention positions for every server: Showrunner's semantic tokens.
        let hover_at = sr.1;
        let mut row = vec![(Peer::Showrunner, sr.0)];
        if let Some(h) = &harper {
            eprintln!("[{}] harper-ls …", p.size);
            row.push((Peer::Harper, measure(Peer::Harper, h, &p, harper_edits, Some(&hover_at))?.0));
        }
        rows.push((p, row));
    }
    print_table(&rows);
    Ok(())
}

/// `Client::spawn` runs `BINARY lsp`; harper-ls wants `--stdio`. A two-line script `exec`s it,
/// so the client's pid is harper-ls itself (and `VmHWM` is its own: exec starts a new mm).
fn harper_wrapper(base: &Path, bin: &Path) -> Result<PathBuf> {
    let dir = base.join("peers");
    std::fs::create_dir_all(&dir)?;
    let w = dir.join("harper-ls-stdio.sh");
    std::fs::write(&w, format!("#!/bin/sh\nexec '{}' --stdio\n", bin.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o755))?;
    Ok(w)
}

/// M: `sr-bench lsp`'s own project. S: the same recipe on the S project, except the long scene:
/// `gen::long_scene` draws its names from M's buckets, unknown to S, so S's is made of its own
/// scenes' prose (see `long_scene_from_scenes`).
fn project(base: &Path, size: &str) -> Result<Project> {
    let size = gen::size(size).context("sizes are S, M or L")?;
    let (dir, long, hub_name) = if size.name == "M" {
        crate::lsp_project(base)?
    } else {
        let dir = base.join(format!("{}-lsp", size.name));
        if !dir.join("showrunner.yaml").exists() {
            gen::generate(size, &dir)?;
        }
        let long = long_scene_from_scenes(&dir, 20_000)?;
        let name = crate::hub_scenes(&dir)?;
        (dir, long, name)
    };
    let mut hub_mentions = Vec::new();
    for file in crate::walk_files(&dir.join("story")) {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        hub_mentions.extend(mentions(&uri(&file), &text, &hub_name));
    }
    Ok(Project { size: size.name, dir, long, hub_name, hub_mentions })
}

/// A `words`-word scene at `story/long/scene-long.md` made of the project's first scenes' prose
/// (their mentions included), with the front matter `gen::long_scene` writes.
fn long_scene_from_scenes(dir: &Path, words: usize) -> Result<PathBuf> {
    let mut text =
        String::from("---\nid: scene-long\nparent: chapter-0\ncontext: [chapter-1]\ntimeline: { main: 5 }\n---\n");
    let mut n = 0;
    for scene in crate::walk_files(&dir.join("story")) {
        if n >= words {
            break;
        }
        // The generated scenes (`story/chNNN/scene-NNNNN.md`), in order; not `scene-long.md`.
        if !scene.file_name().and_then(|f| f.to_str()).is_some_and(|f| f.starts_with("scene-0")) {
            continue;
        }
        let body = std::fs::read_to_string(&scene)?;
        let body = body.splitn(3, "---\n").nth(2).unwrap_or("");
        n += body.split_whitespace().count();
        text.push_str(body.trim_end());
        text.push_str("\n\n");
    }
    anyhow::ensure!(n >= words, "only {n} words of prose in {}", dir.display());
    let p = dir.join("story/long/scene-long.md");
    std::fs::create_dir_all(p.parent().expect("has a parent"))?;
    std::fs::write(&p, text)?;
    Ok(p)
}

/// Where `name` occurs in `text`: (URI, line, UTF-16 column).
fn mentions(u: &str, text: &str, name: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (b, _) in line.match_indices(name) {
            out.push((u.to_string(), i, line[..b].encode_utf16().count()));
        }
    }
    out
}

/// The client's side of `initialize` for a peer: harper-ls sends no `$/progress`, and reads its
/// settings with `workspace/configuration` (answered here with the file-size limit raised).
fn initialize_peer(c: &mut Client, dir: &Path) -> Value {
    c.answer("workspace/configuration", json!([{ "harper-ls": { "maxFileLength": 1u64 << 30 } }]));
    let caps = json!({
        "workspace": { "configuration": true, "didChangeWatchedFiles": { "dynamicRegistration": true } },
        "textDocument": { "synchronization": { "didSave": true }, "hover": { "contentFormat": ["markdown", "plaintext"] } }
    });
    let u = uri(dir);
    let r = c.request(
        "initialize",
        json!({ "processId": null, "rootUri": u, "capabilities": caps, "workspaceFolders": [{ "uri": u, "name": "w" }] }),
    );
    c.notify("initialized", json!({}));
    r
}

/// Waits for the next diagnostics of `u` after a change: by version where the server sends one
/// (Showrunner), else the next publish for the document (harper-ls sends `version: null`).
fn next_diagnostics(c: &mut Client, peer: Peer, u: &str, version: i64) -> usize {
    match peer {
        Peer::Showrunner => c.diagnostics_at(u, version).len(),
        Peer::Harper => c.diagnostics(u, |_| true).len(),
    }
}

type Measured = (Figures, Vec<Value>);

fn measure(peer: Peer, bin: &Path, p: &Project, edits: usize, hover_at: Option<&[Value]>) -> Result<Measured> {
    let t = Instant::now();
    let mut c = Client::spawn(bin, &[]);
    let caps = match peer {
        Peer::Showrunner => c.initialize(&[&p.dir], false)["capabilities"].clone(),
        Peer::Harper => initialize_peer(&mut c, &p.dir)["capabilities"].clone(),
    };
    let opened = Instant::now();
    let u = c.open(&p.long, "markdown");
    let first = c.diagnostics(&u, |_| true).len();
    let open = opened.elapsed();
    let startup = t.elapsed();

    // Typing: one edit at a time ("and " at the start of a random line), each answered by its
    // diagnostics. Showrunner syncs incrementally; harper-ls asks for the whole text each time.
    let mut text = std::fs::read_to_string(&p.long)?;
    let mut rng = gen::Rng::new(99);
    let mut times = Vec::new();
    for version in 2..2 + edits as i64 {
        let lines = text.lines().count();
        let line = 6 + rng.below(lines - 7);
        let at = text.match_indices('\n').nth(line - 1).map_or(0, |(i, _)| i + 1);
        text.insert_str(at, "and ");
        let change = match peer {
            Peer::Showrunner => json!({ "range": { "start": { "line": line, "character": 0 },
                                                   "end": { "line": line, "character": 0 } }, "text": "and " }),
            Peer::Harper => json!({ "text": text }),
        };
        c.clear();
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": version }, "contentChanges": [change] }),
        );
        next_diagnostics(&mut c, peer, &u, version);
        times.push(t.elapsed());
    }
    times.sort();
    c.clear();

    // Hover on mentions: Showrunner's semantic tokens give the positions (reused for the peer).
    let links = match hover_at {
        Some(l) => l.to_vec(),
        None => crate::mention_starts(&mut c, &u),
    };
    let hover = if caps.get("hoverProvider").is_none_or(|v| v == &json!(false)) {
        let r = c.request_raw(
            "textDocument/hover",
            json!({ "textDocument": { "uri": u }, "position": links.first().cloned().unwrap_or(json!({"line": 6, "character": 0})) }),
        );
        Err(format!("not supported (no hoverProvider; a request answers {})", short(&r)))
    } else {
        let mut v = Vec::new();
        let mut answered = 0;
        for i in 0..100 {
            let at = json!({ "textDocument": { "uri": u }, "position": links[(i * 7919) % links.len()] });
            let t = Instant::now();
            let h = c.request("textDocument/hover", at);
            v.push(t.elapsed());
            answered += usize::from(!h.is_null());
        }
        v.sort();
        Ok((v, answered))
    };

    // References of the hub character from one of its 2,000 plain-text mentions.
    let references = if caps.get("referencesProvider").is_none_or(|v| v == &json!(false)) {
        Err("not supported (no referencesProvider)".to_string())
    } else {
        let crate::HubReferences { times: mut v, locations: found, .. } =
            crate::hub_references(&mut c, &p.dir, &p.hub_name, 20)?;
        v.sort();
        let covers = |(u, line, col): &(String, usize, usize)| {
            found.iter().any(|l| {
                let (s, e) = (&l["range"]["start"], &l["range"]["end"]);
                l["uri"] == u.as_str()
                    && s["line"] == *line
                    && s["character"].as_u64().is_some_and(|c| c as usize <= *col)
                    && (e["line"] != *line || e["character"].as_u64().is_some_and(|c| c as usize > *col))
            })
        };
        // The long scene as the server has it now, with the edits above.
        let mut expected: Vec<_> = p.hub_mentions.iter().filter(|m| m.0 != u).cloned().collect();
        expected.extend(mentions(&u, &text, &p.hub_name));
        let covered = expected.iter().filter(|m| covers(m)).count();
        anyhow::ensure!(expected.len() == p.hub_mentions.len(), "the edits changed the mentions");
        Ok((found.len(), covered, v))
    };

    let rss_kb = crate::peak_rss_kb(c.pid());
    match peer {
        Peer::Showrunner => c.finish(),
        Peer::Harper => {
            // harper-ls writes its statistics file on shutdown; then it is ended either way.
            let _ = c.request_raw("shutdown", Value::Null);
            c.notify("exit", Value::Null);
            let _ = c.wait_exit();
        }
    }
    let figures = Figures { startup, open, first_diagnostics: first, edits: times, hover, references, rss_kb };
    Ok((figures, links))
}

fn short(v: &Value) -> String {
    if let Some(e) = v.get("error") {
        format!("error {} \"{}\"", e["code"], e["message"].as_str().unwrap_or(""))
    } else {
        format!("{}", v["result"])
    }
}

fn fmt(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn p50_p99(v: &[Duration]) -> String {
    format!("{} / {}", fmt(percentile(v, 0.5)), fmt(percentile(v, 0.99)))
}

fn name(peer: Peer) -> &'static str {
    match peer {
        Peer::Showrunner => "Showrunner",
        Peer::Harper => "harper-ls",
    }
}

fn print_table(rows: &[(Project, Vec<(Peer, Figures)>)]) {
    println!("| project | server | start → first diagnostics | didOpen → first diagnostics (count) | didChange → diagnostics p50 / p99 (edits) | hover p50 / p99 | references | peak RSS |");
    println!("|---|---|---|---|---|---|---|---|");
    for (p, row) in rows {
        for (peer, f) in row {
            let hover = match &f.hover {
                Ok((v, answered)) => format!("{} ({answered}/{} answered)", p50_p99(v), v.len()),
                Err(e) => e.clone(),
            };
            let refs = match &f.references {
                Ok((n, covered, v)) => format!(
                    "{n} locations, {covered} of the name's {} plain-text mentions in scenes: {}",
                    p.hub_mentions.len(),
                    p50_p99(v)
                ),
                Err(e) => e.clone(),
            };
            println!(
                "| {} | {} | {} | {} ({}) | {} ({}) | {hover} | {refs} | {:.0} MB |",
                p.size,
                name(*peer),
                fmt(f.startup),
                fmt(f.open),
                f.first_diagnostics,
                p50_p99(&f.edits),
                f.edits.len(),
                f.rss_kb as f64 / 1024.0
            );
        }
    }
    println!();
    for (p, row) in rows {
        let Some((_, sr)) = row.iter().find(|r| r.0 == Peer::Showrunner) else { continue };
        for (peer, f) in row.iter().filter(|r| r.0 != Peer::Showrunner) {
            let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-9);
            println!(
                "{}: {} / Showrunner — edit p50 {:.0}×, edit p99 {:.0}×, didOpen → diagnostics {:.1}×, peak RSS {:.1}×",
                p.size,
                name(*peer),
                ratio(percentile(&sr.edits, 0.5), percentile(&f.edits, 0.5)),
                ratio(percentile(&sr.edits, 0.99), percentile(&f.edits, 0.99)),
                ratio(sr.open, f.open),
                f.rss_kb as f64 / sr.rss_kb.max(1) as f64
            );
        }
    }
}
