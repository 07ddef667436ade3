//! Storm: a long random session of valid messages, seeded and reproducible, pipelined as a busy
//! editor does (up to 16 requests in flight). Requests of every kind at random and out-of-range
//! positions; edits with random, out-of-range and reversed ranges and random Unicode; open and
//! close of project files and of odd URIs; every advertised command with random arguments; saves.
//! Every request must be answered (a request unanswered for 60 s is a stall, and the run fails),
//! and at every sync point the session's diagnostics of each open project file equal what
//! `showrunner check --hints` finds in the same saved text. Reports latency p50/p99/max per
//! method, throughput, bytes on the wire and peak memory. `STORM_P99_MS` makes a p99 above it a
//! failure (the benchmark sets 1000; tests/run sets none: timing is for benchmarks).
//!
//! Investigation switches: `STORM_SYNC=N` (a sync point every N messages), `STORM_NO_ODD`,
//! `STORM_NO_CLOSE`, `STORM_NO_CMD` (leave out odd URIs, closes, commands), `STORM_TRACE` (every
//! request on stderr, and on a stall every thread's stack from gdb in `storm-stall.txt`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::gen::Rng;
use crate::soak::{check_on_disk, keys, offset, position, Key};

/// How long a request may stay unanswered before the run calls it a stall.
const STALL: Duration = Duration::from_secs(60);
const WINDOW: usize = 16;

/// A message from the server and when it was read off the pipe.
type Incoming = (Instant, Value, usize);

struct Session {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Incoming>,
    next_id: i64,
    /// Requests in flight: id → (method, sent at).
    flight: HashMap<i64, (String, Instant)>,
    latencies: BTreeMap<String, Vec<Duration>>,
    errors: BTreeMap<String, usize>,
    /// The latest diagnostics per URI: (version, diagnostics).
    published: HashMap<String, (Option<i64>, Vec<Value>)>,
    bytes_out: usize,
    bytes_in: usize,
    sent: usize,
}

