//! Entity matching (spec section 2): finds every mention of a bucket's name or alias in a text.
//!
//! This is the only place that decides what counts as a mention. Rules:
//! - leftmost-longest over the whole text: "Alice Marlowe" wins over "Alice";
//! - a match sits on word boundaries (Unicode letters, digits and combining marks are word
//!   characters, `_` is not: see [`is_word_char`]), so `Al` never matches inside `Always`; `Alice's` / `Alice’s` still mention
//!   Alice. Scripts written without spaces (Han, kana, Thai …) need no boundary, or `李雷` could
//!   never be found in Chinese prose;
//! - an alias with an uppercase letter matches case-sensitively, an all-lowercase alias in any
//!   case;
//! - a Fountain character cue matches a name or alias case-insensitively ([`Dictionary::lookup_cue`]).
//!
//! How: the text is case-folded into a copy with exactly the original's byte length, so offsets
//! need no mapping. A small aho-corasick automaton over the first few bytes of every folded
//! alias finds candidate starts; at each, the folded text up to every word boundary within the
//! longest alias's length is looked up in a hash map of folded aliases, and each hit is verified
//! against the original text (case rule, boundaries). The longest verified hit at the leftmost
//! candidate wins. A full automaton over thousands of long names walks deep, cold states on
//! every mention; the prefix automaton stays small and hot, which makes matching several times
//! faster on large dictionaries.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use rustc_hash::{FxHashMap, FxHashSet};

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

/// Candidate starts are found on at most this many bytes of each folded alias.
const PREFIX_BYTES: usize = 6;

