//! Semantic tokens: every mention, typed by its bucket's kind; whole, or as the edits from the
//! array sent last (`semanticTokens/full/delta`).

use tower_lsp_server::ls_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokens, SemanticTokensDelta, SemanticTokensEdit,
    SemanticTokensFullDeltaResult, SemanticTokensLegend, Uri,
};

use crate::pos::to_position;
use crate::state::FileSnap;

/// Token types, one per built-in kind; custom kinds use `entity`.
pub const TYPES: &[&str] =
    &["character", "location", "item", "faction", "research", "note", "season", "arc", "act", "chapter", "entity"];
pub const MODIFIERS: &[&str] = &["ambiguous", "cue"];

pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.iter().map(|t| SemanticTokenType::new(t)).collect(),
        token_modifiers: MODIFIERS.iter().map(|m| SemanticTokenModifier::new(m)).collect(),
    }
}

pub fn tokens(snap: &FileSnap) -> Vec<SemanticToken> {
    let Some(si) = snap.scene() else { return Vec::new() };
    let a = &snap.analysis;
    let mut out = Vec::new();
    let (mut prev_line, mut prev_start) = (0u32, 0u32);
    for m in &a.scenes[si].mentions {
        let start = to_position(&snap.text, &snap.lines, m.start, snap.enc);
        let end = to_position(&snap.text, &snap.lines, m.end, snap.enc);
        if end.line != start.line {
            continue;
        }
        let kind = &a.buckets[m.bucket as usize].bucket.kind.value;
        let ty = TYPES.iter().position(|t| t == kind).unwrap_or(TYPES.len() - 1) as u32;
        let modifiers = u32::from(m.ambiguous) | (u32::from(m.cue) << 1);
        let delta_line = start.line - prev_line;
        let delta_start = if delta_line == 0 { start.character - prev_start } else { start.character };
        out.push(SemanticToken {
            delta_line,
            delta_start,
            length: end.character - start.character,
            token_type: ty,
            token_modifiers_bitset: modifiers,
        });
        prev_line = start.line;
        prev_start = start.character;
    }
    out
}

/// The tokens last sent for each open document, for `semanticTokens/full/delta`: only the newest
/// array of a document is kept (an older `previousResultId` gets the full tokens), and it goes
/// when the document closes.
#[derive(Default)]
pub struct Sent {
    next: std::sync::atomic::AtomicU64,
    latest: std::sync::Mutex<std::collections::HashMap<Uri, (String, Vec<SemanticToken>)>>,
}

impl Sent {
    fn new_id(&self) -> String {
        self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string()
    }

    /// Keeps `data` as the newest array of an open document (`open`), or forgets the document.
    fn keep(&self, uri: &Uri, id: &str, data: Vec<SemanticToken>, open: bool) {
        let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        if open {
            latest.insert(uri.clone(), (id.to_string(), data));
        } else {
            latest.remove(uri);
        }
    }

    /// The whole array, with a new result id. `open`: the document is open, and the array is
    /// kept for its next delta (the caller holds the session lock, so a `didClose` cannot slip in
    /// between).
    pub fn full(&self, uri: &Uri, data: Vec<SemanticToken>, open: bool) -> SemanticTokens {
        let id = self.new_id();
        if open {
            self.keep(uri, &id, data.clone(), open);
        } else {
            self.keep(uri, &id, Vec::new(), open);
        }
        SemanticTokens { result_id: Some(id), data }
    }

    /// The edits from the array sent as `previous`, when it is the one kept; else the whole
    /// array. Either way with a new result id.
    pub fn delta(
        &self,
        uri: &Uri,
        data: Vec<SemanticToken>,
        previous: &str,
        open: bool,
    ) -> SemanticTokensFullDeltaResult {
        let edits = {
            let latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
            match latest.get(uri) {
                Some((sent, old)) if sent == previous => Some(diff(old, &data)),
                _ => None,
            }
        };
        let Some(edits) = edits else { return SemanticTokensFullDeltaResult::Tokens(self.full(uri, data, open)) };
        let id = self.new_id();
        self.keep(uri, &id, data, open);
        SemanticTokensFullDeltaResult::TokensDelta(SemanticTokensDelta { result_id: Some(id), edits })
    }

    /// The document closed: its tokens are not kept any more.
    pub fn forget(&self, uri: &Uri) {
        self.latest.lock().unwrap_or_else(|e| e.into_inner()).remove(uri);
    }
}