impl Session {
    /// `BIN lsp`, logging to `log`.
    fn spawn(bin: &Path, log: &Path) -> Result<Session> {
        let mut child = Command::new(bin)
            .arg("lsp")
            .arg("--log-file")
            .arg(log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("spawning showrunner lsp")?;
        let stdin = child.stdin.take().context("stdin")?;
        let stdout = child.stdout.take().context("stdout")?;
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let Some(headers) = showrunner_testkit::read_headers(&mut reader) else { return };
                let Some(length) = showrunner_testkit::content_length(&headers) else { return };
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let Ok(v) = serde_json::from_slice::<Value>(&body) else { return };
                if tx.send((Instant::now(), v, length)).is_err() {
                    return;
                }
            }
        });
        Ok(Session {
            child,
            stdin,
            rx,
            next_id: 1,
            flight: HashMap::new(),
            latencies: BTreeMap::new(),
            errors: BTreeMap::new(),
            published: HashMap::new(),
            bytes_out: 0,
            bytes_in: 0,
            sent: 0,
        })
    }

    fn send(&mut self, v: &Value) -> Result<()> {
        let body = serde_json::to_vec(v)?;
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len())?;
        self.stdin.write_all(&body)?;
        self.stdin.flush()?;
        self.bytes_out += body.len();
        self.sent += 1;
        Ok(())
    }

    fn notify(&mut self, method: &str, params: Value) -> Result<()> {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }))
    }

    /// Sends a request without waiting; its id.
    fn request(&mut self, method: &str, params: Value) -> Result<i64> {
        let id = self.next_id;
        self.next_id += 1;
        let label = match params["command"].as_str() {
            Some(c) => format!("{method} {c}"),
            None => method.to_string(),
        };
        let detail = if std::env::var_os("STORM_TRACE").is_some() { params.to_string() } else { String::new() };
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))?;
        if !detail.is_empty() {
            eprintln!("-> {id} {label} {detail}");
        }
        self.flight.insert(id, (label, Instant::now()));
        Ok(id)
    }

    /// Reads one message (waiting at most `patience`); false when none came.
    fn pump(&mut self, patience: Duration) -> Result<Option<Value>> {
        let (at, v, bytes) = match self.rx.recv_timeout(patience) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => return Ok(None),
            Err(RecvTimeoutError::Disconnected) => bail!("the server closed its output (crashed?)"),
        };
        self.bytes_in += bytes;
        if let (Some(method), Some(id)) = (v["method"].as_str(), v.get("id")) {
            // The server's own requests: nothing is applied (the session's text stays ours).
            let result = match method {
                "workspace/applyEdit" => json!({ "applied": false, "failureReason": "storm: not applied" }),
                "window/showDocument" => json!({ "success": false }),
                _ => Value::Null,
            };
            let id = id.clone();
            self.send(&json!({ "jsonrpc": "2.0", "id": id, "result": result }))?;
        } else if v["method"] == "textDocument/publishDiagnostics" {
            let p = &v["params"];
            let list = p["diagnostics"].as_array().cloned().unwrap_or_default();
            self.published.insert(p["uri"].as_str().unwrap_or("").to_string(), (p["version"].as_i64(), list));
        } else if let Some(id) = v.get("id").and_then(Value::as_i64) {
            if v.get("method").is_none() {
                if let Some((method, sent)) = self.flight.remove(&id) {
                    self.latencies.entry(method.clone()).or_default().push(at.duration_since(sent));
                    if v.get("error").is_some() {
                        *self.errors.entry(method).or_default() += 1;
                    }
                }
            }
        }
        Ok(Some(v))
    }

    /// Reads until at most `n` requests are in flight; a request older than [`STALL`] fails.
    fn drain_to(&mut self, n: usize) -> Result<()> {
        while self.flight.len() > n {
            if self.pump(Duration::from_millis(500))?.is_none() {
                if let Some((id, (m, t))) = self.flight.iter().min_by_key(|(_, (_, t))| *t) {
                    if t.elapsed() > STALL {
                        if std::env::var_os("STORM_TRACE").is_some() {
                            // Where every thread of the stalled server stands.
                            let pid = self.child.id().to_string();
                            let _ = Command::new("gdb")
                                .args(["-p", &pid, "-batch", "-ex", "thread apply all bt 30"])
                                .stdout(std::fs::File::create("storm-stall.txt")?)
                                .status();
                        }
                        bail!(
                            "stall: request {id} ({m}) unanswered for {:?}; {} in flight; {} messages sent",
                            t.elapsed(),
                            self.flight.len(),
                            self.sent
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads until diagnostics for `version` of `uri` arrive.
    fn diagnostics_at(&mut self, uri: &str, version: i64) -> Result<Vec<Value>> {
        let since = Instant::now();
        loop {
            if let Some((Some(v), d)) = self.published.get(uri) {
                if *v == version {
                    return Ok(d.clone());
                }
            }
            self.pump(Duration::from_millis(500))?;
            if since.elapsed() > STALL {
                bail!("stall: no diagnostics for {uri} v{version} in {STALL:?}");
            }
        }
    }
}

struct Doc {
    /// The file on disk, for project files that sync points save and compare.
    path: Option<PathBuf>,
    uri: String,
    text: String,
    version: i64,
}

const PALETTE: &[&str] = &[
    "Zoë",
    "Łukasz",
    "李雷",
    "Alice",
    "Tom Marlowe",
    "the lamp",
    " ",
    "\n",
    "\r\n",
    "\n\n",
    "—",
    "😀",
    "👩‍👩‍👧",
    "e\u{301}",
    "_",
    "*",
    "**",
    "[[",
    "]]",
    "---\n",
    "# ",
    "> ",
    "O'Brien",
    "\t",
    "é",
    "'",
    "\"",
    "Upon",
    "  \n",
];

fn random_text(rng: &mut Rng) -> String {
    let n = rng.below(6);
    (0..n).map(|_| rng.pick(PALETTE)).collect()
}

/// A position: mostly inside the text, sometimes past a line's end or past the last line.
fn random_position(rng: &mut Rng, text: &str) -> Value {
    match rng.below(10) {
        0 => json!({ "line": rng.below(100_000), "character": rng.below(1000) }),
        1 => json!({ "line": 0, "character": 4_000_000_000u32 }),
        _ => {
            let at = if text.is_empty() { 0 } else { rng.below(text.len() + 1) };
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            position(text, at)
        }
    }
}

/// Random arguments for a command: the right shapes, the wrong ones, and nonsense.
fn random_args(rng: &mut Rng, uri: &str) -> Value {
    let names = ["Zoë", "early", "main", "../../etc", "", "李雷 chapter"];
    match rng.below(9) {
        0 => json!([]),
        1 => json!([{}]),
        2 => json!([{ "uri": uri }]),
        3 => json!([{ "uri": uri, "name": rng.pick(&names) }]),
        4 => json!([{ "name": rng.pick(&names) }]),
        5 => json!([{ "run": "nope", "step": "x", "decision": "approve" }]),
        6 => json!([{ "uri": 5, "name": [1] }]),
        7 => json!([{ "kind": rng.pick(&["character", "place", "../x", "ship"]), "name": rng.pick(&names) }]),
        _ => json!(["a", 1, null]),
    }
}

pub fn run(messages: usize, seed: u64) -> Result<()> {
    let bin = crate::binary();
    let base = std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("bench-out"));
    let dir = base.join("storm");
    let _ = std::fs::remove_dir_all(&dir);
    crate::gen::generate(crate::gen::size("S").expect("S"), &dir)?;
    let dir = dir.canonicalize()?;
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            let rel = p.strip_prefix(&dir).unwrap_or(p);
            !rel.starts_with(".showrunner") && p.extension().is_some_and(|x| x == "md" || x == "yaml")
        })
        .collect();
    files.sort();

    // The server's log (read for panics at the end), beside the project: not in the user's
    // state folder.
    let log = base.join("storm-lsp.log");
    let _ = std::fs::remove_file(&log);
    let mut s = Session::spawn(&bin, &log)?;
    let pid = s.child.id();
    let init = s.request(
        "initialize",
        json!({ "processId": null, "capabilities": {
            "window": { "workDoneProgress": true, "showDocument": { "support": true } },
            "workspace": { "applyEdit": true, "workspaceEdit": { "documentChanges": true },
                "didChangeWatchedFiles": { "dynamicRegistration": true } },
            "textDocument": { "synchronization": { "didSave": true } } },
            "workspaceFolders": [{ "uri": showrunner_testkit::uri(&dir), "name": "storm" }] }),
    )?;
    let caps = loop {
        if let Some(v) = s.pump(STALL)? {
            if v["id"] == init {
                break v["result"]["capabilities"].clone();
            }
        } else {
            bail!("no answer to initialize");
        }
    };
    s.notify("initialized", json!({}))?;
    let commands: Vec<String> = caps["executeCommandProvider"]["commands"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    let odd_uris = [
        "untitled:Untitled-1".to_string(),
        showrunner_testkit::uri(&dir.join("story/missing/nowhere.md")),
        showrunner_testkit::uri(&dir.join("story")),
        "file:///../../etc/passwd".to_string(),
        showrunner_testkit::uri(&std::env::temp_dir().join("outside-storm.md")),
        "file:///%E2%82%AC%20odd.md".to_string(),
    ];

    let mut rng = Rng::new(seed);
    let mut open: Vec<Doc> = Vec::new();
    let sync_every =
        std::env::var("STORM_SYNC").ok().and_then(|v| v.parse().ok()).unwrap_or((messages / 8).clamp(500, 12_500));
    let started = Instant::now();
    let mut syncs = 0;
    let mut compared = 0;
    let requests = [
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/references",
        "textDocument/completion",
        "textDocument/documentSymbol",
        "textDocument/semanticTokens/full",
        "textDocument/codeAction",
        "textDocument/codeLens",
        "textDocument/prepareRename",
        "textDocument/rename",
        "workspace/symbol",
        "workspace/executeCommand",
    ];
    let mut i = 0;
    while i < messages {
        i += 1;
        s.drain_to(WINDOW - 1)?;
        // Whatever else has arrived is read, so the pipe never fills.
        while s.pump(Duration::ZERO)?.is_some() {}
        let roll = rng.below(100);
        if open.is_empty() || roll < 6 {
            // Open a project file, or (now and then) an odd URI.
            if rng.below(5) == 0 && std::env::var_os("STORM_NO_ODD").is_none() {
                let u = odd_uris[rng.below(odd_uris.len())].clone();
                if open.iter().any(|d| d.uri == u) {
                    continue;
                }
                let text = random_text(&mut rng);
                s.notify(
                    "textDocument/didOpen",
                    json!({ "textDocument": { "uri": u, "languageId": "markdown", "version": 1, "text": text } }),
                )?;
                // A new file inside the project is saved at the sync points like the others.
                let new_file = u.ends_with("missing/nowhere.md").then(|| dir.join("story/missing/nowhere.md"));
                open.push(Doc { path: new_file, uri: u, text, version: 1 });
            } else {
                let p = &files[rng.below(files.len())];
                let u = showrunner_testkit::uri(p);
                if open.iter().any(|d| d.uri == u) {
                    continue;
                }
                let text = std::fs::read_to_string(p).unwrap_or_default();
                let lang = if p.extension().is_some_and(|x| x == "md") { "markdown" } else { "yaml" };
                s.notify(
                    "textDocument/didOpen",
                    json!({ "textDocument": { "uri": u, "languageId": lang, "version": 1, "text": text } }),
                )?;
                open.push(Doc { path: Some(p.clone()), uri: u, text, version: 1 });
            }
            continue;
        }
        let d = rng.below(open.len());
        if roll < 9 && open.len() > 3 && std::env::var_os("STORM_NO_CLOSE").is_none() {
            let doc = open.swap_remove(d);
            s.notify("textDocument/didClose", json!({ "textDocument": { "uri": doc.uri } }))?;
            continue;
        }
        if roll < 11 {
            s.notify("textDocument/didSave", json!({ "textDocument": { "uri": open[d].uri } }))?;
            continue;
        }
        if roll < 45 {
            // An edit: the session's text follows only the edits whose range is inside the text
            // (the server clamps the others; the full text sent at each sync point settles it).
            let doc = &mut open[d];
            let new = random_text(&mut rng);
            doc.version += 1;
            let (a, b) = (random_position(&mut rng, &doc.text), random_position(&mut rng, &doc.text));
            let (oa, ob) = (
                offset(&doc.text, a["line"].as_u64().unwrap_or(0), a["character"].as_u64().unwrap_or(0)),
                offset(&doc.text, b["line"].as_u64().unwrap_or(0), b["character"].as_u64().unwrap_or(0)),
            );
            let change = if rng.below(40) == 0 {
                doc.text = format!("{}{new}", doc.text);
                json!({ "text": doc.text })
            } else {
                if oa <= ob {
                    doc.text.replace_range(oa..ob, &new);
                }
                json!({ "range": { "start": a, "end": b }, "text": new })
            };
            let params =
                json!({ "textDocument": { "uri": doc.uri, "version": doc.version }, "contentChanges": [change] });
            s.notify("textDocument/didChange", params)?;
            continue;
        }
        // A request.
        let method = requests[rng.below(requests.len())];
        let doc = &open[d];
        let at = random_position(&mut rng, &doc.text);
        let td = json!({ "uri": doc.uri });
        let params = match method {
            "workspace/symbol" => json!({ "query": rng.pick(&["", "zo", "lukas", "Alice", "李", "x"]) }),
            "workspace/executeCommand" if !commands.is_empty() && std::env::var_os("STORM_NO_CMD").is_none() => {
                json!({ "command": commands[rng.below(commands.len())], "arguments": random_args(&mut rng, &doc.uri) })
            }
            "workspace/executeCommand" => continue,
            "textDocument/documentSymbol" | "textDocument/semanticTokens/full" | "textDocument/codeLens" => {
                json!({ "textDocument": td })
            }
            "textDocument/codeAction" => {
                let end = random_position(&mut rng, &doc.text);
                json!({ "textDocument": td, "range": { "start": at, "end": end }, "context": { "diagnostics": [] } })
            }
            "textDocument/references" => {
                json!({ "textDocument": td, "position": at, "context": { "includeDeclaration": true } })
            }
            "textDocument/rename" => {
                json!({ "textDocument": td, "position": at, "newName": rng.pick(&["Zoë Renamed", "", "a/b", "李"]) })
            }
            _ => json!({ "textDocument": td, "position": at }),
        };
        s.request(method, params)?;

        if i % sync_every == 0 || i == messages {
            syncs += 1;
            compared += sync(&mut s, &bin, &dir, &mut open, syncs)?;
        }
    }
    s.drain_to(0)?;
    syncs += 1;
    compared += sync(&mut s, &bin, &dir, &mut open, syncs)?;
    let elapsed = started.elapsed();
    let peak_kb = crate::proc_status(pid, "VmHWM");
    let shutdown = s.request("shutdown", Value::Null)?;
    while s.flight.contains_key(&shutdown) {
        s.drain_to(0)?;
    }
    s.notify("exit", Value::Null)?;
    let status = s.child.wait()?;
    if !status.success() {
        bail!("the server exited with {status}");
    }
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    let panics = log.matches("panicked").count();

    let mut all: Vec<Duration> = s.latencies.values().flatten().copied().collect();
    all.sort();
    let pct = |v: &[Duration], p: f64| v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1))).copied();
    let ms = |d: Option<Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!(
        "storm: {} messages (seed {seed}) in {:.1} s ({:.0} msg/s), {} requests all answered ({} errors), {syncs} sync points, {compared} diagnostics equal to `showrunner check`",
        s.sent,
        elapsed.as_secs_f64(),
        s.sent as f64 / elapsed.as_secs_f64(),
        all.len(),
        s.errors.values().sum::<usize>()
    );
    println!(
        "storm: latency p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms; {:.1} MB sent, {:.1} MB received; peak RSS {} MB; {panics} panics logged",
        ms(pct(&all, 0.5)),
        ms(pct(&all, 0.99)),
        ms(all.last().copied()),
        s.bytes_out as f64 / 1e6,
        s.bytes_in as f64 / 1e6,
        peak_kb / 1024
    );
    println!("{:<36} {:>7} {:>9} {:>9} {:>9}", "method", "count", "p50 ms", "p99 ms", "errors");
    for (m, v) in &mut s.latencies {
        v.sort();
        println!(
            "{:<36} {:>7} {:>9.2} {:>9.2} {:>9}",
            m,
            v.len(),
            ms(pct(v, 0.5)),
            ms(pct(v, 0.99)),
            s.errors.get(m).copied().unwrap_or(0)
        );
    }
    if panics > 0 {
        bail!("the server logged {panics} panics");
    }
    if let Some(limit) = std::env::var("STORM_P99_MS").ok().and_then(|v| v.parse::<f64>().ok()) {
        if ms(pct(&all, 0.99)) > limit {
            bail!("p99 {:.1} ms is above {limit} ms", ms(pct(&all, 0.99)));
        }
    }
    Ok(())
}

