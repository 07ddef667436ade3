//! The story as a graph, for pictures: buckets as nodes (by kind), their relations as labelled
//! edges, and the structure tree (season → arc → act → chapter → scene) as a second layer.
//!
//! [`Structure`] is the structure tree in reading order; [`crate::stats`] reads it too. [`graph`]
//! builds the plain data (what `showrunner graph --format json` prints), filtered by kind and
//! by a neighbourhood; [`to_mermaid`] and [`to_dot`] draw it. Everything comes out in a stable
//! order, so the same project always gives the same bytes.
//!
//! ```
//! use showrunner_context::graph::{graph, to_dot, GraphOptions};
//! use showrunner_model::analysis::{analyze, Content, FileKind, SourceFile};
//!
//! let file = |path: &str, kind, text: &str| SourceFile { path: path.into(), kind, content: Content::Text(text.into()) };
//! let analysis = analyze("demo", vec![
//!     file("buckets/zoe.yaml", FileKind::Bucket, "kind: character\nname: Zoë\nrelations: [{ type: friend_of, target: tom }]\n"),
//!     file("buckets/tom.yaml", FileKind::Bucket, "kind: character\nname: Tom\n"),
//! ]);
//! let g = graph(&analysis, &GraphOptions::default()).unwrap();
//! assert_eq!(g.edges[0].label, "friend_of");
//! assert!(to_dot(&g).contains("\"zoe\" -> \"tom\" [label=\"friend_of\"]"));
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;

use serde::Serialize;
use showrunner_model::analysis::Analysis;
use showrunner_model::id;
use showrunner_model::kind::{structure_level, BUILTIN_KINDS};
use showrunner_model::scene::Scene;
use showrunner_model::story::{natural_cmp, Story};

/// Scene nodes are named `scene:ID`: `:` never occurs in a bucket id, so the two id namespaces
/// (a scene `lighthouse` beside a bucket `lighthouse`) cannot collide.
pub const SCENE_PREFIX: &str = "scene:";

/// One structure bucket in the tree.
#[derive(Debug, Clone)]
pub struct StructureNode {
    /// Index into `Analysis::buckets`.
    pub bucket: usize,
    /// Index into [`Structure::nodes`].
    pub parent: Option<usize>,
    /// 0 for a root.
    pub depth: usize,
    /// Scenes directly under this node, in reading order (indices into `Analysis::scenes`).
    pub scenes: Vec<usize>,
}

/// The structure tree: structure buckets in reading order (a pre-order walk), each with the
/// scenes directly under it. It follows the rules of [`Story`]: a parent counts when it is a
/// structure bucket of an outer level; siblings sort by id (digits as numbers), roots by level
/// first. A bucket whose id another bucket already has (SR012) is left out.
#[derive(Debug, Clone)]
pub struct Structure {
    pub nodes: Vec<StructureNode>,
    /// Scenes outside the tree (no parent, or a parent that is not a structure bucket), in
    /// reading order.
    pub loose_scenes: Vec<usize>,
}

