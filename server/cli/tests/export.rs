//! `showrunner export` end to end: the real binary on the example story and on bad input.

use std::path::Path;

fn showrunner(args: &[&str], cwd: &Path) -> std::process::Output {
    showrunner_testkit::run_binary(Path::new(env!("CARGO_BIN_EXE_showrunner")), args, cwd, &[])
}

fn example() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let out = showrunner(&["init", "story", "--example"], tmp.path());
    assert!(out.status.success());
    tmp
}

#[test]
fn export_md_and_fountain_of_the_example() {
    let tmp = example();
    let dir = tmp.path().join("story");
    let out = showrunner(&["export", "md"], &dir);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.starts_with("wrote exports/the-lighthouse.md (13 scenes, "), "{said}");
    let md = std::fs::read_to_string(dir.join("exports/the-lighthouse.md")).unwrap();
    let ch1 = md.find("# Chapter 1 — Arrival").unwrap();
    let ch4 = md.find("# Chapter 4").unwrap();
    assert!(ch1 < ch4 && md.contains("李雷"), "chapters in reading order");
    assert!(!md.contains("\nid: ") && !md.contains("Draft date:"));

    // A scene file as the target, from another folder; -o relative to the current folder.
    let out = showrunner(&["export", "fountain", "story/story/episode-01.fountain", "-o", "ep.fountain"], tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ep = std::fs::read_to_string(tmp.path().join("ep.fountain")).unwrap();
    assert!(ep.starts_with("Title: The Lighthouse\n") && ep.contains("ŁUKASZ\n"), "{ep}");

    // Bad input: readable errors, exit 2, nothing written.
    for (args, says) in [
        (vec!["export", "md", "ch99"], "nothing called `ch99`"),
        (vec!["export", "md", "alice"], "is a character bucket"),
        (vec!["export", "md", "-o", "story/all.md"], "will not write an export into story/"),
        (vec!["export", "md", "-o", "/nonexistent-dir/x.md"], "does not exist"),
        (vec!["export", "md", "-o", "showrunner.yaml"], "will not write an export over showrunner.yaml"),
    ] {
        let out = showrunner(&args, &dir);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let out = showrunner(&["export", "rtf"], &dir);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("docx"));
    assert!(!dir.join("story/all.md").exists());
}

#[test]
fn export_fdx_and_import_it_back() {
    let tmp = example();
    let dir = tmp.path().join("story");
    let out = showrunner(&["export", "fdx", "episode-01", "-o", "ep.fdx"], &dir);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        said.contains("wrote ep.fdx (1 scene")
            && said.contains("left out (fdx cannot hold them): 1 section, 1 synopsis"),
        "{said}"
    );
    let out = showrunner(&["import", "fdx", "ep.fdx"], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let back = std::fs::read_to_string(dir.join("ep.fountain")).unwrap();
    assert!(
        back.contains("EXT. THE LANDING STAGE - DUSK\n") && back.contains("ŁUKASZ\n(looking up at the tower)\n"),
        "{back}"
    );
    // The imported script is a scene of the project now (a .fountain anywhere in it is).
    let out = showrunner(&["check", "--format", "json"], &dir);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["scenes"], 14, "{json}");
    for (args, says) in [
        (vec!["import", "fdx", "ep.fdx"], "exists; choose another name with -o"),
        (vec!["import", "fdx", "nothing.fdx"], "cannot read nothing.fdx"),
        (vec!["import", "fdx", "showrunner.yaml", "-o", "x.fountain"], "not an FDX file"),
    ] {
        let out = showrunner(&args, &dir);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn on_a_terminal_an_export_shows_its_chapters_going_by() {
    let tmp = example();
    let dir = tmp.path().join("story");
    let bin = Path::new(env!("CARGO_BIN_EXE_showrunner"));
    let Some((ok, t)) = showrunner_testkit::run_on_terminal(bin, &["export", "docx", "-o", "book.docx"], &dir) else {
        eprintln!("skipped: no `script` (util-linux) to make a terminal");
        return;
    };
    assert!(ok, "{t}");
    // The bar: the example's four chapters, as they are rendered; the line after it, whole.
    assert!(t.contains("/4 chapters"), "{t}");
    assert!(t.contains("wrote book.docx (13 scenes, 7,337 words)"), "{t}");
    assert!(dir.join("book.docx").exists());
}
