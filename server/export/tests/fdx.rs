//! FDX: the export parsed back and compared element by element with the Fountain it came from,
//! and `import fdx` back to Fountain keeping every element Fountain and FDX both hold.

mod common;

use std::path::Path;

use showrunner_export::doc::{runs, screenplay, Element, Kind};
use showrunner_export::fdx::{fdx_to_fountain, read_fdx};
use showrunner_export::output::{import_fdx, Place};
use showrunner_export::plain::fountain_markup;
use showrunner_export::{export, Format};
use showrunner_model::fountain::parse_fountain;
use showrunner_store::load_project;

/// An element as compared: kind, text, scene number, dual.
type Compared = (Kind, String, Option<String>, bool);

/// The elements FDX holds, with emphasis in one canonical spelling.
fn comparable(els: Vec<Element>) -> Vec<Compared> {
    els.into_iter()
        .filter(|e| !matches!(e.kind, Kind::Section | Kind::Synopsis))
        .map(|e| (e.kind, fountain_markup(&runs(&e.text, true)), e.number, e.dual))
        .collect()
}

fn body(text: &str) -> &str {
    let (scene, _) = parse_fountain(text, "x");
    &text[scene.body]
}

fn round_trip(fountain: &str) -> (Vec<Compared>, String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), "showrunner.yaml", common::CONFIG);
    common::write(dir.path(), "script.fountain", fountain);
    let a = load_project(dir.path()).analysis;
    let w = export(&a, dir.path(), Format::Fdx, None, None, Place::InsideProject { open: &[] }, &()).unwrap();
    let xml = std::fs::read_to_string(&w.path).unwrap();
    let back = fdx_to_fountain(&xml).unwrap();
    let again = comparable(screenplay(body(&back.fountain)));
    (again, back.fountain, w.left_out)
}

#[test]
fn dual_dialogue_scene_numbers_and_names_survive_the_round_trip() {
    let original = common::EPISODE.replace('\n', "\r\n");
    let (again, fountain, left_out) = round_trip(&original);
    let want = comparable(screenplay(&common::EPISODE[common::EPISODE.find("EXT.").unwrap()..]));
    assert_eq!(again, want, "{fountain}");
    use Kind::*;
    let kinds: Vec<Kind> = want.iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        vec![
            SceneHeading,
            Action,
            Character,
            Parenthetical,
            Dialogue,
            SceneHeading,
            Character,
            Dialogue,
            Character,
            Dialogue,
            Transition
        ]
    );
    assert_eq!(want[0].2.as_deref(), Some("1"));
    assert_eq!(want[5].2.as_deref(), Some("2A"));
    assert!(want[6].3 && want[8].3 && want[6].1 == "李雷" && want[8].1 == "ZOË");
    assert!(fountain.starts_with("Title: The Keeper's Daughter\nCredit: Written by\nAuthor: Zoë Łukasz-Brontë\nContact:\n    Zoë Łukasz-Brontë\n"), "{fountain}");
    assert!(fountain.contains("ZOË ^\nNo. Not tonight."), "{fountain}");
    assert!(left_out.contains(&"1 note".to_string()), "{left_out:?}");
}

#[test]
fn every_element_of_the_full_fixture_survives() {
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fountain/full.fountain"),
    )
    .unwrap();
    let want = comparable(screenplay(body(&fixture)));
    assert!(want.len() > 40, "{}", want.len());
    let (again, fountain, left_out) = round_trip(&fixture);
    for (i, (a, b)) in want.iter().zip(&again).enumerate() {
        assert_eq!(a, b, "element {i}\n{fountain}");
    }
    assert_eq!(want.len(), again.len());
    // Every kind of element the fixture has is there, and the dual dialogue and scene numbers.
    for k in [
        Kind::SceneHeading,
        Kind::Action,
        Kind::Character,
        Kind::Parenthetical,
        Kind::Dialogue,
        Kind::Transition,
        Kind::Centered,
        Kind::PageBreak,
    ] {
        assert!(again.iter().any(|e| e.0 == k), "{k:?} missing");
    }
    assert!(again.iter().any(|e| e.3), "dual dialogue");
    assert!(again.iter().any(|e| e.2.as_deref() == Some("1A")), "scene number 1A");
    assert!(
        left_out.iter().any(|l| l.ends_with("sections")) && left_out.iter().any(|l| l.contains("synops")),
        "{left_out:?}"
    );
}