impl Structure {
    pub fn new(analysis: &Analysis, story: &Story) -> Structure {
        let buckets = &analysis.buckets;
        let first = |i: usize| analysis.by_id.get(&buckets[i].bucket.id.value) == Some(&(i as u32));
        let mut kids: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut roots = Vec::new();
        for (i, b) in buckets.iter().enumerate() {
            let Some(level) = structure_level(&b.bucket.kind.value) else { continue };
            if !first(i) {
                continue;
            }
            let parent = b.bucket.parent.as_ref().and_then(|p| analysis.by_id.get(&p.value)).map(|&p| p as usize);
            match parent.filter(|&p| structure_level(&buckets[p].bucket.kind.value).is_some_and(|pl| pl < level)) {
                Some(p) => kids.entry(p).or_default().push(i),
                None => roots.push(i),
            }
        }
        let id_of = |i: &usize| buckets[*i].bucket.id.value.as_str();
        roots.sort_by(|a, b| {
            let (la, lb) =
                (structure_level(&buckets[*a].bucket.kind.value), structure_level(&buckets[*b].bucket.kind.value));
            la.cmp(&lb).then_with(|| natural_cmp(id_of(a), id_of(b)))
        });
        for list in kids.values_mut() {
            list.sort_by(|a, b| natural_cmp(id_of(a), id_of(b)));
        }
        let mut scenes_of: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut loose_scenes = Vec::new();
        for &s in &story.order {
            let parent = analysis.scenes[s].scene.parent.as_ref().and_then(|p| analysis.by_id.get(&p.value));
            match parent.map(|&p| p as usize).filter(|&p| structure_level(&buckets[p].bucket.kind.value).is_some()) {
                Some(p) => scenes_of.entry(p).or_default().push(s),
                None => loose_scenes.push(s),
            }
        }
        let mut nodes = Vec::new();
        // Levels strictly grow downwards, so the walk cannot loop; the stack keeps it iterative.
        let mut stack: Vec<(usize, Option<usize>, usize)> = roots.iter().rev().map(|&r| (r, None, 0)).collect();
        while let Some((bucket, parent, depth)) = stack.pop() {
            let me = nodes.len();
            nodes.push(StructureNode { bucket, parent, depth, scenes: scenes_of.remove(&bucket).unwrap_or_default() });
            if let Some(children) = kids.get(&bucket) {
                stack.extend(children.iter().rev().map(|&c| (c, Some(me), depth + 1)));
            }
        }
        Structure { nodes, loose_scenes }
    }
}

/// Which layer a node or an edge belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(rename = "GraphLayer"))]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Season, arc, act, chapter and scene nodes, and the edges from a container to what it holds.
    Structure,
    /// Every other bucket (characters, places, research …) as a node.
    Entity,
    /// A bucket's `relations` (and a grouping `parent`, as `part_of`).
    Relation,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Node {
    /// The bucket id, or `scene:` and the scene id.
    pub id: String,
    /// The bucket's kind, or `scene`.
    pub kind: String,
    /// The bucket's name, or the scene's name ([`scene_name`]).
    pub name: String,
    pub layer: Layer,
    /// The file, relative to the project root.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// The relation type; `contains` for structure edges.
    pub label: String,
    pub layer: Layer,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Graph {
    pub project: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// What to keep of the graph.
#[derive(Debug, Clone, Default)]
pub struct GraphOptions {
    /// Keep only nodes of these kinds (`scene` for scenes); empty keeps every kind.
    pub kinds: Vec<String>,
    /// Keep only nodes within `depth` edges of this node (either direction, any layer).
    pub around: Option<String>,
    pub depth: usize,
}

/// A filter named something the project does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    what: &'static str,
    name: String,
    suggestion: Option<String>,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no {} `{}` in this project", self.what, self.name)?;
        if let Some(s) = &self.suggestion {
            write!(f, ": did you mean `{s}`?")?;
        }
        Ok(())
    }
}

impl std::error::Error for GraphError {}

/// The rank of a kind in node order: built-in kinds in the spec's order, then custom ones.
fn kind_rank(kind: &str) -> (usize, &str) {
    (BUILTIN_KINDS.iter().position(|k| *k == kind).unwrap_or(BUILTIN_KINDS.len()), kind)
}

/// The scene node id of every scene (index into `Analysis::scenes`). A scene id used twice
/// (SR012) gets `~2`, `~3` … in reading order, so every node id stays unique.
fn scene_node_ids(analysis: &Analysis, story: &Story) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut ids = vec![String::new(); analysis.scenes.len()];
    for &s in &story.order {
        let id = analysis.scenes[s].scene.id.value.as_str();
        let n = seen.entry(id).or_default();
        *n += 1;
        ids[s] = if *n == 1 { format!("{SCENE_PREFIX}{id}") } else { format!("{SCENE_PREFIX}{id}~{n}") };
    }
    ids
}

