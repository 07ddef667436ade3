//! Crash cycles: the CLI and the language server are killed with SIGKILL at random moments while
//! they create buckets, fork and switch timelines, apply pipeline output and record saves. After
//! every kill the project must be whole: the next start reconciles the log with the files, no file
//! differs from the log, no temporary file is left, every file is valid UTF-8. At the end, every
//! acknowledged write is found on its timeline and every timeline round-trips byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use showrunner_store::history::History;

use crate::gen::Rng;

const OPS: [&str; 5] = ["bucket create", "timeline create", "timeline switch", "pipeline run", "hand save + run"];

/// Every story file's bytes (not machine state).
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).into_iter().flatten() {
        let rel = e.path().strip_prefix(root).unwrap_or(e.path()).to_string_lossy().into_owned();
        if e.file_type().is_file() && !rel.starts_with(".showrunner") {
            out.insert(rel, std::fs::read(e.path()).unwrap_or_default());
        }
    }
    out
}

/// The project is whole: reconciled, no drift, no temp files, all text. `hand_edit`: a file the
/// writer saved that may not be recorded yet (it must still hold the writer's text; it is recorded,
/// as the editor's next start would).
fn verify(root: &Path, cycle: usize, hand_edit: Option<(&str, &str)>) -> Result<String> {
    let mut h = History::open(root).with_context(|| format!("cycle {cycle}: the history does not open"))?;
    let mut drift = h.drift()?;
    if let Some((path, must_hold)) = hand_edit {
        if drift.iter().any(|d| d == path) {
            let text = std::fs::read_to_string(root.join(path))
                .with_context(|| format!("cycle {cycle}: the saved {path} is gone"))?;
            if !text.contains(must_hold) {
                bail!("cycle {cycle}: the writer's saved text is gone from {path}");
            }
            h.record(path, "user")?;
            drift = h.drift()?;
        }
    }
    if !drift.is_empty() {
        bail!("cycle {cycle}: files differ from the log: {drift:?}");
    }
    for (path, bytes) in snapshot(root) {
        let name = path.rsplit('/').next().unwrap_or("");
        if name.starts_with('.') && name.contains(".tmp-") {
            bail!("cycle {cycle}: a temporary file was left behind: {path}");
        }
        if std::str::from_utf8(&bytes).is_err() {
            bail!("cycle {cycle}: {path} is not valid UTF-8 (half-written?)");
        }
    }
    Ok(h.current()?)
}

pub fn run(cycles: usize, seed: u64) -> Result<()> {
    let bin = crate::binary();
    let base = std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("bench-out"));
    let work = base.join("crash");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let ok = Command::new(&bin).args(["init", "story", "--example"]).current_dir(&work).output()?;
    if !ok.status.success() {
        bail!("init failed: {}", String::from_utf8_lossy(&ok.stderr));
    }
    let root = work.join("story").canonicalize()?;
    let recording = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/recorded/draft-scene.json");
    let scene = "story/ch01/03-supper.md";
    let mut rng = Rng::new(seed);
    let mut current = verify(&root, 0, None)?;
    let mut timelines = vec!["main".to_string()];
    // (timeline, bucket name) of every bucket whose creation was acknowledged.
    let mut acked: Vec<(String, String)> = Vec::new();
    // How long each operation takes when left alone; kills land anywhere in 0..1.5× that.
    let mut takes = [250, 250, 250, 1000, 1000].map(Duration::from_millis);
    let mut killed = [0usize; 5];
    let mut completed = [0usize; 5];
    let started = Instant::now();
    for cycle in 1..=cycles {
        let op = rng.below(OPS.len());
        let delay = takes[op].mul_f64(1.5).mul_f64(rng.below(1000) as f64 / 1000.0);
        let mut cmd = Command::new(&bin);
        cmd.current_dir(&root).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let name = format!("Note {cycle} Zoë");
        let target = match op {
            0 => {
                cmd.args(["bucket", "create", "--kind", "note", "--name", &name]);
                None
            }
            1 => {
                let t = format!("t{cycle}");
                cmd.args(["timeline", "create", &t]);
                Some(t)
            }
            2 => {
                let t = timelines[rng.below(timelines.len())].clone();
                cmd.args(["timeline", "switch", &t]);
                Some(t)
            }
            3 => {
                cmd.args(["run", "draft-scene", scene, "--yes", "--replay"]).arg(&recording);
                None
            }
            _ => {
                // The writer saves the scene by hand; a pipeline run then records that save
                // before it applies its own edit.
                let path = root.join(scene);
                let mut text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cycle {cycle}: {scene} is missing on timeline {current}"))?;
                text.push_str(&format!("\nSaved in cycle {cycle}.\n"));
                showrunner_store::fsx::write_atomic(&path, text.as_bytes())?;
                cmd.args(["run", "draft-scene", scene, "--yes", "--replay"]).arg(&recording);
                None
            }
        };
        let mut child = cmd.spawn()?;
        let t = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break Some(s);
            }
            if t.elapsed() >= delay {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        match status {
            Some(s) if s.success() => {
                completed[op] += 1;
                // Follow how long it really takes (a release build is much faster than the guess).
                takes[op] = (takes[op] + t.elapsed()) / 2;
                match op {
                    0 => acked.push((current.clone(), name)),
                    1 => timelines.extend(target),
                    _ => {}
                }
            }
            Some(_) => completed[op] += 1,
            None => killed[op] += 1,
        }
        // A timeline created just before the kill may exist without its acknowledgement.
        let saved = format!("Saved in cycle {cycle}.");
        current = verify(&root, cycle, (op == 4).then_some((scene, saved.as_str())))?;
        let h = History::open(&root)?;
        timelines = h.timelines()?.into_iter().map(|t| t.name).collect();
    }
    let cycle_time = started.elapsed();

    // Every acknowledged bucket is on its timeline; every timeline round-trips.
    let mut h = History::open(&root)?;
    let mut states = BTreeMap::new();
    for t in &timelines {
        h.switch(t)?;
        let names: Vec<String> = showrunner_store::load_project(&root)
            .analysis
            .buckets
            .iter()
            .map(|b| b.bucket.name.value.clone())
            .collect();
        for (_, n) in acked.iter().filter(|(on, _)| on == t) {
            if !names.contains(n) {
                bail!("the acknowledged bucket `{n}` is missing on timeline {t}");
            }
        }
        states.insert(t.clone(), snapshot(&root));
    }
    for t in &timelines {
        h.switch(t)?;
        if snapshot(&root) != states[t] {
            bail!("timeline {t} does not round-trip byte for byte");
        }
    }
    println!("| operation | completed | killed |");
    println!("|---|---|---|");
    for (i, op) in OPS.iter().enumerate() {
        println!("| {op} | {} | {} |", completed[i], killed[i]);
    }
    println!(
        "\n{cycles} cycles in {:.1} s: every kill recovered (no drift, no temp file, no broken text); {} acknowledged buckets found on their timelines; {} timelines round-trip byte for byte",
        cycle_time.as_secs_f64(),
        acked.len(),
        timelines.len()
    );
    Ok(())
}
