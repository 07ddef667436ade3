//! The compact o200k counter (`bpe.rs`) against its reference: on every text, its count must be
//! tiktoken-rs's `encode_ordinary(text).len()`, exactly. A table of texts that exercise each
//! alternative of the pre-tokenizer and both merge algorithms, a 50k-word generated manuscript,
//! and property tests over arbitrary strings.

use proptest::prelude::*;
use showrunner_context::tokens::{default_counter, O200k, TokenCounter};

mod support {
    pub mod manuscript;
}
use support::manuscript::manuscript;

fn tiktoken(text: &str) -> usize {
    tiktoken_rs::o200k_base_singleton().encode_ordinary(text).len()
}

fn check(name: &str, text: &str) {
    assert_eq!(O200k.count(text), tiktoken(text), "{name}: {text:?}");
}

#[test]
fn the_same_counts_as_tiktoken() {
    let long_word = "a".repeat(300);
    let rule = "-".repeat(500);
    let blob = "QmFzZTY0IGJsb2Igb2YgYSBwaWN0dXJl".repeat(60);
    let spaces = " ".repeat(2000);
    let mixed_space = " \t \u{a0}\u{3000} ".repeat(200);
    let cases: &[(&str, &str)] = &[
        ("empty", ""),
        ("one space", " "),
        ("one letter", "a"),
        ("prose", "The lighthouse keeper hadn't slept in three days; the lamp, she said, wouldn't turn itself."),
        ("markdown emphasis", "*Zoë* ran. **Nobody** followed — _not even_ ~~the dog~~. `code` and [a link](https://example.org/a/b?c=d)."),
        ("headings and lists", "# Chapter One\n\n## The Storm\n\n- first\n- second\n  1. nested\n> quoted line\n"),
        ("crlf", "Line one.\r\nLine two.\r\n\r\nParagraph two.\r\n"),
        ("lone cr", "old mac\rline\r\rend"),
        ("verse", "Whose woods these are I think I know.   \n  His house is in the village though;\n\tHe will not see me stopping here\n\n\n"),
        ("names", "Zoë, Łukasz, 李雷, Åsa, Ğülşen, Søren and Œdipe met Müller-Lüdenscheidt in Kraków."),
        ("scripts", "Москва — столица. مرحبا بالعالم. नमस्ते दुनिया. สวัสดีชาวโลกนี่คือข้อความภาษาไทยที่ไม่มีช่องว่างเลยแม้แต่น้อย. こんにちは世界、東京へ。"),
        ("emoji", "Hi 👋🏽! 👩‍👩‍👧‍👦 family, 🧑‍🚀 astronaut, 🏳️‍🌈 flag, ❤️‍🔥, 1️⃣, 🇫🇷🇯🇵."),
        ("digits", "In 1987 there were 3,141,592 people; 0.000123 of them paid $12.50 at 23:59 on 2024-02-29. 12345678901234567890"),
        ("code", "fn main() {\n    let x: Vec<u8> = vec![1, 2, 3];\n    println!(\"{x:?}\"); // done\n}\n<div class=\"a\">&nbsp;</div> a->b && c||d != e;"),
        ("contractions", "IT'S, it's, they'RE, I'M, we'Ve, you'LL, he'D, 'tis, it’s, o'clock, it'ſ, I'K, KELVIN'S"),
        ("marks", "e\u{301}te\u{301}, \u{301}\u{302} standalone, a\u{20dd}, ক্ষ"),
        ("special tokens are text", "<|endoftext|> and <|endofprompt|> are ordinary here <|fim_prefix|>"),
        ("whitespace kinds", "a \u{3000}b\u{a0}\u{a0}c \u{85}d\u{2028}e\u{2029}f\u{b}g\u{c}h"),
        ("trailing spaces", "end   "),
        ("trailing newline run", "end \n \n\t\n"),
        ("spaces before newline", "a    \n    b"),
        ("long word", &long_word),
        ("long rule", &rule),
        ("base64 blob", &blob),
        ("long space run", &spaces),
        ("long mixed space run", &mixed_space),
        ("space run then word", &format!("{spaces}word")),
        ("tabs then word", "\t\t\t\tword"),
        ("slashes and newlines", "path/to/file.rs/\n//\r\n/"),
        ("punctuation runs", "?!?!... --- *** ___ ((()))"),
    ];
    for (name, text) in cases {
        check(name, text);
    }
}

#[test]
fn a_50k_word_manuscript() {
    let text = manuscript(50_000);
    check("manuscript", &text);
    assert_eq!(default_counter().count(&text), tiktoken(&text), "the cached counter too");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_strings(text in any::<String>()) {
        prop_assert_eq!(O200k.count(&text), tiktoken(&text));
    }

    /// Strings from the characters where the pattern's alternatives meet: kinds of whitespace
    /// and line breaks, apostrophes with the letters of the contractions (and their case-folding
    /// look-alikes ſ and K), upper and lower case, marks, digits, punctuation, CJK, emoji.
    #[test]
    fn strings_at_the_patterns_edges(
        text in "[ \t\r\n\u{b}\u{85}\u{a0}\u{3000}\u{2028}'’sStTrReEvVmMlLdDK\u{17f}\u{212a}aZ0-9.,!?/*_#-é\u{301}\u{300}ǅ李😀\u{200d}\u{fe0f}]{0,120}"
    ) {
        prop_assert_eq!(O200k.count(&text), tiktoken(&text));
    }

    /// Words of common English letter pairs joined without spaces: long pieces for the merges.
    #[test]
    fn long_pieces(parts in proptest::collection::vec("(th|er|in|an|re|on|at|en|ed|nd|ha|es|ou|[a-z]){1,8}", 1..60)) {
        let text = parts.concat();
        prop_assert_eq!(O200k.count(&text), tiktoken(&text));
    }
}
