//! What the o200k counter costs: heap and RSS after the first count, and counting throughput on
//! a 50k-word manuscript, for this crate's counter (`bpe.rs`) or tiktoken-rs's, one per process
//! so neither sees the other's tables.
//!
//! `cargo run --release -p showrunner-context --example o200k_memory -- ours|tiktoken`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[path = "../tests/support/manuscript.rs"]
mod manuscript;
use manuscript::manuscript;

/// The system allocator, counting the bytes live and the most ever live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A field of /proc/self/status in kB (VmRSS, RssAnon, RssFile, VmHWM).
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "ours".into());
    let count: fn(&str) -> usize = match which.as_str() {
        "ours" => showrunner_context::bpe::count,
        "tiktoken" => |t| tiktoken_rs::o200k_base_singleton().encode_ordinary(t).len(),
        other => panic!("`ours` or `tiktoken`, not {other:?}"),
    };
    let text = manuscript(50_000);

    let (rss, anon, file, heap) =
        (status_kb("VmRSS"), status_kb("RssAnon"), status_kb("RssFile"), LIVE.load(Ordering::Relaxed));
    let started = Instant::now();
    let first = count("Zoë met 李雷 at the lighthouse.");
    let load = started.elapsed();
    let heap_after = LIVE.load(Ordering::Relaxed);
    println!("{which}: first count {first} tokens in {:.1} ms", load.as_secs_f64() * 1e3);
    println!(
        "  heap +{:.2} MB (peak during load +{:.2} MB); VmRSS +{:.2} MB (anon +{:.2}, file +{:.2})",
        mb(heap_after - heap),
        mb(PEAK.load(Ordering::Relaxed) - heap),
        (status_kb("VmRSS") - rss) as f64 / 1024.0,
        (status_kb("RssAnon") as f64 - anon as f64) / 1024.0,
        (status_kb("RssFile") as f64 - file as f64) / 1024.0,
    );

    let tokens = count(&text);
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        assert_eq!(count(&text), tokens);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  50k words ({:.2} MB, {tokens} tokens): {:.1} MB/s, {:.1} ms per count; heap +{:.2} MB; VmRSS now {:.1} MB, VmHWM {:.1} MB",
        mb(text.len()),
        mb(text.len() * rounds) / secs,
        secs * 1e3 / rounds as f64,
        mb(LIVE.load(Ordering::Relaxed) - heap),
        status_kb("VmRSS") as f64 / 1024.0,
        status_kb("VmHWM") as f64 / 1024.0,
    );
}
