//! The one place that converts positions between the protocol and the domain.
//!
//! The domain speaks byte offsets into UTF-8 text. LSP speaks `(line, character)` where
//! `character` counts UTF-16 code units (the default) or bytes (`utf-8`, when the client offers
//! it and we choose it). Lines end where the specification says: at `\r\n`, `\n` or a lone `\r`
//! (the model's [`LineIndex`] finds them, and the rope used for incremental sync counts the same
//! line ends: ropey's `cr_lines`).
//! Positions past the end of a line clamp to the line's end; lines past the end clamp to the end
//! of the text, as the specification asks.

use ropey::Rope;
use showrunner_model::text::{LineIndex, TextRange};
use tower_lsp_server::ls_types::{Position, PositionEncodingKind, Range};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// `utf-8` when the client offers it, else `utf-16` (which every client must support).
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(list) if list.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }

    fn units(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        }
    }
}

/// Where a line's content ends (before its `\r\n`, `\n` or `\r`).
fn line_end(text: &str, lines: &LineIndex, line: usize) -> usize {
    lines.line_range(text, line).end
}

pub fn to_position(text: &str, lines: &LineIndex, offset: usize, enc: Encoding) -> Position {
    let offset = showrunner_model::text::floor_char_boundary(text, offset.min(text.len()));
    let line = lines.line_of(offset);
    let start = lines.line_start(line);
    let character: usize = match enc {
        Encoding::Utf8 => offset - start,
        Encoding::Utf16 => utf16_len(&text.as_bytes()[start..offset]),
    };
    Position { line: line as u32, character: character as u32 }
}

/// UTF-16 code units of whole UTF-8 characters, counted on the bytes: every byte but a
/// continuation byte starts a character, and 4-byte characters (lead byte `0xF0`+) take two
/// units. One pass the compiler vectorises; a line of prose may be thousands of bytes.
fn utf16_len(bytes: &[u8]) -> usize {
    bytes.iter().map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0)).sum()
}

pub fn to_range(text: &str, lines: &LineIndex, range: &TextRange, enc: Encoding) -> Range {
    Range { start: to_position(text, lines, range.start, enc), end: to_position(text, lines, range.end, enc) }
}

/// Positions of many offsets in one text, each equal to [`to_position`]'s. An offset on the same
/// line as the previous one, and not before it, is counted on from there instead of from the
/// line's start: mentions in ascending order cost one pass over their lines, not one per mention
/// (a paragraph is one line, often thousands of bytes).
pub struct Positions<'a> {
    text: &'a str,
    lines: &'a LineIndex,
    enc: Encoding,
    /// The previous offset, its line (`usize::MAX` before the first) and its `character`.
    at: usize,
    line: usize,
    units: usize,
}

impl<'a> Positions<'a> {
    pub fn new(text: &'a str, lines: &'a LineIndex, enc: Encoding) -> Positions<'a> {
        Positions { text, lines, enc, at: 0, line: usize::MAX, units: 0 }
    }

    pub fn position(&mut self, offset: usize) -> Position {
        let offset = showrunner_model::text::floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.lines.line_of(offset);
        if line != self.line || offset < self.at {
            self.line = line;
            self.at = self.lines.line_start(line);
            self.units = 0;
        }
        self.units += match self.enc {
            Encoding::Utf8 => offset - self.at,
            Encoding::Utf16 => utf16_len(&self.text.as_bytes()[self.at..offset]),
        };
        self.at = offset;
        Position { line: line as u32, character: self.units as u32 }
    }

    pub fn range(&mut self, range: &TextRange) -> Range {
        Range { start: self.position(range.start), end: self.position(range.end) }
    }
}

pub fn to_offset(text: &str, lines: &LineIndex, pos: Position, enc: Encoding) -> usize {
    let line = pos.line as usize;
    if line >= lines.line_count() {
        return text.len();
    }
    let start = lines.line_start(line);
    let end = line_end(text, lines, line);
    let mut units = 0;
    for (i, c) in text[start..end].char_indices() {
        if units >= pos.character as usize {
            return start + i;
        }
        units += enc.units(c);
    }
    end
}

pub fn to_text_range(text: &str, lines: &LineIndex, range: Range, enc: Encoding) -> TextRange {
    let a = to_offset(text, lines, range.start, enc);
    let b = to_offset(text, lines, range.end, enc);
    a.min(b)..a.max(b)
}

