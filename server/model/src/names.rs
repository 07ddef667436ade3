//! Finding capitalised names that have no bucket yet (SR003).
//!
//! A *capitalised name* is a run of one to four title-case words (an uppercase letter followed
//! by at least one lowercase letter, e.g. `Morrow`, `Jean-Luc`, `O'Brien`, `Captain Ahab`)
//! joined by single spaces inside a prose block. Words are made of the word characters of
//! [`crate::matcher::is_word_char`] (the same as for mentions: `_Ghost_` is the word `Ghost`),
//! with inner apostrophes and hyphens. A name counts only when it does **not** stand at a
//! sentence start, because there any word is capitalised. A sentence starts
//! - at the start of a block: a paragraph, heading, list item, a line after a Markdown hard
//!   line break (two trailing spaces or a `\`), a line of verse, a line under a speaker label
//!   (the scene parser makes each of those its own block, see [`crate::scene`]);
//! - after `.`, `!`, `?`, `…`, `:` or `;` (closing quotes, brackets and emphasis in between are
//!   skipped), except after an abbreviation such as `Mr.`, `Dr.` or `St.`;
//! - after an opening quote, bracket or dash (`He said, "The boat…"`, `—Left`, `--Left`),
//!   emphasis markers after it included (`"_You_ want"`).
//!
//! Words of the project's languages that are never names on their own ([`NotNames`]: function
//! words, pronouns, interjections, titles, days and months…, shipped per language in
//! `words/<language>.txt` and extended in `showrunner.yaml`) are dropped from the edges of a
//! run (`Upon Horatio` → `Horatio`, `Mr Bennet` → `Bennet`). Runs that start at a sentence start
//! lose their first word (`Then Morrow left` yields `Morrow`). Words already inside a mention are
//! skipped. The project-level rule (3+ occurrences, no bucket) is applied in [`crate::analysis`].

use rustc_hash::FxHashSet;

use crate::matcher::is_word_char;
use crate::text::TextRange;

#[derive(Debug, Clone, PartialEq)]
pub struct NameCandidate {
    pub name: String,
    pub range: TextRange,
}

/// The word lists shipped in the binary, by language code.
const BUILTIN: &[(&str, &str)] =
    &[("en", include_str!("words/en.txt")), ("fr", include_str!("words/fr.txt")), ("es", include_str!("words/es.txt"))];

/// The language a project is written in when `showrunner.yaml` does not say.
pub const DEFAULT_LANGUAGE: &str = "en";

/// The languages with a built-in word list.
pub fn builtin_languages() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(code, _)| *code)
}

/// The built-in word list of a language (`en`, `fr` …), as shipped in `words/<code>.txt`.
pub fn builtin_list(language: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(code, _)| code.eq_ignore_ascii_case(language)).map(|(_, text)| *text)
}

/// Capitalised words that are not names by themselves, for the languages of a project.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotNames {
    /// Dropped from either edge of a name: `Mr`, `Upon`, `The`.
    edge: FxHashSet<String>,
    /// No name alone, but may be part of one: `English` (`English Channel`).
    alone: FxHashSet<String>,
    /// A full stop after these ends no sentence: `mr`, `dr`, `st`.
    abbreviations: FxHashSet<String>,
}

impl NotNames {
    /// The words of the built-in lists of `languages` (unknown codes add nothing) and `extra`
    /// words of the project.
    pub fn new<'a>(languages: impl IntoIterator<Item = &'a str>, extra: impl IntoIterator<Item = &'a str>) -> NotNames {
        let mut words = NotNames::default();
        for lang in languages {
            if let Some(list) = builtin_list(lang) {
                words.add_list(list);
            }
        }
        for w in extra {
            words.add_word(w, false);
        }
        words
    }

    /// The built-in English list, for callers without a project.
    pub fn english() -> &'static NotNames {
        static EN: std::sync::OnceLock<NotNames> = std::sync::OnceLock::new();
        EN.get_or_init(|| NotNames::new([DEFAULT_LANGUAGE], []))
    }

    /// Adds a list in the format of `words/en.txt`: one word a line, `#` comments, and words
    /// after a line `[alone]` that are no name alone but may be part of one.
    pub fn add_list(&mut self, list: &str) {
        let mut alone = false;
        for line in list.lines() {
            let word = line.split('#').next().unwrap_or("").trim();
            match word {
                "" => {}
                "[alone]" => alone = true,
                _ => self.add_word(word, alone),
            }
        }
    }

    /// Adds one word; a final `.` makes it an abbreviation too.
    pub fn add_word(&mut self, word: &str, alone: bool) {
        let word = word.trim();
        let bare = word.trim_end_matches('.');
        if bare.len() < word.len() && !bare.is_empty() {
            self.abbreviations.insert(normalise(bare));
        }
        let key = normalise(bare);
        if key.is_empty() {
            return;
        }
        if alone {
            self.alone.insert(key);
        } else {
            self.edge.insert(key);
        }
    }

    /// Dropped from the edges of a name.
    pub fn is_edge_word(&self, word: &str) -> bool {
        !self.edge.is_empty() && with_key(word, |k| self.edge.contains(k))
    }

    /// No name on its own (an edge word, or one that may only be part of a name).
    pub fn is_not_name(&self, word: &str) -> bool {
        with_key(word, |k| self.edge.contains(k) || self.alone.contains(k))
    }

    /// A full stop after `word` ends no sentence.
    pub fn is_abbreviation(&self, word: &str) -> bool {
        with_key(word, |k| self.abbreviations.contains(k))
    }

    pub fn len(&self) -> usize {
        self.edge.len() + self.alone.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Lowercase, `’` as `'`, without apostrophes at the ends (`'Tis` is the word `Tis`).
fn normalise(word: &str) -> String {
    let mut key = String::new();
    normalise_into(word, &mut key);
    key
}

fn normalise_into(word: &str, key: &mut String) {
    key.clear();
    key.extend(word.trim_matches(['\'', '’']).chars().flat_map(char::to_lowercase).map(|c| {
        if c == '’' {
            '\''
        } else {
            c
        }
    }));
}

/// Looks a word up by its normalised form without allocating: the finder asks for every
/// capitalised word of every scene.
fn with_key<R>(word: &str, f: impl FnOnce(&str) -> R) -> R {
    thread_local!(static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) });
    KEY.with_borrow_mut(|key| {
        normalise_into(word, key);
        f(key)
    })
}