/// The edits that turn `old` into `new`: one edit for the span between their common prefix and
/// their common suffix (none when they are equal). Positions count integers (five per token), as
/// the protocol does. Tokens are relative to the one before them, so typing on a line changes the
/// token after it on that line and, for a line break, the next line's first token: one small edit.
pub fn diff(old: &[SemanticToken], new: &[SemanticToken]) -> Vec<SemanticTokensEdit> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let (old, new) = (&old[prefix..], &new[prefix..]);
    let suffix = old.iter().rev().zip(new.iter().rev()).take_while(|(a, b)| a == b).count();
    let (old, new) = (&old[..old.len() - suffix], &new[..new.len() - suffix]);
    if old.is_empty() && new.is_empty() {
        return Vec::new();
    }
    vec![SemanticTokensEdit {
        start: 5 * prefix as u32,
        delete_count: 5 * old.len() as u32,
        data: (!new.is_empty()).then(|| new.to_vec()),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(delta_line: u32, delta_start: u32, length: u32) -> SemanticToken {
        SemanticToken { delta_line, delta_start, length, token_type: 0, token_modifiers_bitset: 0 }
    }

    /// Applies edits as a client does: on the flat integer array.
    fn apply(old: &[SemanticToken], edits: &[SemanticTokensEdit]) -> Vec<u32> {
        let mut flat: Vec<u32> = old
            .iter()
            .flat_map(|t| [t.delta_line, t.delta_start, t.length, t.token_type, t.token_modifiers_bitset])
            .collect();
        for e in edits.iter().rev() {
            let data = e
                .data
                .iter()
                .flatten()
                .flat_map(|t| [t.delta_line, t.delta_start, t.length, t.token_type, t.token_modifiers_bitset]);
            flat.splice(e.start as usize..(e.start + e.delete_count) as usize, data);
        }
        flat
    }

    fn flat(tokens: &[SemanticToken]) -> Vec<u32> {
        apply(tokens, &[])
    }

    #[test]
    fn the_diff_is_the_span_between_prefix_and_suffix() {
        let old = [t(0, 1, 5), t(0, 7, 3), t(2, 0, 4), t(1, 4, 4)];
        // One character typed before the second token of the first line.
        let new = [t(0, 1, 5), t(0, 8, 3), t(2, 0, 4), t(1, 4, 4)];
        let edits = diff(&old, &new);
        assert_eq!(edits.len(), 1);
        assert_eq!((edits[0].start, edits[0].delete_count), (5, 5));
        assert_eq!(apply(&old, &edits), flat(&new));
        // Equal arrays: no edit. Insertions, deletions, empty arrays on either side.
        assert!(diff(&old, &old).is_empty());
        for new in [&[][..], &old[..2], &[t(0, 0, 1), t(0, 1, 5), t(0, 7, 3), t(2, 0, 4), t(1, 4, 4)][..]] {
            assert_eq!(apply(&old, &diff(&old, new)), flat(new));
            assert_eq!(apply(new, &diff(new, &old)), flat(&old));
        }
        // A token whose repeat makes prefix and suffix overlap.
        let old = [t(0, 1, 1), t(0, 1, 1)];
        let new = [t(0, 1, 1), t(0, 1, 1), t(0, 1, 1)];
        assert_eq!(apply(&old, &diff(&old, &new)), flat(&new));
        assert_eq!(apply(&new, &diff(&new, &old)), flat(&old));
    }

    #[test]
    fn only_the_newest_array_is_kept_and_an_unknown_id_gets_everything() {
        let sent = Sent::default();
        let uri: Uri = "file:///p/story/a.md".parse().unwrap();
        let id = sent.full(&uri, vec![t(0, 1, 5)], true).result_id.unwrap();
        let SemanticTokensFullDeltaResult::TokensDelta(d) = sent.delta(&uri, vec![t(0, 2, 5)], &id, true) else {
            panic!("a delta")
        };
        assert_eq!(d.edits.len(), 1);
        // The first id is gone now: the whole array again.
        let full = |r| matches!(r, SemanticTokensFullDeltaResult::Tokens(_));
        assert!(full(sent.delta(&uri, vec![t(0, 2, 5)], &id, true)));
        assert!(full(sent.delta(&uri, vec![t(0, 2, 5)], "nonsense", true)));
        // A closed document keeps nothing.
        sent.forget(&uri);
        assert!(sent.latest.lock().unwrap().is_empty());
        let id = sent.full(&uri, vec![], false).result_id.unwrap();
        assert!(full(sent.delta(&uri, vec![], &id, false)));
        assert!(sent.latest.lock().unwrap().is_empty());
    }
}