/// What a scene is called in a picture: its `title`, else its first Markdown heading, else its id.
pub fn scene_name(scene: &Scene) -> String {
    let heading = scene.headings.iter().find(|h| h.level > 0).map(|h| h.text.clone());
    scene
        .title
        .clone()
        .or(heading)
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| scene.id.value.clone())
}

/// The whole graph of a project, then filtered by `opts`.
pub fn graph(analysis: &Analysis, opts: &GraphOptions) -> Result<Graph, GraphError> {
    let story = Story::new(analysis);
    let structure = Structure::new(analysis, &story);
    let buckets = &analysis.buckets;
    let path_of_bucket = |i: usize| analysis.files[buckets[i].file].path.clone();
    let scene_ids = scene_node_ids(analysis, &story);
    let mut nodes = Vec::new();
    let mut edges = Vec::new();

    // The structure layer, in reading order: each container, then the scenes it holds.
    let scene_node = |s: usize| {
        let scene = &analysis.scenes[s].scene;
        Node {
            id: scene_ids[s].clone(),
            kind: "scene".into(),
            name: scene_name(scene),
            layer: Layer::Structure,
            path: analysis.files[analysis.scenes[s].file].path.clone(),
        }
    };
    for n in &structure.nodes {
        let b = &buckets[n.bucket].bucket;
        nodes.push(Node {
            id: b.id.value.clone(),
            kind: b.kind.value.clone(),
            name: b.name.value.clone(),
            layer: Layer::Structure,
            path: path_of_bucket(n.bucket),
        });
        if let Some(p) = n.parent {
            let parent = &buckets[structure.nodes[p].bucket].bucket.id.value;
            edges.push(Edge {
                from: parent.clone(),
                to: b.id.value.clone(),
                label: "contains".into(),
                layer: Layer::Structure,
            });
        }
        for &s in &n.scenes {
            nodes.push(scene_node(s));
            edges.push(Edge {
                from: b.id.value.clone(),
                to: scene_ids[s].clone(),
                label: "contains".into(),
                layer: Layer::Structure,
            });
        }
    }
    nodes.extend(structure.loose_scenes.iter().map(|&s| scene_node(s)));

    // The entity layer: by kind, then id; each bucket's relations as it wrote them.
    let mut entities: Vec<usize> = (0..buckets.len())
        .filter(|&i| structure_level(&buckets[i].bucket.kind.value).is_none())
        .filter(|&i| analysis.by_id.get(&buckets[i].bucket.id.value) == Some(&(i as u32)))
        .collect();
    entities.sort_by(|&a, &b| {
        kind_rank(&buckets[a].bucket.kind.value)
            .cmp(&kind_rank(&buckets[b].bucket.kind.value))
            .then_with(|| natural_cmp(&buckets[a].bucket.id.value, &buckets[b].bucket.id.value))
    });
    for &i in &entities {
        let b = &buckets[i].bucket;
        nodes.push(Node {
            id: b.id.value.clone(),
            kind: b.kind.value.clone(),
            name: b.name.value.clone(),
            layer: Layer::Entity,
            path: path_of_bucket(i),
        });
    }
    // Relations of every bucket (structure ones too), to targets that exist (SR004 otherwise).
    let mut sources: Vec<usize> = structure.nodes.iter().map(|n| n.bucket).collect();
    sources.extend(&entities);
    for &i in &sources {
        let b = &buckets[i].bucket;
        for r in &b.relations {
            if analysis.by_id.contains_key(&r.target.value) {
                edges.push(Edge {
                    from: b.id.value.clone(),
                    to: r.target.value.clone(),
                    label: r.rel_type.clone(),
                    layer: Layer::Relation,
                });
            }
        }
        // A grouping parent (a character inside a faction): not structure, but a link worth drawing.
        let grouping = structure_level(&b.kind.value).is_none();
        if let Some(p) = b.parent.as_ref().filter(|p| grouping && analysis.by_id.contains_key(&p.value)) {
            edges.push(Edge {
                from: b.id.value.clone(),
                to: p.value.clone(),
                label: "part_of".into(),
                layer: Layer::Relation,
            });
        }
    }

    let mut g = Graph { project: analysis.config.name.clone(), nodes, edges };
    filter(&mut g, analysis, opts)?;
    Ok(g)
}