struct Word {
    start: usize,
    end: usize,
    /// A sentence starts right before this word.
    sentence_start: bool,
    /// Only a single space separates this word from the previous one, and that word was
    /// capitalised too: the two can form one name.
    joined: bool,
}

/// Appends every capitalised name not at a sentence start found in `blocks` of `text`,
/// skipping words that overlap `skip` (sorted ranges, e.g. existing mentions). `not_names` are
/// the words of the project's languages that are no name by themselves.
pub fn capitalised_names(
    text: &str,
    blocks: &[TextRange],
    skip: &[TextRange],
    not_names: &NotNames,
    out: &mut Vec<NameCandidate>,
) {
    let mut words = Vec::new();
    for block in blocks {
        words.clear();
        capitalised_words(text, block.clone(), not_names, &mut words);
        let mut i = 0;
        while i < words.len() {
            let mut j = i + 1;
            while j < words.len() && j - i < 4 && words[j].joined && !words[j].sentence_start {
                j += 1;
            }
            let mut run: &[Word] = &words[i..j];
            if run[0].sentence_start {
                run = &run[1..];
            }
            let word = |w: &Word| &text[w.start..w.end];
            while run.first().is_some_and(|w| not_names.is_edge_word(word(w))) {
                run = &run[1..];
            }
            while run.last().is_some_and(|w| not_names.is_edge_word(word(w))) {
                run = &run[..run.len() - 1];
            }
            let named = run.iter().any(|w| !not_names.is_not_name(word(w)));
            if let (Some(first), Some(last), true) = (run.first(), run.last(), named) {
                let range = first.start..last.end;
                // `skip` is sorted: the first range that ends after this one starts decides.
                let k = skip.partition_point(|s| s.end <= range.start);
                let overlaps = skip.get(k).is_some_and(|s| s.start < range.end);
                if !overlaps {
                    out.push(NameCandidate { name: text[range.clone()].to_string(), range });
                }
            }
            i = j;
        }
    }
}

/// The capitalised words of a block (only those can be names), with what the words around them
/// say: whether a sentence starts before each, and whether it joins the capitalised word before.
fn capitalised_words(text: &str, block: TextRange, not_names: &NotNames, words: &mut Vec<Word>) {
    let slice = &text[block.clone()];
    let mut sentence_start = true;
    // The text between the previous word and this one.
    let mut gap_start = 0;
    let mut iter = slice.char_indices().peekable();
    let mut prev_word: Option<(usize, usize)> = None;
    let mut prev_title = false;
    while let Some((i, c)) = iter.next() {
        if !is_word_char(c) {
            continue;
        }
        // A word: word characters with inner apostrophes or hyphens (`O'Brien`, `Jean-Luc`).
        let start = i;
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = iter.peek() {
            if is_word_char(d) {
                end = j + d.len_utf8();
                iter.next();
            } else if matches!(d, '\'' | '’' | '-') {
                let mut ahead = iter.clone();
                ahead.next();
                match ahead.peek() {
                    Some(&(_, e))
                        if is_word_char(e)
                            && !(matches!(d, '\'' | '’') && possessive_tail(&slice[j + d.len_utf8()..])) =>
                    {
                        iter.next();
                    }
                    _ => break,
                }
            } else {
                break;
            }
        }
        let word = &slice[start..end];
        let title_case = c.is_uppercase() && is_title_case(word);
        if title_case {
            let gap = &slice[gap_start..start];
            let starts_sentence =
                sentence_start || gap_starts_sentence(gap, prev_word.map(|(s, e)| &slice[s..e]), not_names);
            words.push(Word {
                start: block.start + start,
                end: block.start + end,
                sentence_start: starts_sentence,
                joined: prev_title && gap == " ",
            });
        }
        prev_title = title_case;
        sentence_start = false;
        gap_start = end;
        prev_word = Some((start, end));
    }
}

