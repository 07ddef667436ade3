//! Edits first: a scene edited while its project is still being read is answered at once with
//! what its own text says (a subset of its full diagnostics, nothing that needs the buckets),
//! and with the full set once the project is in. The project's load is held open by a test
//! fault point (`SHOWRUNNER_FAULT=hold-load`: it waits for `.showrunner/go`), so "still being
//! read" is a state the test controls, not a race it hopes to win.

use serde_json::{json, Value};
use showrunner_testkit::Client;

use super::bin;

fn codes(diagnostics: &[Value]) -> Vec<String> {
    let mut c: Vec<String> = diagnostics.iter().map(|d| d["code"].as_str().unwrap_or("").to_string()).collect();
    c.sort();
    c
}

#[test]
fn an_edit_while_the_project_is_read_is_answered_from_the_scene_alone_then_in_full() {
    let (_tmp, dir) = super::example();
    std::fs::create_dir_all(dir.join(".showrunner")).unwrap();
    let mut c = Client::spawn(bin(), &[("SHOWRUNNER_FAULT", "hold-load")]);
    c.initialize_plain(&[&dir]);
    let scene = dir.join("story/ch01/01-arrival.md");
    let u = c.open(&scene, "markdown");
    // The scene's own text has nothing to say: an empty set, at once, for version 1.
    assert_eq!(c.diagnostics_at(&u, 1), Vec::<Value>::new());

    // A point of view that is not text (the scene's own frontmatter: SR011) and a context entry
    // naming no bucket (SR004: needs the buckets, which are not read yet).
    let text = std::fs::read_to_string(&scene).unwrap();
    let edited = text.replacen("pov: alice", "pov: [alice, tom]", 1).replacen(
        "context: [gannet-rock]",
        "context: [no-such-place]",
        1,
    );
    assert_ne!(edited, text);
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [{ "text": edited }] }),
    );
    let alone = c.diagnostics_at(&u, 2);
    assert_eq!(codes(&alone), ["SR011"], "the scene alone: {alone:?}");
    assert!(alone[0]["message"].as_str().unwrap().contains("pov"), "{alone:?}");

    // The project is read: the full set for the same version, the scene's own findings among them.
    std::fs::write(dir.join(".showrunner/go"), "").unwrap();
    let full = c.diagnostics_at(&u, 2);
    let full_codes = codes(&full);
    assert!(full_codes.contains(&"SR004".to_string()), "the full set names the missing bucket: {full:?}");
    for d in &alone {
        assert!(full.contains(d), "{d} is in the full set too: {full:?}");
    }
    // And the session goes on as usual: a request on the scene is answered from its project.
    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": u }, "position": super::pos(&edited, "Alice", 0, false) }),
    );
    assert!(hover.to_string().contains("Alice"), "{hover}");
    c.finish();
}

/// A file changed on disk, then the open scene edited: the edit's diagnostics are those of the
/// project with the file change taken in, even while reading it in takes time (held open by the
/// `hold-reload` fault point until `.showrunner/go` exists). Without waiting, the edit's
/// diagnostics went out first, from the project as it was before the change.
#[test]
fn an_edit_after_a_file_change_on_disk_is_answered_with_the_change_taken_in() {
    let (_tmp, dir) = super::example();
    std::fs::create_dir_all(dir.join(".showrunner")).unwrap();
    let mut c = Client::spawn(bin(), &[("SHOWRUNNER_FAULT", "hold-reload")]);
    c.initialize(&[&dir], false); // the project read in full first
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = std::fs::read_to_string(&scene).unwrap();
    assert!(text.contains("context: [gannet-rock]"), "{text}");
    let u = c.open(&scene, "markdown");
    let before = c.diagnostics_at(&u, 1);
    assert!(!codes(&before).contains(&"SR004".to_string()), "{before:?}");

    // The place the scene's context names gets another id on disk (its old id names nothing now).
    let place = std::fs::read_dir(dir.join("buckets"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("id: gannet-rock\n")))
        .expect("the gannet-rock bucket");
    let yaml =
        std::fs::read_to_string(&place).unwrap().replacen("id: gannet-rock\n", "id: gannet-rock-lighthouse\n", 1);
    std::fs::write(&place, yaml).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": showrunner_testkit::uri(&place), "type": 2 }] }),
    );
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [{ "text": format!("{text}\nA new line.\n") }] }),
    );
    std::fs::write(dir.join(".showrunner/go"), "").unwrap();
    let after = c.diagnostics_at(&u, 2);
    assert!(codes(&after).contains(&"SR004".to_string()), "the context names a bucket that is gone: {after:?}");
    c.finish();
}
