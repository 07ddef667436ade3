//! OpenAI's o200k_base byte-pair encoding, reduced to what the context engine needs: how many
//! tokens a text is. It gives exactly the count of tiktoken's `encode_ordinary(text).len()`
//! (special tokens such as `<|endoftext|>` are ordinary text) in a few MB instead of tiktoken's
//! ~31 MB of `HashMap<Vec<u8>, u32>` encoder and decoder maps and per-thread regex clones.
//!
//! - The ranks are OpenAI's `o200k_base.tiktoken` (`assets/`, MIT), decoded at build time by
//!   `build.rs` into two embedded blobs: every token's bytes one after the other, in rank order,
//!   and the u32 end of each. A token's rank is its index, so there is no rank column, no
//!   `Vec<u8>` per token and no decoder.
//! - The one thing built at run time, on the first count, is a hash index from token bytes to
//!   rank: a `hashbrown::HashTable<u32>` of 200k ranks (~1.3 MB) that compares keys against the
//!   blob.
//! - Pre-tokenization is tiktoken's o200k pattern run by one `regex::Regex`. The pattern's only
//!   look-around, `\s+(?!\S)`, is done by hand after the match (see [`Tables::count`]).
//! - Each piece that is not a token itself is merged as tiktoken merges it, lowest-rank adjacent
//!   pair first, with tiktoken's two algorithms (linear scans below 100 bytes, a heap above), so
//!   the segmentation and therefore the count are tiktoken's.

use std::collections::BinaryHeap;
use std::sync::OnceLock;

use hashbrown::HashTable;
use regex::Regex;

type Rank = u32;

/// Every token's bytes, in rank order (from `build.rs`).
static BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k.bytes"));
/// Where token `r` ends in [`BYTES`], as the little-endian u32 at `4 * r` (from `build.rs`).
static ENDS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k.ends"));

/// tiktoken's `O200K_BASE_PAT_STR` without its last two alternatives, `\s+(?!\S)|\s+`, which
/// are one `\s+` here: the `regex` crate has no look-ahead, and [`Tables::count`] gives back the
/// run's last whitespace character where the look-ahead would have.
const PATTERN: &str = concat!(
    r"\A(?:",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}",
    r"| ?[^\s\p{L}\p{N}]+[\r\n/]*",
    r"|\s*[\r\n]+",
    r"|\s+",
    r")",
);

/// Pieces this long or longer are merged with a heap, as tiktoken does.
const LARGE_PIECE: usize = 100;

/// The number of o200k tokens in `text`, as tiktoken's `encode_ordinary(text).len()`. The first
/// call builds the index (tens of milliseconds); later calls only read it.
pub fn count(text: &str) -> usize {
    tables().count(text)
}

/// Bytes the index holds on the heap once loaded (~1.3 MB). The compiled pattern, ~0.7 MB more,
/// is not counted: `regex` does not tell its size. For measurements and tests.
pub fn index_bytes() -> usize {
    tables().index.allocation_size()
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(Tables::load)
}

struct Tables {
    /// Token bytes → rank. Holds only ranks; keys are compared against [`BYTES`].
    index: HashTable<Rank>,
    /// The pre-tokenizer, anchored at the start of what it is given.
    pattern: Regex,
}

/// FxHash: the table's keys are fixed and short (most are whole words), so collisions cannot be
/// provoked by the text counted; it counted ~20% faster than xxh3 here.
fn hash(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(bytes);
    h.finish()
}

/// The bytes of the token with rank `rank` (which must be a rank of the table).
fn token(rank: Rank) -> &'static [u8] {
    let end_of = |r: usize| {
        let at = 4 * r;
        u32::from_le_bytes([ENDS[at], ENDS[at + 1], ENDS[at + 2], ENDS[at + 3]]) as usize
    };
    let r = rank as usize;
    let start = if r == 0 { 0 } else { end_of(r - 1) };
    &BYTES[start..end_of(r)]
}

