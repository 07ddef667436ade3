//! `sr-bench search [QUERIES]`: search on the M project with 1,000 recorded runs. The runs are
//! synthetic records in `runs.db` shaped like real ones (a draft's prompt with the scene's
//! context, its answer and reasoning, a judge's verdict, a verify defect report, a decision),
//! each naming scenes and characters of the project. Measured: the first index (story and
//! memory, from nothing), an incremental catch-up after one more run, query latency (p50/p99
//! over words from the project, through `showrunner search --format json`'s code path, the
//! store's `search_project`, in-process), the index's size on disk, and `showrunner mcp`'s
//! latency per call (the project kept between requests). It fails when a run's defect report is
//! not the first hit for the stranger it names, a character's name does not find its bucket, or
//! the MCP server does not see a scene changed on disk at its next call.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;
use showrunner_store::runs::Runs;
use showrunner_store::search::{search_project, Query, Scope};

use crate::gen;

const RUNS: usize = 1_000;

fn project(base: &Path) -> Result<PathBuf> {
    let dir = base.join("M-search");
    if !dir.join("showrunner.yaml").exists() {
        gen::generate(gen::size("M").expect("M"), &dir)?;
    }
    Ok(dir)
}

/// One synthetic run record: about 6,000 words of prompt and answer, like a draft with context.
fn record(i: usize, scene: &str, names: &[String], words: &[&str]) -> serde_json::Value {
    let pick = |k: usize| words[(i * 7 + k * 13) % words.len()];
    let name = &names[i % names.len()];
    let other = &names[(i * 31 + 5) % names.len()];
    let mut context = String::new();
    for k in 0..400 {
        context.push_str(&format!("{} {} {} {name}. ", pick(k), pick(k + 1), pick(k + 2)));
    }
    let answer: String =
        (0..300).map(|k| format!("{name} {} the {} near {other}. ", pick(k + 3), pick(k + 4))).collect();
    json!({
        "id": format!("draft-scene-bench{i}"), "pipeline": "draft-scene", "scene": scene, "state": "succeeded",
        "vars": { "request": format!("draft the scene where {name} meets {other} (run {i})"), "question": "" },
        "exchanges": [
            { "step": "draft", "model": if i.is_multiple_of(3) { "local/llama3.1" } else { "openai/gpt-4o" },
              "system": "You are the scene writer.", "prompt": format!("Context:\n{context}\n\nDraft the scene."),
              "response": answer, "reasoning": format!("{name} should hesitate; {other} knows about the {}", pick(9)),
              "prompt_tokens": 6000, "completion_tokens": 900 },
            { "step": "check", "model": "local/llama3.1", "prompt": "Score this text.",
              "response": format!("{{\"confidence\": 0.6, \"issues\": [\"{} is too quiet\"]}}", name), "prompt_tokens": 900, "completion_tokens": 30 }
        ],
        "steps": [
            { "id": "draft", "type": "generate", "state": "succeeded", "attempts": 1, "model": "local/llama3.1", "output": null, "error": null },
            { "id": "check", "type": "judge", "state": "succeeded", "attempts": 1, "model": "local/llama3.1",
              "output": { "confidence": 0.6, "issues": [format!("{name} is too quiet")] }, "error": null }
        ],
        "defects": [{ "step": "verify", "report": format!("These names are not in the story: Quill{i}"), "model": "local/llama3.1" }],
        "decisions": [{ "step": "review", "gate": "review_prompt", "decision": "approve", "note": "" }],
        "error": null
    })
}

