//! Byte ranges and line/column arithmetic over a text.
//!
//! Domain code speaks byte offsets into UTF-8 text. This module turns them into the 1-based
//! line and 1-based column (in Unicode scalar values) that `showrunner check` prints. The
//! language server has its own conversion to UTF-16/UTF-8 protocol positions at its edge.

use std::ops::Range;

/// A half-open byte range into a document's text.
pub type TextRange = Range<usize>;

/// Line starts of a text, for offset → line/column conversion.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

/// A position as a human reads it: 1-based line, 1-based column in Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = Vec::with_capacity(text.len() / 40 + 1);
        starts.push(0);
        starts.extend(memchr_newlines(text.as_bytes()).map(|i| i + 1));
        LineIndex { starts, len: text.len() }
    }

    /// Number of lines (a trailing newline opens an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte offset where 0-based `line` starts, clamped to the text.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.len)
    }

    /// 0-based line containing `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// 1-based line and column (Unicode scalar values) of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.starts[line];
        let column = text[start..offset].chars().count();
        LineCol { line: line as u32 + 1, column: column as u32 + 1 }
    }

    /// Byte offset of a 1-based line and 0-based column counted in Unicode scalar values,
    /// clamped to the end of that line.
    pub fn offset_of_char_col(&self, text: &str, line1: usize, col0: usize) -> usize {
        let line = line1.saturating_sub(1);
        if line >= self.starts.len() {
            return text.len();
        }
        let start = self.starts[line];
        let end = self.starts.get(line + 1).copied().unwrap_or(text.len());
        let slice = &text[start..end];
        match slice.char_indices().nth(col0) {
            Some((i, _)) => start + i,
            None => end,
        }
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', bytes)
}

/// The largest char boundary not after `offset`.
pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    if offset >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Iterates over the lines of `text` as `(start, end_without_eol, next_start)` byte offsets.
/// A `\r\n` or `\n` terminator is excluded from the line.
pub fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos > bytes.len() || (pos == bytes.len() && pos != 0 && bytes[pos - 1] == b'\n') {
            return None;
        }
        if pos == bytes.len() && pos == 0 {
            pos = 1;
            return Some((0, 0, 0));
        }
        let start = pos;
        let nl = bytes[start..].iter().position(|b| *b == b'\n').map(|i| start + i);
        let (end, next) = match nl {
            Some(i) => (i, i + 1),
            None => (bytes.len(), bytes.len() + 1),
        };
        let end = if end > start && bytes[end - 1] == b'\r' { end - 1 } else { end };
        pos = next;
        Some((start, end, next.min(bytes.len())))
    })
}

/// 1840 → "1,840", for token counts shown to people.
pub fn group_digits(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_unicode_scalars() {
        let text = "Zoë 李雷\r\n😀 Alice\n";
        let idx = LineIndex::new(text);
        let alice = text.find("Alice").unwrap();
        assert_eq!(idx.line_col(text, alice), LineCol { line: 2, column: 3 });
        let li = text.find("李").unwrap();
        assert_eq!(idx.line_col(text, li), LineCol { line: 1, column: 5 });
        assert_eq!(idx.offset_of_char_col(text, 2, 2), alice);
        assert_eq!(idx.line_count(), 3);
    }

    #[test]
    fn lines_exclude_crlf() {
        let text = "a\r\nbc\n\nd";
        let lines: Vec<&str> = lines_with_offsets(text).map(|(s, e, _)| &text[s..e]).collect();
        assert_eq!(lines, vec!["a", "bc", "", "d"]);
        let lines: Vec<&str> = lines_with_offsets("x\n").map(|(s, e, _)| &"x\n"[s..e]).collect();
        assert_eq!(lines, vec!["x"]);
        assert_eq!(lines_with_offsets("").count(), 1);
    }
}