/// Applies the neighbourhood first (paths may pass through any kind), then the kinds; the
/// centre of `around` always stays.
fn filter(g: &mut Graph, analysis: &Analysis, opts: &GraphOptions) -> Result<(), GraphError> {
    let index: HashMap<&str, usize> = g.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    let mut keep = vec![true; g.nodes.len()];
    let mut centre = None;
    if let Some(around) = &opts.around {
        let scene_id = format!("{SCENE_PREFIX}{around}");
        let Some(&c) = index.get(around.as_str()).or_else(|| index.get(scene_id.as_str())) else {
            return Err(GraphError {
                what: "bucket or scene",
                name: around.clone(),
                suggestion: id::closest(
                    around,
                    g.nodes.iter().map(|n| n.id.strip_prefix(SCENE_PREFIX).unwrap_or(&n.id)),
                )
                .map(str::to_string),
            });
        };
        centre = Some(c);
        let mut adjacent: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
        for e in &g.edges {
            if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
                adjacent[a].push(b);
                adjacent[b].push(a);
            }
        }
        let mut dist = vec![usize::MAX; g.nodes.len()];
        dist[c] = 0;
        let mut queue = VecDeque::from([c]);
        while let Some(n) = queue.pop_front() {
            if dist[n] == opts.depth {
                continue;
            }
            for &m in &adjacent[n] {
                if dist[m] == usize::MAX {
                    dist[m] = dist[n] + 1;
                    queue.push_back(m);
                }
            }
        }
        keep = dist.iter().map(|d| *d != usize::MAX).collect();
    }
    if !opts.kinds.is_empty() {
        for k in &opts.kinds {
            if k != "scene" && !analysis.config.kinds.contains(k) {
                let known = analysis.config.kinds.names().chain(["scene"]);
                return Err(GraphError {
                    what: "kind",
                    name: k.clone(),
                    suggestion: id::closest(k, known).map(str::to_string),
                });
            }
        }
        for (i, n) in g.nodes.iter().enumerate() {
            if Some(i) != centre && !opts.kinds.contains(&n.kind) {
                keep[i] = false;
            }
        }
    }
    let kept: std::collections::HashSet<&str> =
        g.nodes.iter().zip(&keep).filter(|(_, k)| **k).map(|(n, _)| n.id.as_str()).collect();
    let edges =
        g.edges.iter().filter(|e| kept.contains(e.from.as_str()) && kept.contains(e.to.as_str())).cloned().collect();
    let mut k = keep.iter();
    g.nodes.retain(|_| *k.next().unwrap_or(&false));
    g.edges = edges;
    Ok(())
}

/// Fill colours by kind (the same in both drawings); custom kinds share a neutral one.
fn colour(kind: &str) -> &'static str {
    match kind {
        "character" => "#f9d5a7",
        "location" => "#b8e0c8",
        "item" => "#f4e19c",
        "faction" => "#e6b8d9",
        "research" => "#bcd3f2",
        "note" => "#e3e3e3",
        "season" => "#c9c0e8",
        "arc" => "#d3cbef",
        "act" => "#ddd7f3",
        "chapter" => "#e8e4f8",
        "scene" => "#ffffff",
        _ => "#d9e7e4",
    }
}

/// A label inside Mermaid's `"…"`: quotes, `#`, angle brackets, `&`, `|` and backticks as entity
/// codes (Mermaid reads `#…;`), line breaks as spaces.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '|' => out.push_str("#124;"),
            '`' => out.push_str("#96;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A Mermaid class name for a kind: the kind itself when it is plain ASCII, else its number.
fn mermaid_class(kind: &str, n: usize) -> String {
    if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("k_{kind}")
    } else {
        format!("k_{n}")
    }
}

