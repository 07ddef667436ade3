//! Re-checking one edited scene must give exactly what analysing the whole project from scratch
//! gives: the same mentions and the same diagnostics in every file.

use std::path::{Path, PathBuf};

use showrunner_model::analysis::{analyze, scene_alone, Analysis, Content, FileKind, SourceFile};
use showrunner_model::scene::SceneFormat;

fn example_files() -> Vec<SourceFile> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/lighthouse");
    let mut out = Vec::new();
    collect(&root, &root, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            if !e.file_name().to_string_lossy().starts_with('.') {
                collect(root, &p, out);
            }
            continue;
        }
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        let kind = if rel == "showrunner.yaml" {
            FileKind::Config
        } else if rel.starts_with("buckets/") {
            FileKind::Bucket
        } else if rel.ends_with(".fountain") {
            FileKind::Scene(SceneFormat::Fountain)
        } else if rel.starts_with("story/") && rel.ends_with(".md") {
            FileKind::Scene(SceneFormat::Markdown)
        } else {
            continue;
        };
        out.push(SourceFile { path: rel, kind, content: Content::Text(std::fs::read_to_string(&p).unwrap().into()) });
    }
}

fn same(a: &Analysis, b: &Analysis, what: &str) {
    assert_eq!(a.files.len(), b.files.len());
    for (i, f) in a.files.iter().enumerate() {
        assert_eq!(a.diagnostics[i], b.diagnostics[i], "{what}: diagnostics of {}", f.path);
    }
    for (x, y) in a.scenes.iter().zip(&b.scenes) {
        assert_eq!(x.mentions, y.mentions, "{what}: mentions of {}", a.files[x.file].path);
        // The scene read again around the edit equals the scene read whole: blocks, headings,
        // scanned ranges, the word count.
        assert_eq!(x.scene, y.scene, "{what}: the parse of {}", a.files[x.file].path);
    }
}

const EDITS: &[&str] = &[
    " Quillan came, and Quillan went, and then Quillan stayed.",
    " Alice and Tom Marlowe and Łukasz.",
    "\n---\nbroken: [",
    " Bexley said so.",
    "\n\nBOB\nHello.\n",
    "",
];

/// The example story analysed once and then kept up to date edit by edit, beside its files.
struct Editing {
    live: Analysis,
    current: Vec<SourceFile>,
    scenes: Vec<usize>,
}

impl Editing {
    fn start() -> Editing {
        let current = example_files();
        let live = analyze("lighthouse", current.clone());
        let scenes = live.scenes.iter().map(|s| s.file).collect();
        Editing { live, current, scenes }
    }

    fn text(&self, file: usize) -> String {
        self.current[file].text().unwrap().to_string()
    }

    fn set(&mut self, file: usize, new: String) {
        self.current[file].content = Content::Text(new.clone().into());
        self.live.update_file(file, Content::Text(new.into()));
    }

    /// The live analysis equals a fresh one of the same files; and what each scene says on its
    /// own (answered while its project is still being read) is part of its full diagnostics.
    fn check(&self, what: &str) {
        same(&self.live, &analyze("lighthouse", self.current.clone()), what);
        for &f in &self.scenes {
            let alone = scene_alone(&self.current[f]).expect("a scene");
            for d in &alone {
                assert!(self.live.diagnostics[f].contains(d), "{what}: {d:?} of {} alone", self.current[f].path);
            }
        }
    }
}

#[test]
fn one_scene_edits_match_a_full_analysis() {
    let mut e = Editing::start();
    let mut seed = 7usize;
    for step in 0..60 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let file = e.scenes[(seed >> 33) % e.scenes.len()];
        let edit = EDITS[(seed >> 17) % EDITS.len()];
        let old = e.text(file);
        let mut at = (seed >> 5) % (old.len() + 1);
        while !old.is_char_boundary(at) {
            at -= 1;
        }
        let new = if edit.is_empty() { old[..at].to_string() } else { format!("{}{edit}{}", &old[..at], &old[at..]) };
        e.set(file, new);
        e.check(&format!("step {step} ({} + {edit:?})", e.current[file].path));
    }
}

#[test]
fn bucket_edits_reanalyse() {
    let mut e = Editing::start();
    let alice = e.live.file_index("buckets/characters/alice.yaml").unwrap();
    let text = e.text(alice).replace("aliases: [Alice,", "aliases: [Alice, Ally,");
    e.set(alice, text);
    e.check("alias added");
}

/// What a writer types, including what changes a scene's structure: line breaks, code fences,
/// headings, list markers, Fountain cues, notes and boneyard.
const TYPED: &[&str] = &[
    "a",
    "e",
    " ",
    ".",
    ",",
    "\n",
    "\n\n",
    "\r\n",
    "Quillan",
    " Quillan",
    "Mr. Quillan ",
    "Tom Marlowe",
    "Alice",
    "Zoë",
    "Łukasz",
    "李雷",
    "😀",
    "```\n",
    "~~~",
    "# ",
    "## Night\n",
    "- ",
    "> ",
    "1. ",
    "[[",
    "]]",
    "/*",
    "*/",
    "BOB\n",
    "\nALICE\n",
    "(V.O.)",
    "---\n",
    "INT. HUT - NIGHT\n",
    "’s",
    "-",
    "'",
    "Then Bexley ",
    // Hard line breaks, lone CRs, speaker labels and verse change where sentences start.
    "  \n",
    "\\\n",
    "\r",
    "**HAMLET**\n",
    "_Exit Quillan_\n",
    "Quillan.\n",
    "Upon the wall,\nAnd Quillan with Bexley,\nThen Quillan\n",
    "_Quillan_",
];

/// Keystroke-sized edits (inserts, deletes, replacements) anywhere in a scene: the scene is
/// scanned again only around each edit, and the result must equal a fresh analysis every time.
#[test]
fn typing_matches_a_full_analysis_after_every_keystroke() {
    let mut e = Editing::start();
    let mut seed = 11usize;
    let mut next = |n: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 24) % n.max(1)
    };
    for step in 0..1500 {
        // Several edits in a row in one scene, as typing goes.
        let file = e.scenes[next(e.scenes.len())];
        for _ in 0..next(6) + 1 {
            let old = e.text(file);
            let floor = |mut at: usize| {
                while !old.is_char_boundary(at) {
                    at -= 1;
                }
                at
            };
            let mut at = floor(next(old.len() + 1));
            if next(3) == 0 {
                // At a line start, where fences, headings, markers and cues take effect.
                at = old[..at].rfind('\n').map_or(0, |i| i + 1);
            }
            let del = if next(3) == 0 { floor((at + next(24)).min(old.len())) } else { at };
            let typed = if next(4) == 0 { "" } else { TYPED[next(TYPED.len())] };
            e.set(file, format!("{}{typed}{}", &old[..at], &old[del..]));
        }
        e.check(&format!("step {step} ({})", e.current[file].path));
    }
}
