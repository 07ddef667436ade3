//! `showrunner init` and `showrunner check` end to end: the real binary on real folders,
//! including every kind of broken input the issue lists.

use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn showrunner(args: &[&str], cwd: &Path) -> Output {
    showrunner_testkit::run_binary(std::path::Path::new(env!("CARGO_BIN_EXE_showrunner")), args, cwd, &[])
}

fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    showrunner_testkit::write_file(root, rel, bytes);
}

fn check_json(dir: &Path) -> (i32, Value) {
    let out = showrunner(&["check", ".", "--format", "json"], dir);
    let code = out.status.code().expect("exited, not killed");
    assert_ne!(code, 101, "panic: {}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (code, json)
}

/// `(path, line, column, code)` of every diagnostic.
fn found(json: &Value) -> Vec<(String, u64, u64, String)> {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(json: &Value, path: &str, code: &str, needle: &str) -> bool {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["path"] == path && d["code"] == code && d["message"].as_str().unwrap().contains(needle))
}

#[test]
fn example_story_is_clean_and_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let out = showrunner(&["init", "story", "--example"], tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tmp.path().join("story");
    let (code, json) = check_json(&dir);
    assert_eq!(code, 0, "{json:#}");
    let errors: Vec<_> = json["diagnostics"].as_array().unwrap().iter().filter(|d| d["severity"] != "info").collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(json["buckets"].as_u64().unwrap() >= 12);
    assert!(json["scenes"].as_u64().unwrap() >= 9);
    assert_eq!(json["projects"], 1);
    assert!(dir.join(".showrunner/index.db").is_file());

    // Hints: one SR001 per mention, with the bucket's name and kind; the example leaves
    // `link_hints` unset (editors get none), and `--hints` prints them all the same.
    let cfg = fs::read_to_string(dir.join("showrunner.yaml")).unwrap();
    assert!(cfg.contains("\n# entities: { link_hints: true }"), "{cfg}");
    let out = showrunner(&["check", "--hints"], &dir);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("hint[SR001]: Alice Marlowe (character)"), "{text}");
    let out = showrunner(&["check"], &dir);
    assert!(!String::from_utf8(out.stdout).unwrap().contains("SR001"), "no hints without --hints");
    // `link_hints: false` still turns them off for `check --hints`.
    fs::write(dir.join("showrunner.yaml"), format!("{cfg}entities: {{ link_hints: false }}\n")).unwrap();
    let out = showrunner(&["check", "--hints"], &dir);
    assert!(!String::from_utf8(out.stdout).unwrap().contains("SR001"), "link_hints: false");
    fs::write(dir.join("showrunner.yaml"), &cfg).unwrap();

    // A second init refuses to overwrite.
    let again = showrunner(&["init", "story", "--example"], tmp.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already a Showrunner project"));
}

#[test]
fn plain_init_makes_a_clean_project() {
    let tmp = tempfile::tempdir().unwrap();
    let out = showrunner(&["init", "my-novel"], tmp.path());
    assert!(out.status.success());
    let (code, json) = check_json(&tmp.path().join("my-novel"));
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["diagnostics"].as_array().unwrap().len(), 0);
    let cfg = fs::read_to_string(tmp.path().join("my-novel/showrunner.yaml")).unwrap();
    assert!(cfg.starts_with("name: My Novel\n"), "{cfg}");
    // Hints in editors stay off; the config shows how to turn them on.
    assert!(cfg.contains("\n# entities: { link_hints: true }   # SR001 hint on every mention\n"), "{cfg}");
}

#[test]
fn text_format_positions_are_one_based_unicode_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    write(r, "showrunner.yaml", "name: T\n");
    write(r, "buckets/ch.yaml", "kind: chapter\nname: One\n");
    write(r, "story/s.md", "---\nparent: ch\npov: zoë\n---\n李雷 and Zoë.\n");
    let out = showrunner(&["check"], r);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("story/s.md:3:6: error[SR004]: pov `zoë` is not a known bucket id\n"), "{text}");
    assert!(text.ends_with("1 error, 0 warnings, 0 infos in 1 project (1 bucket, 1 scene)\n"), "{text}");
    // From a folder inside the project: paths relative to it, only its files.
    let out = showrunner(&["check", "."], &r.join("story"));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("s.md:3:6: error[SR004]"), "{text}");
}

