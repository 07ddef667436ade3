//! Token counting behind a small trait, so a provider's own tokenizer can replace it later.
//!
//! The default is OpenAI's o200k BPE, counted by our own compact implementation ([`crate::bpe`]:
//! the ranks embedded, no network, a few MB once loaded; the same counts as tiktoken's
//! `encode_ordinary`). Counts are cached by a hash of the text: the context engine re-counts the
//! same bucket texts on every keystroke.

use std::sync::Mutex;

use rustc_hash::FxHashMap;

pub trait TokenCounter: Send + Sync {
    fn count(&self, text: &str) -> usize;
}

/// OpenAI's o200k_base encoding (GPT-4o and later), loaded once per process on the first count.
#[derive(Debug, Default, Clone, Copy)]
pub struct O200k;

impl TokenCounter for O200k {
    fn count(&self, text: &str) -> usize {
        crate::bpe::count(text)
    }
}

/// Caches another counter's answers by a 64-bit hash of the text.
pub struct Cached<C> {
    inner: C,
    cache: Mutex<FxHashMap<u64, usize>>,
}

impl<C: TokenCounter> Cached<C> {
    pub fn new(inner: C) -> Self {
        Cached { inner, cache: Mutex::new(FxHashMap::default()) }
    }
}

impl<C: TokenCounter> TokenCounter for Cached<C> {
    fn count(&self, text: &str) -> usize {
        let key = xxhash_rust::xxh3::xxh3_64(text.as_bytes());
        if let Some(n) = self.cache.lock().ok().and_then(|c| c.get(&key).copied()) {
            return n;
        }
        let n = self.inner.count(text);
        if let Ok(mut c) = self.cache.lock() {
            if c.len() > 200_000 {
                c.clear();
            }
            c.insert(key, n);
        }
        n
    }
}

/// The counter the engine uses unless told otherwise: o200k with a cache.
pub fn default_counter() -> &'static Cached<O200k> {
    static COUNTER: std::sync::OnceLock<Cached<O200k>> = std::sync::OnceLock::new();
    COUNTER.get_or_init(|| Cached::new(O200k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o200k_counts_real_tokens() {
        let c = default_counter();
        assert_eq!(c.count(""), 0);
        assert_eq!(c.count("hello world"), 2);
        let zoe = c.count("Zoë met 李雷 at the lighthouse.");
        assert!((6..=14).contains(&zoe), "{zoe}");
        assert_eq!(c.count("hello world"), 2, "cached answer is the same");
    }
}
