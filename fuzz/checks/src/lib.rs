//! The invariants the fuzz targets check, as plain functions of the fuzz input, so the same
//! checks run over the committed seeds and crash reproducers without cargo-fuzz
//! (`tests/seeds.rs` here, and `server/model/tests/fuzz_regressions.rs` for the model side).

pub mod lsp;
pub mod model;
pub mod mutate;

/// The check for a fuzz target, by the target's name.
pub fn check(target: &str) -> Option<fn(&[u8])> {
    Some(match target {
        "bucket_yaml" => model::bucket_yaml,
        "scene" => model::scene,
        "fountain" => model::fountain,
        "matcher" => model::matcher,
        "typing" => model::typing,
        "positions" => lsp::positions,
        "sync" => lsp::sync,
        "lsp_frames" => lsp::lsp_frames,
        _ => return None,
    })
}

pub const TARGETS: &[&str] =
    &["bucket_yaml", "scene", "fountain", "matcher", "typing", "positions", "sync", "lsp_frames"];