/// Kinds in the order their first node appears.
fn kinds_in_order(g: &Graph) -> Vec<&str> {
    let mut kinds: Vec<&str> = Vec::new();
    for n in &g.nodes {
        if !kinds.contains(&n.kind.as_str()) {
            kinds.push(&n.kind);
        }
    }
    kinds
}

/// The graph as a Mermaid flowchart. Node ids are `n0`, `n1` … (Mermaid ids are fragile:
/// `end`, dashes and most Unicode break them); names are quoted labels; structure edges are
/// dotted, relations solid and labelled; one class (fill colour) per kind.
pub fn to_mermaid(g: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    let ids: HashMap<&str, usize> = g.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    for (i, n) in g.nodes.iter().enumerate() {
        let label = mermaid_text(&n.name);
        if n.kind == "scene" {
            out.push_str(&format!("    n{i}(\"{label}\")\n"));
        } else {
            out.push_str(&format!("    n{i}[\"{label}\"]\n"));
        }
    }
    for e in &g.edges {
        let (Some(a), Some(b)) = (ids.get(e.from.as_str()), ids.get(e.to.as_str())) else { continue };
        match e.layer {
            Layer::Structure => out.push_str(&format!("    n{a} -.-> n{b}\n")),
            _ => out.push_str(&format!("    n{a} -->|\"{}\"| n{b}\n", mermaid_text(&e.label))),
        }
    }
    for (k, kind) in kinds_in_order(g).into_iter().enumerate() {
        let class = mermaid_class(kind, k);
        out.push_str(&format!("    classDef {class} fill:{},stroke:#555\n", colour(kind)));
        let members: Vec<String> =
            g.nodes.iter().enumerate().filter(|(_, n)| n.kind == kind).map(|(i, _)| format!("n{i}")).collect();
        out.push_str(&format!("    class {} {class}\n", members.join(",")));
    }
    out
}

