//! Invariant checks for the model's parsers and matcher, shared by the fuzz targets
//! (`fuzz/fuzz_targets/*.rs`), `fuzz/checks/tests/seeds.rs` and
//! `server/model/tests/fuzz_regressions.rs` (which includes this file by path, so it may use
//! nothing but `std` and `showrunner_model`).
//!
//! Every check takes the raw fuzz input, never panics on its own for any input, and panics with a
//! message when the code under test breaks an invariant.

use showrunner_model::bucket::{parse_bucket, Spanned};
use showrunner_model::config::parse_config;
use showrunner_model::diag::Diagnostic;
use showrunner_model::fountain::{line_kinds, parse_fountain};
use showrunner_model::id;
use showrunner_model::kind::Kinds;
use showrunner_model::matcher::{self, Dictionary, Match};
use showrunner_model::scene::{parse_markdown_scene, Scene, SceneFormat};
use showrunner_model::text::{lines_with_offsets, TextRange};
use showrunner_model::yaml::{self, Node, Value};

/// A range is inside `text`, not reversed, and on char boundaries.
pub fn assert_range(text: &str, r: &TextRange, what: &str) {
    assert!(
        r.start <= r.end && r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
        "{what}: bad range {r:?} in a text of {} bytes",
        text.len()
    );
}

fn assert_diags(text: &str, diags: &[Diagnostic]) {
    for d in diags {
        assert_range(text, &d.range, &format!("diagnostic {} {:?}", d.code, d.message));
    }
}

fn assert_spanned(text: &str, s: &Spanned<String>, what: &str) {
    assert_range(text, &s.range, what);
}

/// Ranges are each valid and non-empty, sorted, not overlapping, and inside `within`.
fn assert_sorted_disjoint(text: &str, ranges: &[TextRange], within: &TextRange, what: &str) {
    let mut prev_end = within.start;
    for r in ranges {
        assert_range(text, r, what);
        assert!(r.start < r.end, "{what}: empty range {r:?}");
        assert!(r.start >= prev_end, "{what}: {r:?} overlaps or precedes the range before it (ends at {prev_end})");
        assert!(r.end <= within.end, "{what}: {r:?} is outside {within:?}");
        prev_end = r.end;
    }
}

fn inside_any(r: &TextRange, ranges: &[TextRange]) -> bool {
    ranges.iter().any(|s| s.start <= r.start && r.end <= s.end)
}

fn assert_node(text: &str, node: &Node, depth: usize) {
    assert_range(text, &node.span, "YAML node span");
    // Anchors can repeat a subtree; a few levels are enough to see every span once.
    if depth > 64 {
        return;
    }
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|n| assert_node(text, n, depth + 1)),
        Value::Map(entries) => entries.iter().for_each(|(k, v)| {
            assert_node(text, k, depth + 1);
            assert_node(text, v, depth + 1);
        }),
        _ => {}
    }
}

/// `bucket_yaml`: any bytes (read as UTF-8, lossily) as a YAML tree, a bucket and a project config.
pub fn bucket_yaml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    let parsed = yaml::parse(text);
    for e in &parsed.errors {
        assert_range(text, &e.range, &format!("YAML error {:?}", e.message));
    }
    if let Some(root) = &parsed.root {
        assert_node(text, root, 0);
    }

    let (bucket, diags) = parse_bucket(text, "fuzz-bucket", &Kinds::default());
    assert_diags(text, &diags);
    if let Some(b) = bucket {
        assert!(id::is_valid_id(&b.id.value), "bucket id {:?} is not a valid id", b.id.value);
        assert!(!b.name.value.trim().is_empty(), "bucket name is blank");
        assert_spanned(text, &b.id, "bucket id");
        assert_spanned(text, &b.kind, "bucket kind");
        assert_spanned(text, &b.name, "bucket name");
        assert_range(text, &b.name_key, "bucket name key");
        for a in &b.aliases {
            assert_spanned(text, a, "alias");
            assert!(!a.value.trim().is_empty(), "blank alias kept");
        }
        if let Some(p) = &b.parent {
            assert_spanned(text, p, "parent");
        }
        for k in &b.keywords {
            assert_spanned(text, k, "keyword");
        }
        for r in &b.relations {
            assert_spanned(text, &r.target, "relation target");
        }
        for a in &b.attributes {
            assert_spanned(text, &a.key, "attribute key");
            assert_range(text, &a.value_range, "attribute value");
        }
        for p in &b.progressions {
            assert_range(text, &p.range, "progression");
        }
    } else {
        assert!(!diags.is_empty(), "no bucket and no diagnostic saying why");
    }

    let (_config, diags) = parse_config(text, "fuzz");
    assert_diags(text, &diags);
}

