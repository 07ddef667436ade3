#![no_main]
//! See `showrunner_fuzz_checks::model::typing` for the input format and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| showrunner_fuzz_checks::model::typing(data));
