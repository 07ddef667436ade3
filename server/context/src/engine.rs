//! Context assembly: which buckets a scene's prompt gets, why, and in what form.
//!
//! Candidates, each with a score and the reasons it was chosen:
//!
//! | source | score |
//! |---|---|
//! | pinned in frontmatter `context:` | 1000 (always packed first) |
//! | point-of-view character `pov:` | 900 |
//! | structure chain: chapter, act, arc, season | 500, 450, 400, 350 |
//! | previous scene in reading order (its `summary`, else its ending) | 480 |
//! | research bucket whose `keywords` appear | 300 + 10·ln(1+n) |
//! | mentioned in the scene | 200 + 20·ln(1+n) + up to 60 for nearness to the cursor + up to 20 for recency |
//! | research bucket ranking high by BM25 against the scene (top 3) | 150 + up to 50 |
//! | one relation away from a pinned, POV or mentioned bucket | 120 + 5 per link (up to 6) |
//! | a past defect report for this scene or pipeline, recalled from the project's memory | 260 − 10 per rank |
//!
//! A candidate found several ways keeps its best score plus 5 per extra reason, and all reasons.
//! `context_window.priority: high` adds 150, `low` subtracts 100. Ties break by id, so the same
//! input always gives the same output.
//!
//! Packing into the budget, in score order (pinned first): the full text if it fits (and fits the
//! bucket's `context_window.max_tokens`), else its `summary`, else the full text cut at the last
//! sentence boundary that fits; else the candidate is listed in `dropped` with the reason. Nothing
//! that matched disappears silently.

use rustc_hash::FxHashMap;
use serde::Serialize;
use showrunner_model::analysis::Analysis;
use showrunner_model::bucket::Priority;
use showrunner_model::kind::structure_level;
use showrunner_model::matcher::Dictionary;
use showrunner_model::text::LineIndex;

use crate::render::{at_position, full_form, sentence_ends, summary_form};
use crate::research::ResearchIndex;
use crate::tokens::TokenCounter;
use showrunner_model::story::Story;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Form {
    Full,
    Summary,
    Cut,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ContextItem {
    /// The bucket id (for the previous-scene item: the scene's id).
    pub bucket: String,
    /// What a writer calls it: the bucket's name (the previous scene's title).
    pub name: String,
    pub kind: String,
    pub reason: String,
    pub score: f64,
    pub tokens: usize,
    pub text: String,
    pub form: Form,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Dropped {
    pub bucket: String,
    /// What a writer calls it (the id itself when no bucket has it).
    pub name: String,
    pub reason: String,
}

/// What the engine assembled for a scene: the object of `showrunner context --format json` and
/// of the `showrunner.context.show` command.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Context {
    pub scene: String,
    pub items: Vec<ContextItem>,
    pub dropped: Vec<Dropped>,
    pub used_tokens: usize,
    pub budget: usize,
}

/// A request: the scene (index into `Analysis::scenes`), an optional cursor (byte offset) and an
/// optional budget overriding `context.budget_tokens`.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub scene: usize,
    pub cursor: Option<usize>,
    pub budget: Option<usize>,
}

/// A past defect report to remind the model of (recalled from the project's memory by the
/// caller: the engine does no I/O), most relevant first.
#[derive(Debug, Clone, PartialEq)]
pub struct Recall {
    /// The run whose `judge` or `verify` step reported it.
    pub run: String,
    pub report: String,
}

/// Per-project data the engine reuses across requests; rebuild it when the analysis changes.
pub struct ContextEngine {
    pub story: Story,
    research: ResearchIndex,
    /// Research keywords as a dictionary (targets: bucket indices), matched like names.
    keywords: Dictionary,
    /// Bucket index → (relation type, other bucket, outgoing?) for both directions.
    links: Vec<Vec<(String, usize, bool)>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Bucket(usize),
    Scene(usize),
    Recall(usize),
}

struct Candidate {
    score: f64,
    reasons: Vec<String>,
    pinned: bool,
}

