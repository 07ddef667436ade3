//! Entity matching (spec section 2): finds every mention of a bucket's name or alias in a text.
//!
//! This is the only place that decides what counts as a mention. Rules:
//! - leftmost-longest over the whole text: "Alice Marlowe" wins over "Alice";
//! - a match sits on word boundaries (Unicode letters, digits and combining marks are word
//!   characters), so `Al` never matches inside `Always`; `Alice's` / `Alice’s` still mention
//!   Alice. Scripts written without spaces (Han, kana, Thai …) need no boundary, or `李雷` could
//!   never be found in Chinese prose;
//! - an alias with an uppercase letter matches case-sensitively, an all-lowercase alias in any
//!   case;
//! - a Fountain character cue matches a name or alias case-insensitively ([`Dictionary::lookup_cue`]).
//!
//! How: one aho-corasick automaton (leftmost-longest) runs over a case-folded copy of the text
//! that has exactly the original's byte length, so offsets need no mapping. Each match is then
//! verified against the original text (case rule, boundaries); when the longest candidate fails,
//! the longest shorter pattern starting at the same place that passes is taken instead.

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

use crate::text::TextRange;

/// One distinct alias string and the targets (bucket indices) that carry it.
#[derive(Debug, Clone)]
pub struct DictEntry {
    pub alias: String,
    /// More than one target means the alias is ambiguous (SR005).
    pub targets: Vec<u32>,
    pub case_sensitive: bool,
}

/// A mention found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub start: usize,
    pub end: usize,
    /// Index into [`Dictionary::entries`].
    pub entry: u32,
}

impl Match {
    pub fn range(&self) -> TextRange {
        self.start..self.end
    }
}

#[derive(Debug)]
pub struct Dictionary {
    entries: Vec<DictEntry>,
    /// For each automaton pattern (a folded alias), the entries that fold to it.
    patterns: Vec<Vec<u32>>,
    folded: Vec<String>,
    ac: Option<AhoCorasick>,
    /// All-matches automaton for the rare fallback, built on first use.
    anchored: OnceLock<Option<AhoCorasick>>,
    cues: HashMap<String, Vec<u32>>,
}

