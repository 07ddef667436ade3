//! `showrunner graph` and `showrunner stats` end to end: the real binary on a fixture project
//! built so that every number can be counted independently from its text (names occur exactly
//! as written, never inside other words), and on the example story. DOT output goes through
//! Graphviz (`dot -Tsvg`) when it is installed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn showrunner(args: &[&str], cwd: &Path) -> std::process::Output {
    showrunner_testkit::run_binary(Path::new(env!("CARGO_BIN_EXE_showrunner")), args, cwd, &[])
}

/// Runs a command that must succeed; returns its stdout.
fn ok(args: &[&str], cwd: &Path) -> String {
    let out = showrunner(args, cwd);
    assert!(
        out.status.success(),
        "showrunner {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn json(args: &[&str], cwd: &Path) -> Value {
    let text = ok(args, cwd);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

// ---------------------------------------------------------------------------------------------
// The fixture: a season, an arc, two acts, chapters ch1–ch8 and ch10 (ch8 has no scene yet), a
// scene under no chapter, Unicode ids and names, a name that needs escaping everywhere.

/// `(chapter, act)`; ch10 sorts after ch8 (digits compare as numbers).
const CHAPTERS: &[(&str, &str)] = &[
    ("ch1", "act-1"),
    ("ch2", "act-1"),
    ("ch3", "act-1"),
    ("ch4", "act-2"),
    ("ch5", "act-2"),
    ("ch6", "act-2"),
    ("ch7", "act-2"),
    ("ch8", "act-2"),
    ("ch10", "act-2"),
];

/// `(id, kind, name, aliases, relations as (type, target))`.
type Entity =
    (&'static str, &'static str, &'static str, &'static [&'static str], &'static [(&'static str, &'static str)]);
const ENTITIES: &[Entity] = &[
    ("zoë", "character", "Zoë", &[], &[("friend_of", "łukasz")]),
    ("łukasz", "character", "Łukasz", &[], &[("knows", "李雷")]),
    ("李雷", "character", "李雷", &[], &[]),
    ("tom", "character", "Tom", &["the keeper"], &[("father_of", "zoë")]),
    ("gannet", "location", "Gannet Rock", &[], &[]),
    ("quay", "location", r#"The "Quay" <&> \ Wharf #2"#, &[], &[("near", "gannet")]),
    ("notes", "note", "Continuity `notes` | misc", &[], &[]),
];

/// Scenes in reading order: `(chapter, id, pov, body)`.
type SceneRow = (Option<&'static str>, &'static str, Option<&'static str>, &'static str);
const SCENES: &[SceneRow] = &[
    (Some("ch1"), "s01", Some("zoë"), "Zoë met Łukasz at Gannet Rock. Tom said nothing.\n"),
    (Some("ch1"), "s02", Some("tom"), "Zoë watched the keeper and 李雷 from the gallery.\n"),
    (Some("ch2"), "s03", Some("łukasz"), "Łukasz counted the oil.\n\nŁukasz counted it again.\n"),
    (Some("ch3"), "s04", Some("zoë"), "Rain all night. Zoë slept badly.\n"),
    (Some("ch4"), "s05", None, "Nobody came to Gannet Rock that week.\n"),
    (Some("ch5"), "s06", Some("tom"), "Tom mended nets by the stove.\n"),
    (Some("ch6"), "s07", None, "# Night\n\nWind, all day and all night.\n"),
    (Some("ch7"), "s08", Some("łukasz"), "Łukasz returned with 李雷 and Zoë.\n"),
    (Some("ch10"), "s09", Some("tom"), "Tom and the keeper are one man at Gannet Rock.\n"),
    (None, "loose", None, "Zoë, alone, wrote it all down.\n"),
];

fn yaml_list(items: &[&str]) -> String {
    format!("[{}]", items.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", "))
}

/// Writes the fixture into `dir`, in the given file order (the output must not depend on it).
fn write_fixture(dir: &Path, reverse: bool) {
    let mut files: Vec<(String, String)> = vec![
        ("showrunner.yaml".into(), "name: 'Harbour \"Test\" #1'\n".into()),
        ("buckets/structure/s1.yaml".into(), "id: s1\nkind: season\nname: Season One\n".into()),
        ("buckets/structure/arc-1.yaml".into(), "id: arc-1\nkind: arc\nname: Arc <One>\nparent: s1\n".into()),
        ("buckets/structure/act-1.yaml".into(), "id: act-1\nkind: act\nname: Act 1\nparent: arc-1\n".into()),
        ("buckets/structure/act-2.yaml".into(), "id: act-2\nkind: act\nname: Act 2\nparent: arc-1\n".into()),
    ];
    for (ch, act) in CHAPTERS {
        files.push((
            format!("buckets/structure/{ch}.yaml"),
            format!("id: {ch}\nkind: chapter\nname: Chapter {}\nparent: {act}\n", &ch[2..]),
        ));
    }
    for (id, kind, name, aliases, relations) in ENTITIES {
        let rels: Vec<String> = relations.iter().map(|(t, to)| format!("{{ type: {t}, target: {to} }}")).collect();
        files.push((
            format!("buckets/{kind}/{id}.yaml"),
            format!(
                "id: {id}\nkind: {kind}\nname: '{}'\naliases: {}\nrelations: [{}]\n",
                name.replace('\'', "''"),
                yaml_list(aliases),
                rels.join(", ")
            ),
        ));
    }
    for (chapter, id, pov, body) in SCENES {
        let mut front = format!("id: {id}\n");
        if let Some(c) = chapter {
            front.push_str(&format!("parent: {c}\n"));
        }
        if let Some(p) = pov {
            front.push_str(&format!("pov: {p}\n"));
        }
        files.push((format!("story/{}/{id}.md", chapter.unwrap_or("loose")), format!("---\n{front}---\n{body}")));
    }
    if reverse {
        files.reverse();
    }
    for (rel, text) in files {
        showrunner_testkit::write_file(dir, &rel, text);
    }
}

fn fixture() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path(), false);
    tmp
}

/// Words as the fixture writes them: a run of non-space characters with a letter or digit is
/// one word, except that every Han character is a word of its own.
fn count_words(body: &str) -> usize {
    body.split_whitespace()
        .map(|token| {
            let han = token.chars().filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c)).count();
            let other = token.chars().any(|c| c.is_alphanumeric() && !('\u{4E00}'..='\u{9FFF}').contains(&c));
            han + usize::from(other)
        })
        .sum()
}