impl Tables {
    fn load() -> Tables {
        let n = ENDS.len() / 4;
        let mut index = HashTable::with_capacity(n);
        for rank in 0..n as Rank {
            index.insert_unique(hash(token(rank)), rank, |&r| hash(token(r)));
        }
        let pattern = Regex::new(PATTERN).expect("the o200k pattern compiles");
        Tables { index, pattern }
    }

    fn rank(&self, bytes: &[u8]) -> Option<Rank> {
        self.index.find(hash(bytes), |&r| token(r) == bytes).copied()
    }

    fn count(&self, text: &str) -> usize {
        let mut tokens = 0;
        let mut at = 0;
        while at < text.len() {
            // Every character starts a match of some alternative, so an anchored search from
            // the end of the previous piece finds the next one.
            let Some(m) = self.pattern.find(&text[at..]) else { break };
            let mut end = at + m.end();
            // tiktoken's `\s+(?!\S)`: a whitespace run (without line breaks, which the
            // alternative before takes) that a non-space follows stops before its last
            // character, which then starts the next piece (` word`). A run of one character
            // stays whole (tiktoken's final `\s+`), as does a run at the end of the text.
            let piece = &text[at..end];
            if end < text.len() {
                let mut chars = piece.chars();
                if let (Some(last), Some(_)) = (chars.next_back(), chars.next_back()) {
                    if last.is_whitespace() && last != '\r' && last != '\n' && piece.chars().all(char::is_whitespace) {
                        end -= last.len_utf8();
                    }
                }
            }
            tokens += self.piece_tokens(&text.as_bytes()[at..end]);
            at = end;
        }
        tokens
    }

    /// tiktoken's `encode_ordinary` for one piece: a token itself, or byte-pair merged.
    fn piece_tokens(&self, piece: &[u8]) -> usize {
        if piece.len() == 1 || self.rank(piece).is_some() {
            1
        } else if piece.len() < LARGE_PIECE {
            self.merge_small(piece)
        } else {
            self.merge_large(piece)
        }
    }

    /// tiktoken's `_byte_pair_merge`: `parts` are (start, rank of the pair starting there);
    /// repeatedly merge the lowest-rank pair (the leftmost of equals). The pieces are short, so
    /// the parts live on the stack.
    fn merge_small(&self, piece: &[u8]) -> usize {
        debug_assert!((2..LARGE_PIECE).contains(&piece.len()));
        let rank_or_max = |bytes: &[u8]| self.rank(bytes).unwrap_or(Rank::MAX);
        let mut parts = [(0usize, Rank::MAX); LARGE_PIECE + 1];
        let mut len = 0;
        let mut min = (Rank::MAX, usize::MAX);
        for i in 0..piece.len() - 1 {
            let rank = rank_or_max(&piece[i..i + 2]);
            if rank < min.0 {
                min = (rank, i);
            }
            parts[len] = (i, rank);
            len += 1;
        }
        parts[len] = (piece.len() - 1, Rank::MAX);
        parts[len + 1] = (piece.len(), Rank::MAX);
        len += 2;

        // The rank of the pair at `i` once the part after it is merged away (hence `i + 3`).
        let pair_rank = |parts: &[(usize, Rank)], len: usize, i: usize| {
            if i + 3 < len {
                rank_or_max(&piece[parts[i].0..parts[i + 3].0])
            } else {
                Rank::MAX
            }
        };
        while min.0 != Rank::MAX {
            let i = min.1;
            if i > 0 {
                parts[i - 1].1 = pair_rank(&parts, len, i - 1);
            }
            parts[i].1 = pair_rank(&parts, len, i);
            parts.copy_within(i + 2..len, i + 1);
            len -= 1;

            min = (Rank::MAX, usize::MAX);
            for (i, &(_, rank)) in parts[..len - 1].iter().enumerate() {
                if rank < min.0 {
                    min = (rank, i);
                }
            }
        }
        len - 1
    }