impl Dictionary {
    /// Builds a dictionary from `(alias, target)` pairs. The same alias given for several targets
    /// becomes one ambiguous entry. Blank aliases are ignored.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, u32)>) -> Dictionary {
        let mut by_alias: HashMap<&'a str, usize> = HashMap::new();
        let mut entries: Vec<DictEntry> = Vec::new();
        for (alias, target) in pairs {
            let alias_trim = alias.trim();
            if alias_trim.is_empty() {
                continue;
            }
            match by_alias.get(alias_trim) {
                Some(&i) => {
                    if !entries[i].targets.contains(&target) {
                        entries[i].targets.push(target);
                    }
                }
                None => {
                    by_alias.insert(alias_trim, entries.len());
                    entries.push(DictEntry {
                        alias: alias_trim.to_string(),
                        targets: vec![target],
                        case_sensitive: alias_trim.chars().any(char::is_uppercase),
                    });
                }
            }
        }
        let mut pattern_of: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<Vec<u32>> = Vec::new();
        let mut folded: Vec<String> = Vec::new();
        let mut cues: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let f = fold(&e.alias);
            match pattern_of.get(&f) {
                Some(&p) => patterns[p].push(i as u32),
                None => {
                    pattern_of.insert(f.clone(), patterns.len());
                    patterns.push(vec![i as u32]);
                    folded.push(f);
                }
            }
            cues.entry(e.alias.to_lowercase()).or_default().push(i as u32);
        }
        let ac = (!folded.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&folded)
                .expect("aho-corasick accepts any set of non-empty patterns")
        });
        Dictionary { entries, patterns, folded, ac, anchored: OnceLock::new(), cues }
    }

    pub fn entries(&self) -> &[DictEntry] {
        &self.entries
    }

    pub fn entry(&self, i: u32) -> &DictEntry {
        &self.entries[i as usize]
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every mention in `text`.
    pub fn find(&self, text: &str) -> Vec<Match> {
        let mut out = Vec::new();
        self.find_in(text, &[0..text.len()], &mut out);
        out
    }

    /// Every mention inside the given ranges of `text` (ranges in ascending order).
    pub fn find_in(&self, text: &str, ranges: &[TextRange], out: &mut Vec<Match>) {
        let Some(ac) = &self.ac else { return };
        let folded = fold(text);
        for r in ranges {
            let mut pos = r.start;
            while pos < r.end {
                let Some(m) = ac.find(Input::new(&folded).span(pos..r.end)) else { break };
                let (s, e) = (m.start(), m.end());
                if let Some(entry) = self.accept(text, s, e, m.pattern().as_usize()) {
                    out.push(Match { start: s, end: e, entry });
                    pos = e;
                } else if let Some(found) = self.fallback(text, &folded, s, e, r.end) {
                    pos = found.end;
                    out.push(found);
                } else {
                    pos = s + text[s..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
    }

    /// Which entry (if any) of pattern `p` the text at `s..e` is a mention of.
    fn accept(&self, text: &str, s: usize, e: usize, p: usize) -> Option<u32> {
        if !on_boundaries(text, s, e) {
            return None;
        }
        let original = &text[s..e];
        let mut insensitive = None;
        for &i in &self.patterns[p] {
            let entry = &self.entries[i as usize];
            if entry.case_sensitive {
                if entry.alias == original {
                    return Some(i);
                }
            } else if insensitive.is_none() {
                insensitive = Some(i);
            }
        }
        insensitive
    }

    /// The longest shorter pattern starting at `s` that is a real mention.
    fn fallback(&self, text: &str, folded: &str, s: usize, longest: usize, end: usize) -> Option<Match> {
        let ac = self
            .anchored
            .get_or_init(|| {
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&self.folded)
                    .ok()
            })
            .as_ref()?;
        // Only patterns starting at `s` and shorter than the rejected match matter.
        let input = Input::new(folded).span(s..longest.min(end));
        let mut best: Option<Match> = None;
        for m in ac.find_overlapping_iter(input) {
            if m.start() != s || m.end() >= longest || best.is_some_and(|b| b.end >= m.end()) {
                continue;
            }
            if let Some(entry) = self.accept(text, s, m.end(), m.pattern().as_usize()) {
                best = Some(Match { start: s, end: m.end(), entry });
            }
        }
        best
    }

    /// The entries whose alias equals a Fountain cue, case-insensitively.
    pub fn lookup_cue(&self, cue: &str) -> &[u32] {
        self.cues.get(&cue.trim().to_lowercase()).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Lowercases `text` character by character, keeping a character as it is where its lowercase
/// form has another UTF-8 length, so the result has exactly the same byte offsets.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            out.push(b.to_ascii_lowercase() as char);
            i += 1;
            continue;
        }
        let c = text[i..].chars().next().expect("on a char boundary");
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) if l.len_utf8() == c.len_utf8() => out.push(l),
            _ => out.push(c),
        }
        i += c.len_utf8();
    }
    out
}

/// Word characters for boundaries: letters, digits, combining marks and `_`.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_combining_mark(c)
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Scripts written without spaces between words: Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan.
pub fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF       // Thai, Lao
        | 0x0F00..=0x0FFF     // Tibetan
        | 0x1000..=0x109F     // Myanmar
        | 0x1780..=0x17FF     // Khmer
        | 0x3040..=0x30FF     // Hiragana, Katakana
        | 0x31F0..=0x31FF
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xF900..=0xFAFF
        | 0x20000..=0x3134F)
}

fn edge_ok(outside: Option<char>, inside: Option<char>) -> bool {
    match (outside, inside) {
        (Some(o), Some(i)) => {
            !is_word_char(o) || !is_word_char(i) || is_unspaced_script(o) || is_unspaced_script(i)
        }
        _ => true,
    }
}