#[derive(Debug)]
pub struct Dictionary {
    entries: Vec<DictEntry>,
    /// For each folded alias, the entries that fold to it.
    by_folded: FxHashMap<Box<[u8]>, Vec<u32>>,
    /// Automaton (leftmost-longest) over the distinct prefixes of the folded aliases.
    prefixes: Option<AhoCorasick>,
    /// For each prefix, the byte lengths (min, max) of the aliases that can match where that
    /// prefix is the longest one found: those starting with it, and those it starts with.
    spans: Vec<(usize, usize)>,
    cues: HashMap<String, Vec<u32>>,
    /// No alias holds a line break, so no mention crosses a line.
    single_line: bool,
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
        let mut by_folded: FxHashMap<Box<[u8]>, Vec<u32>> = FxHashMap::default();
        let mut cues: HashMap<String, Vec<u32>> = HashMap::new();
        let mut prefixes: FxHashSet<&str> = FxHashSet::default();
        for (i, e) in entries.iter().enumerate() {
            for variant in apostrophe_variants(&e.alias) {
                let list = by_folded.entry(fold(&variant).into_bytes().into_boxed_slice()).or_default();
                if !list.contains(&(i as u32)) {
                    list.push(i as u32);
                }
            }
            cues.entry(e.alias.to_lowercase()).or_default().push(i as u32);
        }
        let folded_keys: Vec<&str> =
            by_folded.keys().map(|k| std::str::from_utf8(k).expect("keys are folded strings")).collect();
        for f in &folded_keys {
            prefixes.insert(&f[..prefix_cut(f)]);
        }
        let mut prefixes: Vec<&str> = prefixes.into_iter().collect();
        prefixes.sort_unstable();
        let mut spans: Vec<(usize, usize)> = vec![(usize::MAX, 0); prefixes.len()];
        let index: FxHashMap<&str, usize> = prefixes.iter().enumerate().map(|(i, p)| (*p, i)).collect();
        for f in &folded_keys {
            let span = &mut spans[index[&f[..prefix_cut(f)]]];
            *span = (span.0.min(f.len()), span.1.max(f.len()));
        }
        for (i, p) in prefixes.iter().enumerate() {
            // Shorter aliases that this prefix starts with match at the same place.
            for (cut, _) in p.char_indices().skip(1) {
                if by_folded.contains_key(&p.as_bytes()[..cut]) {
                    spans[i].0 = spans[i].0.min(cut);
                }
            }
        }
        let prefixes = (!prefixes.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .prefilter(false)
                .build(&prefixes)
                .expect("aho-corasick accepts any set of non-empty patterns")
        });
        let single_line = !entries.iter().any(|e| e.alias.contains('\n'));
        Dictionary { entries, by_folded, prefixes, spans, cues, single_line }
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

    /// Whether every mention lies within one line (no alias holds a line break): then a scene
    /// can be scanned again line by line after an edit.
    pub fn single_line(&self) -> bool {
        self.single_line
    }

    /// Every mention inside the given ranges of `text` (ranges in ascending order).
    pub fn find_in(&self, text: &str, ranges: &[TextRange], out: &mut Vec<Match>) {
        let Some(prefixes) = &self.prefixes else { return };
        let (Some(first), Some(last)) = (ranges.first(), ranges.last()) else { return };
        // Only the stretch the ranges cover is folded (after an edit, a few lines of a scene).
        let base = first.start;
        // A reused buffer: a fresh megabyte per call costs page faults on every scene.
        thread_local!(static FOLDED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) });
        FOLDED.with_borrow_mut(|folded| {
            fold_into(&text[base..last.end.max(base)], folded);
            self.find_folded(text, Folded { bytes: folded, base }, ranges, prefixes, out);
        });
    }

    fn find_folded(
        &self,
        text: &str,
        folded: Folded,
        ranges: &[TextRange],
        prefixes: &AhoCorasick,
        out: &mut Vec<Match>,
    ) {
        let base = folded.base;
        for r in ranges {
            let mut pos = r.start;
            while pos < r.end {
                let Some(m) = prefixes.find(Input::new(folded.bytes).span(pos - base..r.end - base)) else { break };
                let s = m.start() + base;
                let (min, max) = self.spans[m.pattern().as_usize()];
                match self.longest_at(text, &folded, s, (s + min)..(s + max).min(r.end)) {
                    Some(found) => {
                        pos = found.end;
                        out.push(found);
                    }
                    None => pos = s + text[s..].chars().next().map_or(1, char::len_utf8),
                }
            }
        }
    }

    /// The longest alias starting at `s` and ending within `ends` that is a real mention.
    fn longest_at(&self, text: &str, folded: &Folded, s: usize, ends: TextRange) -> Option<Match> {
        let before = text[..s].chars().next_back();
        let limit = crate::text::floor_char_boundary(text, ends.end);
        let mut chars = text[s..limit].char_indices().peekable();
        let first = chars.peek().map(|(_, c)| *c);
        if !edge_ok(before, first) {
            return None;
        }
        let mut best = None;
        while let Some((i, c)) = chars.next() {
            let e = s + i + c.len_utf8();
            if e < ends.start {
                continue;
            }
            let after = match chars.peek() {
                Some((_, n)) => Some(*n),
                None => text[e..].chars().next(),
            };
            if !edge_ok(after, Some(c)) {
                continue;
            }
            if let Some(candidates) = self.by_folded.get(&folded.bytes[s - folded.base..e - folded.base]) {
                if let Some(entry) = self.accept(&text[s..e], candidates) {
                    best = Some(Match { start: s, end: e, entry });
                }
            }
        }
        best
    }

    /// Which of the entries folding to the same text `original` is a mention of: an exact
    /// case-sensitive alias first, else a case-insensitive one.
    fn accept(&self, original: &str, candidates: &[u32]) -> Option<u32> {
        let mut insensitive = None;
        for &i in candidates {
            let entry = &self.entries[i as usize];
            if entry.case_sensitive {
                if same_but_apostrophes(&entry.alias, original) {
                    return Some(i);
                }
            } else if insensitive.is_none() {
                insensitive = Some(i);
            }
        }
        insensitive
    }

    /// The entries whose alias equals a Fountain cue, case-insensitively.
    pub fn lookup_cue(&self, cue: &str) -> &[u32] {
        self.cues.get(&cue.trim().to_lowercase()).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// An alias as written, plus the same with straight and curly apostrophes swapped: writers
/// type `keeper's` and their editor turns it into `keeper’s`.
fn apostrophe_variants(alias: &str) -> Vec<String> {
    let mut out = vec![alias.to_string()];
    if alias.contains('\'') {
        out.push(alias.replace('\'', "’"));
    }
    if alias.contains('’') {
        out.push(alias.replace('’', "'"));
    }
    out
}

fn same_but_apostrophes(a: &str, b: &str) -> bool {
    a == b || {
        let norm = |c: char| if c == '’' { '\'' } else { c };
        a.chars().map(norm).eq(b.chars().map(norm))
    }
}

/// The folded copy of `text[base..]` (or of a stretch of it starting there).
struct Folded<'a> {
    bytes: &'a [u8],
    base: usize,
}

