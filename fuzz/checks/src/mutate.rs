//! The bounded fuzz smoke pass that `cargo test` runs (and so `tests/run` and CI), without
//! cargo-fuzz: each target's seeds, mutated the way libFuzzer mutates (bits, bytes, tokens the
//! parsers care about, deleted and repeated stretches, splices of two seeds) by a seeded,
//! deterministic generator, then through the target's checks. The long runs are cargo-fuzz's
//! (`BENCHMARKS.md`); this catches a regression in seconds, on every run.
//!
//! Included by path from `server/model/tests/fuzz_regressions.rs` and
//! `server/lsp/tests/fuzz_smoke.rs`: it uses nothing but `std`.

use std::path::{Path, PathBuf};

/// The files of a seed or reproducer folder, in name order (none when it does not exist).
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// Bytes that mean something to one of the parsers.
const TOKENS: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\n\n",
    b"---\n",
    b"```\n",
    b"~~~",
    b"# ",
    b"- ",
    b"> ",
    b"[[",
    b"]]",
    b"/*",
    b"*/",
    b"^",
    b"INT. ",
    b"EXT. ",
    b"(V.O.)",
    b"Title: ",
    b"id: ",
    b"parent: ",
    b"aliases: [",
    b"]",
    b": ",
    b"\"",
    b"'",
    b"\t",
    b"  ",
    b"Zo\xc3\xab",
    b"\xc5\x81ukasz",
    b"\xe6\x9d\x8e\xe9\x9b\xb7",
    b"\xf0\x9f\x98\x80",
    b"\xe2\x80\x99",
    b"\xff",
    b"\xc3",
    b"\0",
    b"Content-Length: ",
    b"\r\n\r\n",
    b"{\"jsonrpc\":\"2.0\"}",
    b"18446744073709551615",
];

pub struct Mutator {
    state: u64,
}

impl Mutator {
    pub fn new(seed: u64) -> Mutator {
        Mutator { state: seed ^ 0x9E37_79B9_7F4A_7C15 }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One to eight mutations of a random seed (or of the empty input when there are none).
    pub fn mutate(&mut self, seeds: &[Vec<u8>]) -> Vec<u8> {
        let mut data = seeds.get(self.below(seeds.len())).cloned().unwrap_or_default();
        for _ in 0..1 + self.below(8) {
            let at = self.below(data.len() + 1);
            match self.below(7) {
                0 if !data.is_empty() => {
                    let i = self.below(data.len());
                    data[i] ^= 1 << self.below(8);
                }
                1 if !data.is_empty() => {
                    let i = self.below(data.len());
                    data[i] = self.next() as u8;
                }
                2 => {
                    let token = TOKENS[self.below(TOKENS.len())];
                    data.splice(at..at, token.iter().copied());
                }
                3 => {
                    let end = (at + self.below(32)).min(data.len());
                    data.drain(at..end);
                }
                4 => {
                    let end = (at + self.below(64)).min(data.len());
                    let copy = data[at..end].to_vec();
                    let to = self.below(data.len() + 1);
                    data.splice(to..to, copy);
                }
                5 if !seeds.is_empty() => {
                    let other = &seeds[self.below(seeds.len())];
                    let from = self.below(other.len() + 1);
                    data.truncate(at);
                    data.extend_from_slice(&other[from..]);
                }
                _ => data.insert(at, self.next() as u8),
            }
            data.truncate(8192);
        }
        data
    }
}

/// Runs `check` over `runs` mutations of `seeds`. A failing input is written to
/// `$TMPDIR/showrunner-fuzz-smoke/<target>-<run>.bin` (to replay, or to add to the target's
/// `fuzz/regressions/` folder) and the pass panics naming it.
pub fn smoke(target: &str, check: fn(&[u8]), seeds: &[Vec<u8>], runs: usize, seed: u64) {
    let mut m = Mutator::new(seed);
    for run in 0..runs {
        let input = m.mutate(seeds);
        if std::panic::catch_unwind(|| check(&input)).is_err() {
            let dir: PathBuf = std::env::temp_dir().join("showrunner-fuzz-smoke");
            let path = dir.join(format!("{target}-{run}.bin"));
            let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &input));
            panic!("{target}: mutated input {run} breaks an invariant (saved: {}: {saved:?})", path.display());
        }
    }
}