impl ContextEngine {
    pub fn new(analysis: &Analysis) -> ContextEngine {
        let mut links: Vec<Vec<(String, usize, bool)>> = vec![Vec::new(); analysis.buckets.len()];
        for (i, b) in analysis.buckets.iter().enumerate() {
            for r in &b.bucket.relations {
                if let Some(&t) = analysis.by_id.get(&r.target.value) {
                    let t = t as usize;
                    if t != i {
                        links[i].push((r.rel_type.clone(), t, true));
                        links[t].push((r.rel_type.clone(), i, false));
                    }
                }
            }
        }
        let keywords = Dictionary::new(
            analysis
                .buckets
                .iter()
                .enumerate()
                .flat_map(|(i, b)| b.bucket.keywords.iter().map(move |k| (k.value.as_str(), i as u32))),
        );
        ContextEngine { story: Story::new(analysis), research: ResearchIndex::new(analysis), keywords, links }
    }

    pub fn assemble(&self, analysis: &Analysis, req: Request, counter: &dyn TokenCounter) -> Context {
        self.assemble_recalling(analysis, req, counter, &[])
    }

    /// [`ContextEngine::assemble`], with past defect reports as candidates too: each an item
    /// (reason "past defect from run …") or a dropped entry, within the same budget.
    pub fn assemble_recalling(
        &self,
        analysis: &Analysis,
        req: Request,
        counter: &dyn TokenCounter,
        recalls: &[Recall],
    ) -> Context {
        let entry = &analysis.scenes[req.scene];
        let scene = &entry.scene;
        let text = analysis.text(entry.file);
        let budget = req.budget.unwrap_or(analysis.config.budget_tokens as usize);
        let mut cands: FxHashMap<Key, Candidate> = FxHashMap::default();
        let mut dropped: Vec<Dropped> = Vec::new();

        // Pinned and POV.
        for pin in &scene.context {
            match analysis.by_id.get(&pin.value) {
                Some(&b) => add(
                    &mut cands,
                    Key::Bucket(b as usize),
                    1000.0,
                    "pinned in the scene's frontmatter (`context:`)".into(),
                    true,
                ),
                None => dropped.push(Dropped {
                    bucket: pin.value.clone(),
                    name: pin.value.clone(),
                    reason: "pinned, but no bucket has this id".into(),
                }),
            }
        }
        if let Some(pov) = &scene.pov {
            match analysis.by_id.get(&pov.value) {
                Some(&b) => {
                    add(&mut cands, Key::Bucket(b as usize), 900.0, "point-of-view character (`pov:`)".into(), false)
                }
                None => dropped.push(Dropped {
                    bucket: pov.value.clone(),
                    name: pov.value.clone(),
                    reason: "point of view, but no bucket has this id".into(),
                }),
            }
        }

        // Structure chain and the previous scene.
        for b in self.story.chain(analysis, req.scene) {
            let kind = &analysis.buckets[b].bucket.kind.value;
            let score = match structure_level(kind) {
                Some(4) => 500.0,
                Some(3) => 450.0,
                Some(2) => 400.0,
                _ => 350.0,
            };
            add(&mut cands, Key::Bucket(b), score, format!("the {kind} this scene belongs to"), false);
        }
        if let Some(prev) = self.story.previous(req.scene) {
            let id = &analysis.scenes[prev].scene.id.value;
            add(&mut cands, Key::Scene(prev), 480.0, format!("previous scene in reading order (`{id}`)"), false);
        }

        // Mentions: frequency, nearness to the cursor, recency.
        let lines = LineIndex::new(text);
        let mut by_bucket: FxHashMap<u32, (usize, usize, usize)> = FxHashMap::default(); // count, nearest, last
        for m in &entry.mentions {
            let dist =
                req.cursor.map_or(usize::MAX, |c| if c < m.start { m.start - c } else { c.saturating_sub(m.end) });
            let e = by_bucket.entry(m.bucket).or_insert((0, usize::MAX, 0));
            e.0 += 1;
            e.1 = e.1.min(dist);
            e.2 = e.2.max(m.end);
        }
        let body_len = scene.body.len().max(1) as f64;
        let mut mentioned: Vec<(&u32, &(usize, usize, usize))> = by_bucket.iter().collect();
        mentioned.sort_by_key(|(b, _)| **b);
        for (&b, &(count, nearest, last)) in mentioned {
            let mut score = 200.0 + 20.0 * (1.0 + count as f64).ln();
            score += 20.0 * (last.saturating_sub(scene.body.start)) as f64 / body_len;
            let mut reason = format!("mentioned {count}× in the scene");
            if let Some(cursor) = req.cursor {
                score += 60.0 * (-(nearest as f64) / 1500.0).exp();
                let here = lines.line_of(cursor.min(text.len()));
                let nearest_line = entry
                    .mentions
                    .iter()
                    .filter(|m| m.bucket == b)
                    .map(|m| lines.line_of(m.start).abs_diff(here))
                    .min()
                    .unwrap_or(0);
                reason.push_str(&match nearest_line {
                    0 => ", on the cursor's line".to_string(),
                    1 => ", nearest 1 line from the cursor".to_string(),
                    n => format!(", nearest {n} lines from the cursor"),
                });
            }
            add(&mut cands, Key::Bucket(b as usize), score, reason, false);
        }

        // Research: keywords that appear, then BM25 over the scene's words.
        let mut found = Vec::new();
        self.keywords.find_in(text, &scene.scan, &mut found);
        let mut kw: FxHashMap<u32, Vec<(&str, usize)>> = FxHashMap::default();
        for m in &found {
            let e = self.keywords.entry(m.entry);
            for &t in &e.targets {
                let words = kw.entry(t).or_default();
                match words.iter_mut().find(|(w, _)| *w == e.alias) {
                    Some(slot) => slot.1 += 1,
                    None => words.push((e.alias.as_str(), 1)),
                }
            }
        }
        let mut kw: Vec<_> = kw.into_iter().collect();
        kw.sort_by_key(|(b, _)| *b);
        for (b, mut words) in kw {
            words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let total: usize = words.iter().map(|w| w.1).sum();
            let list: Vec<String> = words.iter().take(4).map(|(w, n)| format!("\"{w}\" {n}×")).collect();
            let more = if words.len() > 4 { format!(" and {} more", words.len() - 4) } else { String::new() };
            let noun = if words.len() == 1 { "keyword" } else { "keywords" };
            add(
                &mut cands,
                Key::Bucket(b as usize),
                300.0 + 10.0 * (1.0 + total as f64).ln(),
                format!("{noun} {}{more} in the scene", list.join(", ")),
                false,
            );
        }
        let hits = self.research.rank(&text[scene.body.clone()]);
        if let Some(top) = hits.first().map(|h| h.score) {
            for h in hits.iter().take(3) {
                let words: Vec<&str> = h.shared.iter().take(5).map(String::as_str).collect();
                add(
                    &mut cands,
                    Key::Bucket(h.bucket),
                    150.0 + 50.0 * h.score / top,
                    format!(
                        "research matching the scene's words (BM25 {:.1}, {:.0}% of its terms: {})",
                        h.score,
                        h.coverage * 100.0,
                        words.join(", ")
                    ),
                    false,
                );
            }
        }

        // One relation away from the anchors (pinned, POV, mentioned).
        let anchors: Vec<usize> = {
            let mut a: Vec<usize> = cands
                .iter()
                .filter_map(|(k, c)| match k {
                    Key::Bucket(b)
                        if c.reasons.iter().any(|r| {
                            r.starts_with("pinned") || r.starts_with("point-of-view") || r.starts_with("mentioned")
                        }) =>
                    {
                        Some(*b)
                    }
                    _ => None,
                })
                .collect();
            a.sort_unstable();
            a
        };
        let mut related: FxHashMap<usize, Vec<String>> = FxHashMap::default();
        for &a in &anchors {
            for (rel, other, outgoing) in &self.links[a] {
                if anchors.binary_search(other).is_ok() {
                    continue;
                }
                let (from, to) = if *outgoing { (a, *other) } else { (*other, a) };
                related.entry(*other).or_default().push(format!(
                    "{} {} {}",
                    analysis.buckets[from].bucket.name.value,
                    rel.replace('_', " "),
                    analysis.buckets[to].bucket.name.value
                ));
            }
        }
        let mut related: Vec<_> = related.into_iter().collect();
        related.sort_by_key(|(b, _)| *b);
        for (b, mut why) in related {
            why.sort();
            why.dedup();
            let score = 120.0 + 5.0 * why.len().min(6) as f64;
            add(&mut cands, Key::Bucket(b), score, format!("related: {}", why.join("; ")), false);
        }

        for (i, r) in recalls.iter().enumerate() {
            add(&mut cands, Key::Recall(i), 260.0 - 10.0 * i as f64, format!("past defect from run {}", r.run), false);
        }

        // Priorities, then order.
        let mut ranked: Vec<(Key, Candidate)> = cands.into_iter().collect();
        for (k, c) in &mut ranked {
            if let Key::Bucket(b) = k {
                if !c.pinned {
                    match analysis.buckets[*b].bucket.context_window.priority {
                        Priority::High => c.score += 150.0,
                        Priority::Low => c.score -= 100.0,
                        Priority::Normal => {}
                    }
                }
            }
        }
        let key_id = |k: &Key| match k {
            Key::Bucket(b) => analysis.buckets[*b].bucket.id.value.clone(),
            Key::Scene(s) => analysis.scenes[*s].scene.id.value.clone(),
            Key::Recall(i) => format!("defect-{}", recalls[*i].run),
        };
        ranked.sort_by(|(ka, a), (kb, b)| {
            b.pinned.cmp(&a.pinned).then(b.score.total_cmp(&a.score)).then_with(|| key_id(ka).cmp(&key_id(kb)))
        });

        // Packing.
        let pos = &self.story.positions[req.scene];
        let mut items = Vec::new();
        let mut used = 0usize;
        for (key, cand) in ranked {
            let reason = cand.reasons.join("; ");
            let (id, name, kind, full, summary, max_tokens) = match key {
                Key::Bucket(b) => {
                    let bucket = &analysis.buckets[b].bucket;
                    let at = at_position(bucket, pos);
                    (
                        bucket.id.value.clone(),
                        bucket.name.value.clone(),
                        bucket.kind.value.clone(),
                        full_form(&at, analysis),
                        summary_form(&at),
                        bucket.context_window.max_tokens.map(|m| m as usize),
                    )
                }
                Key::Scene(s) => {
                    let (full, summary) = previous_scene_text(analysis, s);
                    let scene = &analysis.scenes[s].scene;
                    let title = scene.title.clone().unwrap_or_else(|| scene.id.value.clone());
                    (scene.id.value.clone(), title, "scene".to_string(), full, summary, None)
                }
                Key::Recall(i) => {
                    let r = &recalls[i];
                    let full = format!(
                        "### A past defect (run {})\nAn earlier draft had this problem; do not repeat it.\n{}\n",
                        r.run,
                        r.report.trim()
                    );
                    (
                        format!("defect-{}", r.run),
                        format!("Past defect (run {})", r.run),
                        "defect".into(),
                        full,
                        None,
                        None,
                    )
                }
            };
            let left = budget - used;
            let cap = max_tokens.map_or(left, |m| m.min(left));
            let full_tokens = counter.count(&full);
            let score = (cand.score * 100.0).round() / 100.0;
            let mut push = |text: String, tokens: usize, form: Form, items: &mut Vec<ContextItem>| {
                used += tokens;
                items.push(ContextItem {
                    bucket: id.clone(),
                    name: name.clone(),
                    kind: kind.clone(),
                    reason: reason.clone(),
                    score,
                    tokens,
                    text,
                    form,
                });
            };
            if full_tokens <= cap {
                push(full, full_tokens, Form::Full, &mut items);
                continue;
            }
            let summary_tokens = summary.as_deref().map(|s| counter.count(s));
            if let (Some(s), Some(t)) = (summary, summary_tokens) {
                if t <= cap {
                    push(s, t, Form::Summary, &mut items);
                    continue;
                }
            }
            if let Some((cut, t)) = cut_to_fit(&full, cap, counter) {
                push(cut, t, Form::Cut, &mut items);
                continue;
            }
            let limit = match max_tokens {
                Some(m) if m < left => format!("its `context_window.max_tokens` is {m}"),
                _ => format!("{left} of {budget} left"),
            };
            let summary_note = summary_tokens.map(|t| format!(", summary {t}")).unwrap_or_default();
            dropped.push(Dropped {
                bucket: id,
                name,
                reason: format!("{reason} — did not fit: full text {full_tokens} tokens{summary_note}; {limit}"),
            });
        }
        Context { scene: scene.id.value.clone(), items, dropped, used_tokens: used, budget }
    }
}

