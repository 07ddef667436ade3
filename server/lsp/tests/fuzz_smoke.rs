//! The language server's fuzz targets without cargo-fuzz: every committed seed and crash
//! reproducer of `positions`, `sync` and `lsp_frames` through the same checks the fuzzers run
//! (`fuzz/checks/src/lsp.rs`, included here by path), then a bounded pass of mutated seeds
//! (`fuzz/checks/src/mutate.rs`). The model's targets run in
//! `server/model/tests/fuzz_regressions.rs`.

use std::path::{Path, PathBuf};

#[path = "../../../fuzz/checks/src/lsp.rs"]
mod checks;
#[path = "../../../fuzz/checks/src/mutate.rs"]
mod mutate;

/// Each target, its check, and how many mutated inputs the smoke pass runs.
type Target = (&'static str, fn(&[u8]), usize);

const TARGETS: &[Target] =
    &[("positions", checks::positions, 150), ("sync", checks::sync, 1500), ("lsp_frames", checks::lsp_frames, 1500)];

use mutate::files;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

#[test]
fn seeds_and_reproducers_keep_the_server_invariants() {
    for (target, check, _) in TARGETS {
        let seeds = files(&fuzz_dir().join("seeds").join(target));
        assert!(!seeds.is_empty(), "no seeds for {target}");
        for path in seeds.iter().chain(&files(&fuzz_dir().join("regressions").join(target))) {
            let data = std::fs::read(path).unwrap();
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                panic!("{target}: {} breaks an invariant", path.display());
            }
        }
    }
}

#[test]
fn mutated_seeds_keep_the_server_invariants() {
    for (target, check, runs) in TARGETS {
        let seeds: Vec<Vec<u8>> =
            files(&fuzz_dir().join("seeds").join(target)).iter().map(|p| std::fs::read(p).unwrap()).collect();
        mutate::smoke(target, *check, &seeds, *runs, 0x5EED);
    }
}
