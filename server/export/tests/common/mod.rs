//! A small project with what exports must survive: CRLF line ends, frontmatter, emphasis,
//! non-Latin names (Zoë, Łukasz, 李雷), emoji, a scene break, chapters out of file order, and a
//! Fountain screenplay with dual dialogue and scene numbers.
#![allow(dead_code)]

use std::path::Path;

pub const CONFIG: &str = "name: Storm Book\ntitle: The Keeper's Daughter\nauthor: Zoë Łukasz-Brontë\ncontact: |\n  Zoë Łukasz-Brontë\n  12 Harbour Row, Port Ainsley\n  zoe@example.com\n";

pub const ARRIVAL: &str = "---\r\nid: arrival\r\nparent: ch01\r\ntimeline: { main: 1 }\r\n---\r\n\r\n# Arrival\r\n\r\nThe boat came round the point, and Zoë watched it *without blinking*.\r\nShe had known for **eleven days**. 🌊\r\n\r\n\"Nowak,\" he said. \"Łukasz Nowak.\"\r\n";

pub const HUT: &str = "---\nid: hut\nparent: ch01\ntimeline: { main: 2 }\n---\n\n# The Hut\n\n李雷 had lived in the hut for seven months.\n\n* * *\n\nLater, the wind dropped. It was _very_ quiet.\n";

pub const LOG: &str =
    "---\nid: log\nparent: ch02\ntimeline: { main: 3 }\n---\n\n# The Log\n\nThe log was kept in a clerk's hand.\n";

pub const EPISODE: &str = "Title: Night Watch\nCredit: Written by\nAuthor: Zoë Łukasz-Brontë\nId: night-watch\nParent: ch02\nTimeline: { main: 4 }\n\nEXT. THE LANDING STAGE - DUSK #1#\n\nGrey water heaves against granite. ŁUKASZ NOWAK (40s) steps ashore.\n\nŁUKASZ\n(looking up)\nFirst-order lens.\nTwo white every fifteen seconds.\n\nINT. WIRELESS HUT - NIGHT #2A#\n\n李雷\nGannet Rock to Ainsley.\n\nZOË ^\nNo. Not tonight.\n\n> CUT TO:\n\n[[a note the export drops]]\n";

pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "showrunner.yaml", CONFIG);
    write(root, "buckets/structure/act-1.yaml", "id: act-1\nkind: act\nname: Act One\n");
    write(root, "buckets/structure/ch01.yaml", "id: ch01\nkind: chapter\nname: Chapter One — Arrival\nparent: act-1\n");
    write(root, "buckets/structure/ch02.yaml", "id: ch02\nkind: chapter\nname: Chapter Two\nparent: act-1\n");
    write(root, "buckets/characters/zoe.yaml", "id: zoe\nkind: character\nname: Zoë\n");
    // File names in the opposite order of the timeline: reading order must follow the timeline.
    write(root, "story/ch01/b-arrival.md", ARRIVAL);
    write(root, "story/ch01/a-hut.md", HUT);
    write(root, "story/ch02/log.md", LOG);
    write(root, "story/ch02/night-watch.fountain", EPISODE);
    // An AI answer waiting at a gate lives in the run's review document, not in the story.
    write(root, ".showrunner/runs/r1/approve_output.md", "PENDING AI TEXT that nobody approved\n");
    dir
}