/// What every scene, Markdown or Fountain, must satisfy.
fn assert_scene(text: &str, scene: &Scene, diags: &[Diagnostic]) {
    assert_diags(text, diags);
    assert!(id::is_valid_id(&scene.id.value), "scene id {:?} is not a valid id", scene.id.value);
    assert_spanned(text, &scene.id, "scene id");
    for s in scene.parent.iter().chain(scene.pov.iter()).chain(scene.context.iter()) {
        assert_spanned(text, s, "scene reference");
    }
    assert_range(text, &scene.body, "scene body");
    assert_eq!(scene.body.end, text.len(), "the body runs to the end of the text");
    if let Some(fm) = &scene.frontmatter {
        assert_range(text, fm, "frontmatter");
        assert!(fm.end <= scene.body.start, "frontmatter {fm:?} overlaps the body {:?}", scene.body);
    }
    assert_sorted_disjoint(text, &scene.scan, &scene.body, "scan range");
    assert_sorted_disjoint(text, &scene.blocks, &scene.body, "prose block");
    let mut prev = scene.body.start;
    for h in &scene.headings {
        assert_range(text, &h.range, "heading");
        assert!(
            h.range.start >= prev && h.range.end <= scene.body.end,
            "heading {:?} out of order or outside the body",
            h.range
        );
        prev = h.range.end;
    }
    let mut prev = scene.body.start;
    for c in &scene.cues {
        assert_range(text, &c.name_range, "cue name");
        assert_eq!(c.name.len(), c.name_range.len(), "cue name {:?} and its range {:?}", c.name, c.name_range);
        assert!(c.name_range.start >= prev, "cue {:?} out of order", c.name_range);
        prev = c.name_range.end;
    }
    assert!(scene.word_count <= text.len(), "more words than bytes");

    // Mentions over the scanned ranges, with the example story's names.
    static DICT: std::sync::OnceLock<Dictionary> = std::sync::OnceLock::new();
    let dict = DICT.get_or_init(|| {
        Dictionary::new(
            EXAMPLE_NAMES.iter().enumerate().flat_map(|(i, names)| names.iter().map(move |n| (*n, i as u32))),
        )
    });
    let mut found = Vec::new();
    dict.find_in(text, &scene.scan, &mut found);
    assert_matches(dict, text, &scene.scan, &found);
}

const EXAMPLE_NAMES: &[&[&str]] = &[
    &["Zoë Carrow", "Zoë", "Zoe", "Miss Carrow"],
    &["Łukasz Nowak", "Łukasz", "Nowak", "Mr Nowak", "the inspector"],
    &["Li Lei", "李雷"],
    &["Alice Marlowe", "Alice"],
    &["keeper's log", "the log"],
    &["Gannet Rock", "the rock"],
];

/// `scene`: any bytes (read as UTF-8, lossily) as a Markdown scene with frontmatter.
pub fn scene(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let (scene, diags) = parse_markdown_scene(text, "fuzz-scene");
    assert_eq!(scene.format, SceneFormat::Markdown);
    assert_scene(text, &scene, &diags);
    // Outside fenced code, headings and prose are scanned for mentions.
    for b in &scene.blocks {
        assert!(inside_any(b, &scene.scan), "prose block {b:?} is not inside a scanned range");
    }
    for h in &scene.headings {
        assert!(h.range.is_empty() || inside_any(&h.range, &scene.scan), "heading {:?} is not scanned", h.range);
        assert!((1..=6).contains(&h.level), "Markdown heading level {}", h.level);
    }
}

/// `fountain`: any bytes (read as UTF-8, lossily) as a Fountain screenplay.
pub fn fountain(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let (scene, diags) = parse_fountain(text, "fuzz-fountain");
    assert_eq!(scene.format, SceneFormat::Fountain);
    assert_scene(text, &scene, &diags);
    assert_eq!(line_kinds(text).len(), lines_with_offsets(text).count(), "one kind per line");
    for h in &scene.headings {
        assert_eq!(h.level, 0, "Fountain scene headings have level 0");
    }
}

/// The three spellings of an alias the matcher looks for (straight and curly apostrophes).
fn apostrophe_variants(alias: &str) -> Vec<String> {
    let mut out = vec![alias.to_string()];
    if alias.contains('\'') {
        out.push(alias.replace('\'', "’"));
    }
    if alias.contains('’') {
        out.push(alias.replace('’', "'"));
    }
    out
}

