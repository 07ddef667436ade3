//! Every committed seed (`fuzz/seeds/<target>/`) and crash reproducer (`fuzz/regressions/<target>/`)
//! through its target's checks; and every seed through the model's parsers, whatever its target.

use std::path::{Path, PathBuf};

use showrunner_fuzz_checks::{check, model, TARGETS};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn seeds_and_reproducers_keep_every_invariant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seeds = 0;
    for target in TARGETS {
        let run = check(target).expect("a known target");
        let own = files(&root.join("seeds").join(target));
        assert!(!own.is_empty(), "no seeds for {target}");
        seeds += own.len();
        for path in own.iter().chain(&files(&root.join("regressions").join(target))) {
            let data = std::fs::read(path).unwrap();
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                panic!("{target}: {} breaks an invariant", path.display());
            }
            for other in [model::bucket_yaml, model::scene, model::fountain, model::matcher] {
                other(&data);
            }
        }
    }
    assert!(seeds >= TARGETS.len());
}
