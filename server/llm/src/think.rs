//! Splitting reasoning from the answer: models that think inline wrap it in `<think>…</think>`,
//! and a tag may be cut across stream chunks (`<thi` + `nk>`). The splitter holds back only what
//! could still turn into a tag.

#[derive(Debug, Default)]
pub struct ThinkSplitter {
    in_think: bool,
    held: String,
}

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// How many trailing bytes of `s` are a proper prefix of `tag`.
fn partial_tag(s: &str, tag: &str) -> usize {
    (1..tag.len())
        .rev()
        .find(|&n| s.len() >= n && s.is_char_boundary(s.len() - n) && tag.starts_with(&s[s.len() - n..]))
        .unwrap_or(0)
}

impl ThinkSplitter {
    /// Feeds a chunk; returns `(answer text, reasoning text)` that are certain now.
    pub fn feed(&mut self, chunk: &str) -> (String, String) {
        let mut text = std::mem::take(&mut self.held);
        text.push_str(chunk);
        let (mut answer, mut reasoning) = (String::new(), String::new());
        loop {
            let tag = if self.in_think { CLOSE } else { OPEN };
            match text.find(tag) {
                Some(i) => {
                    let (before, after) = text.split_at(i);
                    if self.in_think {
                        reasoning.push_str(before)
                    } else {
                        answer.push_str(before)
                    }
                    self.in_think = !self.in_think;
                    text = after[tag.len()..].to_string();
                }
                None => {
                    let keep = partial_tag(&text, tag);
                    let (now, later) = text.split_at(text.len() - keep);
                    if self.in_think {
                        reasoning.push_str(now)
                    } else {
                        answer.push_str(now)
                    }
                    self.held = later.to_string();
                    break;
                }
            }
        }
        (answer, reasoning)
    }

    /// The end of the stream: anything held back is what it looked like.
    pub fn finish(&mut self) -> (String, String) {
        let held = std::mem::take(&mut self.held);
        if self.in_think {
            (String::new(), held)
        } else {
            (held, String::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_cut_across_every_boundary() {
        let full = "<think>plan: Zoë first</think>The storm came. a<b";
        for cut in 1..full.len() {
            if !full.is_char_boundary(cut) {
                continue;
            }
            for cut2 in cut..full.len() {
                if !full.is_char_boundary(cut2) {
                    continue;
                }
                let mut s = ThinkSplitter::default();
                let (mut a, mut r) = (String::new(), String::new());
                for part in [&full[..cut], &full[cut..cut2], &full[cut2..]] {
                    let (x, y) = s.feed(part);
                    a.push_str(&x);
                    r.push_str(&y);
                }
                let (x, y) = s.finish();
                a.push_str(&x);
                r.push_str(&y);
                assert_eq!(a, "The storm came. a<b", "cuts {cut} {cut2}");
                assert_eq!(r, "plan: Zoë first");
            }
        }
    }
}
