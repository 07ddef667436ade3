//! `sr-bench batch [SCENES] [LATENCY_MS]`: `showrunner batch` against a scripted model server
//! with a fixed latency per request and a capacity of 8 requests at once (the rest queue, as in
//! an engine): throughput for 1, 2, 4, 8 and 16 workers against what the server can serve; the
//! queue's own cost per job (enqueue + take, through the store); peak memory of a batch of 1,000
//! queued runs.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;
use showrunner_store::runs::Runs;
use showrunner_testkit::model_server::{chunk, sse, ModelServer, Reply};

const CAPACITY: usize = 8;
const IDEAS: &str = r#"{"ideas": [{"title": "A storm", "pitch": "The lamp fails."}]}"#;

/// A brainstorm answer after `latency`.
fn answer(latency: Duration) -> Reply {
    Reply::Stream(vec![
        (latency, chunk(json!({ "content": IDEAS }))),
        (Duration::ZERO, sse(&json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }] }))),
        (
            Duration::ZERO,
            sse(
                &json!({ "choices": [], "usage": { "prompt_tokens": 900, "completion_tokens": 40, "total_tokens": 940 } }),
            ),
        ),
        (Duration::ZERO, "data: [DONE]\n\n".to_string()),
    ])
}

/// The example story with `scenes` more scenes under `story/batch/`, talking to `url`.
fn project(parent: &Path, scenes: usize, url: &str) -> Result<std::path::PathBuf> {
    let bin = crate::binary();
    let dir = showrunner_testkit::example_at(&bin, parent, url);
    for i in 0..scenes {
        let text = format!(
            "---\nid: b{i:04}\npov: alice\n---\n# Night {i}\n\nAlice trimmed the wick for the {i}th time while Tom counted ships.\n"
        );
        showrunner_testkit::write_file(&dir, &format!("story/batch/{i:04}.md"), text);
    }
    Ok(dir)
}

fn batch(dir: &Path, jobs: usize) -> Result<(Duration, u64, i32)> {
    let bin = crate::binary();
    let _ = std::fs::remove_file(dir.join(".showrunner/runs.db"));
    let _ = std::fs::remove_file(dir.join(".showrunner/runs.db-wal"));
    let _ = std::fs::remove_file(dir.join(".showrunner/runs.db-shm"));
    let mut cmd = Command::new(&bin);
    cmd.args(["batch", "brainstorm", "story/batch", "--yes", "--model", "local/llama3.1", "--jobs"])
        .arg(jobs.to_string())
        .current_dir(dir);
    crate::measure(&mut cmd)
}

