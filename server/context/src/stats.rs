//! Numbers about a story, for pictures: words per scene and per container (chapter, act, arc,
//! season, project), scenes per POV, and for every entity its mentions per chapter (the
//! heatmap's data), its first and last appearance and the stretches of chapters it is absent
//! from (a continuity hint).
//!
//! [`stats`] returns plain data (what `showrunner stats --format json` prints); [`to_text`]
//! draws it as tables with a small Unicode heatmap. Reading order and structure chains come from
//! [`Story`]; the containers and heatmap columns from [`Structure`], in the same order.
//!
//! Chapters are the heatmap's columns, in reading order, empty ones included; scenes under no
//! chapter share one last column whose `id` is `null`. Gaps are counted in chapters that hold at
//! least one scene (a chapter not yet written is no absence) and only between two appearances.

use std::collections::HashMap;

use serde::Serialize;
use showrunner_model::analysis::Analysis;
use showrunner_model::kind::structure_level;
use showrunner_model::story::{natural_cmp, Story};
use showrunner_model::text::group_digits;

use crate::graph::Structure;

/// How many chapters an entity may be absent before it is reported, by default.
pub const DEFAULT_GAP: usize = 3;

/// The heatmap's glyphs, lightest first; zero is a blank.
pub const HEAT: [char; 5] = ['▁', '▂', '▃', '▅', '▇'];

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Stats {
    pub project: String,
    /// Words in every scene of the project.
    pub words: usize,
    /// Every scene, in reading order.
    pub scenes: Vec<SceneStats>,
    /// Every structure container (season, arc, act, chapter), in reading order (parents first).
    pub structure: Vec<ContainerStats>,
    /// The heatmap's columns, in reading order; `entities[].per_chapter` follows this order.
    pub chapters: Vec<ChapterStats>,
    /// Scenes per point-of-view bucket, most scenes first; `pov: null` for scenes without one.
    pub pov: Vec<PovStats>,
    /// Every bucket that is not structure: by first appearance, then the unmentioned by id.
    pub entities: Vec<EntityStats>,
    /// The `gap` threshold the gaps were found with.
    pub gap: usize,
    /// Entities absent for more than `gap` written chapters between two appearances.
    pub gaps: Vec<Gap>,
    /// Words against the writer's goals, today and in this session (counted from the saved
    /// history: the CLI and the language server fill it in; [`stats`] alone leaves it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goals: Option<crate::goals::Goals>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SceneStats {
    pub id: String,
    pub path: String,
    pub title: Option<String>,
    /// The innermost chapter above the scene.
    pub chapter: Option<String>,
    pub pov: Option<String>,
    pub words: usize,
    /// Mentions of buckets in the scene (Fountain cues included).
    pub mentions: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ContainerStats {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub parent: Option<String>,
    /// 0 for an outermost container.
    pub depth: usize,
    /// Words of every scene below it, at any depth.
    pub words: usize,
    pub scenes: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChapterStats {
    /// `null` for the column of scenes under no chapter.
    pub id: Option<String>,
    pub name: String,
    pub words: usize,
    pub scenes: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PovStats {
    pub pov: Option<String>,
    /// The bucket's name (`null` when there is no POV or the id is unknown).
    pub name: Option<String>,
    pub scenes: usize,
    pub words: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EntityStats {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// Mentions in the whole project.
    pub mentions: usize,
    /// Scenes with at least one mention.
    pub scenes: usize,
    /// Mentions per chapter, in the order of `Stats::chapters`.
    pub per_chapter: Vec<usize>,
    /// The first and last scene (id) mentioning it, in reading order.
    pub first: Option<String>,
    pub last: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Gap {
    pub entity: String,
    pub name: String,
    /// The last chapter it appears in before the gap.
    pub after: String,
    /// The chapter it appears in again.
    pub resumes: String,
    /// Written chapters in between without a mention.
    pub chapters: usize,
}

/// Computes every number for a project; `gap` is the absence (in chapters) worth reporting.
pub fn stats(analysis: &Analysis, gap: usize) -> Stats {
    let story = Story::new(analysis);
    let structure = Structure::new(analysis, &story);
    let buckets = &analysis.buckets;
    let node_of: HashMap<usize, usize> = structure.nodes.iter().enumerate().map(|(n, s)| (s.bucket, n)).collect();

    // Heatmap columns: chapters in reading order, then the scenes under no chapter.
    let mut column_of: HashMap<usize, usize> = HashMap::new();
    let mut chapters: Vec<ChapterStats> = Vec::new();
    for n in &structure.nodes {
        let b = &buckets[n.bucket].bucket;
        if b.kind.value == "chapter" {
            column_of.insert(n.bucket, chapters.len());
            chapters.push(ChapterStats {
                id: Some(b.id.value.clone()),
                name: b.name.value.clone(),
                words: 0,
                scenes: 0,
            });
        }
    }
    let mut containers: Vec<ContainerStats> = structure
        .nodes
        .iter()
        .map(|n| {
            let b = &buckets[n.bucket].bucket;
            ContainerStats {
                id: b.id.value.clone(),
                kind: b.kind.value.clone(),
                name: b.name.value.clone(),
                parent: n.parent.map(|p| buckets[structure.nodes[p].bucket].bucket.id.value.clone()),
                depth: n.depth,
                words: 0,
                scenes: 0,
            }
        })
        .collect();

    let mut scenes = Vec::with_capacity(story.order.len());
    let mut scene_column = Vec::with_capacity(story.order.len());
    let mut total = 0;
    for &s in &story.order {
        let entry = &analysis.scenes[s];
        let scene = &entry.scene;
        let words = scene.word_count;
        total += words;
        let chain = story.chain(analysis, s);
        for b in &chain {
            if let Some(&n) = node_of.get(b) {
                containers[n].words += words;
                containers[n].scenes += 1;
            }
        }
        let chapter = chain.iter().copied().find(|&b| buckets[b].bucket.kind.value == "chapter");
        let column = chapter.and_then(|b| column_of.get(&b)).copied();
        if let Some(c) = column {
            chapters[c].words += words;
            chapters[c].scenes += 1;
        }
        scene_column.push(column);
        scenes.push(SceneStats {
            id: scene.id.value.clone(),
            path: analysis.files[entry.file].path.clone(),
            title: scene.title.clone(),
            chapter: chapter.map(|b| buckets[b].bucket.id.value.clone()),
            pov: scene.pov.as_ref().map(|p| p.value.clone()),
            words,
            mentions: entry.mentions.len(),
        });
    }
    let loose: Vec<usize> = (0..scenes.len()).filter(|&r| scene_column[r].is_none()).collect();
    if !loose.is_empty() {
        let c = chapters.len();
        chapters.push(ChapterStats {
            id: None,
            name: "(no chapter)".into(),
            words: loose.iter().map(|&r| scenes[r].words).sum(),
            scenes: loose.len(),
        });
        for r in loose {
            scene_column[r] = Some(c);
        }
    }

    // Entities: every bucket that is not structure (the first of a duplicated id).
    let mut entity_of = vec![usize::MAX; buckets.len()];
    let mut entities: Vec<EntityStats> = Vec::new();
    for (i, b) in buckets.iter().enumerate() {
        let first = analysis.by_id.get(&b.bucket.id.value) == Some(&(i as u32));
        if first && structure_level(&b.bucket.kind.value).is_none() {
            entity_of[i] = entities.len();
            entities.push(EntityStats {
                id: b.bucket.id.value.clone(),
                kind: b.bucket.kind.value.clone(),
                name: b.bucket.name.value.clone(),
                mentions: 0,
                scenes: 0,
                per_chapter: vec![0; chapters.len()],
                first: None,
                last: None,
            });
        }
    }
    // A duplicate's mentions count for the bucket that owns the id.
    for (i, b) in buckets.iter().enumerate() {
        if entity_of[i] == usize::MAX {
            if let Some(&owner) = analysis.by_id.get(&b.bucket.id.value) {
                entity_of[i] = entity_of[owner as usize];
            }
        }
    }
    let mut first_rank = vec![usize::MAX; entities.len()];
    let mut seen_in = vec![usize::MAX; entities.len()];
    for (rank, &s) in story.order.iter().enumerate() {
        let column = scene_column[rank].unwrap_or(0);
        for m in &analysis.scenes[s].mentions {
            let e = entity_of.get(m.bucket as usize).copied().unwrap_or(usize::MAX);
            if e == usize::MAX {
                continue;
            }
            let ent = &mut entities[e];
            ent.mentions += 1;
            ent.per_chapter[column] += 1;
            if seen_in[e] != rank {
                seen_in[e] = rank;
                ent.scenes += 1;
                if ent.first.is_none() {
                    ent.first = Some(scenes[rank].id.clone());
                    first_rank[e] = rank;
                }
                ent.last = Some(scenes[rank].id.clone());
            }
        }
    }

    // Gaps, over written chapters (the column of scenes under no chapter is not a chapter).
    let written: Vec<usize> =
        (0..chapters.len()).filter(|&c| chapters[c].id.is_some() && chapters[c].scenes > 0).collect();
    let mut order: Vec<usize> = (0..entities.len()).collect();
    order.sort_by(|&a, &b| {
        first_rank[a]
            .cmp(&first_rank[b])
            .then_with(|| entities[b].mentions.cmp(&entities[a].mentions))
            .then_with(|| natural_cmp(&entities[a].id, &entities[b].id))
    });
    let entities: Vec<EntityStats> = order.into_iter().map(|e| entities[e].clone()).collect();
    let mut gaps = Vec::new();
    for e in &entities {
        let present: Vec<usize> =
            written.iter().enumerate().filter(|(_, &c)| e.per_chapter[c] > 0).map(|(w, _)| w).collect();
        for pair in present.windows(2) {
            let missing = pair[1] - pair[0] - 1;
            if missing > gap {
                let id = |w: usize| chapters[written[w]].id.clone().unwrap_or_default();
                gaps.push(Gap {
                    entity: e.id.clone(),
                    name: e.name.clone(),
                    after: id(pair[0]),
                    resumes: id(pair[1]),
                    chapters: missing,
                });
            }
        }
    }

    // Scenes per POV: most scenes first, then by id; scenes without a POV last.
    let mut pov_rows: Vec<PovStats> = Vec::new();
    let mut pov_index: HashMap<Option<&str>, usize> = HashMap::new();
    for s in &scenes {
        let key = s.pov.as_deref();
        let i = *pov_index.entry(key).or_insert_with(|| {
            pov_rows.push(PovStats {
                pov: key.map(str::to_string),
                name: key.and_then(|k| analysis.bucket(k)).map(|b| b.bucket.name.value.clone()),
                scenes: 0,
                words: 0,
            });
            pov_rows.len() - 1
        });
        pov_rows[i].scenes += 1;
        pov_rows[i].words += s.words;
    }
    pov_rows.sort_by(|a, b| {
        a.pov.is_none().cmp(&b.pov.is_none()).then_with(|| b.scenes.cmp(&a.scenes)).then_with(|| a.pov.cmp(&b.pov))
    });

    Stats {
        project: analysis.config.name.clone(),
        words: total,
        scenes,
        structure: containers,
        chapters,
        pov: pov_rows,
        entities,
        gap,
        gaps,
        goals: None,
    }
}

/// The heat glyph for `n` in a row whose busiest cell is `max` (blank for zero).
pub fn heat(n: usize, max: usize) -> char {
    if n == 0 || max == 0 {
        return ' ';
    }
    let level = (n * HEAT.len()).div_ceil(max).clamp(1, HEAT.len());
    HEAT[level - 1]
}

/// Columns a character takes on a terminal: 2 for East Asian wide ones, 0 for combining marks.
fn char_width(c: char) -> usize {
    match c as u32 {
        0x0300..=0x036F | 0x200B..=0x200F | 0xFE00..=0xFE0F => 0,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// `s` cut to at most `w` columns (with `…` when cut), then padded with spaces to `w`.
fn fit(s: &str, w: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    if width(s) > w {
        for c in s.chars() {
            if used + char_width(c) + 1 > w {
                break;
            }
            used += char_width(c);
            out.push(c);
        }
        out.push('…');
        used += 1;
    } else {
        out.push_str(s);
        used = width(s);
    }
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(used)));
    out
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{} {what}s", group_digits(n))
    }
}

/// The widest label of a table, between a floor and a ceiling.
fn label_width<'a>(labels: impl Iterator<Item = &'a str>, floor: usize, ceiling: usize) -> usize {
    labels.map(width).max().unwrap_or(0).clamp(floor, ceiling)
}

/// The statistics as tables for a terminal: structure with words, scenes per POV, chapters,
/// the mention heatmap (one glyph per chapter) and the gaps.
pub fn to_text(s: &Stats) -> String {
    let mut out = String::new();
    let written = s.chapters.iter().filter(|c| c.id.is_some()).count();
    out.push_str(&format!(
        "{} · {} words · {} scenes · {} chapters\n\n",
        s.project,
        group_digits(s.words),
        group_digits(s.scenes.len()),
        group_digits(written)
    ));
    if let Some(g) = &s.goals {
        out.push_str(&crate::goals::to_text(g));
        out.push('\n');
    }

    // Structure, with each container's scenes under it.
    let mut by_chapterless_parent: Vec<&SceneStats> = Vec::new();
    let mut scenes_under: HashMap<&str, Vec<&SceneStats>> = HashMap::new();
    for sc in &s.scenes {
        match &sc.chapter {
            Some(c) => scenes_under.entry(c.as_str()).or_default().push(sc),
            None => by_chapterless_parent.push(sc),
        }
    }
    let mut rows: Vec<(String, usize, Option<usize>)> = Vec::new();
    for c in &s.structure {
        let indent = "  ".repeat(c.depth + 1);
        rows.push((format!("{indent}{}", c.name), c.words, Some(c.scenes)));
        if c.kind == "chapter" {
            for sc in scenes_under.get(c.id.as_str()).into_iter().flatten() {
                rows.push((format!("{indent}  · {}", sc.id), sc.words, None));
            }
        }
    }
    if !by_chapterless_parent.is_empty() {
        let words = by_chapterless_parent.iter().map(|x| x.words).sum();
        rows.push(("  (no chapter)".into(), words, Some(by_chapterless_parent.len())));
        for sc in &by_chapterless_parent {
            rows.push((format!("    · {}", sc.id), sc.words, None));
        }
    }
    rows.push(("  Project".into(), s.words, Some(s.scenes.len())));
    let w = label_width(rows.iter().map(|r| r.0.as_str()), 20, 56);
    out.push_str(&format!("{}  {:>9}  {:>6}\n", fit("Words", w), "words", "scenes"));
    for (label, words, scenes) in &rows {
        let scenes = scenes.map(group_digits).unwrap_or_default();
        let line = format!("{}  {:>9}  {:>6}", fit(label, w), group_digits(*words), scenes);
        out.push_str(line.trim_end());
        out.push('\n');
    }

    // Scenes per POV.
    let pov_label = |p: &PovStats| match (&p.pov, &p.name) {
        (Some(id), Some(name)) => format!("  {name} ({id})"),
        (Some(id), None) => format!("  {id} (unknown)"),
        (None, _) => "  (no POV)".into(),
    };
    let labels: Vec<String> = s.pov.iter().map(pov_label).collect();
    let w = label_width(labels.iter().map(String::as_str), 20, 56);
    out.push_str(&format!("\n{}  {:>9}  {:>6}\n", fit("Scenes per POV", w), "words", "scenes"));
    for (p, label) in s.pov.iter().zip(&labels) {
        out.push_str(&format!("{}  {:>9}  {:>6}\n", fit(label, w), group_digits(p.words), group_digits(p.scenes)));
    }

    // Chapters: the heatmap's columns, numbered.
    if !s.chapters.is_empty() {
        let digits = s.chapters.len().to_string().len();
        let idw = label_width(s.chapters.iter().map(|c| c.id.as_deref().unwrap_or("-")), 2, 24);
        let nw = label_width(s.chapters.iter().map(|c| c.name.as_str()), 8, 40);
        out.push_str("\nChapters\n");
        for (i, c) in s.chapters.iter().enumerate() {
            out.push_str(&format!(
                "  {:>digits$}  {}  {}  {:>9} words, {}\n",
                i + 1,
                fit(c.id.as_deref().unwrap_or("-"), idw),
                fit(&c.name, nw),
                group_digits(c.words),
                plural(c.scenes, "scene")
            ));
        }
    }

    // The heatmap.
    let w = label_width(s.entities.iter().map(|e| e.name.as_str()), 12, 28);
    let cols = s.chapters.len();
    out.push_str(&format!(
        "\nMentions per chapter ({} scaled to each entity's busiest chapter; blank: none)\n",
        HEAT.iter().collect::<String>()
    ));
    let pad = " ".repeat(w + 4);
    if cols >= 10 {
        let tens: String =
            (1..=cols).map(|i| if i % 10 == 0 { char::from(b'0' + ((i / 10) % 10) as u8) } else { ' ' }).collect();
        out.push_str(&format!("{pad}{tens}\n"));
    }
    let units: String = (1..=cols).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
    out.push_str(&format!("{pad}{units}  {:>8}  {:>6}  first … last\n", "mentions", "scenes"));
    for e in &s.entities {
        let max = e.per_chapter.iter().copied().max().unwrap_or(0);
        let cells: String = e.per_chapter.iter().map(|&n| heat(n, max)).collect();
        let span = match (&e.first, &e.last) {
            (Some(f), Some(l)) if f == l => f.clone(),
            (Some(f), Some(l)) => format!("{f} … {l}"),
            _ => "-".into(),
        };
        out.push_str(&format!("{}{}  {cells}  {:>8}  {:>6}  {span}\n", "  ", fit(&e.name, w), e.mentions, e.scenes));
    }

    // Gaps.
    if s.gaps.is_empty() {
        out.push_str(&format!("\nGaps: no entity is absent for more than {} chapters between appearances\n", s.gap));
    } else {
        out.push_str(&format!("\nGaps (absent for more than {} chapters between appearances)\n", s.gap));
        for g in &s.gaps {
            out.push_str(&format!(
                "  {} ({}): {} between {} and {}\n",
                g.name,
                g.entity,
                plural(g.chapters, "chapter"),
                g.after,
                g.resumes
            ));
        }
    }
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

    #[test]
    fn heat_levels() {
        let row: String = [0, 1, 2, 3, 4, 5, 10].iter().map(|&n| heat(n, 10)).collect();
        assert_eq!(row, " ▁▁▂▂▃▇");
        assert_eq!(heat(1, 1), '▇');
        assert_eq!(heat(0, 0), ' ');
    }

    #[test]
    fn fitting_counts_wide_characters() {
        assert_eq!(fit("李雷", 6), "李雷  ");
        assert_eq!(fit("Zoë", 5), "Zoë  ");
        assert_eq!(fit("Łukasz Nowak", 8), "Łukasz …");
        assert_eq!(width(&fit("李雷李雷李雷", 7)), 7);
    }

    #[test]
    fn counts_columns_and_gaps() {
        let mut files = vec![
            file("buckets/s.yaml", "id: s1\nkind: season\nname: S\n"),
            file("buckets/a.yaml", "id: a\nkind: character\nname: Ann\n"),
            file("buckets/b.yaml", "id: b\nkind: character\nname: Bo\n"),
        ];
        for c in 1..=6 {
            files.push(file(
                &format!("buckets/c{c}.yaml"),
                &format!("id: c{c}\nkind: chapter\nname: C{c}\nparent: s1\n"),
            ));
        }
        let text = |c: usize| match c {
            1 => "Ann and Bo. Ann.",
            5 => "Ann again.",
            6 => "Bo here.",
            _ => "Nobody.",
        };
        for c in 1..=6 {
            files.push(file(&format!("story/c{c}.md"), &format!("---\npov: a\nparent: c{c}\n---\n{}\n", text(c))));
        }
        files.push(file("story/z-loose.md", "Bo, loose.\n"));
        let s = stats(&analyze("t", files), 3);
        assert_eq!(s.chapters.len(), 7);
        assert_eq!(s.chapters[6].id, None);
        assert_eq!(s.words, 4 + 1 + 1 + 1 + 2 + 2 + 2);
        assert_eq!(s.structure[0].words, s.words - 2);
        assert_eq!(s.structure[0].scenes, 6);
        let ann = &s.entities[0];
        assert_eq!((ann.id.as_str(), ann.mentions, ann.scenes), ("a", 3, 2));
        assert_eq!(ann.per_chapter, [2, 0, 0, 0, 1, 0, 0]);
        assert_eq!((ann.first.as_deref(), ann.last.as_deref()), (Some("c1"), Some("c5")));
        let bo = &s.entities[1];
        assert_eq!(bo.per_chapter, [1, 0, 0, 0, 0, 1, 1]);
        assert_eq!(bo.last.as_deref(), Some("z-loose"));
        // Bo is absent from c2–c5 (4 > 3); Ann from c2–c4 (3, not more than 3).
        assert_eq!(s.gaps.len(), 1);
        assert_eq!(
            (s.gaps[0].entity.as_str(), s.gaps[0].after.as_str(), s.gaps[0].resumes.as_str()),
            ("b", "c1", "c6")
        );
        assert_eq!(s.gaps[0].chapters, 4);
        assert_eq!(s.pov[0].pov.as_deref(), Some("a"));
        assert_eq!(s.pov[0].scenes, 6);
        assert_eq!(s.pov[1].pov, None);
        let text = to_text(&s);
        assert!(text.contains("\n                1234567  mentions"), "{text}");
        assert!(text.contains("\n  Ann           ▇   ▃     "), "{text}");
        assert!(text.contains("\n  Bo            ▇    ▇▇   "), "{text}");
    }
}