/// Mentions of an entity in a body: plain occurrences of its name and aliases (the fixture
/// never writes one inside another word or another name).
fn count_mentions(body: &str, e: &Entity) -> usize {
    std::iter::once(e.2).chain(e.3.iter().copied()).map(|n| body.matches(n).count()).sum()
}

// ---------------------------------------------------------------------------------------------
// Mermaid: a small structural parser (header, node declarations, edges, classes).

struct Mermaid {
    /// `(node id, label with entity codes decoded)` in declaration order.
    nodes: Vec<(String, String)>,
    /// `(from, to, label)`; `None` for a dotted structure edge.
    edges: Vec<(String, String, Option<String>)>,
}

fn decode(label: &str) -> String {
    label
        .replace("#quot;", "\"")
        .replace("#35;", "#")
        .replace("#lt;", "<")
        .replace("#gt;", ">")
        .replace("#amp;", "&")
        .replace("#124;", "|")
        .replace("#96;", "`")
}

fn is_node_id(s: &str) -> bool {
    s.strip_prefix('n').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// A quoted label, checked to hold no raw quote (Mermaid would end the string there).
fn quoted(s: &str, line: &str) -> String {
    let inner = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or_else(|| panic!("unquoted: {line}"));
    assert!(!inner.contains('"'), "raw quote in a label: {line}");
    decode(inner)
}

fn parse_mermaid(text: &str) -> Mermaid {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header == "flowchart LR" || header.starts_with("graph "), "header: {header}");
    let mut m = Mermaid { nodes: Vec::new(), edges: Vec::new() };
    let mut classes = Vec::new();
    for line in lines {
        let l = line.trim();
        if l.is_empty() || l.starts_with("%%") {
            continue;
        }
        if let Some(rest) = l.strip_prefix("classDef ") {
            let (name, style) = rest.split_once(' ').unwrap_or_else(|| panic!("classDef: {line}"));
            assert!(style.starts_with("fill:#"), "{line}");
            classes.push(name.to_string());
        } else if let Some(rest) = l.strip_prefix("class ") {
            let (members, name) = rest.split_once(' ').unwrap_or_else(|| panic!("class: {line}"));
            assert!(classes.contains(&name.to_string()), "class before its classDef: {line}");
            for id in members.split(',') {
                assert!(m.nodes.iter().any(|(n, _)| n == id), "class of an undeclared node: {line}");
            }
        } else if let Some((a, b)) = l.split_once(" -.-> ") {
            m.edges.push((a.into(), b.into(), None));
        } else if let Some((a, rest)) = l.split_once(" -->|") {
            let (label, b) = rest.rsplit_once("| ").unwrap_or_else(|| panic!("edge: {line}"));
            m.edges.push((a.into(), b.into(), Some(quoted(label, line))));
        } else {
            let open = l.find(['[', '(']).unwrap_or_else(|| panic!("not a node, edge or class: {line}"));
            let (id, shape) = l.split_at(open);
            let label = match (shape.strip_prefix('['), shape.strip_prefix('(')) {
                (Some(s), _) => s.strip_suffix(']'),
                (_, Some(s)) => s.strip_suffix(')'),
                _ => None,
            }
            .unwrap_or_else(|| panic!("node shape: {line}"));
            assert!(is_node_id(id), "node id: {line}");
            assert!(!m.nodes.iter().any(|(n, _)| n == id), "node declared twice: {line}");
            m.nodes.push((id.into(), quoted(label, line)));
        }
    }
    for (a, b, _) in &m.edges {
        for end in [a, b] {
            assert!(is_node_id(end), "edge end {end}");
            assert!(m.nodes.iter().any(|(n, _)| n == end), "edge to an undeclared node {end}");
        }
    }
    m
}