/// A sync point: every request answered; the open project files saved as the session has them
/// (and sent whole); then their diagnostics must equal `showrunner check --hints` on disk.
fn sync(s: &mut Session, bin: &Path, dir: &Path, open: &mut [Doc], n: usize) -> Result<usize> {
    s.drain_to(0)?;
    let mut live: BTreeSet<Key> = BTreeSet::new();
    let mut paths = BTreeSet::new();
    for d in open.iter_mut() {
        let Some(path) = &d.path else { continue };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &d.text)?;
        s.notify("textDocument/didSave", json!({ "textDocument": { "uri": d.uri } }))?;
    }
    // Twice: what a file's diagnostics say depends on the other files (counts of a name across
    // the project), so the diagnostics compared are those published after every file has its
    // text, not those published on the way.
    for _ in 0..2 {
        for d in open.iter_mut().filter(|d| d.path.is_some()) {
            d.version += 1;
            s.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": d.uri, "version": d.version }, "contentChanges": [{ "text": d.text }] }),
            )?;
        }
    }
    for d in open.iter() {
        let Some(path) = &d.path else { continue };
        let rel = path.strip_prefix(dir).unwrap_or(path).to_string_lossy().into_owned();
        let diagnostics = s.diagnostics_at(&d.uri, d.version)?;
        live.extend(keys(&rel, &d.text, &diagnostics));
        paths.insert(rel);
    }
    let disk = check_on_disk(bin, dir, &paths)?;
    if live != disk {
        let only_live: Vec<_> = live.difference(&disk).take(5).collect();
        let only_disk: Vec<_> = disk.difference(&live).take(5).collect();
        bail!("sync point {n}: the session's diagnostics differ from `check`: session only {only_live:?}; check only {only_disk:?}");
    }
    Ok(live.len())
}