/// A Graphviz quoted string: backslashes and quotes escaped, line breaks as spaces.
fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The graph in Graphviz DOT. Node ids are the bucket ids (`scene:ID` for scenes), quoted; the
/// structure layer sits in its own cluster with dashed edges; relations are labelled.
pub fn to_dot(g: &Graph) -> String {
    let mut out = format!("digraph {} {{\n", dot_quote(&g.project));
    out.push_str("    graph [rankdir=LR, fontname=\"sans-serif\"];\n");
    out.push_str("    node [fontname=\"sans-serif\", style=filled, shape=box];\n");
    out.push_str("    edge [fontname=\"sans-serif\", fontsize=10];\n");
    let node = |n: &Node| {
        let shape = match (n.layer, n.kind.as_str()) {
            (_, "scene") => "note",
            (Layer::Structure, _) => "folder",
            _ => "ellipse",
        };
        format!(
            "{} [label={}, shape={shape}, fillcolor=\"{}\", tooltip={}];\n",
            dot_quote(&n.id),
            dot_quote(&n.name),
            colour(&n.kind),
            dot_quote(&n.kind)
        )
    };
    let structure: Vec<&Node> = g.nodes.iter().filter(|n| n.layer == Layer::Structure).collect();
    if !structure.is_empty() {
        out.push_str("    subgraph cluster_structure {\n        label=\"Structure\";\n        style=dashed;\n");
        for n in structure {
            out.push_str("        ");
            out.push_str(&node(n));
        }
        out.push_str("    }\n");
    }
    for n in g.nodes.iter().filter(|n| n.layer != Layer::Structure) {
        out.push_str("    ");
        out.push_str(&node(n));
    }
    for e in &g.edges {
        let attrs = match e.layer {
            Layer::Structure => "style=dashed, arrowhead=none".to_string(),
            _ => format!("label={}", dot_quote(&e.label)),
        };
        out.push_str(&format!("    {} -> {} [{attrs}];\n", dot_quote(&e.from), dot_quote(&e.to)));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use showrunner_model::analysis::{analyze, Content, FileKind, SourceFile};
    use showrunner_model::scene::SceneFormat;

    fn file(path: &str, text: &str) -> SourceFile {
        let kind = if path.ends_with(".yaml") { FileKind::Bucket } else { FileKind::Scene(SceneFormat::Markdown) };
        SourceFile { path: path.into(), kind, content: Content::Text(text.into()) }
    }

    fn project() -> Analysis {
        analyze(
            "t",
            vec![
                file("buckets/s.yaml", "id: s1\nkind: season\nname: S\n"),
                file("buckets/c10.yaml", "id: ch10\nkind: chapter\nname: C10\nparent: s1\n"),
                file("buckets/c2.yaml", "id: ch2\nkind: chapter\nname: C2\nparent: s1\n"),
                file("buckets/a.yaml", "id: a\nkind: character\nname: A\nrelations: [{ type: knows, target: b }, { type: x, target: nobody }]\n"),
                file("buckets/b.yaml", "id: b\nkind: location\nname: B\nparent: f\n"),
                file("buckets/f.yaml", "id: f\nkind: faction\nname: F\n"),
                file("story/one.md", "---\nparent: ch10\n---\nA.\n"),
                file("story/two.md", "---\nparent: ch2\n---\nB.\n"),
                file("story/loose.md", "Nothing.\n"),
            ],
        )
    }

    fn ids(g: &Graph) -> Vec<&str> {
        g.nodes.iter().map(|n| n.id.as_str()).collect()
    }

    #[test]
    fn structure_in_reading_order_then_entities_by_kind() {
        let g = graph(&project(), &GraphOptions::default()).unwrap();
        assert_eq!(ids(&g), ["s1", "ch2", "scene:two", "ch10", "scene:one", "scene:loose", "a", "b", "f"]);
        let e: Vec<(&str, &str, &str)> =
            g.edges.iter().map(|e| (e.from.as_str(), e.to.as_str(), e.label.as_str())).collect();
        assert_eq!(
            e,
            [
                ("s1", "ch2", "contains"),
                ("ch2", "scene:two", "contains"),
                ("s1", "ch10", "contains"),
                ("ch10", "scene:one", "contains"),
                ("a", "b", "knows"),
                ("b", "f", "part_of"),
            ]
        );
    }

    #[test]
    fn filters() {
        let a = project();
        let opts = |kinds: &[&str], around: Option<&str>, depth| GraphOptions {
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            around: around.map(str::to_string),
            depth,
        };
        assert_eq!(ids(&graph(&a, &opts(&["character", "location"], None, 0)).unwrap()), ["a", "b"]);
        assert_eq!(ids(&graph(&a, &opts(&[], Some("a"), 1)).unwrap()), ["a", "b"]);
        assert_eq!(ids(&graph(&a, &opts(&[], Some("a"), 2)).unwrap()), ["a", "b", "f"]);
        assert_eq!(ids(&graph(&a, &opts(&["faction"], Some("a"), 2)).unwrap()), ["a", "f"]);
        assert_eq!(ids(&graph(&a, &opts(&[], Some("one"), 1)).unwrap()), ["ch10", "scene:one"]);
        let err = graph(&a, &opts(&["chracter"], None, 0)).unwrap_err();
        assert_eq!(err.to_string(), "no kind `chracter` in this project: did you mean `character`?");
        let err = graph(&a, &opts(&[], Some("aa"), 1)).unwrap_err();
        assert!(err.to_string().starts_with("no bucket or scene `aa`"), "{err}");
    }

    #[test]
    fn escaping() {
        assert_eq!(
            mermaid_text("Say \"hi\" #1 <b> & a|b `x`"),
            "Say #quot;hi#quot; #35;1 #lt;b#gt; #amp; a#124;b #96;x#96;"
        );
        assert_eq!(dot_quote("a \"b\" \\c\nd"), "\"a \\\"b\\\" \\\\c d\"");
        assert_eq!(dot_quote("李雷 Zoë"), "\"李雷 Zoë\"");
    }
}