/// A protocol position in a rope, as a char index (for applying incremental edits).
pub fn rope_char(rope: &Rope, pos: Position, enc: Encoding) -> usize {
    let line = pos.line as usize;
    if line >= rope.len_lines() {
        return rope.len_chars();
    }
    let start = rope.line_to_char(line);
    let mut units = 0;
    let mut chars = 0;
    for c in rope.line(line).chars() {
        if c == '\n' || c == '\r' || units >= pos.character as usize {
            break;
        }
        units += enc.units(c);
        chars += 1;
    }
    start + chars
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Zoë 😀 Alice\r\n李雷 and Łukasz\nend";

    #[test]
    fn utf16_counts_surrogate_pairs() {
        let lines = LineIndex::new(TEXT);
        let alice = TEXT.find("Alice").unwrap();
        // Z o ë ␠ 😀(2) ␠ → 7 UTF-16 units; in UTF-8: 1+1+2+1+4+1 = 10 bytes.
        assert_eq!(to_position(TEXT, &lines, alice, Encoding::Utf16), Position { line: 0, character: 7 });
        assert_eq!(to_position(TEXT, &lines, alice, Encoding::Utf8), Position { line: 0, character: 10 });
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            // Every offset but those inside a line terminator round-trips.
            for (i, _) in TEXT.char_indices().filter(|(i, _)| TEXT.as_bytes()[*i] != b'\n') {
                let p = to_position(TEXT, &lines, i, enc);
                assert_eq!(to_offset(TEXT, &lines, p, enc), i, "{enc:?} offset {i}");
            }
        }
    }

    #[test]
    fn utf16_lengths_counted_on_bytes_match_the_chars() {
        for text in [TEXT, "", "plain ascii", "Zoë’s 李雷 😀😀 Łukasz\r\n🧑‍🚀 e\u{301}"] {
            for (at, _) in text.char_indices().chain([(text.len(), ' ')]) {
                let want: usize = text[..at].chars().map(char::len_utf16).sum();
                assert_eq!(utf16_len(&text.as_bytes()[..at]), want, "{text:?} up to {at}");
            }
        }
    }

    #[test]
    fn positions_in_one_pass_equal_one_by_one() {
        let texts = [TEXT, "Zoë\rŁukasz 😀\r\n李雷\rAlice\r", "", "a\r\n\r\nb 🧑‍🚀 Zoë 李雷\n"];
        for text in texts {
            let lines = LineIndex::new(text);
            // Every byte offset (inside characters and line ends too, and past the end), in
            // order, then in an order that goes back and forth.
            let mut offsets: Vec<usize> = (0..=text.len() + 2).collect();
            let mut shuffled = offsets.clone();
            shuffled.reverse();
            shuffled.extend(offsets.iter().step_by(3).copied());
            offsets.extend(shuffled);
            for enc in [Encoding::Utf8, Encoding::Utf16] {
                let mut many = Positions::new(text, &lines, enc);
                for &o in &offsets {
                    assert_eq!(many.position(o), to_position(text, &lines, o, enc), "{text:?} {enc:?} {o}");
                }
            }
        }
    }

    #[test]
    fn clamps_and_crlf() {
        let lines = LineIndex::new(TEXT);
        let eol = TEXT.find('\r').unwrap();
        assert_eq!(to_offset(TEXT, &lines, Position { line: 0, character: 999 }, Encoding::Utf16), eol);
        assert_eq!(to_offset(TEXT, &lines, Position { line: 99, character: 0 }, Encoding::Utf16), TEXT.len());
        let li = TEXT.find('李').unwrap();
        assert_eq!(to_position(TEXT, &lines, li, Encoding::Utf16), Position { line: 1, character: 0 });
    }

    #[test]
    fn lone_cr_ends_a_line() {
        let text = "Zoë\rŁukasz 😀\r\n李雷\rAlice\r";
        let lines = LineIndex::new(text);
        let rope = Rope::from_str(text);
        assert_eq!(rope.len_lines(), lines.line_count());
        let alice = text.find("Alice").unwrap();
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            assert_eq!(to_position(text, &lines, alice, enc), Position { line: 3, character: 0 });
            let li = text.find('李').unwrap();
            assert_eq!(to_position(text, &lines, li, enc), Position { line: 2, character: 0 });
            // Past the end of line 0 clamps before its `\r`.
            let eol = text.find('\r').unwrap();
            assert_eq!(to_offset(text, &lines, Position { line: 0, character: 99 }, enc), eol);
            assert_eq!(rope.char_to_byte(rope_char(&rope, Position { line: 0, character: 99 }, enc)), eol);
            for (i, _) in text.char_indices().filter(|(i, _)| !matches!(text.as_bytes()[*i], b'\n' | b'\r')) {
                let p = to_position(text, &lines, i, enc);
                assert_eq!(to_offset(text, &lines, p, enc), i, "{enc:?} offset {i}");
                assert_eq!(rope.char_to_byte(rope_char(&rope, p, enc)), i, "{enc:?} rope {i}");
            }
        }
    }

    #[test]
    fn rope_positions_agree() {
        let rope = Rope::from_str(TEXT);
        let lines = LineIndex::new(TEXT);
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            for (i, _) in TEXT.char_indices().filter(|(i, _)| TEXT.as_bytes()[*i] != b'\n') {
                let p = to_position(TEXT, &lines, i, enc);
                assert_eq!(rope.char_to_byte(rope_char(&rope, p, enc)), i, "{enc:?} {i}");
            }
        }
    }
}