#[test]
fn fdx_paragraphs_are_final_draft_types() {
    let dir = common::project();
    let a = load_project(dir.path()).analysis;
    let w = export(&a, dir.path(), Format::Fdx, Some("night-watch"), None, Place::InsideProject { open: &[] }, &())
        .unwrap();
    let xml = std::fs::read_to_string(&w.path).unwrap();
    assert!(
        xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<FinalDraft DocumentType=\"Script\""
        ),
        "{xml}"
    );
    let ps = read_fdx(&xml).unwrap();
    let script: Vec<(&str, String, bool)> = ps
        .iter()
        .filter(|p| !p.title_page)
        .map(|p| (p.kind.as_str(), showrunner_export::doc::plain(&p.runs), p.dual))
        .collect();
    assert_eq!(script[0], ("Scene Heading", "EXT. THE LANDING STAGE - DUSK".to_string(), false));
    assert_eq!(ps[0].number.as_deref(), Some("1"));
    assert_eq!(script[4], ("Dialogue", "First-order lens.\nTwo white every fifteen seconds.".to_string(), false));
    assert_eq!(script[6], ("Character", "李雷".to_string(), true));
    assert_eq!(script[8], ("Character", "ZOË".to_string(), true));
    assert_eq!(script[10], ("Transition", "CUT TO:".to_string(), false));
    assert!(xml.contains("<DualDialogue>"));
    assert!(!xml.contains("a note the export drops"));
}

#[test]
fn import_writes_fountain_beside_and_never_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let fdx = dir.path().join("Night Watch.fdx");
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<FinalDraft DocumentType=\"Script\" Version=\"5\"><Content>\
        <Paragraph Type=\"Scene Heading\" Number=\"7\"><Text>INT. HUT &amp; GALLERY - NIGHT</Text></Paragraph>\
        <Paragraph Type=\"Action\"><Text>Zoë </Text><Text Style=\"Italic\">waits</Text><Text>. &#x1F30A;</Text></Paragraph>\
        <Paragraph Type=\"Shot\"><Text>CLOSE ON THE LENS</Text></Paragraph>\
        <Paragraph Type=\"Character\"><Text>Łukasz</Text></Paragraph><Paragraph Type=\"Dialogue\"><Text>Nine reads.</Text></Paragraph>\
        </Content></FinalDraft>";
    std::fs::write(&fdx, xml).unwrap();
    let (path, left_out) = import_fdx(&fdx, None).unwrap();
    assert_eq!(path, dir.path().join("Night Watch.fountain"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "INT. HUT & GALLERY - NIGHT #7#\n\nZoë *waits*. 🌊\n\nCLOSE ON THE LENS\n\n@Łukasz\nNine reads.\n"
    );
    assert_eq!(left_out, vec!["paragraphs of type \"Shot\" (imported as action)".to_string()]);
    let e = import_fdx(&fdx, None).unwrap_err().to_string();
    assert!(e.contains("exists; choose another name with -o"), "{e}");
    std::fs::write(dir.path().join("bad.fdx"), "<html><body>no</body></html>").unwrap();
    let e = import_fdx(&dir.path().join("bad.fdx"), Some(&dir.path().join("b.fountain"))).unwrap_err().to_string();
    assert!(e.contains("not an FDX file: the root element is <html>"), "{e}");
    let e = import_fdx(&dir.path().join("missing.fdx"), None).unwrap_err().to_string();
    assert!(e.contains("cannot read") && e.contains("missing.fdx"), "{e}");
}
