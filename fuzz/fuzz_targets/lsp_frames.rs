#![no_main]
//! See `showrunner_fuzz_checks::lsp::lsp_frames` for the input format and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| showrunner_fuzz_checks::lsp::lsp_frames(data));
