//! Semantic tokens: every mention, typed by its bucket's kind.

use tower_lsp_server::ls_types::{SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokensLegend};

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
