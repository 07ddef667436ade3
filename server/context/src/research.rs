//! Which research buckets match a scene's text.
//!
//! Two ways in: a research bucket's `keywords` or name/aliases appear in the scene (found by the
//! entity matcher and counted here for keywords), or the bucket ranks high by BM25 against the
//! scene's words. BM25 is computed in memory (k1 = 1.2, b = 0.75, the FTS5 defaults) rather than
//! through SQLite: context assembly runs while the writer types, and that path never touches the
//! database or the disk. Document frequencies come from every bucket *and every scene*, so words
//! common in the project's prose (`hands`, `heard`) weigh little and a research bucket is chosen
//! for what is specific to it.

use rustc_hash::{FxHashMap, FxHashSet};
use showrunner_model::analysis::Analysis;
use showrunner_model::matcher::{fold, is_word_char};

const K1: f64 = 1.2;
const B: f64 = 0.75;
/// A research bucket must share this many distinct words with the scene …
pub const MIN_SHARED_TERMS: usize = 2;
/// … score at least this much …
pub const MIN_BM25: f64 = 2.0;
/// … and cover at least this share of its own weighted vocabulary.
pub const MIN_COVERAGE: f64 = 0.08;

const STOP: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "that",
    "this",
    "was",
    "were",
    "are",
    "his",
    "her",
    "hers",
    "him",
    "she",
    "they",
    "them",
    "their",
    "you",
    "your",
    "not",
    "but",
    "had",
    "has",
    "have",
    "from",
    "into",
    "onto",
    "out",
    "over",
    "under",
    "then",
    "than",
    "when",
    "what",
    "which",
    "who",
    "whom",
    "where",
    "there",
    "here",
    "all",
    "any",
    "one",
    "two",
    "its",
    "it's",
    "our",
    "ours",
    "been",
    "being",
    "would",
    "could",
    "should",
    "will",
    "shall",
    "can",
    "did",
    "does",
    "done",
    "said",
    "says",
    "say",
    "like",
    "just",
    "only",
    "also",
    "very",
    "more",
    "most",
    "some",
    "such",
    "each",
    "every",
    "upon",
    "about",
    "after",
    "before",
    "again",
    "still",
    "even",
    "because",
    "while",
    "though",
    "through",
    "between",
    "against",
    "off",
    "down",
    "back",
    "now",
    "how",
    "why",
    "too",
    "own",
    "same",
    "other",
    "these",
    "those",
    "him",
    "himself",
    "herself",
    "itself",
    "themselves",
    "nor",
    "yet",
    "once",
];

struct Doc {
    bucket: usize,
    len: usize,
    tf: FxHashMap<String, u32>,
}

pub struct ResearchIndex {
    docs: Vec<Doc>,
    df: FxHashMap<String, u32>,
    n: usize,
    avg_len: f64,
}

/// A research bucket that matched, with its BM25 score and the words it shares with the scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub bucket: usize,
    pub score: f64,
    /// `score` as a share of what the bucket would score against its own text (0–1).
    pub coverage: f64,
    /// The shared words, most telling first.
    pub shared: Vec<String>,
}

/// Lowercased words of at least three letters that are not stop words.
pub fn terms(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !is_word_char(c) && c != '\'')
        .map(|w| w.trim_matches('\''))
        .filter(|w| w.chars().count() >= 3 && !STOP.contains(w))
}

fn bucket_text(b: &showrunner_model::bucket::Bucket) -> String {
    let mut t = String::new();
    for part in b.names().map(|n| n.value.as_str()).chain(b.keywords.iter().map(|k| k.value.as_str())) {
        t.push_str(part);
        t.push('\n');
    }
    for part in [b.summary.as_deref(), b.body.as_deref()].into_iter().flatten() {
        t.push_str(part);
        t.push('\n');
    }
    fold(&t)
}

impl ResearchIndex {
    pub fn new(analysis: &Analysis) -> ResearchIndex {
        let mut df: FxHashMap<String, u32> = FxHashMap::default();
        let mut docs = Vec::new();
        for (i, entry) in analysis.buckets.iter().enumerate() {
            let text = bucket_text(&entry.bucket);
            let mut tf: FxHashMap<String, u32> = FxHashMap::default();
            let mut len = 0;
            for t in terms(&text) {
                *tf.entry(t.to_string()).or_default() += 1;
                len += 1;
            }
            for t in tf.keys() {
                *df.entry(t.clone()).or_default() += 1;
            }
            if entry.bucket.kind.value == "research" {
                docs.push(Doc { bucket: i, len, tf });
            }
        }
        for s in &analysis.scenes {
            let text = analysis.text(s.file);
            let folded = fold(&text[s.scene.body.clone()]);
            let seen: FxHashSet<&str> = terms(&folded).collect();
            for t in seen {
                if let Some(n) = df.get_mut(t) {
                    *n += 1;
                }
            }
        }
        let n = (analysis.buckets.len() + analysis.scenes.len()).max(1);
        let avg_len =
            if docs.is_empty() { 1.0 } else { docs.iter().map(|d| d.len).sum::<usize>() as f64 / docs.len() as f64 };
        ResearchIndex { docs, df, n, avg_len: avg_len.max(1.0) }
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Research buckets ranked by BM25 against `text` (its distinct words are the query), best
    /// first; only those above [`MIN_BM25`] sharing [`MIN_SHARED_TERMS`] words.
    pub fn rank(&self, text: &str) -> Vec<Hit> {
        if self.docs.is_empty() {
            return Vec::new();
        }
        let folded = fold(text);
        let query: FxHashSet<&str> = terms(&folded).collect();
        let mut hits = Vec::new();
        for d in &self.docs {
            let mut score = 0.0;
            let mut best = 0.0;
            let mut shared: Vec<(f64, &str)> = Vec::new();
            for (t, &tf) in &d.tf {
                let df = self.df.get(t).copied().unwrap_or(1) as f64;
                let idf = (1.0 + (self.n as f64 - df + 0.5) / (df + 0.5)).ln();
                let tf = tf as f64;
                let w = idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * d.len as f64 / self.avg_len));
                best += w;
                if query.contains(t.as_str()) {
                    score += w;
                    shared.push((w, t.as_str()));
                }
            }
            let coverage = if best > 0.0 { score / best } else { 0.0 };
            if shared.len() >= MIN_SHARED_TERMS && score >= MIN_BM25 && coverage >= MIN_COVERAGE {
                shared.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
                let shared = shared.into_iter().map(|(_, t)| t.to_string()).collect();
                hits.push(Hit { bucket: d.bucket, score, coverage, shared });
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.bucket.cmp(&b.bucket)));
        hits
    }
}