    /// tiktoken's `_byte_pair_merge_large`: the same merge order kept in a heap of candidate
    /// merges, with stale entries skipped when they come off it. Only the segmentation is kept
    /// (tiktoken also keeps each part's rank, which a count does not need).
    fn merge_large(&self, piece: &[u8]) -> usize {
        struct State {
            prev: usize,
            end: usize,
            next_end: usize,
            next_rank: Rank,
        }
        let mut state = Vec::with_capacity(piece.len());
        state.push(State { prev: usize::MAX, end: 1, next_end: 2, next_rank: Rank::MAX });
        let mut heap = BinaryHeap::with_capacity(piece.len());
        for i in 0..piece.len() - 1 {
            if let Some(rank) = self.rank(&piece[i..i + 2]) {
                heap.push(Merge { start: i, rank });
                state[i].next_rank = rank;
            }
            state.push(State { prev: i, end: i + 2, next_end: i + 3, next_rank: Rank::MAX });
        }

        let potential_merge = |state: &mut [State], heap: &mut BinaryHeap<Merge>, start: usize, next_end: usize| {
            state[start].next_end = next_end;
            state[start].next_rank = Rank::MAX;
            if next_end <= piece.len() {
                if let Some(rank) = self.rank(&piece[start..next_end]) {
                    heap.push(Merge { start, rank });
                    state[start].next_rank = rank;
                }
            }
        };
        while let Some(left) = heap.pop() {
            if left.rank == Rank::MAX {
                break;
            }
            if left.rank != state[left.start].next_rank {
                continue; // stale: this pair changed after it was pushed
            }
            let left_start = left.start;
            let right_start = state[left_start].end;
            let right_end = state[left_start].next_end;
            let right_next_end = state[right_start].next_end;
            state[left_start].end = right_end;
            potential_merge(&mut state, &mut heap, left_start, right_next_end);
            if right_end < state.len() {
                state[right_end].prev = left_start;
            }
            if left_start > 0 {
                let prev_start = state[left_start].prev;
                potential_merge(&mut state, &mut heap, prev_start, right_end);
            }
            state[right_start].next_rank = Rank::MAX;
        }

        let mut parts = 0;
        let mut i = 0;
        while i < state.len() {
            parts += 1;
            i = state[i].end;
        }
        parts
    }
}

/// A candidate merge in [`Tables::merge_large`]'s heap: the lowest rank comes off first, then
/// the leftmost start.
#[derive(PartialEq, Eq)]
struct Merge {
    start: usize,
    rank: Rank,
}

impl Ord for Merge {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.rank.cmp(&self.rank).then_with(|| other.start.cmp(&self.start))
    }
}

impl PartialOrd for Merge {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_o200k() {
        assert_eq!(ENDS.len() / 4, 199_998, "o200k_base has 199,998 ordinary tokens");
        assert_eq!(BYTES.len(), 1_397_670);
        assert_eq!(token(0), b"!");
        assert_eq!(tables().rank(b"!"), Some(0));
        // Every byte is a token, so every piece can be merged down to tokens.
        assert!((0..=255u8).all(|b| tables().rank(&[b]).is_some()));
        assert_eq!(tables().rank(b"hello"), Some(24912));
        assert_eq!(tables().rank(b"no such token \x00\xff"), None);
        // The point of this module: tiktoken's maps took ~26 MB of heap.
        assert!(index_bytes() < 2 << 20, "the index takes {} bytes", index_bytes());
    }

    #[test]
    fn pieces_both_merges_agree_on() {
        // The same bytes merged by either algorithm give the same number of parts.
        for piece in ["unbelievableness", "Łukasz-Zoë", "                ", "aaaaaaaaaaaaaaaaab", "🧑‍🚀🧑‍🚀"]
        {
            let t = tables();
            assert_eq!(t.merge_small(piece.as_bytes()), t.merge_large(piece.as_bytes()), "{piece:?}");
        }
    }

    #[test]
    fn counts() {
        let cases: &[(&str, usize)] = &[
            ("", 0),
            ("hello world", 2),
            ("  hello", 2), // " " + " hello": the run gives its last space to the word
            ("hello  ", 2), // a run at the end stays whole
        ];
        for &(text, want) in cases {
            assert_eq!(count(text), want, "{text:?}");
        }
    }
}
