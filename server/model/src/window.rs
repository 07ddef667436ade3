//! What an edit changed in a scene, and how much of the scene's earlier results still hold.
//!
//! A keystroke changes a few bytes of a scene that may be 100 KB long. Mentions never cross a
//! line (aliases hold no line breaks, see [`crate::matcher::Dictionary::single_line`]) and SR003
//! names never leave their prose block, so after an edit only the lines and blocks around the
//! change need scanning again: what lies before them is kept as it was, what lies after is kept
//! moved by the change in length. [`Window::around`] finds that stretch, or says that the
//! scene's structure changed elsewhere too (a code fence opened, say), and then the caller
//! scans the whole scene as before. Either way the results are the same as a full scan: the
//! analysis tests compare the two after thousands of random edits.

use crate::text::TextRange;

/// The bytes `start..old_end` of the old text became `start..new_end` of the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
}

impl Edit {
    /// Whether this edit can describe how `old` became `new` as far as lengths and boundaries
    /// go (in order, in range, on char boundaries, the lengths agree). In debug builds, also
    /// that the bytes outside it are unchanged (a full comparison, which release builds skip:
    /// the caller vouches for it).
    pub fn fits(&self, old: &str, new: &str) -> bool {
        let shape = self.start <= self.old_end
            && self.start <= self.new_end
            && self.old_end <= old.len()
            && self.new_end <= new.len()
            && old.len() - self.old_end == new.len() - self.new_end
            && old.is_char_boundary(self.start)
            && old.is_char_boundary(self.old_end)
            && new.is_char_boundary(self.new_end);
        debug_assert!(
            !shape || (old[..self.start] == new[..self.start] && old[self.old_end..] == new[self.new_end..]),
            "{self:?} does not describe the change"
        );
        shape
    }

    /// The smallest such edit: everything the two texts share at the start and at the end is
    /// outside it.
    pub fn between(old: &str, new: &str) -> Edit {
        let (a, b) = (old.as_bytes(), new.as_bytes());
        let max = a.len().min(b.len());
        let prefix = common_len(max, |i| a[i], |i| b[i], |i, n| a[i..i + n] == b[i..i + n]);
        let suffix = common_len(
            max - prefix,
            |i| a[a.len() - 1 - i],
            |i| b[b.len() - 1 - i],
            |i, n| a[a.len() - i - n..a.len() - i] == b[b.len() - i - n..b.len() - i],
        );
        Edit { start: prefix, old_end: a.len() - suffix, new_end: b.len() - suffix }
    }
}

/// How many leading positions (up to `max`) two sequences share: whole chunks compared at once
/// (`memcmp`), then byte by byte.
fn common_len(
    max: usize,
    x: impl Fn(usize) -> u8,
    y: impl Fn(usize) -> u8,
    chunk_eq: impl Fn(usize, usize) -> bool,
) -> usize {
    const CHUNK: usize = 256;
    let mut i = 0;
    while i + CHUNK <= max && chunk_eq(i, CHUNK) {
        i += CHUNK;
    }
    while i < max && x(i) == y(i) {
        i += 1;
    }
    i
}

/// The ranges a scene was scanned in, before and after an edit.
pub struct Layout<'a> {
    pub text: &'a str,
    /// Where mentions are looked for.
    pub scan: &'a [TextRange],
    /// Prose blocks (SR003 names stay inside one).
    pub blocks: &'a [TextRange],
}

/// Whole lines and whole blocks around an edit: `start..old_end` of the old text and
/// `start..new_end` of the new. Outside them the two texts, their scanned ranges and their
/// blocks are the same, moved by [`Window::delta`] after the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
}

