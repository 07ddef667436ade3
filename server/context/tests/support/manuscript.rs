//! The manuscript the o200k counter is measured on: shared by `tests/o200k.rs` and
//! `examples/o200k_memory.rs`.

/// A deterministic manuscript of `words` words: prose, names, dialogue, numbers, Markdown,
/// paragraph breaks (some CRLF), all from a small xorshift generator.
pub fn manuscript(words: usize) -> String {
    const VOCAB: &[&str] = &[
        "the",
        "lighthouse",
        "keeper",
        "Zoë",
        "Łukasz",
        "李雷",
        "storm",
        "said",
        "quietly",
        "wasn't",
        "sea",
        "salt-stained",
        "window",
        "*never*",
        "**again**",
        "and",
        "of",
        "a",
        "into",
        "the",
        "night",
        "1987",
        "3,000",
        "—",
        "“Come",
        "back!”",
        "she'd",
        "Müller",
        "lamp",
        "🌊",
        "👩‍👧",
        "rope",
        "harbour",
        "gulls",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = String::with_capacity(words * 7);
    for i in 0..words {
        let r = next();
        out.push_str(VOCAB[(r % VOCAB.len() as u64) as usize]);
        out.push_str(match (r >> 32) % 40 {
            0..=2 => ",",
            3 => ".",
            4 => "!",
            _ => "",
        });
        out.push_str(match (r >> 40) % 97 {
            0 if i % 2 == 0 => "\n\n",
            0 => "\r\n\r\n",
            1 => "\n",
            2 => "  ",
            _ => " ",
        });
    }
    out
}
