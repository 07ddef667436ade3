//! `sr-bench refs [RUNS]`: `textDocument/references` for one character mentioned about 9k times
//! in the M project — its generated scenes plus 77 hub scenes of 40 long paragraphs (prose lines
//! of ~100 words with accented words and emoji, three mentions each) — asked from the first hub
//! scene. UTF-16 positions (every client's default); UTF-8 with `BENCH_REFS_UTF8=1`. Timed by the
//! client from the request to the parsed answer; `BENCH_REFS_DUMP=FILE` keeps the answer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use showrunner_testkit::Client;

use crate::gen;

/// The M project with the hub scenes, under `base/M-refs`. Returns it and the hub's name.
fn project(base: &Path) -> Result<(PathBuf, String)> {
    let dir = base.join("M-refs");
    if !dir.join("showrunner.yaml").exists() {
        gen::generate(gen::size("M").expect("M"), &dir)?;
    }
    let name = crate::hub_name(&dir)?;
    let filler = "the naïve guard at the café door counted the lanterns — 🕯️ one, two, three — while the \
                  tide came in over the old stones and somebody upstairs sang about Zoë and the 李 orchard";
    for i in 0..77 {
        let mut text = String::from("---\nparent: chapter-1\n---\n");
        for j in 0..40 {
            text.push_str(&format!(
                "Later that night {name} walked along the wall, step {j}; {filler}. Nobody stopped {name}, \
                 and {filler}, so {name} went on.\n\n"
            ));
        }
        let p = dir.join(format!("story/hub/hub-{i:02}.md"));
        std::fs::create_dir_all(p.parent().expect("parent"))?;
        std::fs::write(p, text)?;
    }
    Ok((dir, name))
}

pub fn run(runs: usize) -> Result<()> {
    let base = std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("bench-out"));
    let (dir, hub_name) = project(&base)?;
    let utf8 = std::env::var_os("BENCH_REFS_UTF8").is_some();
    let mut c = Client::spawn(&crate::binary(), &[]);
    c.initialize(&[&dir], utf8);
    let refs = crate::hub_references(&mut c, &dir, &hub_name, runs + 3)?;
    c.finish();
    // The first three are warm-up: they also fault in the analysis' pages.
    let mut times = refs.times[3..].to_vec();
    times.sort();
    let answer = serde_json::to_vec(&refs.locations)?;
    let bytes = answer.len();
    // The answer, for comparing two builds.
    if let Some(out) = std::env::var_os("BENCH_REFS_DUMP") {
        std::fs::write(out, &answer)?;
    }
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!("| references ({}) | locations | answer size | p50 | p99 | runs |", if utf8 { "utf-8" } else { "utf-16" });
    println!("|---|---|---|---|---|---|");
    println!(
        "| `{hub_name}`, M | {} | {:.2} MB | {} | {} | {runs} |",
        refs.locations.len(),
        bytes as f64 / 1e6,
        ms(crate::percentile(&times, 0.5)),
        ms(crate::percentile(&times, 0.99)),
    );
    Ok(())
}