fn norm_apostrophes(s: &str) -> String {
    s.replace('’', "'")
}

fn edge_ok(outside: Option<char>, inside: Option<char>) -> bool {
    match (outside, inside) {
        (Some(o), Some(i)) => {
            !matcher::is_word_char(o)
                || !matcher::is_word_char(i)
                || matcher::is_unspaced_script(o)
                || matcher::is_unspaced_script(i)
        }
        _ => true,
    }
}

fn boundaries_ok(text: &str, s: usize, e: usize) -> bool {
    edge_ok(text[..s].chars().next_back(), text[s..e].chars().next())
        && edge_ok(text[e..].chars().next(), text[s..e].chars().next_back())
}

/// The matcher's rules, written the slow and obvious way: at each position of each range, the
/// longest alias (any spelling) whose folded text is there, on word boundaries, in the right case.
fn naive_matches(dict: &Dictionary, text: &str, ranges: &[TextRange]) -> Vec<TextRange> {
    let folded = matcher::fold(text);
    let keys: Vec<Vec<String>> = dict
        .entries()
        .iter()
        .map(|e| apostrophe_variants(&e.alias).iter().map(|v| matcher::fold(v)).collect())
        .collect();
    let mut out = Vec::new();
    for r in ranges {
        let mut s = r.start;
        while s < r.end {
            let mut best: Option<usize> = None;
            for (entry, keys) in dict.entries().iter().zip(&keys) {
                for k in keys {
                    let e = s + k.len();
                    if e > r.end || !folded.as_bytes()[s..].starts_with(k.as_bytes()) || !boundaries_ok(text, s, e) {
                        continue;
                    }
                    if entry.case_sensitive && norm_apostrophes(&entry.alias) != norm_apostrophes(&text[s..e]) {
                        continue;
                    }
                    best = best.max(Some(e));
                }
            }
            match best {
                Some(e) => {
                    out.push(s..e);
                    s = e;
                }
                None => s += text[s..].chars().next().map_or(1, char::len_utf8),
            }
        }
    }
    out
}

/// Every match is inside a range, on char boundaries, in order, on word boundaries, and its text
/// folds to its alias; and the matches are exactly those of the obvious slow matcher.
pub fn assert_matches(dict: &Dictionary, text: &str, ranges: &[TextRange], found: &[Match]) {
    let mut prev = 0;
    for m in found {
        let r = m.range();
        assert_range(text, &r, "match");
        assert!(r.start < r.end, "empty match {r:?}");
        assert!(inside_any(&r, ranges), "match {r:?} outside the ranges {ranges:?}");
        assert!(r.start >= prev, "match {r:?} overlaps or precedes the one before");
        prev = r.end;
        assert!((m.entry as usize) < dict.entries().len(), "match entry {} out of bounds", m.entry);
        let entry = dict.entry(m.entry);
        let slice = &text[r.clone()];
        assert_eq!(
            norm_apostrophes(&matcher::fold(slice)),
            norm_apostrophes(&matcher::fold(&entry.alias)),
            "match {r:?} {slice:?} does not fold to its alias {:?}",
            entry.alias
        );
        if entry.case_sensitive {
            assert_eq!(
                norm_apostrophes(slice),
                norm_apostrophes(&entry.alias),
                "case-sensitive alias matched in another case"
            );
        }
        assert!(boundaries_ok(text, r.start, r.end), "match {r:?} {slice:?} is not on word boundaries");
    }
    let got: Vec<TextRange> = found.iter().map(Match::range).collect();
    assert_eq!(got, naive_matches(dict, text, ranges), "the matcher and the obvious matcher disagree on {text:?}");
}

