//! The fuzz targets' model invariants without cargo-fuzz: every committed seed
//! (`fuzz/seeds/<target>/`) and crash reproducer (`fuzz/regressions/<target>/`) goes through the
//! same checks the fuzzers run (`fuzz/checks/src/model.rs`, included here by path). Files of the
//! language server's targets (positions, sync, lsp_frames) go through the model's parsers too;
//! their own checks run in `server/lsp/tests/fuzz_smoke.rs`. Then a bounded pass of mutated
//! seeds (`fuzz/checks/src/mutate.rs`): the smoke pass `tests/run` runs on every change.

use std::path::{Path, PathBuf};

#[path = "../../../fuzz/checks/src/model.rs"]
mod checks;
#[path = "../../../fuzz/checks/src/mutate.rs"]
mod mutate;

/// A fuzz target's check: panics when the input breaks an invariant.
type Check = fn(&[u8]);

const MODEL_TARGETS: &[(&str, Check)] = &[
    ("bucket_yaml", checks::bucket_yaml),
    ("scene", checks::scene),
    ("fountain", checks::fountain),
    ("matcher", checks::matcher),
    ("typing", checks::typing),
];

const ALL_TARGETS: &[&str] =
    &["bucket_yaml", "scene", "fountain", "matcher", "typing", "positions", "sync", "lsp_frames"];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

use mutate::files;

fn run(target: &str, check: Check, path: &Path) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if std::panic::catch_unwind(|| check(&data)).is_err() {
        panic!("{target}: {} breaks an invariant", path.display());
    }
}

#[test]
fn every_seed_keeps_the_model_invariants() {
    let mut count = 0;
    for target in ALL_TARGETS {
        let seeds = files(&fuzz_dir().join("seeds").join(target));
        assert!(!seeds.is_empty(), "no seeds for {target}");
        for path in &seeds {
            for (name, check) in MODEL_TARGETS {
                run(name, *check, path);
            }
            count += 1;
        }
    }
    assert!(count >= ALL_TARGETS.len());
}

#[test]
fn every_crash_reproducer_keeps_the_model_invariants() {
    for target in ALL_TARGETS {
        for path in files(&fuzz_dir().join("regressions").join(target)) {
            for (name, check) in MODEL_TARGETS {
                run(name, *check, &path);
            }
        }
    }
}

/// The bounded smoke pass: each model target's seeds, mutated (deterministically), through its
/// checks. Runs per target are set so the pass takes seconds in a debug build.
#[test]
fn mutated_seeds_keep_the_model_invariants() {
    for (target, check) in MODEL_TARGETS {
        let seeds: Vec<Vec<u8>> =
            files(&fuzz_dir().join("seeds").join(target)).iter().map(|p| std::fs::read(p).unwrap()).collect();
        let runs = if *target == "typing" { 150 } else { 1500 };
        mutate::smoke(target, *check, &seeds, runs, 0x5EED);
    }
}
