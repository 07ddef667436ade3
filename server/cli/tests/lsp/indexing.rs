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