fn on_boundaries(text: &str, s: usize, e: usize) -> bool {
    let m = &text[s..e];
    edge_ok(text[..s].chars().next_back(), m.chars().next()) && edge_ok(text[e..].chars().next(), m.chars().next_back())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        aliases: &'static [(&'static str, u32)],
        text: &'static str,
        /// Expected mentions as (matched text, target).
        want: &'static [(&'static str, u32)],
    }

    const CASES: &[Case] = &[
        Case { name: "longest wins", aliases: &[("Alice", 1), ("Alice Marlowe", 1)], text: "Alice Marlowe met Alice.", want: &[("Alice Marlowe", 1), ("Alice", 1)] },
        Case { name: "prefix of another name", aliases: &[("Ann", 1), ("Anna", 2)], text: "Anna and Ann, not Annabel.", want: &[("Anna", 2), ("Ann", 1)] },
        Case { name: "inside longer word", aliases: &[("Al", 1)], text: "Always Al, Alan, pAl. Al's", want: &[("Al", 1), ("Al", 1)] },
        Case { name: "possessives", aliases: &[("Alice", 1), ("Łukasz", 2)], text: "Alice's lamp, Łukasz’s coat.", want: &[("Alice", 1), ("Łukasz", 2)] },
        Case { name: "case sensitive", aliases: &[("Rose", 1)], text: "She rose. Rose smiled. ROSE.", want: &[("Rose", 1)] },
        Case { name: "lowercase alias any case", aliases: &[("the keeper's daughter", 1)], text: "The keeper's daughter ran; the KEEPER'S DAUGHTER.", want: &[("The keeper's daughter", 1), ("the KEEPER'S DAUGHTER", 1)] },
        Case { name: "unicode names", aliases: &[("Zoë", 1), ("Ольга", 2), ("ольга", 3)], text: "Zoë saw Ольга and ольга; Zoëy no.", want: &[("Zoë", 1), ("Ольга", 2), ("ольга", 3)] },
        Case { name: "cjk without spaces", aliases: &[("李雷", 1)], text: "李雷走进了灯塔。我看见李雷", want: &[("李雷", 1), ("李雷", 1)] },
        Case { name: "emoji and punctuation", aliases: &[("Zoë", 1)], text: "🌊Zoë🌊 (Zoë) «Zoë» —Zoë—", want: &[("Zoë", 1), ("Zoë", 1), ("Zoë", 1), ("Zoë", 1)] },
        Case { name: "fallback to shorter on case", aliases: &[("Harbor Master", 1), ("harbor", 2)], text: "the harbor master said", want: &[("harbor", 2)] },
        Case { name: "fallback to shorter on boundary", aliases: &[("New York", 1), ("New York Times", 2)], text: "New York Timesy", want: &[("New York", 1)] },
        Case { name: "restart inside rejected match", aliases: &[("the keeper", 1), ("Keeper Tom", 2)], text: "athe Keeper Tom", want: &[("Keeper Tom", 2)] },
        Case { name: "ambiguous alias keeps both targets", aliases: &[("Marlowe", 1), ("Marlowe", 2)], text: "Marlowe.", want: &[("Marlowe", 1)] },
        Case { name: "dotted i does not shift offsets", aliases: &[("Zoë", 1)], text: "İİİ Zoë", want: &[("Zoë", 1)] },
        Case { name: "combining marks are word chars", aliases: &[("Zoe", 1)], text: "Zoe\u{308} is not Zoe", want: &[("Zoe", 1)] },
    ];

    #[test]
    fn table() {
        for case in CASES {
            let dict = Dictionary::new(case.aliases.iter().map(|(a, t)| (*a, *t)));
            let got: Vec<(&str, u32)> = dict
                .find(case.text)
                .iter()
                .map(|m| (&case.text[m.range()], dict.entry(m.entry).targets[0]))
                .collect();
            assert_eq!(got, case.want, "case {:?}", case.name);
        }
    }

    #[test]
    fn ambiguous_entry_lists_every_target() {
        let dict = Dictionary::new([("Marlowe", 1), ("Marlowe", 2), ("Alice", 1)]);
        let m = dict.find("Marlowe");
        assert_eq!(dict.entry(m[0].entry).targets, vec![1, 2]);
    }

    #[test]
    fn ranges_limit_the_search() {
        let dict = Dictionary::new([("Alice", 1)]);
        let text = "Alice\n```\nAlice\n```\nAlice";
        let mut out = Vec::new();
        dict.find_in(text, &[0..6, 20..text.len()], &mut out);
        assert_eq!(out.iter().map(|m| m.start).collect::<Vec<_>>(), vec![0, 20]);
    }

    #[test]
    fn cues_match_case_insensitively() {
        let dict = Dictionary::new([("Alice", 1), ("Li Lei", 2), ("李雷", 2), ("Zoë", 3)]);
        assert_eq!(dict.lookup_cue("ALICE").len(), 1);
        assert_eq!(dict.entry(dict.lookup_cue("LI LEI")[0]).targets, vec![2]);
        assert_eq!(dict.lookup_cue("ZOË").len(), 1);
        assert!(dict.lookup_cue("BOB").is_empty());
    }

    #[test]
    fn fold_keeps_length() {
        for s in ["İstanbul ẞ Ω ǅ K", "Zoë ŁUKASZ Ольга 李雷 😀"] {
            assert_eq!(fold(s).len(), s.len());
        }
        assert_eq!(fold("ŁUKASZ Ольга"), "łukasz ольга");
    }
}
