//! Finding capitalised names that have no bucket yet (SR003).
//!
//! A *capitalised name* is a run of one to four title-case words (an uppercase letter followed
//! by at least one lowercase letter, e.g. `Morrow`, `Jean-Luc`, `O'Brien`, `Captain Ahab`)
//! joined by single spaces inside a prose paragraph. It counts only when it does **not** stand
//! at a sentence start, because there English capitalises any word. A sentence starts
//! - at the start of a paragraph, heading, list item or line of dialogue;
//! - after `.`, `!`, `?`, `…`, `:` or `;` (closing quotes and brackets in between are skipped),
//!   except after an abbreviation such as `Mr.`, `Dr.` or `St.`;
//! - after an opening quote (`He said, "The boat…"` capitalises `The` for the quote).
//!
//! Function words, pronouns, days and months and titles are never names on their own (`I`,
//! `The`, `Monday`, `Mr`). Runs that start at a sentence start lose their first word (`Then
//! Morrow left` yields `Morrow`). Words already inside a mention are skipped. The project-level
//! rule (3+ occurrences, no bucket) is applied in [`crate::analysis`].

use crate::matcher::is_word_char;
use crate::text::TextRange;

#[derive(Debug, Clone, PartialEq)]
pub struct NameCandidate {
    pub name: String,
    pub range: TextRange,
}

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "prof", "capt", "lt", "sgt", "col", "gen", "rev", "fr", "sr", "jr", "mt", "no",
    "vs", "messrs", "mme", "mlle", "hon", "cpl", "maj", "adm", "insp", "supt",
];

/// Capitalised words that are not names by themselves.
const STOP_WORDS: &[&str] = &[
    "I",
    "I'm",
    "I'll",
    "I'd",
    "I've",
    "The",
    "A",
    "An",
    "And",
    "But",
    "Or",
    "Nor",
    "So",
    "Yet",
    "For",
    "If",
    "Then",
    "When",
    "While",
    "Where",
    "Why",
    "How",
    "What",
    "Who",
    "Whom",
    "Which",
    "That",
    "This",
    "These",
    "Those",
    "There",
    "Here",
    "It",
    "He",
    "She",
    "We",
    "They",
    "You",
    "Me",
    "Him",
    "Her",
    "Us",
    "Them",
    "My",
    "Your",
    "His",
    "Its",
    "Our",
    "Their",
    "Yes",
    "No",
    "Not",
    "Oh",
    "Ah",
    "Well",
    "Now",
    "Just",
    "Please",
    "Thank",
    "Thanks",
    "Sir",
    "Madam",
    "Ma'am",
    "Mr",
    "Mrs",
    "Ms",
    "Miss",
    "Dr",
    "Mister",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "God",
    "Christmas",
    "Easter",
    "Chapter",
    "Part",
    "Act",
    "Scene",
    "Book",
    "Okay",
    "OK",
    "Hello",
    "Goodbye",
    "Come",
    "Go",
    "Let",
    "Don't",
    "Do",
    "Did",
    "Is",
    "Was",
    "Are",
    "Were",
    "Be",
    "In",
    "On",
    "At",
    "To",
    "Of",
    "With",
    "From",
    "By",
    "As",
    "All",
    "Some",
    "One",
    "Every",
    "Each",
    "Nothing",
    "Something",
    "Everyone",
    "Someone",
    "Nobody",
    "Never",
    "Always",
    "Maybe",
    "Perhaps",
    "After",
    "Before",
    "Because",
    "Until",
    "Though",
    "Although",
    "Still",
    "Even",
    "Only",
    "Once",
    "Again",
    "Look",
    "Listen",
    "Wait",
    "Stop",
    "Good",
    "Dear",
    "Father",
    "Mother",
    "Papa",
    "Mama",
];

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
/// skipping words that overlap `skip` (sorted ranges, e.g. existing mentions).
pub fn capitalised_names(text: &str, blocks: &[TextRange], skip: &[TextRange], out: &mut Vec<NameCandidate>) {
    let mut words = Vec::new();
    for block in blocks {
        words.clear();
        capitalised_words(text, block.clone(), &mut words);
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
            while run.first().is_some_and(|w| is_stop(&text[w.start..w.end])) {
                run = &run[1..];
            }
            while run.last().is_some_and(|w| is_stop(&text[w.start..w.end])) {
                run = &run[..run.len() - 1];
            }
            if let (Some(first), Some(last)) = (run.first(), run.last()) {
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

fn is_stop(word: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().copied().collect()).contains(word)
}

/// The capitalised words of a block (only those can be names), with what the words around them
/// say: whether a sentence starts before each, and whether it joins the capitalised word before.
fn capitalised_words(text: &str, block: TextRange, words: &mut Vec<Word>) {
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
            let starts_sentence = sentence_start || gap_starts_sentence(gap, prev_word.map(|(s, e)| &slice[s..e]));
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

fn gap_starts_sentence(gap: &str, prev: Option<&str>) -> bool {
    let trimmed = gap.trim_end();
    // An opening quote or bracket right before the word starts a quoted sentence.
    if let Some(last) = trimmed.chars().next_back() {
        if matches!(last, '“' | '‘' | '«' | '„' | '(' | '[' | '—' | '–') && gap.ends_with(last) {
            return true;
        }
        if matches!(last, '"' | '\'')
            && gap.ends_with(last)
            && trimmed.chars().rev().nth(1).is_none_or(char::is_whitespace)
        {
            return true;
        }
    }
    let core = trimmed.trim_end_matches(['"', '\'', '”', '’', '»', ')', ']', '*', '_']);
    match core.chars().next_back() {
        Some('.') => !prev.is_some_and(|p| ABBREVIATIONS.contains(&p.to_lowercase().as_str())) || core.ends_with(".."),
        Some('!' | '?' | '…' | ':' | ';' | '。' | '！' | '？') => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        capitalised_names(text, &[0..text.len()], &[], &mut out);
        out.into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn sentence_starts_are_not_names() {
        assert_eq!(names("Morrow came. Then Morrow left, and Morrow’s hat fell."), vec!["Morrow", "Morrow"]);
        assert_eq!(names("He asked Dr. Quillan and Mr Bexley."), vec!["Quillan", "Bexley"]);
        assert_eq!(names("\"Yes,\" Morrow said. \"Stop!\" Quillan said."), vec!["Morrow"]);
        assert_eq!(names("He said, \"The boat is late.\" I know it on Monday in March."), Vec::<String>::new());
        assert_eq!(names("Ask Captain Ahab and Jean-Luc O'Brien."), vec!["Captain Ahab", "Jean-Luc O'Brien"]);
        assert_eq!(names("Wait… Morrow? No: Quillan."), Vec::<String>::new());
    }

    #[test]
    fn skips_mentions() {
        let text = "We saw Alice and Morrow.";
        let mut out = Vec::new();
        capitalised_names(text, &[0..text.len()], &[7..12], &mut out);
        assert_eq!(out.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["Morrow"]);
        assert_eq!(out[0].range, 17..23);
    }
}