/// `'s` followed by a non-word character: a possessive, not part of the name.
fn possessive_tail(rest: &str) -> bool {
    let mut chars = rest.chars();
    matches!(chars.next(), Some('s')) && chars.next().is_none_or(|c| !is_word_char(c))
}

fn is_title_case(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else { return false };
    first.is_uppercase() && word.chars().any(char::is_lowercase)
}

fn gap_starts_sentence(gap: &str, prev: Option<&str>, not_names: &NotNames) -> bool {
    // Emphasis opening right before the word (`"_You_`, `**Upon**`) does not hide what is before it.
    let before_emphasis = gap.trim_end_matches(['*', '_', '~']);
    let trimmed = before_emphasis.trim_end();
    // An opening quote or bracket right before the word starts a quoted sentence.
    if let Some(last) = trimmed.chars().next_back() {
        if matches!(last, '“' | '‘' | '«' | '„' | '(' | '[' | '—' | '–' | '¡' | '¿') && before_emphasis.ends_with(last)
        {
            return true;
        }
        // `--` is how plain text writes a dash.
        if before_emphasis.ends_with("--") {
            return true;
        }
        if matches!(last, '"' | '\'')
            && before_emphasis.ends_with(last)
            && trimmed.chars().rev().nth(1).is_none_or(|c| c.is_whitespace() || matches!(c, '*' | '_'))
        {
            return true;
        }
    }
    let core = trimmed.trim_end_matches(['"', '\'', '”', '’', '»', ')', ']', '*', '_', '~']);
    match core.chars().next_back() {
        Some('.') => !prev.is_some_and(|p| not_names.is_abbreviation(p)) || core.ends_with(".."),
        Some('!' | '?' | '…' | ':' | ';' | '。' | '！' | '？') => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        capitalised_names(text, &[0..text.len()], &[], NotNames::english(), &mut out);
        out.into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn sentence_starts_are_not_names() {
        assert_eq!(names("Morrow came. Then Morrow left, and Morrow’s hat fell."), vec!["Morrow", "Morrow"]);
        assert_eq!(names("He asked Dr. Quillan and Mr Bexley."), vec!["Quillan", "Bexley"]);
        assert_eq!(names("\"Yes,\" Morrow said. \"Stop!\" Quillan said."), vec!["Morrow"]);
        assert_eq!(names("He said, \"The boat is late.\" I know it on Monday in March."), Vec::<String>::new());
        assert_eq!(names("Ask Captain Ahab and Jean-Luc O'Brien."), vec!["Ahab", "Jean-Luc O'Brien"]);
        assert_eq!(names("Wait… Morrow? No: Quillan."), Vec::<String>::new());
        assert_eq!(names("¿Dónde está? ¡Hola! dijo Zoë."), vec!["Zoë"]);
    }

    #[test]
    fn emphasis_is_not_part_of_a_name() {
        // `_` is no word character: never "Ghost_", and emphasis hides no sentence start.
        assert_eq!(names("They saw the _Ghost_ and __Ghost__ and *Ghost*."), vec!["Ghost"; 0]);
        assert_eq!(names("They met _Horatio_ and __Łukasz__ and *Zoë*."), vec!["Horatio", "Łukasz", "Zoë"]);
        assert_eq!(names("\"_You_ want to tell me,\" said _Lizzy_. _Upon_ the hill."), vec!["Lizzy"]);
        assert_eq!(names("snake_Case_Zoë"), vec!["Case", "Zoë"]);
    }

    #[test]
    fn function_words_titles_and_interjections_are_no_names() {
        let none: Vec<String> = Vec::new();
        for w in ["Upon", "Since", "Alas", "Whilst", "Though", "Thus", "Nay", "Ay", "O", "Unto", "Whereof", "Prithee"] {
            assert_eq!(names(&format!("and so, {w} the wall")), none, "{w}");
        }
        assert_eq!(
            names("and Upon Horatio, and Sir William Lucas, and Lady Lucas"),
            vec!["Horatio", "William Lucas", "Lucas"]
        );
        // Adjectives of nationality are no name alone, but may be part of one.
        assert_eq!(names("the English ship crossed the English Channel"), vec!["English Channel"]);
    }

    #[test]
    fn project_words_and_languages() {
        let words = NotNames::new(["en", "fr"], ["Thane", "Laird."]);
        let mut out = Vec::new();
        let text = "then Thane Duncan and Monsieur Łukasz met the Laird. Morrow left";
        capitalised_names(text, &[0..text.len()], &[], &words, &mut out);
        assert_eq!(out.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["Duncan", "Łukasz", "Morrow"]);
        assert!(builtin_list("EN").is_some() && builtin_list("xx").is_none());
        assert!(NotNames::english().is_abbreviation("Mr") && NotNames::english().is_abbreviation("mrs"));
    }

    #[test]
    fn skips_mentions() {
        let text = "We saw Alice and Morrow.";
        let mut out = Vec::new();
        capitalised_names(text, &[0..text.len()], &[7..12], NotNames::english(), &mut out);
        assert_eq!(out.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["Morrow"]);
        assert_eq!(out[0].range, 17..23);
    }
}
