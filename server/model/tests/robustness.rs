//! Parsers never fail: thousands of deterministic mutations of real files (cut, spliced,
//! duplicated, with odd bytes and Unicode inserted) go through the whole analysis, and every
//! diagnostic range must stay inside its file on character boundaries.

use std::path::PathBuf;

use showrunner_model::analysis::{analyze, Content, FileKind, SourceFile};
use showrunner_model::scene::SceneFormat;

fn fixture(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }
}

const INSERTS: &[&str] = &[
    "\n",
    "\r\n",
    "---\n",
    ":",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "’",
    "#",
    "@",
    "^",
    "(",
    ")",
    "/*",
    "*/",
    "[[",
    "]]",
    "\t",
    "Zoë",
    "李雷",
    "😀",
    "\u{308}",
    "INT. ",
    "\n\nALICE\n",
    "&a ",
    "*a",
    "!!",
    "|",
    ">",
    "~",
    "=",
];

fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut s = text.to_string();
    for _ in 0..(1 + rng.next() % 4) {
        let mut at = rng.next() % (s.len() + 1);
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        match rng.next() % 4 {
            0 => s.insert_str(at, INSERTS[rng.next() % INSERTS.len()]),
            1 => {
                let mut end = (at + rng.next() % 40).min(s.len());
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s.replace_range(at..end, "");
            }
            2 => s.truncate(at),
            _ => {
                let copy = s[at..].chars().take(30).collect::<String>();
                s.insert_str(at, &copy);
            }
        }
    }
    s
}

#[test]
fn mutated_projects_never_panic_and_ranges_stay_valid() {
    let sources = [
        ("showrunner.yaml", FileKind::Config, fixture("examples/lighthouse/showrunner.yaml")),
        ("buckets/alice.yaml", FileKind::Bucket, fixture("examples/lighthouse/buckets/characters/alice.yaml")),
        ("buckets/tom.yaml", FileKind::Bucket, fixture("examples/lighthouse/buckets/characters/tom.yaml")),
        ("buckets/ch01.yaml", FileKind::Bucket, fixture("examples/lighthouse/buckets/structure/ch01.yaml")),
        ("story/a.md", FileKind::Scene(SceneFormat::Markdown), fixture("examples/lighthouse/story/ch01/01-arrival.md")),
        ("story/p.md", FileKind::Scene(SceneFormat::Markdown), fixture("tests/fixtures/prose/capitalised.md")),
        ("story/f.fountain", FileKind::Scene(SceneFormat::Fountain), fixture("tests/fixtures/fountain/full.fountain")),
        ("story/c.fountain", FileKind::Scene(SceneFormat::Fountain), fixture("tests/fixtures/fountain/crlf.fountain")),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..300 {
        let files: Vec<SourceFile> = sources
            .iter()
            .map(|(path, kind, text)| {
                let text = if rng.next().is_multiple_of(2) { mutate(text, &mut rng) } else { text.clone() };
                SourceFile { path: path.to_string(), kind: *kind, content: Content::Text(text.into()) }
            })
            .collect();
        let analysis = analyze("fuzz", files);
        for (i, diags) in analysis.diagnostics.iter().enumerate() {
            let text = analysis.text(i);
            for d in diags {
                assert!(
                    d.range.start <= d.range.end
                        && d.range.end <= text.len()
                        && text.is_char_boundary(d.range.start)
                        && text.is_char_boundary(d.range.end),
                    "round {round}: bad range {:?} for {:?} in {}",
                    d.range,
                    d.message,
                    analysis.files[i].path
                );
            }
        }
        for s in &analysis.scenes {
            let text = analysis.text(s.file);
            for m in &s.mentions {
                assert!(text.get(m.range()).is_some(), "round {round}: mention {:?}", m.range());
            }
        }
    }
}