/// Lowercases `text` character by character, keeping a character as it is where its lowercase
/// form has another UTF-8 length, so the result has exactly the same byte offsets.
pub fn fold(text: &str) -> String {
    let mut out = Vec::new();
    fold_into(text, &mut out);
    // Only whole characters were replaced by characters of the same length.
    String::from_utf8(out).expect("folding keeps UTF-8 valid")
}

/// [`fold`] into a reusable buffer.
fn fold_into(text: &str, out: &mut Vec<u8>) {
    // ASCII letters in one vectorised pass; non-ASCII bytes are left alone by it.
    out.clear();
    out.extend_from_slice(text.as_bytes());
    out.make_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|b| *b >= 0x80) {
        let at = i + off;
        let c = text[at..].chars().next().expect("a non-ASCII byte starts a char here");
        let len = c.len_utf8();
        let mut lower = c.to_lowercase();
        if let (Some(l), None) = (lower.next(), lower.next()) {
            if l != c && l.len_utf8() == len {
                l.encode_utf8(&mut out[at..at + len]);
            }
        }
        i = at + len;
    }
}

/// Where the prefix used for candidate search ends: [`PREFIX_BYTES`], moved to a char boundary.
fn prefix_cut(folded: &str) -> usize {
    let mut cut = folded.len().min(PREFIX_BYTES);
    while !folded.is_char_boundary(cut) {
        cut += 1;
    }
    cut
}

