//! Splitting reasoning from the answer: models that think inline wrap it in `<think>…</think>`,
//! and a tag may be cut across stream chunks (`<thi` + `nk>`). The splitter holds back only what
//! could still turn into a tag.
//!
//! Some servers open the `<think>` inside the prompt's chat template (DeepSeek-R1 distills, QwQ,
//! Qwen3 without a reasoning parser): the stream is the reasoning, then `</think>`, then the
//! answer, with no opening tag. A `</think>` before any `<think>` therefore makes everything
//! before it reasoning — including what was already passed on as answer, which the splitter
//! then retracts ([`Split::retract`]).

#[derive(Debug, Default)]
pub struct ThinkSplitter {
    in_think: bool,
    held: String,
    /// Whether a tag has been seen (then an orphan `</think>` can no longer happen).
    tagged: bool,
    /// The answer passed on so far while no tag has been seen: what an orphan `</think>`
    /// turns into reasoning.
    untagged: String,
}

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// What a chunk turned out to be.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Answer text, certain now.
    pub answer: String,
    /// Reasoning text, certain now.
    pub reasoning: String,
    /// Answer text passed on earlier that was reasoning after all (an orphan `</think>`); it is
    /// at the front of `reasoning` too.
    pub retract: Option<String>,
}

/// How many trailing bytes of `s` are a proper prefix of `tag`.
fn partial_tag(s: &str, tag: &str) -> usize {
    (1..tag.len())
        .rev()
        .find(|&n| s.len() >= n && s.is_char_boundary(s.len() - n) && tag.starts_with(&s[s.len() - n..]))
        .unwrap_or(0)
}

impl ThinkSplitter {
    /// Feeds a chunk; returns what is certain now.
    pub fn feed(&mut self, chunk: &str) -> Split {
        let mut text = std::mem::take(&mut self.held);
        text.push_str(chunk);
        let mut out = Split::default();
        loop {
            if !self.tagged {
                // Which tag comes first decides: `<think>` opens as usual; `</think>` first is
                // the end of reasoning that began with the stream.
                let (open, close) = (text.find(OPEN), text.find(CLOSE));
                if let Some(i) = close.filter(|&c| open.is_none_or(|o| c < o)) {
                    let before = &text[..i];
                    let earlier = std::mem::take(&mut self.untagged);
                    let earlier = earlier + &std::mem::take(&mut out.answer);
                    if !earlier.is_empty() {
                        out.retract = Some(earlier.clone());
                    }
                    out.reasoning.push_str(&earlier);
                    out.reasoning.push_str(before);
                    self.tagged = true;
                    text = text[i + CLOSE.len()..].to_string();
                    continue;
                }
            }
            let tag = if self.in_think { CLOSE } else { OPEN };
            let found = text.find(tag);
            // Before any tag, a partial `</think>` is held back too.
            let hold = |t: &str| {
                if self.tagged {
                    partial_tag(t, tag)
                } else {
                    partial_tag(t, OPEN).max(partial_tag(t, CLOSE))
                }
            };
            match found {
                Some(i) => {
                    let (before, after) = text.split_at(i);
                    if self.in_think {
                        out.reasoning.push_str(before)
                    } else {
                        out.answer.push_str(before)
                    }
                    self.in_think = !self.in_think;
                    self.tagged = true;
                    text = after[tag.len()..].to_string();
                }
                None => {
                    let keep = hold(&text);
                    let (now, later) = text.split_at(text.len() - keep);
                    if self.in_think {
                        out.reasoning.push_str(now)
                    } else {
                        out.answer.push_str(now)
                    }
                    self.held = later.to_string();
                    break;
                }
            }
        }
        if !self.tagged {
            self.untagged.push_str(&out.answer);
        } else {
            self.untagged.clear();
        }
        out
    }

    /// The end of the stream: anything held back is what it looked like.
    pub fn finish(&mut self) -> Split {
        let held = std::mem::take(&mut self.held);
        if self.in_think {
            Split { reasoning: held, ..Default::default() }
        } else {
            Split { answer: held, ..Default::default() }
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
                    let x = s.feed(part);
                    a.push_str(&x.answer);
                    r.push_str(&x.reasoning);
                }
                let x = s.finish();
                a.push_str(&x.answer);
                r.push_str(&x.reasoning);
                assert_eq!(a, "The storm came. a<b", "cuts {cut} {cut2}");
                assert_eq!(r, "plan: Zoë first");
            }
        }
    }

    /// Feeds `parts`, applying retractions the way a consumer must; `(answer, reasoning)`.
    fn run(parts: &[&str]) -> (String, String) {
        let mut s = ThinkSplitter::default();
        let (mut a, mut r) = (String::new(), String::new());
        for part in parts.iter().copied() {
            let x = s.feed(part);
            if let Some(back) = &x.retract {
                assert!(a.ends_with(back.as_str()), "{a:?} does not end with {back:?}");
                a.truncate(a.len() - back.len());
            }
            a.push_str(&x.answer);
            r.push_str(&x.reasoning);
        }
        let x = s.finish();
        a.push_str(&x.answer);
        r.push_str(&x.reasoning);
        (a, r)
    }

    #[test]
    fn a_close_tag_without_an_open_tag_ends_reasoning_begun_in_the_prompt() {
        let full = "  Okay, the user wants a scene.\n</think>\n\nThe storm came.";
        for cut in 1..full.len() {
            if !full.is_char_boundary(cut) {
                continue;
            }
            for cut2 in cut..full.len() {
                if !full.is_char_boundary(cut2) {
                    continue;
                }
                let (a, r) = run(&[&full[..cut], &full[cut..cut2], &full[cut2..]]);
                assert_eq!(a, "\n\nThe storm came.", "cuts {cut} {cut2}");
                assert_eq!(r, "  Okay, the user wants a scene.\n");
            }
        }
        // One token at a time, as a server streams it.
        let tokens = ["Ok", "ay", ",", " Zoë", " first", ".", "</", "th", "ink", ">", "\n\n", "Rain", "."];
        assert_eq!(run(&tokens), ("\n\nRain.".to_string(), "Okay, Zoë first.".to_string()));
        // After a real `<think>…</think>`, a later `</think>` is just text.
        assert_eq!(run(&["<think>a</think>b", "</think>c"]), ("b</think>c".to_string(), "a".to_string()));
        // No tag at all: all answer, nothing held at the end.
        assert_eq!(run(&["The storm ", "came. a</", "b"]), ("The storm came. a</b".to_string(), String::new()));
    }
}