impl Window {
    /// The window around `edit`, or `None` when the scene's structure differs outside any
    /// window of whole lines and blocks (then everything must be scanned again).
    pub fn around(edit: Edit, old: &Layout, new: &Layout) -> Option<Window> {
        let delta = new.text.len() as isize - old.text.len() as isize;
        // Old offsets in the new text's terms: the changed bytes map to the changed bytes.
        let start_to_new = |x: usize| {
            if x <= edit.start {
                x
            } else if x >= edit.old_end {
                x.wrapping_add_signed(delta)
            } else {
                edit.start
            }
        };
        let end_to_new = |x: usize| {
            if x < edit.start {
                x
            } else if x >= edit.old_end {
                x.wrapping_add_signed(delta)
            } else {
                edit.new_end
            }
        };
        let mut start = line_start(new.text, edit.start);
        let mut end = line_end(new.text, edit.new_end);
        loop {
            let (mut s, mut e) = (start, end);
            let old_end = end.wrapping_add_signed(-delta);
            for b in touching(new.blocks, start, end) {
                s = s.min(b.start);
                e = e.max(b.end);
            }
            for b in touching(old.blocks, start, old_end) {
                s = s.min(start_to_new(b.start));
                e = e.max(end_to_new(b.end));
            }
            // `start` and `end` are line boundaries already; only a block reaching past them moves them.
            let (s, e) = (line_start(new.text, s), if e > end { line_end(new.text, e) } else { end });
            if (s, e) == (start, end) {
                break;
            }
            (start, end) = (s, e);
        }
        let w = Window { start, old_end: end.wrapping_add_signed(-delta), new_end: end };
        let same_before = |old_r: &[TextRange], new_r: &[TextRange]| clip(old_r, 0..w.start) == clip(new_r, 0..w.start);
        let same_after = |old_r: &[TextRange], new_r: &[TextRange]| {
            let moved: Vec<TextRange> = clip(old_r, w.old_end..usize::MAX).iter().map(|r| w.moved(r)).collect();
            moved == clip(new_r, w.new_end..usize::MAX)
        };
        let fits = same_before(old.scan, new.scan)
            && same_after(old.scan, new.scan)
            && same_before(old.blocks, new.blocks)
            && same_after(old.blocks, new.blocks);
        fits.then_some(w)
    }

    /// Bytes added (positive) or removed by the edit.
    pub fn delta(&self) -> isize {
        self.new_end as isize - self.old_end as isize
    }

    /// An old range after the window, where it is in the new text.
    pub fn moved(&self, r: &TextRange) -> TextRange {
        let d = self.delta();
        r.start.wrapping_add_signed(d)..r.end.wrapping_add_signed(d)
    }

    /// The window in the new text.
    pub fn new_range(&self) -> TextRange {
        self.start..self.new_end
    }

    /// The new text's blocks inside the window (sorted blocks; none straddles its edges).
    pub fn blocks<'b>(&self, blocks: &'b [TextRange]) -> &'b [TextRange] {
        let from = blocks.partition_point(|b| b.start < self.start);
        let to = blocks.partition_point(|b| b.end <= self.new_end);
        &blocks[from..to.max(from)]
    }
}

/// Ranges (sorted, disjoint) that overlap or touch `start..end`.
fn touching(ranges: &[TextRange], start: usize, end: usize) -> &[TextRange] {
    let from = ranges.partition_point(|r| r.end < start);
    let to = ranges.partition_point(|r| r.start <= end);
    &ranges[from..to.max(from)]
}

/// The parts of sorted ranges that fall inside `within`.
pub fn clip(ranges: &[TextRange], within: TextRange) -> Vec<TextRange> {
    ranges.iter().map(|r| r.start.max(within.start)..r.end.min(within.end)).filter(|r| r.start < r.end).collect()
}

/// The start of the line holding `at`.
fn line_start(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    memchr::memrchr(b'\n', &text.as_bytes()[..at]).map_or(0, |i| i + 1)
}