fn add(cands: &mut FxHashMap<Key, Candidate>, key: Key, score: f64, reason: String, pinned: bool) {
    let c = cands.entry(key).or_insert(Candidate { score: f64::MIN, reasons: Vec::new(), pinned: false });
    c.score = if c.reasons.is_empty() { score } else { c.score.max(score) + 5.0 };
    c.reasons.push(reason);
    c.pinned |= pinned;
}

/// The previous scene as context: its `summary` if it has one (full = summary), else its ending.
fn previous_scene_text(analysis: &Analysis, s: usize) -> (String, Option<String>) {
    let entry = &analysis.scenes[s];
    let scene = &entry.scene;
    let title = scene.title.clone().unwrap_or_else(|| scene.id.value.clone());
    if let Some(summary) = scene.summary.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let t = format!("### Previous scene: {title}\n{summary}\n");
        return (t.clone(), Some(t));
    }
    let text = analysis.text(entry.file);
    let body = text[scene.body.clone()].trim_end();
    // The last two paragraphs, at most ~1,500 bytes.
    let mut start = body.len();
    let mut paragraphs = 0;
    while paragraphs < 2 {
        match body[..start].trim_end().rfind("\n\n") {
            Some(p) if body.len() - p <= 1500 => {
                start = p;
                paragraphs += 1;
            }
            _ => break,
        }
    }
    if paragraphs == 0 {
        start = body.len().saturating_sub(1500);
        while !body.is_char_boundary(start) {
            start += 1;
        }
    }
    let ending = body[start..].trim();
    (format!("### Previous scene: {title} (its ending)\n{ending}\n"), None)
}

/// The longest prefix of `text` ending at a sentence boundary that fits `cap` tokens.
fn cut_to_fit(text: &str, cap: usize, counter: &dyn TokenCounter) -> Option<(String, usize)> {
    let ends = sentence_ends(text);
    let (mut lo, mut hi) = (0usize, ends.len());
    let mut best = None;
    // Binary search: token counts grow with the prefix.
    while lo < hi {
        let mid = (lo + hi) / 2;
        let candidate = format!("{} …\n", text[..ends[mid]].trim_end());
        let t = counter.count(&candidate);
        if t <= cap {
            best = Some((candidate, t));
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    // A cut that keeps only the heading line says nothing.
    best.filter(|(c, _)| c.lines().count() > 1 || !c.starts_with('#'))
}

/// The context as the Markdown section a prompt gets.
pub fn render_markdown(ctx: &Context) -> String {
    let mut out = String::from("## Story context\n\n");
    for item in &ctx.items {
        out.push_str(item.text.trim_end());
        out.push_str("\n\n");
    }
    out
}