#[test]
fn every_diagnostic_code_on_a_broken_project() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    write(r, "showrunner.yaml", "name: Broken\ncontxt: { budget_tokens: 10 }\nkinds:\n  ship: { attributes: { tonnage: number, captain: ref } }\n");
    write(r, "buckets/season.yaml", "kind: season\nname: Season One\n");
    write(r, "buckets/ch1.yaml", "kind: chapter\nname: Chapter One\nparent: season\n");
    write(r, "buckets/act.yaml", "kind: act\nname: Act One\nparent: ch1\n");
    write(r, "buckets/a.yaml", "kind: note\nname: Loop A\nparent: b\n");
    write(r, "buckets/b.yaml", "kind: note\nname: Loop B\nparent: a\n");
    write(r, "buckets/alice.yaml", "kind: character\nname: Alice Marlowe\naliases: [Alice, Marlowe]\nrelations:\n  - { type: friend_of, target: bobb }\n");
    write(
        r,
        "buckets/tom.yaml",
        "kind: character\nname: Tom Marlowe\naliases: [Tom, Marlowe]\nattributes: { age: old }\n",
    );
    write(r, "buckets/ship.yaml", "kind: ship\nname: Merrow\nattributes: { tonnage: 300, captain: nobody }\n");
    write(r, "buckets/dup1.yaml", "id: twin\nkind: item\nname: Twin One\n");
    write(r, "buckets/dup2.yaml", "id: twin\nkind: item\nname: Twin Two\n");
    write(r, "buckets/nokind.yaml", "name: Nameless Kind\n");
    write(r, "buckets/badkind.yaml", "kind: charactr\nname: Typo\n");
    write(r, "buckets/broken.yaml", "kind: character\nname: Broken\naliases: [unclosed\n");
    write(r, "story/one.md", "---\nparent: chapter-1\n---\nAlice saw Marlowe. Later Quillan came, and then Quillan left with Quillan's dog.\n");
    write(r, "story/two.fountain", "INT. HUT - NIGHT\n\nALICE\nWho is there?\n\nBOB\nMe.\n");
    let (code, json) = check_json(r);
    assert_eq!(code, 1);
    let f = found(&json);
    let codes: std::collections::BTreeSet<&str> = f.iter().map(|d| d.3.as_str()).collect();
    for c in ["SR002", "SR003", "SR004", "SR005", "SR006", "SR010", "SR011", "SR012", "SR013", "SR014"] {
        assert!(codes.contains(c), "missing {c}: {f:#?}");
    }
    assert!(has(&json, "showrunner.yaml", "SR014", "unknown key `contxt`; did you mean `context`?"));
    assert!(has(&json, "buckets/act.yaml", "SR006", "a act cannot sit inside `ch1`, a chapter"));
    assert!(has(&json, "buckets/a.yaml", "SR006", "parent cycle"));
    assert!(has(&json, "buckets/b.yaml", "SR006", "parent cycle"));
    assert!(has(&json, "buckets/alice.yaml", "SR004", "relation target `bobb`"));
    assert!(has(&json, "buckets/alice.yaml", "SR005", "`Marlowe` is a name or alias of alice, tom"));
    assert!(has(&json, "buckets/ship.yaml", "SR004", "attribute value `nobody`"));
    assert!(has(&json, "buckets/tom.yaml", "SR013", "attribute `age` of a character must be a number"));
    assert!(has(&json, "buckets/dup1.yaml", "SR012", "buckets/dup2.yaml"));
    assert!(has(&json, "buckets/dup2.yaml", "SR012", "buckets/dup1.yaml"));
    assert!(has(&json, "buckets/nokind.yaml", "SR011", "no `kind`"));
    assert!(has(&json, "buckets/badkind.yaml", "SR011", "did you mean `character`?"));
    assert!(has(&json, "story/one.md", "SR004", "parent `chapter-1`"));
    assert!(has(&json, "story/one.md", "SR005", "`Marlowe` is ambiguous"));
    assert!(has(&json, "story/one.md", "SR003", "\"Quillan\" appears 3 times"));
    assert!(has(&json, "story/two.fountain", "SR002", "`BOB`"));
    assert!(!has(&json, "story/two.fountain", "SR002", "`ALICE`"));
    // The YAML error sits where the parser stopped: line 4 (after the unclosed list).
    let yaml_err = f.iter().find(|d| d.0 == "buckets/broken.yaml" && d.3 == "SR010").unwrap();
    assert_eq!(yaml_err.1, 4, "{yaml_err:?}");
}