/// `matcher`: the input up to its first blank line is the dictionary, one bucket a line, its
/// names separated by `|`; the rest is the text (the whole input when there is no blank line).
pub fn matcher(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let input = input.as_ref();
    let (names, text) = match input.find("\n\n") {
        Some(i) => (&input[..i], &input[i + 2..]),
        None => (input, input),
    };
    let pairs: Vec<(&str, u32)> = names
        .lines()
        .take(64)
        .enumerate()
        .flat_map(|(i, line)| line.split('|').take(16).map(move |a| (a, i as u32)))
        .collect();
    let dict = Dictionary::new(pairs.iter().copied());
    for e in dict.entries() {
        assert!(!e.alias.is_empty() && e.alias.trim() == e.alias, "alias {:?} is not trimmed", e.alias);
        assert!(!e.targets.is_empty(), "alias {:?} without a target", e.alias);
    }

    let whole = [0..text.len()];
    let found = dict.find(text);
    assert_matches(&dict, text, &whole, &found);

    // Line by line, as scenes are scanned: ranges stop matches, the text around them still
    // decides word boundaries.
    let lines: Vec<TextRange> = lines_with_offsets(text).map(|(s, e, _)| s..e).filter(|r| !r.is_empty()).collect();
    let mut found = Vec::new();
    dict.find_in(text, &lines, &mut found);
    assert_matches(&dict, text, &lines, &found);

    // Fountain cues: a name or alias in any case.
    for line in text.lines().take(64) {
        for &i in dict.lookup_cue(line) {
            let alias = &dict.entry(i).alias;
            assert_eq!(alias.to_lowercase(), line.trim().to_lowercase(), "cue {line:?} found alias {alias:?}");
        }
    }
}

/// `typing`: the input is a scene, a NUL byte, a byte whose low bit picks Fountain (1) or
/// Markdown (0), then edits of four bytes — where (two bytes, little-endian, modulo the text's
/// length), how many bytes to delete, how many to insert — each followed by the inserted bytes
/// (UTF-8, lossily). The scene sits in a small project with names in three scripts.
///
/// After every edit the incrementally updated analysis (which re-scans only the lines and
/// blocks around the edit) must equal a fresh analysis of the same files: the same mentions and
/// the same diagnostics in every file.
pub fn typing(data: &[u8]) {
    use showrunner_model::analysis::{analyze, Analysis, Content, FileKind, SourceFile};
    let (doc, script) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let fountain = script.first().is_some_and(|b| b & 1 == 1);
    let (path, format) = if fountain {
        ("story/fuzz.fountain", SceneFormat::Fountain)
    } else {
        ("story/fuzz.md", SceneFormat::Markdown)
    };
    let file =
        |path: &str, kind, text: &str| SourceFile { path: path.into(), kind, content: Content::Text(text.into()) };
    let mut files = vec![
        file("showrunner.yaml", FileKind::Config, "name: Fuzz\n"),
        file("buckets/zoe.yaml", FileKind::Bucket, "kind: character\nname: Zoë Ångström\naliases: [Zoë, Zoe]\n"),
        file(
            "buckets/lukasz.yaml",
            FileKind::Bucket,
            "kind: character\nname: Łukasz Nowak\naliases: [Łukasz, Mr Nowak]\n",
        ),
        file("buckets/li-lei.yaml", FileKind::Bucket, "kind: character\nname: Li Lei\naliases: [李雷]\n"),
        file("buckets/rock.yaml", FileKind::Bucket, "kind: place\nname: Gannet Rock\naliases: [the rock]\n"),
        file(path, FileKind::Scene(format), &String::from_utf8_lossy(doc)),
    ];
    let scene = files.len() - 1;
    let mut live = analyze("fuzz", files.clone());
    let same = |live: &Analysis, fresh: &Analysis, what: &str| {
        for (i, f) in live.files.iter().enumerate() {
            assert_eq!(live.diagnostics[i], fresh.diagnostics[i], "{what}: diagnostics of {}", f.path);
        }
        for (x, y) in live.scenes.iter().zip(&fresh.scenes) {
            assert_eq!(x.mentions, y.mentions, "{what}: mentions");
            // Read again around the edit, the scene equals a whole parse (word count included).
            assert_eq!(x.scene, y.scene, "{what}: the scene's parse");
        }
    };
    let mut text = files[scene].text().unwrap_or_default().to_string();
    let mut i = 1;
    let mut edits = 0;
    while i + 4 <= script.len() && edits < 64 {
        let h = &script[i..i + 4];
        i += 4;
        let inserted = String::from_utf8_lossy(&script[i..(i + h[3] as usize).min(script.len())]).into_owned();
        i += h[3] as usize;
        edits += 1;
        let floor = |mut at: usize| {
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        let at = floor(u16::from_le_bytes([h[0], h[1]]) as usize % (text.len() + 1));
        let end = floor((at + h[2] as usize).min(text.len()));
        text.replace_range(at..end, &inserted);
        files[scene].content = Content::Text(text.as_str().into());
        live.update_file(scene, Content::Text(text.as_str().into()));
        let fresh = analyze("fuzz", files.clone());
        same(&live, &fresh, &format!("edit {edits}: {at}..{end} → {inserted:?}"));
    }
}