pub fn run(queries: usize) -> Result<()> {
    let base = std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("bench-out"));
    let dir = project(&base)?;
    let _ = std::fs::remove_dir_all(dir.join(".showrunner"));
    let p = showrunner_store::load_project(&dir);
    let a = &p.analysis;
    let names: Vec<String> = a.buckets.iter().map(|b| b.bucket.name.value.clone()).collect();
    let scenes: Vec<String> = a.scenes.iter().map(|s| a.files[s.file].path.clone()).collect();
    let words: Vec<&str> = a
        .scenes
        .iter()
        .take(50)
        .flat_map(|s| a.text(s.file).split_whitespace())
        .filter(|w| w.len() > 4 && w.chars().all(char::is_alphabetic))
        .collect();
    let runs = Runs::open(&dir)?;
    let t = Instant::now();
    for i in 0..RUNS {
        let r = record(i, &scenes[i % scenes.len()], &names, &words);
        runs.save(r["id"].as_str().unwrap_or(""), "draft-scene", &scenes[i % scenes.len()], "succeeded", None, &r)?;
    }
    let recorded = t.elapsed();

    let q = |text: &str, scope: Scope| Query { text: text.to_string(), scope, limit: 20, ..Default::default() };
    let t = Instant::now();
    let first = search_project(&dir, a, &p.hashes, &q(words[0], Scope::All))?;
    let first_index = t.elapsed();
    let index = showrunner_store::Index::open(&showrunner_store::index_path(&dir))?;
    let rows = index.memory_rows()?;
    drop(index);
    // One more run: the next search catches up with it alone.
    let extra = record(RUNS, &scenes[0], &names, &words);
    runs.save("draft-scene-bench-extra", "draft-scene", &scenes[0], "succeeded", None, &extra)?;
    let t = Instant::now();
    search_project(&dir, a, &p.hashes, &q("Quill1000", Scope::Runs))?;
    let catch_up = t.elapsed();

    let mut times = Vec::new();
    let mut bare = Vec::new();
    let mut hits = 0;
    let index = showrunner_store::Index::open(&showrunner_store::index_path(&dir))?;
    for i in 0..queries {
        let text = match i % 4 {
            0 => words[(i * 17) % words.len()].to_string(),
            1 => names[(i * 7) % names.len()].clone(),
            2 => format!("{} {}", words[(i * 5) % words.len()], words[(i * 11) % words.len()]),
            _ => format!("Quill{}", i % RUNS),
        };
        let scope = [Scope::All, Scope::Story, Scope::Runs][i % 3];
        // What every edge pays: open the index, catch up (nothing changed), search.
        let t = Instant::now();
        let found = search_project(&dir, a, &p.hashes, &q(&text, scope))?;
        times.push(t.elapsed());
        hits += found.len();
        // What was said is found where it was said.
        match (i % 4, scope) {
            (3, Scope::Runs | Scope::All) => {
                let run = format!("draft-scene-bench{}", i % RUNS);
                anyhow::ensure!(
                    found.first().is_some_and(|h| h.run.as_deref() == Some(run.as_str()) && h.kind == "defect"),
                    "`{text}` should find run {run}'s defect report first: {found:?}"
                );
            }
            (1, Scope::Story) => anyhow::ensure!(
                found.iter().any(|h| h.kind != "scene" && h.title.contains(text.as_str())),
                "`{text}` should find its bucket: {found:?}"
            ),
            _ => {}
        }
        // The FTS5 queries alone, on an open index.
        let t = Instant::now();
        index.search_all(&q(&text, scope))?;
        bare.push(t.elapsed());
    }
    drop(index);
    times.sort();
    bare.sort();
    let size: u64 = ["index.db", "index.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(".showrunner").join(f)).ok())
        .map(|m| m.len())
        .sum();
    let runs_size = std::fs::metadata(Runs::path(&dir)).map(|m| m.len()).unwrap_or(0);
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    let bare_pct = |p: usize| bare[(bare.len() * p / 100).min(bare.len() - 1)];
    println!(
        "M: {} buckets, {} scenes; {RUNS} runs recorded in {} ({:.1} MB runs.db); {} memory rows",
        a.buckets.len(),
        a.scenes.len(),
        ms(recorded),
        runs_size as f64 / 1e6,
        rows
    );
    println!("| search on M, {RUNS} runs | first index (story + memory) | catch-up after one run | query p50 / p99 (open, catch up, search) | FTS5 alone p50 / p99 | index.db | queries |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| all / story / runs | {} | {} | {} / {} | {} / {} | {:.1} MB | {queries} ({hits} hits; the first query {}) |",
        ms(first_index),
        ms(catch_up),
        ms(pct(50)),
        ms(pct(99)),
        ms(bare_pct(50)),
        ms(bare_pct(99)),
        size as f64 / 1e6,
        first.len()
    );
    let ids: Vec<String> = a.buckets.iter().map(|b| b.bucket.id.value.clone()).collect();
    mcp_latency(&dir, &ids, &scenes[0], &words)
}

