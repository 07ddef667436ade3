//! `sr-bench export [SIZES] [RUNS]`: what `showrunner export` costs, format by format.
//!
//! The generated prose projects (M, L by default) in every format, and a generated screenplay
//! project (a season of ten half-hour episodes, about 31 pages each: scene headings, action, speeches with
//! parentheticals, dual dialogue, scene numbers, non-Latin names) as pdf, fdx and fountain. Each
//! export runs `RUNS` times (default 3) through the real binary: wall time p50 and max, peak RSS
//! (`ru_maxrss`), the file's size, and for a pdf its pages (poppler's `pdfinfo`, when installed).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{binary, gen, measure, ms, percentile};

const PROSE_FORMATS: [&str; 6] = ["docx", "pdf", "epub", "fdx", "md", "fountain"];
const SCRIPT_FORMATS: [&str; 3] = ["pdf", "fdx", "fountain"];

/// A season: ten episodes of about thirty pages each, in one project.
fn screenplay_project(base: &Path) -> Result<PathBuf> {
    let dir = base.join("season");
    if dir.join("showrunner.yaml").exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(dir.join("story"))?;
    std::fs::write(dir.join("showrunner.yaml"), "name: Season\ntitle: The Keeper\nauthor: Zoë Łukasz-Brontë\n")?;
    let names = ["ZOË", "ŁUKASZ", "李雷", "ALICE", "TOM MARLOWE"];
    let mut rng = gen::Rng::new(2026);
    let words = ["the", "glass", "is", "falling", "and", "the", "light", "goes", "round", "for", "ships", "gone", "by"];
    let sentence = |rng: &mut gen::Rng, n: usize| {
        let mut s: Vec<&str> = (0..n).map(|_| words[rng.below(words.len())]).collect();
        s[0] = "The";
        format!("{}.", s.join(" "))
    };
    for episode in 1..=10 {
        let mut text = format!(
            "Title: The Keeper\n    Episode {episode}\nAuthor: Zoë Łukasz-Brontë\nDraft date: 8 December 2026\n\n"
        );
        for scene in 1..=45 {
            text.push_str(&format!("INT. LIGHTHOUSE, ROOM {scene} - NIGHT #{scene}#\n\n"));
            for _ in 0..2 {
                let n = 12 + rng.below(30);
                text.push_str(&sentence(&mut rng, n));
                text.push_str("\n\n");
            }
            for speech in 0..4 {
                let who = names[rng.below(names.len())];
                let dual = speech == 3 && rng.below(4) == 0;
                text.push_str(who);
                text.push('\n');
                if rng.below(3) == 0 {
                    text.push_str("(quietly)\n");
                }
                let n = 6 + rng.below(40);
                text.push_str(&sentence(&mut rng, n));
                text.push_str("\n\n");
                if dual {
                    text.push_str(&format!(
                        "{} ^\n{}\n\n",
                        names[(rng.below(4) + 1) % names.len()],
                        sentence(&mut rng, 8)
                    ));
                }
            }
            text.push_str("> CUT TO:\n\n");
        }
        std::fs::write(dir.join(format!("story/episode-{episode:02}.fountain")), text)?;
    }
    Ok(dir)
}

/// A PDF's pages, as poppler's `pdfinfo` counts them (none when it is not installed: page
/// objects sit in compressed object streams, so the bytes do not tell).
fn pdf_pages(path: &Path) -> Option<usize> {
    let out = Command::new("pdfinfo").arg(path).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
}

fn bench_one(bin: &Path, dir: &Path, label: &str, format: &str, runs: usize) -> Result<()> {
    let out = std::env::temp_dir().join(format!("sr-bench-export-{}.{format}", std::process::id()));
    let mut times = Vec::new();
    let mut rss = 0;
    for _ in 0..runs {
        let (t, kb, code) = measure(Command::new(bin).arg("export").arg(format).arg("-o").arg(&out).current_dir(dir))?;
        if code != 0 {
            bail!("showrunner export {format} exited with {code} in {}", dir.display());
        }
        times.push(t);
        rss = rss.max(kb);
    }
    times.sort();
    let bytes = std::fs::metadata(&out).with_context(|| format!("reading {}", out.display()))?.len();
    let pages = match (format, pdf_pages(&out)) {
        ("pdf", Some(n)) => format!("{n} pages"),
        _ => String::new(),
    };
    println!(
        "| {label} | {format} | {} ({}) | {:.0} MB | {:.1} MB | {pages} |",
        ms(percentile(&times, 0.5)),
        ms(*times.last().expect("runs > 0")),
        rss as f64 / 1024.0,
        bytes as f64 / 1_048_576.0
    );
    let _ = std::fs::remove_file(out);
    Ok(())
}

pub(crate) fn run(sizes: &str, runs: usize) -> Result<()> {
    let bin = binary();
    let base = std::env::var_os("BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("bench-out"));
    println!("binary: {}, {runs} runs each\n", bin.display());
    println!("| project | format | wall p50 (max) | peak RSS | file | |");
    println!("|---|---|---|---|---|---|");
    for name in sizes.split(',').filter(|s| !s.is_empty()) {
        let size = gen::size(name).context("size is S, M or L")?;
        let dir = base.join(size.name);
        if !dir.join("showrunner.yaml").exists() {
            gen::generate(size, &dir)?;
        }
        let label = format!("{} ({} scenes, {} words)", size.name, size.scenes, size.words);
        for format in PROSE_FORMATS {
            bench_one(&bin, &dir, &label, format, runs)?;
        }
    }
    let dir = screenplay_project(&base)?;
    for format in SCRIPT_FORMATS {
        bench_one(&bin, &dir, "season (10 episodes × 45 scenes, Fountain)", format, runs)?;
    }
    Ok(())
}
