//! The parsers against hand-checked fixtures in `tests/fixtures/` (Fountain screenplays with
//! every element, a CRLF screenplay, and prose for the capitalised-name heuristic).

use std::path::PathBuf;

use showrunner_model::fountain::parse_fountain;
use showrunner_model::names::capitalised_names;
use showrunner_model::scene::parse_markdown_scene;
use showrunner_model::text::LineIndex;

fn fixture(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Renders headings and cues in the format of the `.expected.txt` files.
fn render_fountain(text: &str) -> String {
    let (scene, diags) = parse_fountain(text, "fixture");
    assert!(diags.is_empty(), "{diags:?}");
    let lines = LineIndex::new(text);
    let mut out = String::new();
    for h in &scene.headings {
        let at = lines.line_col(text, h.range.start);
        out.push_str(&format!("{}: {}\n", at.line, text[h.range.clone()].trim()));
    }
    out.push_str("---\n");
    for c in &scene.cues {
        let at = lines.line_col(text, c.name_range.start);
        assert_eq!(&text[c.name_range.clone()], c.name);
        out.push_str(&format!(
            "{}: {} | {} | {}\n",
            at.line,
            c.name,
            c.extensions.join(" "),
            if c.dual { "yes" } else { "no" }
        ));
    }
    out
}

#[test]
fn full_fountain_screenplay() {
    let text = fixture("fountain/full.fountain");
    assert_eq!(render_fountain(&text), fixture("fountain/full.expected.txt"));
    let (scene, _) = parse_fountain(&text, "fixture");
    // The boneyard holds a fake heading and fake cues; nothing inside it is read.
    let scanned: String = scene.scan.iter().map(|r| &text[r.clone()]).collect();
    assert!(!scanned.contains("CELLAR"));
    assert!(scene.frontmatter.is_some());
    assert!(scene.title.is_some());
}

#[test]
fn crlf_fountain_screenplay() {
    let text = fixture("fountain/crlf.fountain");
    assert!(text.contains("\r\n"));
    assert_eq!(render_fountain(&text), fixture("fountain/crlf.expected.txt"));
}

#[test]
fn capitalised_names_in_real_prose() {
    let text = fixture("prose/capitalised.md");
    let (scene, _) = parse_markdown_scene(&text, "prose");
    let mut found = Vec::new();
    capitalised_names(&text, &scene.blocks, &[], showrunner_model::names::NotNames::english(), &mut found);
    let lines = LineIndex::new(&text);
    let got: Vec<String> = found
        .iter()
        .filter(|c| ["Morrow", "Quillan", "Bexley"].contains(&c.name.as_str()))
        .map(|c| {
            let at = lines.line_col(&text, c.range.start);
            format!("{}:{} {}", at.line, at.column, c.name)
        })
        .collect();
    let want: Vec<String> = fixture("prose/capitalised.expected.txt").lines().map(str::to_string).collect();
    assert_eq!(got, want);
    // Sentence-initial words never count, and `Harbour` only ever starts sentences.
    assert!(!found.iter().any(|c| c.name == "Harbour"), "{found:?}");
}