/// `showrunner mcp` on the same project, per call, as an agent sees it: newline-delimited
/// JSON-RPC over the server's stdio, `search` and `read_bucket` alternating; the first call (the
/// project read), the calls after it (nothing changed on disk), and the first call after a scene
/// changed on disk (read again, and the change seen).
fn mcp_latency(dir: &Path, ids: &[String], scene: &str, words: &[&str]) -> Result<()> {
    const CALLS: usize = 40;
    let mut mcp = Mcp::start(dir)?;
    let hello = json!({ "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "sr-bench", "version": "0" } });
    mcp.call("initialize", hello)?;
    mcp.send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))?;
    let (first, _) = mcp.tool("search", json!({ "query": words[0] }))?;
    let (mut search, mut read) = (Vec::new(), Vec::new());
    for i in 0..CALLS {
        search.push(mcp.tool("search", json!({ "query": words[(i * 17) % words.len()] }))?.0);
        read.push(mcp.tool("read_bucket", json!({ "id": ids[(i * 7) % ids.len()] }))?.0);
    }
    // A scene changed on disk: the next call reads the project again and sees it.
    let changed = dir.join(scene);
    let before = std::fs::read_to_string(&changed)?;
    std::fs::write(&changed, format!("{before}\nA quokkabench watched.\n"))?;
    let (after_change, found) = mcp.tool("search", json!({ "query": "quokkabench", "in": "story" }))?;
    std::fs::write(&changed, before)?;
    anyhow::ensure!(found.to_string().contains(scene), "the change on disk was not seen: {found}");
    drop(mcp);
    search.sort();
    read.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!("| showrunner mcp on M | first call (project read) | search p50 / max | read_bucket p50 / max | first call after a scene changed |");
    println!("|---|---|---|---|---|");
    println!(
        "| {CALLS} calls each | {} | {} / {} | {} / {} | {} |",
        ms(first),
        ms(search[search.len() / 2]),
        ms(search[search.len() - 1]),
        ms(read[read.len() / 2]),
        ms(read[read.len() - 1]),
        ms(after_change)
    );
    Ok(())
}

/// `showrunner mcp` as a bare client drives it.
struct Mcp {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: std::io::BufReader<std::process::ChildStdout>,
    next: u64,
}

impl Mcp {
    fn start(dir: &Path) -> Result<Mcp> {
        use std::process::{Command, Stdio};
        let mut child = Command::new(crate::binary())
            .arg("mcp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let input = child.stdin.take().expect("piped");
        let output = std::io::BufReader::new(child.stdout.take().expect("piped"));
        Ok(Mcp { child, input, output, next: 0 })
    }

    fn send(&mut self, v: serde_json::Value) -> Result<()> {
        use std::io::Write;
        writeln!(self.input, "{v}")?;
        Ok(self.input.flush()?)
    }

    /// A request's result and how long it took to come.
    fn call(&mut self, method: &str, params: serde_json::Value) -> Result<(Duration, serde_json::Value)> {
        use std::io::BufRead;
        self.next += 1;
        let t = Instant::now();
        self.send(json!({ "jsonrpc": "2.0", "id": self.next, "method": method, "params": params }))?;
        loop {
            let mut line = String::new();
            anyhow::ensure!(self.output.read_line(&mut line)? > 0, "showrunner mcp closed its output");
            let v: serde_json::Value = serde_json::from_str(&line)?;
            if v["id"] == json!(self.next) {
                anyhow::ensure!(v.get("error").is_none() && v["result"]["isError"] != json!(true), "{method}: {v}");
                return Ok((t.elapsed(), v));
            }
        }
    }

    fn tool(&mut self, name: &str, args: serde_json::Value) -> Result<(Duration, serde_json::Value)> {
        self.call("tools/call", json!({ "name": name, "arguments": args }))
    }
}

impl Drop for Mcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