// ---------------------------------------------------------------------------------------------
// DOT: Graphviz itself, when installed.

/// Renders DOT to SVG with Graphviz; `None` (with a notice) when `dot` is not installed.
fn render_svg(dot: &str) -> Option<String> {
    let child =
        Command::new("dot").arg("-Tsvg").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) => {
            eprintln!("notice: `dot` (Graphviz) is not on PATH; checking DOT with our own assertions only");
            return None;
        }
    };
    use std::io::Write;
    child.stdin.take().unwrap().write_all(dot.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dot -Tsvg failed: {}\n{dot}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "dot warned: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Our own checks of DOT: one statement per line, every node once, edges between known nodes.
fn check_dot(dot: &str, graph: &Value) {
    assert!(dot.starts_with("digraph \"") && dot.ends_with("}\n"), "{dot}");
    let nodes = graph["nodes"].as_array().unwrap();
    for n in nodes {
        let id = n["id"].as_str().unwrap();
        let decl = format!("\"{id}\" [label=");
        assert_eq!(dot.lines().filter(|l| l.trim_start().starts_with(&decl)).count(), 1, "{id} declared once");
    }
    let edges = dot.lines().filter(|l| l.contains(" -> ")).count();
    assert_eq!(edges, graph["edges"].as_array().unwrap().len());
    // Quotes in names are escaped: no line has an odd number of unescaped quotes.
    for line in dot.lines() {
        let unescaped = line.replace("\\\\", "").replace("\\\"", "").matches('"').count();
        assert_eq!(unescaped % 2, 0, "unbalanced quotes: {line}");
    }
}

fn svg_count(svg: &str, class: &str) -> usize {
    svg.matches(&format!("class=\"{class}\"")).count()
}

// ---------------------------------------------------------------------------------------------
// graph

fn ids(g: &Value) -> Vec<String> {
    g["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect()
}

fn edges(g: &Value) -> Vec<(String, String, String)> {
    g["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_string();
            (s("from"), s("to"), s("label"))
        })
        .collect()
}

#[test]
fn graph_json_has_structure_then_entities_and_every_relation() {
    let tmp = fixture();
    let g = json(&["graph", ".", "--format", "json"], tmp.path());
    assert_eq!(g["project"], "Harbour \"Test\" #1");
    // The structure layer in reading order: each container, then its scenes; ch10 after ch8.
    let mut want = vec!["s1".to_string(), "arc-1".into()];
    for act in ["act-1", "act-2"] {
        want.push(act.into());
        for (ch, a) in CHAPTERS.iter().filter(|c| c.1 == act) {
            assert_eq!(*a, act);
            want.push(ch.to_string());
            want.extend(SCENES.iter().filter(|s| s.0 == Some(ch)).map(|s| format!("scene:{}", s.1)));
        }
    }
    want.push("scene:loose".into());
    // Entities by kind (character, location, note), then id.
    want.extend(["tom", "zoë", "łukasz", "李雷", "gannet", "quay", "notes"].map(String::from));
    assert_eq!(ids(&g), want);
    let nodes = g["nodes"].as_array().unwrap();
    let node = |id: &str| nodes.iter().find(|n| n["id"] == id).unwrap();
    assert_eq!(node("李雷")["name"], "李雷");
    assert_eq!(node("李雷")["layer"], "entity");
    assert_eq!(node("quay")["name"], r#"The "Quay" <&> \ Wharf #2"#);
    assert_eq!(node("scene:s07")["name"], "Night", "a scene is named by its first heading");
    assert_eq!(node("scene:s01")["path"], "story/ch1/s01.md");
    assert_eq!(node("ch10")["layer"], "structure");

    let es = edges(&g);
    let relations: Vec<&(String, String, String)> = es.iter().filter(|e| e.2 != "contains").collect();
    let mut want_rel: Vec<(String, String, String)> = ENTITIES
        .iter()
        .flat_map(|e| e.4.iter().map(move |(t, to)| (e.0.to_string(), to.to_string(), t.to_string())))
        .collect();
    let mut got: Vec<(String, String, String)> = relations.into_iter().cloned().collect();
    want_rel.sort();
    got.sort();
    assert_eq!(got, want_rel);
    // Structure: every container and every scene in a chapter hangs off its parent.
    let contains = es.iter().filter(|e| e.2 == "contains").count();
    assert_eq!(contains, 1 + 2 + CHAPTERS.len() + SCENES.len() - 1);
    assert!(es.contains(&("ch10".into(), "scene:s09".into(), "contains".into())));
    assert!(es.contains(&("act-2".into(), "ch10".into(), "contains".into())));
}

#[test]
fn graph_dot_renders_with_graphviz() {
    let tmp = fixture();
    let g = json(&["graph", "--format", "json"], tmp.path());
    let dot = ok(&["graph", "--format", "dot"], tmp.path());
    check_dot(&dot, &g);
    for needle in ["\"zoë\"", "\"李雷\"", "label=\"Łukasz\"", r#"label="The \"Quay\" <&> \\ Wharf #2""#] {
        assert!(dot.contains(needle), "{needle} in\n{dot}");
    }
    assert!(dot.contains("\"łukasz\" -> \"李雷\" [label=\"knows\"];"), "{dot}");
    if let Some(svg) = render_svg(&dot) {
        assert_eq!(svg_count(&svg, "node"), g["nodes"].as_array().unwrap().len());
        assert_eq!(svg_count(&svg, "edge"), g["edges"].as_array().unwrap().len());
        for name in ["Zoë", "Łukasz", "李雷", "The &quot;Quay&quot; &lt;&amp;&gt; \\ Wharf #2"] {
            assert!(svg.contains(name), "{name} survives into the SVG");
        }
    }
}

#[test]
fn graph_mermaid_is_well_formed() {
    let tmp = fixture();
    let g = json(&["graph", "--format", "json"], tmp.path());
    let m = parse_mermaid(&ok(&["graph"], tmp.path()));
    let nodes = g["nodes"].as_array().unwrap();
    let names: Vec<String> = nodes.iter().map(|n| n["name"].as_str().unwrap().to_string()).collect();
    let labels: Vec<String> = m.nodes.iter().map(|n| n.1.clone()).collect();
    assert_eq!(labels, names, "every node once, in order, names intact after decoding");
    assert_eq!(m.edges.len(), g["edges"].as_array().unwrap().len());
    // Edges map back to the JSON edges through the node order.
    let id_of = |n: &str| nodes[n[1..].parse::<usize>().unwrap()]["id"].as_str().unwrap().to_string();
    let from_mermaid: Vec<(String, String, String)> =
        m.edges.iter().map(|(a, b, l)| (id_of(a), id_of(b), l.clone().unwrap_or_else(|| "contains".into()))).collect();
    assert_eq!(from_mermaid, edges(&g));
}

/// `(arguments, expected node ids)`: kind filters and neighbourhoods.
const FILTERS: &[(&[&str], &[&str])] = &[
    (&["--kind", "character"], &["tom", "zoë", "łukasz", "李雷"]),
    (&["--kind", "location,note"], &["gannet", "quay", "notes"]),
    (&["--kind", "character", "--kind", "location"], &["tom", "zoë", "łukasz", "李雷", "gannet", "quay"]),
    (
        &["--kind", "chapter", "--kind", "act"],
        &["act-1", "ch1", "ch2", "ch3", "act-2", "ch4", "ch5", "ch6", "ch7", "ch8", "ch10"],
    ),
    (&["--around", "zoë"], &["tom", "zoë", "łukasz"]),
    (&["--around", "zoë", "--depth", "2"], &["tom", "zoë", "łukasz", "李雷"]),
    (&["--around", "zoë", "--depth", "0"], &["zoë"]),
    (&["--around", "s05"], &["ch4", "scene:s05"]),
    (&["--around", "scene:s05", "--depth", "2"], &["act-2", "ch4", "scene:s05"]),
    (&["--around", "quay", "--kind", "character"], &["quay"]),
    (&["--around", "tom", "--depth", "3", "--kind", "character"], &["tom", "zoë", "łukasz", "李雷"]),
];

#[test]
fn graph_filters_by_kind_and_neighbourhood() {
    let tmp = fixture();
    for (args, want) in FILTERS {
        let mut all = vec!["graph", "--format", "json"];
        all.extend_from_slice(args);
        let g = json(&all, tmp.path());
        assert_eq!(ids(&g), *want, "{args:?}");
        // Edges only between kept nodes, and the same picture in Mermaid.
        let kept = ids(&g);
        for (a, b, _) in edges(&g) {
            assert!(kept.contains(&a) && kept.contains(&b), "{args:?}: {a} -> {b}");
        }
        all[2] = "mermaid";
        let m = parse_mermaid(&ok(&all, tmp.path()));
        assert_eq!(m.nodes.len(), want.len(), "{args:?}");
        assert_eq!(m.edges.len(), g["edges"].as_array().unwrap().len(), "{args:?}");
    }
    // Mistakes are explained.
    for (args, message) in [
        (&["graph", "--kind", "charcter"][..], "no kind `charcter` in this project: did you mean `character`?"),
        (&["graph", "--around", "zoe"][..], "no bucket or scene `zoe` in this project: did you mean `zoë`?"),
    ] {
        let out = showrunner(args, tmp.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    let out = showrunner(&["graph", "--depth", "2"], tmp.path());
    assert!(!out.status.success(), "--depth needs --around");
}

#[test]
fn output_is_identical_across_runs_and_file_orders() {
    let a = fixture();
    let b = tempfile::tempdir().unwrap();
    write_fixture(b.path(), true);
    for args in [
        &["graph", "--format", "json"][..],
        &["graph", "--format", "dot"],
        &["graph", "--format", "mermaid"],
        &["stats", "--format", "json"],
        &["stats", "--format", "text"],
        &["stats", "--gap", "1", "--format", "json"],
    ] {
        let first = ok(args, a.path());
        assert_eq!(ok(args, a.path()), first, "{args:?} twice");
        assert_eq!(ok(args, b.path()), first, "{args:?} with files written in another order");
    }
}

// ---------------------------------------------------------------------------------------------
// stats

/// Independently computed: words and mentions per scene, from the fixture's text.
struct Expected {
    words: Vec<usize>,
    /// entity id → mentions per scene (reading order).
    mentions: BTreeMap<&'static str, Vec<usize>>,
}

fn expected() -> Expected {
    Expected {
        words: SCENES.iter().map(|s| count_words(s.3)).collect(),
        mentions: ENTITIES.iter().map(|e| (e.0, SCENES.iter().map(|s| count_mentions(s.3, e)).collect())).collect(),
    }
}

/// The heatmap column of a scene: its chapter's place among CHAPTERS, or the last column.
fn column(scene: &SceneRow) -> usize {
    scene.0.map_or(CHAPTERS.len(), |c| CHAPTERS.iter().position(|x| x.0 == c).unwrap())
}

#[test]
fn stats_match_counts_taken_from_the_text() {
    let tmp = fixture();
    let s = json(&["stats", "--format", "json"], tmp.path());
    let exp = expected();
    assert_eq!(s["project"], "Harbour \"Test\" #1");

    // Scenes in reading order, with their words.
    let scenes = s["scenes"].as_array().unwrap();
    let got: Vec<(&str, u64)> =
        scenes.iter().map(|x| (x["id"].as_str().unwrap(), x["words"].as_u64().unwrap())).collect();
    let want: Vec<(&str, u64)> = SCENES.iter().zip(&exp.words).map(|(x, w)| (x.1, *w as u64)).collect();
    assert_eq!(got, want);
    for (x, row) in scenes.iter().zip(SCENES) {
        assert_eq!(x["chapter"].as_str(), row.0, "{}", row.1);
        assert_eq!(x["pov"].as_str(), row.2, "{}", row.1);
    }
    let total: usize = exp.words.iter().sum();
    assert_eq!(s["words"], total);

    // Containers: words and scenes summed from the table.
    let in_act = |act: &str, row: &SceneRow| row.0.is_some_and(|c| CHAPTERS.iter().any(|x| x.0 == c && x.1 == act));
    let sum = |pred: &dyn Fn(&SceneRow) -> bool| -> (usize, usize) {
        SCENES.iter().zip(&exp.words).filter(|(r, _)| pred(r)).fold((0, 0), |(w, n), (_, x)| (w + x, n + 1))
    };
    let structure = s["structure"].as_array().unwrap();
    let row = |id: &str| structure.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("{id}"));
    let check = |id: &str, (words, scenes): (usize, usize)| {
        assert_eq!(row(id)["words"], words, "{id} words");
        assert_eq!(row(id)["scenes"], scenes, "{id} scenes");
    };
    check("s1", sum(&|r| r.0.is_some()));
    check("arc-1", sum(&|r| r.0.is_some()));
    check("act-1", sum(&|r| in_act("act-1", r)));
    check("act-2", sum(&|r| in_act("act-2", r)));
    for (ch, _) in CHAPTERS {
        check(ch, sum(&|r| r.0 == Some(ch)));
    }
    assert_eq!(row("ch8")["words"], 0);
    assert_eq!(row("ch10")["depth"], 3);
    assert_eq!(row("act-2")["parent"], "arc-1");

    // Heatmap columns: every chapter in reading order (ch10 last), then the loose scene.
    let chapters = s["chapters"].as_array().unwrap();
    let cols: Vec<Value> = chapters.iter().map(|c| c["id"].clone()).collect();
    let mut want_cols: Vec<Value> = CHAPTERS.iter().map(|c| Value::from(c.0)).collect();
    want_cols.push(Value::Null);
    assert_eq!(cols, want_cols);
    assert_eq!(chapters.last().unwrap()["words"], exp.words[SCENES.len() - 1]);

    // Mentions per chapter, totals, scenes, first and last appearance.
    let entities = s["entities"].as_array().unwrap();
    assert_eq!(entities.len(), ENTITIES.len());
    for e in ENTITIES {
        let got = entities.iter().find(|x| x["id"] == e.0).unwrap_or_else(|| panic!("{}", e.0));
        let per_scene = &exp.mentions[e.0];
        let mut per_chapter = vec![0usize; CHAPTERS.len() + 1];
        for (row, n) in SCENES.iter().zip(per_scene) {
            per_chapter[column(row)] += n;
        }
        assert_eq!(got["per_chapter"], serde_json::json!(per_chapter), "{}", e.0);
        assert_eq!(got["mentions"], per_scene.iter().sum::<usize>(), "{}", e.0);
        assert_eq!(got["scenes"], per_scene.iter().filter(|n| **n > 0).count(), "{}", e.0);
        let first = SCENES.iter().zip(per_scene).find(|(_, n)| **n > 0).map(|(r, _)| r.1);
        let last = SCENES.iter().zip(per_scene).rfind(|(_, n)| **n > 0).map(|(r, _)| r.1);
        assert_eq!(got["first"].as_str(), first, "{}", e.0);
        assert_eq!(got["last"].as_str(), last, "{}", e.0);
        assert_eq!(got["name"], e.2);
    }
    // Order: by first appearance, the busier first on a tie, the unmentioned last.
    let order: Vec<&str> = entities.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(order, ["tom", "zoë", "łukasz", "gannet", "李雷", "notes", "quay"]);

    // Scenes per POV: most scenes first, then by id; no POV last.
    let mut pov: BTreeMap<Option<&str>, (usize, usize)> = BTreeMap::new();
    for (row, w) in SCENES.iter().zip(&exp.words) {
        let slot = pov.entry(row.2).or_default();
        slot.0 += 1;
        slot.1 += w;
    }
    let mut want_pov: Vec<(Option<&str>, (usize, usize))> = pov.into_iter().collect();
    want_pov.sort_by(|a, b| a.0.is_none().cmp(&b.0.is_none()).then(b.1 .0.cmp(&a.1 .0)).then(a.0.cmp(&b.0)));
    let got_pov: Vec<(Option<&str>, (usize, usize))> = s["pov"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["pov"].as_str(), (p["scenes"].as_u64().unwrap() as usize, p["words"].as_u64().unwrap() as usize)))
        .collect();
    assert_eq!(got_pov, want_pov);
    assert_eq!(s["pov"][0]["name"], "Tom");
}

/// Gaps computed from the table: chapters with a scene (not ch8, not the loose column), and an
/// absence of more than `gap` of them between two appearances.
fn expected_gaps(gap: usize) -> Vec<(String, String, String, usize)> {
    let exp = expected();
    let written: Vec<&str> = CHAPTERS.iter().map(|c| c.0).filter(|c| SCENES.iter().any(|s| s.0 == Some(c))).collect();
    let mut out = Vec::new();
    // In the order stats lists entities.
    for id in ["tom", "zoë", "łukasz", "gannet", "李雷", "notes", "quay"] {
        let seen: Vec<usize> = written
            .iter()
            .enumerate()
            .filter(|(_, c)| SCENES.iter().zip(&exp.mentions[id]).any(|(r, n)| r.0 == Some(c) && *n > 0))
            .map(|(i, _)| i)
            .collect();
        for w in seen.windows(2) {
            if w[1] - w[0] - 1 > gap {
                out.push((id.to_string(), written[w[0]].to_string(), written[w[1]].to_string(), w[1] - w[0] - 1));
            }
        }
    }
    out
}

#[test]
fn stats_gaps_follow_the_threshold() {
    let tmp = fixture();
    for gap in [None, Some(0), Some(1), Some(2), Some(4), Some(10)] {
        let n = gap.unwrap_or(3);
        let arg = n.to_string();
        let mut args = vec!["stats", "--format", "json"];
        if gap.is_some() {
            args.extend(["--gap", &arg]);
        }
        let s = json(&args, tmp.path());
        assert_eq!(s["gap"], n);
        let got: Vec<(String, String, String, usize)> = s["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let t = |k: &str| g[k].as_str().unwrap().to_string();
                (t("entity"), t("after"), t("resumes"), g["chapters"].as_u64().unwrap() as usize)
            })
            .collect();
        assert_eq!(got, expected_gaps(n), "--gap {n}");
    }
    // The default: Łukasz (ch2 → ch7) and 李雷 (ch1 → ch7) vanish for more than 3 chapters;
    // Gannet Rock's ch4 → ch10 is 3 written chapters (ch8 has no scene yet), so it is not a gap.
    let names: Vec<String> = expected_gaps(3).into_iter().map(|g| g.0).collect();
    assert_eq!(names, ["łukasz", "李雷"]);
}

#[test]
fn stats_text_is_a_table_with_a_heatmap() {
    let tmp = fixture();
    let text = ok(&["stats"], tmp.path());
    let s = json(&["stats", "--format", "json"], tmp.path());
    let total = s["words"].as_u64().unwrap();
    assert!(text.starts_with(&format!("Harbour \"Test\" #1 · {total} words · 10 scenes · 9 chapters\n")), "{text}");
    assert!(text.contains("\n        Chapter 10 "), "chapters indented under their act:\n{text}");
    assert!(text.contains("\n          · s09 "), "{text}");
    assert!(text.contains("\n  Tom (tom) "), "{text}");
    // One heatmap row per entity: a glyph per chapter scaled to the row's busiest, blank for zero.
    let glyphs = ['▁', '▂', '▃', '▅', '▇'];
    for e in s["entities"].as_array().unwrap() {
        let counts: Vec<u64> = e["per_chapter"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
        let max = counts.iter().copied().max().unwrap();
        let cells: String = counts
            .iter()
            .map(|&n| if n == 0 { ' ' } else { glyphs[((n * 5).div_ceil(max) as usize).clamp(1, 5) - 1] })
            .collect();
        let name = e["name"].as_str().unwrap();
        let short: String = name.chars().take(10).collect();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("  {short}")) && l.contains(&format!("  {cells}  ")))
            .unwrap_or_else(|| panic!("no heatmap row `{cells}` for {name}:\n{text}"));
        assert!(line.contains(&format!(" {} ", e["mentions"])), "{line}");
    }
    // The header numbers the 10 columns (9 chapters and the loose scenes).
    assert!(text.contains("         1\n"), "{text}");
    assert!(text.contains("1234567890  mentions  scenes  first … last\n"), "{text}");
    assert!(text.contains("Gaps (absent for more than 3 chapters between appearances)\n  Łukasz (łukasz): 4 chapters between ch2 and ch7\n  李雷 (李雷): 5 chapters between ch1 and ch7\n"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// The example story, and where the commands look for a project.

fn example() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    ok(&["init", "story", "--example"], tmp.path());
    let dir = tmp.path().join("story");
    (tmp, dir)
}

#[test]
fn example_story_pictures() {
    let (tmp, dir) = example();
    let g = json(&["graph", "--format", "json"], &dir);
    let dot = ok(&["graph", "--format", "dot"], &dir);
    check_dot(&dot, &g);
    if let Some(svg) = render_svg(&dot) {
        assert_eq!(svg_count(&svg, "node"), g["nodes"].as_array().unwrap().len());
        for name in ["Zoë Carrow", "Łukasz Nowak", "李雷"] {
            assert!(svg.contains(name), "{name}");
        }
    }
    let m = parse_mermaid(&ok(&["graph", "--format", "mermaid"], &dir));
    assert_eq!(m.nodes.len(), g["nodes"].as_array().unwrap().len());
    assert!(edges(&g).contains(&("alice".into(), "tom".into(), "daughter_of".into())));
    // The screenplay is a scene of chapter 1, named by its title page.
    assert!(edges(&g).contains(&("ch01".into(), "scene:episode-01".into(), "contains".into())));

    let s = json(&["stats", "--format", "json"], &dir);
    let scenes = s["scenes"].as_array().unwrap();
    assert_eq!(scenes.len(), 13);
    let sum: u64 = scenes.iter().map(|x| x["words"].as_u64().unwrap()).sum();
    assert_eq!(s["words"], sum);
    assert_eq!(s["structure"][0]["id"], "season-1");
    assert_eq!(s["structure"][0]["words"], sum);
    let chapters: Vec<&str> = s["chapters"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(chapters, ["ch01", "ch02", "ch03", "ch04"]);
    for e in s["entities"].as_array().unwrap() {
        let per: u64 = e["per_chapter"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum();
        assert_eq!(e["mentions"], per, "{}", e["id"]);
        let scene_mentions = e["scenes"].as_u64().unwrap();
        assert!(scene_mentions <= 13);
    }
    // Every mention of every scene lands in exactly one entity's row.
    let mentions: u64 = scenes.iter().map(|x| x["mentions"].as_u64().unwrap()).sum();
    let by_entity: u64 = s["entities"].as_array().unwrap().iter().map(|e| e["mentions"].as_u64().unwrap()).sum();
    assert_eq!(mentions, by_entity);
    let alice = s["entities"].as_array().unwrap().iter().find(|e| e["id"] == "alice").unwrap();
    assert_eq!(alice["first"], "arrival");

    // From a folder inside the project, and from the folder holding it.
    assert_eq!(json(&["stats", "--format", "json"], &dir.join("story/ch02")), s);
    assert_eq!(json(&["stats", "story", "--format", "json"], tmp.path()), s);
    // A folder holding two projects asks which one.
    ok(&["init", "second"], tmp.path());
    let out = showrunner(&["graph", "."], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds 2 projects; name one of them: second, story"), "{err}");
}