/// Word characters (spec section 2): Unicode letters and digits, plus the combining marks that
/// sit inside a word (`Zoe\u{308}`). Nothing else: `_` and `*` are Markdown emphasis
/// (`_Alice_`, `__Alice__`, `*Alice*` all mention Alice), `'` and `-` are punctuation. This one
/// definition decides mention boundaries here and what a word is for the SR003 name finder
/// ([`crate::names`]).
#[inline]
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    c.is_alphanumeric() || is_combining_mark(c)
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
        (Some(o), Some(i)) => !is_word_char(o) || !is_word_char(i) || is_unspaced_script(o) || is_unspaced_script(i),
        _ => true,
    }
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
        Case {
            name: "longest wins",
            aliases: &[("Alice", 1), ("Alice Marlowe", 1)],
            text: "Alice Marlowe met Alice.",
            want: &[("Alice Marlowe", 1), ("Alice", 1)],
        },
        Case {
            name: "prefix of another name",
            aliases: &[("Ann", 1), ("Anna", 2)],
            text: "Anna and Ann, not Annabel.",
            want: &[("Anna", 2), ("Ann", 1)],
        },
        Case {
            name: "inside longer word",
            aliases: &[("Al", 1)],
            text: "Always Al, Alan, pAl. Al's",
            want: &[("Al", 1), ("Al", 1)],
        },
        Case {
            name: "possessives",
            aliases: &[("Alice", 1), ("Łukasz", 2)],
            text: "Alice's lamp, Łukasz’s coat.",
            want: &[("Alice", 1), ("Łukasz", 2)],
        },
        Case {
            name: "straight and curly apostrophes",
            aliases: &[("the keeper's log", 1), ("O’Brien", 2)],
            text: "the keeper’s log, O'Brien and O’Brien",
            want: &[("the keeper’s log", 1), ("O'Brien", 2), ("O’Brien", 2)],
        },
        Case {
            name: "case sensitive",
            aliases: &[("Rose", 1)],
            text: "She rose. Rose smiled. ROSE.",
            want: &[("Rose", 1)],
        },
        Case {
            name: "lowercase alias any case",
            aliases: &[("the keeper's daughter", 1)],
            text: "The keeper's daughter ran; the KEEPER'S DAUGHTER.",
            want: &[("The keeper's daughter", 1), ("the KEEPER'S DAUGHTER", 1)],
        },
        Case {
            name: "unicode names",
            aliases: &[("Zoë", 1), ("Ольга", 2), ("ольга", 3)],
            text: "Zoë saw Ольга and ольга; Zoëy no.",
            want: &[("Zoë", 1), ("Ольга", 2), ("ольга", 3)],
        },
        Case {
            name: "cjk without spaces",
            aliases: &[("李雷", 1)],
            text: "李雷走进了灯塔。我看见李雷",
            want: &[("李雷", 1), ("李雷", 1)],
        },
        Case {
            name: "emoji and punctuation",
            aliases: &[("Zoë", 1)],
            text: "🌊Zoë🌊 (Zoë) «Zoë» —Zoë—",
            want: &[("Zoë", 1), ("Zoë", 1), ("Zoë", 1), ("Zoë", 1)],
        },
        Case {
            name: "fallback to shorter on case",
            aliases: &[("Harbor Master", 1), ("harbor", 2)],
            text: "the harbor master said",
            want: &[("harbor", 2)],
        },
        Case {
            name: "fallback to shorter on boundary",
            aliases: &[("New York", 1), ("New York Times", 2)],
            text: "New York Timesy",
            want: &[("New York", 1)],
        },
        Case {
            name: "restart inside rejected match",
            aliases: &[("the keeper", 1), ("Keeper Tom", 2)],
            text: "athe Keeper Tom",
            want: &[("Keeper Tom", 2)],
        },
        Case {
            name: "ambiguous alias keeps both targets",
            aliases: &[("Marlowe", 1), ("Marlowe", 2)],
            text: "Marlowe.",
            want: &[("Marlowe", 1)],
        },
        Case {
            name: "dotted i does not shift offsets", aliases: &[("Zoë", 1)], text: "İİİ Zoë", want: &[("Zoë", 1)]
        },
        Case {
            name: "markdown emphasis",
            aliases: &[("Alice", 1), ("Łukasz", 2), ("李雷", 3)],
            text: "_Alice_ and __Alice__, *Alice* and **Alice**; _Łukasz’s_ lamp, ~~李雷~~",
            want: &[("Alice", 1), ("Alice", 1), ("Alice", 1), ("Alice", 1), ("Łukasz", 2), ("李雷", 3)],
        },
        Case {
            name: "underscore and punctuation are not word characters",
            aliases: &[("Zoë", 1), ("Alice", 2)],
            text: "snake_Zoë_case, Alice.Zoë, Alice/Zoë; Zoë2 and 2Alice are not",
            want: &[("Zoë", 1), ("Alice", 2), ("Zoë", 1), ("Alice", 2), ("Zoë", 1)],
        },
        Case {
            name: "combining marks are word chars",
            aliases: &[("Zoe", 1)],
            text: "Zoe\u{308} is not Zoe",
            want: &[("Zoe", 1)],
        },
    ];

    #[test]
    fn table() {
        for case in CASES {
            let dict = Dictionary::new(case.aliases.iter().map(|(a, t)| (*a, *t)));
            let got: Vec<(&str, u32)> =
                dict.find(case.text).iter().map(|m| (&case.text[m.range()], dict.entry(m.entry).targets[0])).collect();
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
