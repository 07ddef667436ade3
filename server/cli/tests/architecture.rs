//! ARCHITECTURE.md stays true to the tree: every source file of every crate is named in its
//! code map, under its crate.

use std::path::Path;

/// Whether `text` names `file` as a word (not as the tail of a longer name).
fn names(text: &str, file: &str) -> bool {
    text.match_indices(file).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + file.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn the_code_map_names_every_source_file() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let map = std::fs::read_to_string(repo.join("ARCHITECTURE.md")).unwrap();
    let start = map.find("## Code map").expect("a code map");
    let end = map[start..].find("## Invariants").map(|i| start + i).unwrap_or(map.len());
    let map = &map[start..end];
    let mut missing = Vec::new();
    for krate in std::fs::read_dir(repo.join("server")).unwrap().flatten() {
        let name = krate.file_name().to_string_lossy().to_string();
        let Some(section_at) = map.find(&format!("  {name}/ ")) else {
            missing.push(format!("the crate {name}/"));
            continue;
        };
        // The crate's section runs to the next crate's line (two spaces, a name, a slash).
        let section = &map[section_at..];
        let next_crate = |i: usize| {
            let rest = &section[i + 3..];
            let word = rest.find('/').map(|j| &rest[..j]);
            word.is_some_and(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        };
        let section_end =
            section[1..].match_indices("\n  ").map(|(i, _)| i + 1).find(|&i| next_crate(i)).unwrap_or(section.len());
        let section = &section[..section_end];
        for f in std::fs::read_dir(krate.path().join("src")).into_iter().flatten().flatten() {
            let file = f.file_name().to_string_lossy().to_string();
            if file.ends_with(".rs") && !matches!(file.as_str(), "lib.rs" | "main.rs") && !names(section, &file) {
                missing.push(format!("{name}/src/{file}"));
            }
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md's code map does not name: {}", missing.join(", "));
}