pub fn run(scenes: usize, latency_ms: u64) -> Result<()> {
    let latency = Duration::from_millis(latency_ms);
    let server = ModelServer::programmed(CAPACITY, move |_, _| answer(latency));
    let tmp = tempfile_dir()?;
    let dir = project(&tmp, scenes, &server.url)?;
    let ceiling = CAPACITY as f64 / latency.as_secs_f64();
    println!("batch: {scenes} brainstorm runs; the server answers after {latency_ms} ms, {CAPACITY} at once (at most {ceiling:.1} runs/s)");
    println!(
        "{:>6} {:>10} {:>10} {:>12} {:>12} {:>10}",
        "jobs", "wall s", "runs/s", "bound runs/s", "of bound", "peak MB"
    );
    for jobs in [1usize, 2, 4, 8, 16] {
        let before = server.requests().len();
        let (wall, peak_kb, code) = batch(&dir, jobs)?;
        if code != 0 {
            bail!("the batch with {jobs} jobs failed (exit {code})");
        }
        let calls = server.requests().len() - before;
        if calls != scenes {
            bail!("{calls} model calls for {scenes} runs with {jobs} jobs");
        }
        let rate = scenes as f64 / wall.as_secs_f64();
        let bound = jobs.min(CAPACITY) as f64 / latency.as_secs_f64();
        println!(
            "{jobs:>6} {:>10.2} {rate:>10.1} {bound:>12.1} {:>11.0}% {:>10.1}",
            wall.as_secs_f64(),
            100.0 * rate / bound,
            peak_kb as f64 / 1024.0
        );
    }
    println!("most requests the server saw at once: {}", server.most_at_once());
    queue_overhead(&tmp)?;
    memory_with_queued(&tmp)?;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// The store's cost per job: enqueue and take of 1,000 runs of a realistic record size.
fn queue_overhead(tmp: &Path) -> Result<()> {
    let root = tmp.join("queue");
    std::fs::create_dir_all(&root)?;
    let runs = Runs::open(&root)?;
    let record =
        json!({ "vars": { "context": "x".repeat(8_000), "scene": { "text": "y".repeat(4_000) } }, "steps": [] });
    let n = 1000;
    let t = Instant::now();
    for i in 0..n {
        runs.enqueue(
            &format!("r{i:05}"),
            "brainstorm",
            &format!("story/{i}.md"),
            (i % 3) as i64,
            Some("b"),
            &[],
            &record,
        )?;
    }
    let enqueue = t.elapsed();
    let t = Instant::now();
    let mut taken = 0;
    while runs.take(Some("b"))?.is_some() {
        taken += 1;
    }
    let take = t.elapsed();
    if taken != n {
        bail!("took {taken} of {n}");
    }
    println!(
        "queue overhead per job (1,000 jobs, 12 KB records): enqueue {:.3} ms, take {:.3} ms",
        enqueue.as_secs_f64() * 1000.0 / n as f64,
        take.as_secs_f64() * 1000.0 / n as f64
    );
    // A plan's shape at its worst for `take`: 500 runs that each wait for one of 500 others,
    // queued first and at a higher priority, so every take reads past the waiting ones.
    let root = tmp.join("queue-needs");
    std::fs::create_dir_all(&root)?;
    let runs = Runs::open(&root)?;
    let half = n / 2;
    for i in 0..half {
        let need = [format!("base{i:05}")];
        runs.enqueue(&format!("then{i:05}"), "check", &format!("story/{i}.md"), 1, Some("p"), &need, &record)?;
    }
    for i in 0..half {
        runs.enqueue(&format!("base{i:05}"), "summarize", &format!("story/{i}.md"), 0, Some("p"), &[], &record)?;
    }
    let t = Instant::now();
    let mut taken = 0;
    while let Some((id, _)) = runs.take(Some("p"))? {
        // Done at once: what waited for it may go.
        runs.save(&id, "p", "story/x.md", "succeeded", None, &json!({}))?;
        taken += 1;
    }
    let take = t.elapsed();
    if taken != n {
        bail!("took {taken} of {n} with needs");
    }
    println!(
        "queue overhead per job with needs (500 waiting on 500, 12 KB records): take + finish {:.3} ms",
        take.as_secs_f64() * 1000.0 / n as f64
    );
    Ok(())
}

/// Peak memory of `showrunner batch` with 1,000 runs queued (worked by 8 threads against a fast
/// server).
fn memory_with_queued(tmp: &Path) -> Result<()> {
    let server = ModelServer::programmed(CAPACITY, |_, _| answer(Duration::from_millis(5)));
    let parent = tmp.join("thousand");
    std::fs::create_dir_all(&parent)?;
    let dir = project(&parent, 1000, &server.url)?;
    let (wall, peak_kb, code) = batch(&dir, 8)?;
    if code != 0 {
        bail!("the 1,000-run batch failed (exit {code})");
    }
    println!(
        "1,000 queued runs, 8 workers: peak RSS {:.1} MB, {:.1} s ({:.0} runs/s)",
        peak_kb as f64 / 1024.0,
        wall.as_secs_f64(),
        1000.0 / wall.as_secs_f64()
    );
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let base = std::env::var_os("BENCH_DIR").map(std::path::PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("sr-bench-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).context("bench folder")?;
    Ok(dir)
}
