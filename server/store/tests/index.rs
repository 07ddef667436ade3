//! The index against real projects on disk: incremental sync, rebuilds, and the queries the
//! context engine and language server need.

use std::fs;
use std::path::Path;

use showrunner_store::{index_path, load_project, Index};

fn write(root: &Path, rel: &str, text: &str) {
    showrunner_testkit::write_file(root, rel, text);
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "showrunner.yaml", "name: Index Test\n");
    write(r, "buckets/alice.yaml", "kind: character\nname: Alice Marlowe\naliases: [Alice]\nparent: keepers\nrelations:\n  - { type: daughter_of, target: tom }\n");
    write(r, "buckets/tom.yaml", "kind: character\nname: Tom Marlowe\naliases: [Tom]\nparent: keepers\nsummary: The keeper drinks.\nbody: He trims the wick of the great lamp.\n");
    write(r, "buckets/keepers.yaml", "kind: faction\nname: The Keepers\n");
    write(r, "buckets/ch1.yaml", "kind: chapter\nname: Chapter One\n");
    write(
        r,
        "buckets/oil.yaml",
        "kind: research\nname: Lamp oil\nkeywords: [paraffin, colza]\nbody: Colza oil burned cleaner than whale oil.\n",
    );
    write(
        r,
        "story/one.md",
        "---\nparent: ch1\npov: alice\n---\nAlice met Tom. Alice Marlowe laughed at Tom’s joke.\n",
    );
    write(r, "story/two.md", "---\nparent: ch1\n---\nZoë waited by the paraffin drums. Alice did not come.\n");
    dir
}

#[test]
fn sync_is_incremental_and_queries_answer() {
    let dir = project();
    let root = dir.path();
    let mut index = Index::open(&index_path(root)).unwrap();

    let p = load_project(root);
    let first = index.sync(&p.analysis, &p.hashes).unwrap();
    assert_eq!(first.changed, 8);
    assert!(first.relinked);

    let mentions = index.mentions_of("alice").unwrap();
    let got: Vec<(&str, &str)> = mentions.iter().map(|m| (m.scene_path.as_str(), m.alias.as_str())).collect();
    assert_eq!(got, vec![("story/one.md", "Alice"), ("story/one.md", "Alice Marlowe"), ("story/two.md", "Alice")]);
    let text = fs::read_to_string(root.join("story/one.md")).unwrap();
    assert_eq!(&text[mentions[1].start..mentions[1].end], "Alice Marlowe");

    assert_eq!(index.buckets_in_scene("story/one.md").unwrap(), vec![("alice".to_string(), 2), ("tom".to_string(), 2)]);
    let n = index.neighbours("tom").unwrap();
    assert_eq!((n[0].relation.as_str(), n[0].bucket.as_str(), n[0].outgoing), ("daughter_of", "alice", false));
    assert_eq!(
        index.children("keepers").unwrap(),
        vec![("alice".to_string(), "character".to_string()), ("tom".to_string(), "character".to_string())]
    );
    assert_eq!(index.children("ch1").unwrap().len(), 2);
    let hits = index.search("colza", 5).unwrap();
    assert_eq!(hits[0].path, "buckets/oil.yaml");
    let hits = index.search("paraffin drums", 5).unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(hits[0].path, "story/two.md");

    // Nothing changed: nothing is rewritten.
    let p = load_project(root);
    let warm = index.sync(&p.analysis, &p.hashes).unwrap();
    assert_eq!((warm.changed, warm.removed, warm.unchanged, warm.relinked), (0, 0, 8, false));

    // One scene edited: only it is rewritten.
    write(root, "story/two.md", "---\nparent: ch1\n---\nTom came instead.\n");
    let p = load_project(root);
    let s = index.sync(&p.analysis, &p.hashes).unwrap();
    assert_eq!((s.changed, s.relinked), (1, false));
    assert_eq!(index.mentions_of("alice").unwrap().len(), 2);
    assert_eq!(index.mentions_of("tom").unwrap().len(), 3);

    // A new alias relinks every scene; a removed file disappears.
    write(root, "buckets/alice.yaml", "kind: character\nname: Alice Marlowe\naliases: [Alice, Marlowe girl]\n");
    fs::remove_file(root.join("buckets/oil.yaml")).unwrap();
    let p = load_project(root);
    let s = index.sync(&p.analysis, &p.hashes).unwrap();
    assert_eq!((s.changed, s.removed, s.relinked), (1, 1, true));
    assert!(index.search("colza", 5).unwrap().is_empty());
    assert_eq!(index.count("containers").unwrap(), 4);
    assert_eq!(index.mentions_of("alice").unwrap().len(), 2);
}

#[test]
fn deleting_or_outdating_the_index_loses_nothing() {
    let dir = project();
    let root = dir.path();
    let path = index_path(root);
    let p = load_project(root);
    let mut index = Index::open(&path).unwrap();
    index.sync(&p.analysis, &p.hashes).unwrap();
    let before = index.mentions_of("tom").unwrap();
    drop(index);

    // An old schema version is rebuilt from scratch.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    drop(conn);
    let mut index = Index::open(&path).unwrap();
    assert_eq!(index.count("files").unwrap(), 0);
    index.sync(&p.analysis, &p.hashes).unwrap();
    assert_eq!(index.mentions_of("tom").unwrap(), before);
    drop(index);

    // A file that is not a database is replaced.
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", path.display()));
    }
    fs::write(&path, b"this is not sqlite, just garbage bytes ......................................................................................").unwrap();
    let mut index = Index::open(&path).unwrap();
    index.sync(&p.analysis, &p.hashes).unwrap();
    assert_eq!(index.mentions_of("tom").unwrap(), before);
}

/// The language server, a terminal command and a second window may open one project at once:
/// none of them may fail with "database is locked", whichever gets a lock first.
#[test]
fn processes_opening_and_writing_one_project_at_once_all_succeed() {
    const WRITERS: usize = 6;
    for round in 0..8 {
        let dir = project();
        let root = dir.path().to_path_buf();
        let start = std::sync::Arc::new(std::sync::Barrier::new(WRITERS));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (root, start) = (root.clone(), start.clone());
                std::thread::spawn(move || -> Result<(), String> {
                    let p = load_project(&root);
                    start.wait();
                    let mut index = Index::open(&index_path(&root)).map_err(|e| format!("open: {e}"))?;
                    index.sync(&p.analysis, &p.hashes).map_err(|e| format!("first sync: {e}"))?;
                    showrunner_store::history::History::open(&root).map_err(|e| format!("events: {e}"))?;
                    showrunner_store::runs::Runs::open(&root).map_err(|e| format!("runs: {e}"))?;
                    // Each writer's own view of every file: a read then a write, raced.
                    let hashes: Vec<u64> = p.hashes.iter().map(|h| h ^ (w as u64 + 1)).collect();
                    index.sync(&p.analysis, &hashes).map_err(|e| format!("second sync: {e}"))?;
                    Ok(())
                })
            })
            .collect();
        for (w, t) in writers.into_iter().enumerate() {
            t.join().unwrap().unwrap_or_else(|e| panic!("round {round}, writer {w}: {e}"));
        }
        let index = Index::open(&index_path(&root)).unwrap();
        assert_eq!(index.count("files").unwrap(), load_project(&root).analysis.files.len(), "round {round}");
        assert!(!index.mentions_of("tom").unwrap().is_empty());
    }
}