#[test]
fn bad_input_is_reported_and_never_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    write(r, "showrunner.yaml", "name: Bad Input\n");
    write(r, "buckets/list.yaml", "- a\n- b\n");
    write(r, "buckets/scalar.yaml", "just words\n");
    write(r, "buckets/empty.yaml", "");
    write(r, "buckets/passwd.yaml", "id: ../../etc/passwd\nkind: note\nname: Sneaky\n");
    write(r, "buckets/latin1.yaml", b"kind: character\nname: Zo\xeb\n");
    write(r, "story/empty.md", "");
    write(r, "story/latin1.md", b"Caf\xe9 au lait.\n");
    write(r, "story/crlf.md", "---\r\nid: crlf\r\n---\r\nOne.\r\nTwo.\r\n");
    // 50 MB: declined with a message (limit 16 MB by default), memory stays bounded.
    let big = "All work and no play. ".repeat(50 * 1024 * 1024 / 22 + 1);
    write(r, "story/huge.md", big.as_bytes());
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(r.join("story"), r.join("story/loop")).unwrap();
        std::os::unix::fs::symlink(r.join("missing-target.md"), r.join("story/dangling.md")).unwrap();
    }
    let (code, json) = check_json(r);
    assert_eq!(code, 1);
    assert!(has(&json, "buckets/list.yaml", "SR011", "found a list"));
    assert!(has(&json, "buckets/scalar.yaml", "SR011", "found text"));
    assert!(has(&json, "buckets/empty.yaml", "SR011", "empty bucket file"));
    assert!(has(&json, "buckets/passwd.yaml", "SR011", "is not a valid id"));
    assert!(has(&json, "buckets/latin1.yaml", "SR015", "not valid UTF-8 (first bad byte at line 2, column 9)"));
    assert!(has(&json, "story/latin1.md", "SR015", "not valid UTF-8"));
    assert!(has(&json, "story/huge.md", "SR015", "over the 16 MB limit"));
    #[cfg(unix)]
    {
        assert!(has(&json, "story/loop", "SR015", "symlink loop"), "{json:#}");
        assert!(has(&json, "story/dangling.md", "SR015", "cannot read"), "{json:#}");
    }
    // Nothing was written outside the project, and the odd id never became a path.
    assert!(!r.join("etc").exists());
    assert_eq!(json["scenes"], 2);

    // Raising the limit indexes the big file instead.
    write(r, "showrunner.yaml", "name: Bad Input\nindex: { max_file_mb: 64 }\n");
    let (_, json) = check_json(r);
    assert!(!has(&json, "story/huge.md", "SR015", ""));
    assert_eq!(json["scenes"], 3);
}

#[test]
fn several_projects_and_nesting_stay_isolated() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    write(r, "novel/showrunner.yaml", "name: Novel\n");
    write(r, "novel/buckets/alice.yaml", "kind: character\nname: Alice\n");
    write(r, "novel/story/a.md", "Alice waits.\n");
    // Nested project: its buckets are not the outer project's, and vice versa.
    write(r, "novel/spinoff/showrunner.yaml", "name: Spinoff\n");
    write(r, "novel/spinoff/buckets/bob.yaml", "kind: character\nname: Bob\n");
    write(r, "novel/spinoff/story/b.md", "---\npov: alice\n---\nBob waits.\n");
    write(r, "series/showrunner.yaml", "name: Series\n");
    write(r, "series/story/c.md", "---\npov: bob\n---\nNobody.\n");
    let (code, json) = check_json(r);
    assert_eq!(code, 1);
    assert_eq!(json["projects"], 3);
    assert_eq!(json["buckets"], 2);
    let f = found(&json);
    assert_eq!(
        f,
        vec![
            ("novel/spinoff/story/b.md".to_string(), 2, 6, "SR004".to_string()),
            ("series/story/c.md".to_string(), 2, 6, "SR004".to_string()),
        ]
    );
}

#[test]
fn no_project_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = showrunner(&["check"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no showrunner.yaml found"));
}

/// The README shows this project's output; the test keeps the README honest.
#[test]
fn readme_example_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/projects");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my-draft");
    copy_dir(&root.join("my-draft"), &dir);
    let out = showrunner(&["check", "."], &dir);
    assert_eq!(out.status.code(), Some(1));
    let want = fs::read_to_string(root.join("my-draft.expected.txt")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    assert!(readme.contains(&want), "README.md no longer shows the output of tests/fixtures/projects/my-draft");
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn continuity_sr007_entry_death_and_flashbacks() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    write(r, "showrunner.yaml", "name: Continuity\n");
    write(r, "buckets/ch.yaml", "kind: chapter\nname: One\n");
    write(r, "buckets/tom.yaml", "kind: character\nname: Tom\nprogressions:\n  - { at: { main: 9 }, attributes: { status: dead }, summary: Drowned. }\n");
    write(r, "buckets/crane.yaml", "kind: character\nname: Crane\ntimeline_positions: { main: 5 }\n");
    write(r, "story/a.md", "---\nparent: ch\ntimeline: { main: 3 }\n---\nTom waved. Crane waited.\n");
    write(r, "story/b.md", "---\nparent: ch\ntimeline: { main: 10 }\n---\nTom came back. Crane stayed.\n");
    write(r, "story/c.md", "---\nparent: ch\ntimeline: { main: 11 }\nflashback: true\n---\nTom, young again.\n");
    // No timeline of its own: inherits main 11 from the scene before it in reading order.
    write(r, "story/d.md", "---\nparent: ch\n---\nTom's grave.\n");
    let (code, json) = check_json(r);
    assert_eq!(code, 0, "SR007 is a warning");
    let f = found(&json);
    let sr007: Vec<(&str, u64, u64)> = f.iter().filter(|d| d.3 == "SR007").map(|d| (d.0.as_str(), d.1, d.2)).collect();
    assert_eq!(sr007, vec![("story/a.md", 5, 12), ("story/b.md", 5, 1), ("story/d.md", 4, 1)]);
    assert!(has(&json, "story/a.md", "SR007", "Crane enters the story at main 5; this scene is at main 3"));
    assert!(has(&json, "story/b.md", "SR007", "Tom is dead from main 9 (Drowned.); this scene is at main 10"));
}