/// The start of the line after the one holding `at` (or the end of the text). At a line start
/// that is the next line's start: the line there may have just been split off the one before.
fn line_end(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    memchr::memchr(b'\n', &text.as_bytes()[at..]).map_or(text.len(), |i| at + i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_the_bytes_between_the_shared_start_and_end() {
        assert_eq!(Edit::between("abcdef", "abXdef"), Edit { start: 2, old_end: 3, new_end: 3 });
        assert_eq!(Edit::between("aaaa", "aaaaa"), Edit { start: 4, old_end: 4, new_end: 5 });
        assert_eq!(Edit::between("same", "same"), Edit { start: 4, old_end: 4, new_end: 4 });
        assert_eq!(Edit::between("", "Zoë"), Edit { start: 0, old_end: 0, new_end: 4 });
        let long_old = "x".repeat(1000) + "Łukasz" + &"y".repeat(700);
        let long_new = "x".repeat(1000) + "李雷" + &"y".repeat(700);
        let e = Edit::between(&long_old, &long_new);
        assert_eq!(&long_old[..e.start], &long_new[..e.start]);
        assert_eq!(&long_old[e.old_end..], &long_new[e.new_end..]);
        assert!(e.old_end - e.start <= "Łukasz".len());
    }

    fn blocks_of(text: &str) -> Vec<TextRange> {
        let mut out = Vec::new();
        let mut at = 0;
        for para in text.split("\n\n") {
            if !para.is_empty() {
                out.push(at..at + para.trim_end_matches('\n').len());
            }
            at += para.len() + 2;
        }
        out
    }

    fn window(old: &str, new: &str) -> Option<Window> {
        let (ob, nb) = (blocks_of(old), blocks_of(new));
        let (os, ns) = (vec![0..old.len()], vec![0..new.len()]);
        Window::around(
            Edit::between(old, new),
            &Layout { text: old, scan: &os, blocks: &ob },
            &Layout { text: new, scan: &ns, blocks: &nb },
        )
    }

    #[test]
    fn a_window_covers_the_whole_block_around_an_edit() {
        let old = "One.\n\nTwo lines\nof prose.\n\nThree.\n";
        let new = "One.\n\nTwo lines\nof Zoë prose.\n\nThree.\n";
        let w = window(old, new).unwrap();
        assert_eq!(&new[w.new_range()], "Two lines\nof Zoë prose.\n");
        assert_eq!(&old[w.start..w.old_end], "Two lines\nof prose.\n");
        assert_eq!(w.delta(), 5);
    }

    #[test]
    fn a_window_stays_small_in_a_long_text() {
        let paragraph = "Zoë walked along the wall with Łukasz.\n\n";
        let old = paragraph.repeat(500);
        let at = paragraph.len() * 250;
        let new = format!("{}and {}", &old[..at], &old[at..]);
        let w = window(&old, &new).unwrap();
        assert_eq!(&new[w.new_range()], "and Zoë walked along the wall with Łukasz.\n");
        // Typing into the blank line between two paragraphs joins them.
        let new = format!("{}and {}", &old[..at - 1], &old[at - 1..]);
        let w = window(&old, &new).unwrap();
        assert_eq!(
            &new[w.new_range()],
            format!("{}and \n{}", &paragraph[..paragraph.len() - 1], &paragraph[..paragraph.len() - 1])
        );
    }

    #[test]
    fn joining_two_blocks_takes_both() {
        let old = "One.\n\nTwo.\n";
        let new = "One.\nx\nTwo.\n";
        let w = window(old, new).unwrap();
        assert_eq!(&new[w.new_range()], new);
    }

    #[test]
    fn a_structure_change_elsewhere_is_refused() {
        let (old, new) = ("One.\n\nTwo.\n", "One.\n\nTwo.\n");
        let os = vec![0..old.len()];
        let ns = vec![0..4];
        let b = blocks_of(old);
        let edit = Edit { start: 0, old_end: 1, new_end: 1 };
        let w = Window::around(
            edit,
            &Layout { text: old, scan: &os, blocks: &b },
            &Layout { text: new, scan: &ns, blocks: &b },
        );
        assert_eq!(w, None);
        assert!(window(old, new).is_some());
    }
}
