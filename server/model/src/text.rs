//! Byte ranges and line/column arithmetic over a text.
//!
//! Domain code speaks byte offsets into UTF-8 text. This module turns them into the 1-based
//! line and 1-based column (in Unicode scalar values) that `showrunner check` prints. The
//! language server converts to UTF-16/UTF-8 protocol positions at its edge (`lsp/src/pos.rs`)
//! on the same [`LineIndex`].
//!
//! Lines end as the LSP specification says: at `\r\n`, `\n` or a lone `\r`. This is the one
//! place that decides it: [`LineIndex`] (line numbers for diagnostics, positions, hover …) and
//! [`lines_with_offsets`] (the scene parsers) both find line ends with [`line_end_from`].

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
        let mut at = 0;
        while let Some((_, next)) = line_end_from(text.as_bytes(), at) {
            starts.push(next);
            at = next;
        }
        LineIndex { starts, len: text.len() }
    }

    /// The index of `new`, which is `old` (indexed by `self`) changed by `edit`: the line starts
    /// before the edit are kept, the ones after it shifted, and only the edited line(s) are
    /// scanned. Costs what the edit touches plus a copy of the starts, not a scan of the text.
    pub fn edited(&self, old: &str, new: &str, edit: crate::window::Edit) -> LineIndex {
        let (o, n) = (old.as_bytes(), new.as_bytes());
        // A start before the edit depends only on bytes before the edit (its line end and the
        // byte it begins at): kept. The scan resumes at the last of them, in step with a full scan.
        let keep = self.starts.partition_point(|&s| s < edit.start).max(1);
        let mut starts = Vec::with_capacity(self.starts.len() + 8);
        starts.extend_from_slice(&self.starts[..keep]);
        let mut at = starts[keep - 1];
        // New line ends up to two bytes past the edit: a `\r` or `\n` next to it may pair with it.
        while let Some((begin, next)) = line_end_from(n, at) {
            if begin >= edit.new_end + 2 {
                break;
            }
            starts.push(next);
            at = next;
        }
        // Old line ends beginning two bytes or more past the edit are the same bytes, shifted.
        let begin = |s: usize| if s >= 2 && &o[s - 2..s] == b"\r\n" { s - 2 } else { s - 1 };
        let first = self.starts.partition_point(|&s| s <= edit.old_end);
        let after = &self.starts[first..];
        let from = after.iter().position(|&s| begin(s) >= edit.old_end + 2).unwrap_or(after.len());
        starts.extend(after[from..].iter().map(|&s| s - edit.old_end + edit.new_end));
        LineIndex { starts, len: new.len() }
    }

    /// Number of lines (a trailing line end opens an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte offset where 0-based `line` starts, clamped to the text.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.len)
    }

    /// The bytes of 0-based `line` without its line end (`\r\n`, `\n` or `\r`), clamped to the
    /// text.
    pub fn line_range(&self, text: &str, line: usize) -> TextRange {
        let start = self.line_start(line).min(text.len());
        let next = self.starts.get(line + 1).copied().unwrap_or(text.len()).min(text.len());
        let end = match &text.as_bytes()[start..next] {
            [.., b'\r', b'\n'] => next - 2,
            [.., b'\n' | b'\r'] => next - 1,
            _ => next,
        };
        start..end
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

/// The first line end at or after byte `from`: where it starts and where the next line starts.
/// `\r\n` is one line end, and so are `\n` and a `\r` alone.
pub fn line_end_from(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let i = from + memchr::memchr2(b'\n', b'\r', bytes.get(from..)?)?;
    Some(match (bytes[i], bytes.get(i + 1)) {
        (b'\r', Some(b'\n')) => (i, i + 2),
        _ => (i, i + 1),
    })
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
/// The line end (`\r\n`, `\n` or a lone `\r`, see [`line_end_from`]) is excluded from the line;
/// a line end at the very end of the text opens no further line.
pub fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut pos = Some(0);
    std::iter::from_fn(move || {
        let start = pos?;
        match line_end_from(bytes, start) {
            Some((end, next)) => {
                pos = (next < bytes.len()).then_some(next);
                Some((start, end, next))
            }
            None => {
                pos = None;
                Some((start, bytes.len(), bytes.len()))
            }
        }
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

    /// An index brought up to date edit by edit equals one built from the text, with line ends
    /// of every kind typed and deleted next to each other.
    #[test]
    fn an_edited_index_equals_a_new_one() {
        let pieces = ["\r", "\n", "\r\n", "a", "Zoë", "李", " ", "\n\n", "\r\r"];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut text = String::from("Zoë\r\nŁukasz\rAlice\n\r李雷\r");
        let mut index = LineIndex::new(&text);
        for step in 0..20_000 {
            let bounds: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let a = bounds[next(bounds.len())];
            let b = (a..=text.len()).filter(|&i| text.is_char_boundary(i)).nth(next(4)).unwrap_or(a);
            let insert: String = (0..next(3)).map(|_| pieces[next(pieces.len())]).collect();
            let mut new = text.clone();
            new.replace_range(a..b, &insert);
            let edit = crate::window::Edit { start: a, old_end: b, new_end: a + insert.len() };
            let edited = index.edited(&text, &new, edit);
            assert_eq!(edited.starts, LineIndex::new(&new).starts, "step {step}: {text:?} → {new:?}");
            assert_eq!(edited.len, new.len());
            (text, index) = (new, edited);
            if text.len() > 400 {
                text.truncate(floor_char_boundary(&text, text.len() / 4));
                index = LineIndex::new(&text);
            }
        }
    }

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
    fn lines_end_at_crlf_lf_and_lone_cr() {
        let text = "Zoë\r\nŁukasz\rAlice\n\r李雷\r";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 6);
        let lines: Vec<&str> = (0..idx.line_count()).map(|l| &text[idx.line_range(text, l)]).collect();
        assert_eq!(lines, vec!["Zoë", "Łukasz", "Alice", "", "李雷", ""]);
        let li = text.find('李').unwrap();
        assert_eq!(idx.line_col(text, li), LineCol { line: 5, column: 1 });
        assert_eq!(idx.line_col(text, text.find("Alice").unwrap() + 2), LineCol { line: 3, column: 3 });
        let parsed: Vec<&str> = lines_with_offsets(text).map(|(s, e, _)| &text[s..e]).collect();
        assert_eq!(parsed, vec!["Zoë", "Łukasz", "Alice", "", "李雷"]);
        // Every line the parsers see starts where the index says a line starts.
        for (s, _, _) in lines_with_offsets(text) {
            assert_eq!(idx.line_start(idx.line_of(s)), s);
        }
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
