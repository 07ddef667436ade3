//! Search over everything a project ever said, in the derived index (`.showrunner/index.db`):
//! - the **story**: scenes, buckets and research, from the index's `fts` table ([`Index::sync`]);
//! - the **memory**: every run's prompts, answers, reasoning, judge and verify verdicts, defect
//!   reports, gate decisions and notes, errors and requests (from `runs.db`), and the history's
//!   events and their messages (from `events.db`), in the `memory` table.
//!
//! Both are SQLite FTS5 tables ranked by BM25, answered with snippets and filtered by kind,
//! pipeline, model, date and history timeline. The memory is derived like the rest of the index
//! and kept current incrementally ([`Index::sync_memory`]): only runs saved since the last sync
//! (by their `updated` time) and events appended since (by their sequence number) are read, so a
//! finished run indexes itself on the next sync and nobody waits on a full rebuild.
//!
//! A query is plain words (and `"quoted phrases"`), never FTS syntax: every word must match; when
//! nothing matches them all, any word may.

use std::path::Path;

use rusqlite::{params, params_from_iter, OptionalExtension};
use serde_json::Value;

use crate::{Index, StoreError};

/// Where to search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Scenes, buckets and research.
    Story,
    /// Runs (prompts, answers, reasoning, verdicts, defects, decisions) and history events.
    Runs,
    #[default]
    All,
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Scope, String> {
        match s {
            "story" => Ok(Scope::Story),
            "runs" => Ok(Scope::Runs),
            "all" => Ok(Scope::All),
            other => Err(format!("`{other}` is not a search scope: story, runs or all")),
        }
    }
}

/// What to look for, and where.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub text: String,
    pub scope: Scope,
    /// Only hits of these kinds (a bucket kind, `scene`, or a memory kind: see [`MEMORY_KINDS`]).
    pub kinds: Vec<String>,
    /// Memory hits of this pipeline only (`draft-scene`, `agent:editor`, …).
    pub pipeline: Option<String>,
    /// Memory hits from this model only (`provider/model`, or its part after the `/`).
    pub model: Option<String>,
    /// Memory hits of this scene (project-relative path) only.
    pub scene: Option<String>,
    /// Memory hits at or after / before this time (milliseconds since the Unix epoch).
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// History events of this timeline only (runs belong to no timeline and are left out).
    pub timeline: Option<String>,
    /// At most this many hits (0: 20).
    pub limit: usize,
}

/// A day `YYYY-MM-DD` as the millisecond its UTC midnight starts; with `end`, the millisecond
/// after it ends (for an inclusive `until`).
pub fn day_ms(day: &str, end: bool) -> Option<i64> {
    const DAY_MS: i64 = 86_400_000;
    let d = showrunner_model::goals::Date::parse(day.trim())?;
    Some(d.days() * DAY_MS + if end { DAY_MS } else { 0 })
}

/// The kinds of memory a hit can be.
pub const MEMORY_KINDS: &[&str] = &[
    "request",
    "proposal",
    "prompt",
    "answer",
    "reasoning",
    "verdict",
    "defect",
    "gate",
    "decision",
    "error",
    "event",
];

/// One hit, best first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Hit {
    /// `story` or `runs`.
    pub source: String,
    /// A bucket's kind, `scene`, or a memory kind (`prompt`, `answer`, `verdict`, …).
    pub kind: String,
    pub title: String,
    /// The project-relative file: the scene or bucket, or the scene a run worked on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The bucket's or scene's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// When it was said (milliseconds since the Unix epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<String>,
    /// The best passage, matched words between `**`.
    pub snippet: String,
    /// BM25 relevance: higher is better.
    pub score: f64,
}

/// What a memory sync read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryStats {
    pub runs: usize,
    pub events: usize,
    pub rows: usize,
}

/// A document of the memory, before it is stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    pub kind: &'static str,
    pub title: String,
    pub content: String,
    pub model: Option<String>,
    pub step: Option<String>,
}

const SNIPPET_TOKENS: i64 = 16;

impl Index {
    /// Brings the memory up to date with the project's run store and history at `root`: runs
    /// saved since the last sync are indexed again, events appended since are added.
    pub fn sync_memory(&mut self, root: &Path) -> Result<MemoryStats, StoreError> {
        let mut stats = MemoryStats::default();
        let runs_path = crate::runs::Runs::path(root);
        let events_path = crate::history::events_path(root);
        let runs = if runs_path.exists() { Some(crate::sqlite::open(&runs_path, WAIT)?) } else { None };
        let events = if events_path.exists() { Some(crate::sqlite::open(&events_path, WAIT)?) } else { None };
        let tx = crate::sqlite::write_transaction(&mut self.conn)?;
        let mark = |key: &str| -> rusqlite::Result<i64> {
            Ok(tx
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get::<_, String>(0))
                .optional()?
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1))
        };
        let (runs_mark, events_mark) = (mark("memory_runs")?, mark("memory_events")?);
        let mut new_runs_mark = runs_mark;
        let mut new_events_mark = events_mark;
        {
            let mut ins_doc = tx.prepare_cached("INSERT INTO memrows(run) VALUES (?1)")?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO memory(rowid, title, content, kind, run, pipeline, scene, model, step, time, timeline)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            if let Some(conn) = &runs {
                let mut del_fts =
                    tx.prepare_cached("DELETE FROM memory WHERE rowid IN (SELECT rowid FROM memrows WHERE run = ?1)")?;
                let mut del_rows = tx.prepare_cached("DELETE FROM memrows WHERE run = ?1")?;
                // Runs saved in the millisecond of the mark may have been read half-way: taken again.
                let mut stmt = conn.prepare(
                    "SELECT id, pipeline, scene, updated, data FROM runs WHERE updated >= ?1 ORDER BY updated, id",
                )?;
                let mut rows = stmt.query([runs_mark])?;
                while let Some(r) = rows.next()? {
                    let (id, pipeline, scene, updated, data): (String, String, String, i64, String) =
                        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                    del_fts.execute([&id])?;
                    del_rows.execute([&id])?;
                    let data: Value = serde_json::from_str(&data).unwrap_or_default();
                    for d in run_docs(&data) {
                        ins_doc.execute([&id])?;
                        let rowid = tx.last_insert_rowid();
                        let title = format!("{pipeline} · {}", d.title);
                        let scene = (!scene.is_empty()).then_some(scene.as_str());
                        ins.execute(params![
                            rowid,
                            title,
                            d.content,
                            d.kind,
                            id,
                            pipeline,
                            scene,
                            d.model,
                            d.step,
                            updated,
                            None::<String>
                        ])?;
                        stats.rows += 1;
                    }
                    stats.runs += 1;
                    new_runs_mark = new_runs_mark.max(updated);
                }
            }
            if let Some(conn) = &events {
                let mut stmt = conn.prepare(
                    "SELECT seq, timeline, time, actor, type, path, container, payload FROM events WHERE seq > ?1 ORDER BY seq",
                )?;
                let mut rows = stmt.query([events_mark])?;
                while let Some(r) = rows.next()? {
                    let seq: i64 = r.get(0)?;
                    new_events_mark = new_events_mark.max(seq);
                    let (timeline, time, actor, kind, path, container, payload): (
                        String,
                        i64,
                        String,
                        String,
                        String,
                        Option<String>,
                        String,
                    ) = (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?);
                    let payload: Value = serde_json::from_str(&payload).unwrap_or_default();
                    let Some(content) = event_text(&kind, &actor, &path, container.as_deref(), &payload) else {
                        continue;
                    };
                    let run = payload["run"].as_str().map(str::to_string);
                    ins_doc.execute([format!("event:{seq}")])?;
                    let rowid = tx.last_insert_rowid();
                    let pipeline = payload["pipeline"].as_str();
                    ins.execute(params![
                        rowid,
                        format!("{kind} · {path}"),
                        content,
                        "event",
                        run,
                        pipeline,
                        path,
                        None::<String>,
                        None::<String>,
                        time,
                        timeline
                    ])?;
                    stats.rows += 1;
                    stats.events += 1;
                }
            }
        }
        for (key, value) in [("memory_runs", new_runs_mark), ("memory_events", new_events_mark)] {
            tx.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)", params![key, value.to_string()])?;
        }
        tx.commit()?;
        Ok(stats)
    }

    /// Searches the story, the memory, or both; best first.
    pub fn search_all(&self, q: &Query) -> Result<Vec<Hit>, StoreError> {
        let limit = if q.limit == 0 { 20 } else { q.limit };
        let Some(all) = fts_query(&q.text, " AND ") else { return Ok(Vec::new()) };
        let mut hits = self.search_with(q, &all, limit)?;
        if hits.is_empty() {
            if let Some(any) = fts_query(&q.text, " OR ") {
                if any != all {
                    hits = self.search_with(q, &any, limit)?;
                }
            }
        }
        Ok(hits)
    }

    fn search_with(&self, q: &Query, fts: &str, limit: usize) -> Result<Vec<Hit>, StoreError> {
        let mut hits = Vec::new();
        if q.scope != Scope::Runs {
            hits.extend(self.search_story(q, fts, limit)?);
        }
        if q.scope != Scope::Story {
            hits.extend(self.search_memory(q, fts, limit)?);
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.title.cmp(&b.title)));
        hits.truncate(limit);
        Ok(hits)
    }

    fn search_story(&self, q: &Query, fts: &str, limit: usize) -> Result<Vec<Hit>, StoreError> {
        // Memory-only filters leave the story out.
        if q.pipeline.is_some() || q.model.is_some() || q.scene.is_some() || q.timeline.is_some() {
            return Ok(Vec::new());
        }
        if q.since.is_some() || q.until.is_some() {
            return Ok(Vec::new());
        }
        let mut sql = format!(
            "SELECT f.path, fts.title, COALESCE(c.kind, 'scene'), COALESCE(c.id, s.id),
                    snippet(fts, 1, '**', '**', '…', {SNIPPET_TOKENS}), bm25(fts, 2.0, 1.0) AS rank
             FROM fts JOIN files f ON f.id = fts.rowid
             LEFT JOIN containers c ON c.file = f.id LEFT JOIN scenes s ON s.file = f.id
             WHERE fts MATCH ?1"
        );
        let mut args: Vec<String> = vec![fts.to_string()];
        if !q.kinds.is_empty() {
            let marks: Vec<String> = (0..q.kinds.len()).map(|i| format!("?{}", i + 2)).collect();
            sql.push_str(&format!(" AND COALESCE(c.kind, 'scene') IN ({})", marks.join(", ")));
            args.extend(q.kinds.iter().cloned());
        }
        sql.push_str(&format!(" ORDER BY rank LIMIT {limit}"));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
            let rank: f64 = r.get(5)?;
            Ok(Hit {
                source: "story".into(),
                path: Some(r.get(0)?),
                title: r.get(1)?,
                kind: r.get(2)?,
                id: r.get(3)?,
                run: None,
                pipeline: None,
                model: None,
                step: None,
                time: None,
                timeline: None,
                snippet: r.get(4)?,
                score: -rank,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn search_memory(&self, q: &Query, fts: &str, limit: usize) -> Result<Vec<Hit>, StoreError> {
        let mut sql = format!(
            "SELECT title, kind, run, pipeline, scene, model, step, time, timeline,
                    snippet(memory, 1, '**', '**', '…', {SNIPPET_TOKENS}), bm25(memory, 2.0, 1.0) AS rank
             FROM memory WHERE memory MATCH ?1"
        );
        let mut args: Vec<Value> = vec![Value::from(fts)];
        fn arg(args: &mut Vec<Value>, sql: &mut String, clause: &str, v: Value) {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        }
        if !q.kinds.is_empty() {
            let mut marks = Vec::new();
            for k in &q.kinds {
                args.push(Value::from(k.as_str()));
                marks.push(format!("?{}", args.len()));
            }
            sql.push_str(&format!(" AND kind IN ({})", marks.join(", ")));
        }
        if let Some(p) = &q.pipeline {
            arg(&mut args, &mut sql, " AND pipeline = ?", Value::from(p.as_str()));
        }
        if let Some(m) = &q.model {
            // `provider/model`, or the model's own name whatever the provider.
            args.push(Value::from(m.as_str()));
            let n = args.len();
            args.push(Value::from(format!("%/{m}")));
            sql.push_str(&format!(" AND (model = ?{n} OR model LIKE ?{})", args.len()));
        }
        if let Some(s) = &q.scene {
            arg(&mut args, &mut sql, " AND scene = ?", Value::from(s.as_str()));
        }
        if let Some(t) = q.since {
            arg(&mut args, &mut sql, " AND time >= ?", Value::from(t));
        }
        if let Some(t) = q.until {
            arg(&mut args, &mut sql, " AND time < ?", Value::from(t));
        }
        if let Some(t) = &q.timeline {
            arg(&mut args, &mut sql, " AND timeline = ?", Value::from(t.as_str()));
        }
        sql.push_str(&format!(" ORDER BY rank LIMIT {limit}"));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let params: Vec<rusqlite::types::Value> = args
            .into_iter()
            .map(|v| match v {
                Value::Number(n) => rusqlite::types::Value::Integer(n.as_i64().unwrap_or(0)),
                Value::String(s) => rusqlite::types::Value::Text(s),
                _ => rusqlite::types::Value::Null,
            })
            .collect();
        let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
            let rank: f64 = r.get(10)?;
            Ok(Hit {
                source: "runs".into(),
                title: r.get(0)?,
                kind: r.get(1)?,
                run: r.get(2)?,
                pipeline: r.get(3)?,
                path: r.get(4)?,
                id: None,
                model: r.get(5)?,
                step: r.get(6)?,
                time: r.get(7)?,
                timeline: r.get(8)?,
                snippet: r.get(9)?,
                score: -rank,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Rows in the memory (for tests and benchmarks).
    pub fn memory_rows(&self) -> Result<usize, StoreError> {
        Ok(self.conn.query_row("SELECT count(*) FROM memrows", [], |r| r.get::<_, i64>(0))? as usize)
    }
}

/// A past defect report recalled for a new draft.
#[derive(Debug, Clone, PartialEq)]
pub struct PastDefect {
    pub run: String,
    pub report: String,
    pub model: Option<String>,
}

/// The past defect reports of `scene` (a project-relative path) or of `pipeline`, the most
/// relevant to `about` first (FTS5 rank against its words), then the most recent; at most
/// `limit`. The memory is caught up first, so the last run's reports are there.
pub fn past_defects(
    root: &Path,
    scene: &str,
    pipeline: &str,
    about: &str,
    limit: usize,
) -> Result<Vec<PastDefect>, StoreError> {
    Ok(past_defects_of(root, &[(scene, about)], pipeline, limit)?.pop().unwrap_or_default())
}

/// [`past_defects`] for several scenes at once (`(path, about)` each; one list each, in the
/// same order): the memory opened and caught up once, and only the scenes that have reports
/// (or every scene, when `pipeline` has some) asked about. What the language server keeps for
/// every scene of a project.
pub fn past_defects_of(
    root: &Path,
    scenes: &[(&str, &str)],
    pipeline: &str,
    limit: usize,
) -> Result<Vec<Vec<PastDefect>>, StoreError> {
    let mut out = vec![Vec::new(); scenes.len()];
    if !crate::runs::Runs::path(root).exists() || limit == 0 || scenes.is_empty() {
        return Ok(out);
    }
    let mut index = Index::open(&crate::index_path(root))?;
    index.sync_memory(root)?;
    let pipeline_has: bool = index.conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM memory WHERE kind = 'defect' AND pipeline = ?1)",
        params![pipeline],
        |r| r.get(0),
    )?;
    let with_reports: std::collections::HashSet<String> = {
        let mut stmt = index.conn.prepare_cached("SELECT DISTINCT scene FROM memory WHERE kind = 'defect'")?;
        let rows = stmt.query_map([], |r| r.get::<_, Option<String>>(0))?;
        rows.filter_map(|r| r.transpose()).collect::<Result<_, _>>()?
    };
    for (slot, (scene, about)) in out.iter_mut().zip(scenes) {
        if pipeline_has || with_reports.contains(*scene) {
            *slot = defects_in(&index, scene, pipeline, about, limit)?;
        }
    }
    Ok(out)
}

/// The query behind [`past_defects`], on a memory already caught up.
fn defects_in(
    index: &Index,
    scene: &str,
    pipeline: &str,
    about: &str,
    limit: usize,
) -> Result<Vec<PastDefect>, StoreError> {
    let mut out: Vec<PastDefect> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    for w in about.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() > 3) {
        let w = w.to_lowercase();
        if !words.contains(&w) {
            words.push(w);
        }
        if words.len() == 64 {
            break;
        }
    }
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<PastDefect> {
        Ok(PastDefect { run: r.get(0)?, report: r.get(1)?, model: r.get(2)? })
    };
    if !words.is_empty() {
        let q = words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" OR ");
        let mut stmt = index.conn.prepare_cached(
            "SELECT run, content, model FROM memory WHERE memory MATCH ?1 AND kind = 'defect'
             AND (scene = ?2 OR pipeline = ?3) ORDER BY bm25(memory) LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![q, scene, pipeline, limit as i64], row)?;
        out = rows.collect::<Result<_, _>>()?;
    }
    if out.len() < limit {
        let mut stmt = index.conn.prepare_cached(
            "SELECT run, content, model FROM memory WHERE kind = 'defect' AND (scene = ?1 OR pipeline = ?2)
             ORDER BY (scene = ?1) DESC, time DESC, rowid DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![scene, pipeline, (limit * 4) as i64], row)?;
        for d in rows {
            let d = d?;
            if out.len() < limit && !out.iter().any(|o| o.run == d.run && o.report == d.report) {
                out.push(d);
            }
        }
    }
    Ok(out)
}

/// Brings the project's index up to date (the story from `analysis`, whose files hash to
/// `hashes`; the memory from the run store and the history), then searches it. The one search
/// every edge calls: the command line, the language server and the MCP server.
pub fn search_project(
    root: &Path,
    analysis: &showrunner_model::analysis::Analysis,
    hashes: &[u64],
    q: &Query,
) -> Result<Vec<Hit>, StoreError> {
    let mut index = Index::open(&crate::index_path(root))?;
    if q.scope != Scope::Runs {
        index.sync(analysis, hashes)?;
    }
    if q.scope != Scope::Story {
        index.sync_memory(root)?;
    }
    index.search_all(q)
}

/// The content hash of each of the analysis's files, as [`crate::discover`] computes it from the
/// bytes on disk (an editor's unsaved text hashes as what it would save).
pub fn text_hashes(analysis: &showrunner_model::analysis::Analysis) -> Vec<u64> {
    analysis.files.iter().map(|f| f.text().map(|t| xxhash_rust::xxh3::xxh3_64(t.as_bytes())).unwrap_or(0)).collect()
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The query as FTS5 syntax: every word (and `"phrase"`) quoted, joined by `op`; `None` when it
/// has no word.
fn fts_query(text: &str, op: &str) -> Option<String> {
    let mut terms = Vec::new();
    for (i, part) in text.split('"').enumerate() {
        let words: Vec<&str> = part.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            continue;
        }
        if i % 2 == 1 {
            terms.push(format!("\"{}\"", words.join(" ")));
        } else {
            terms.extend(words.iter().map(|w| format!("\"{w}\"")));
        }
    }
    (!terms.is_empty()).then(|| terms.join(op))
}

/// The documents of a run record (the JSON `runs.db` keeps): what it was asked, every model
/// exchange's prompt, answer and reasoning, verdicts, defect reports, gate decisions, the gate
/// it waits at, and errors.
pub fn run_docs(run: &Value) -> Vec<Doc> {
    let mut docs = Vec::new();
    let s = |v: &Value| v.as_str().map(str::to_string);
    let vars = &run["vars"];
    for key in ["request", "question"] {
        if let Some(t) = vars[key].as_str().filter(|t| !t.trim().is_empty()) {
            docs.push(Doc { kind: "request", title: key.into(), content: t.to_string(), ..Default::default() });
        }
    }
    // What an outside agent proposed (the run's one step), in its own words.
    if let Some(p) = vars["proposal"].as_object() {
        let content = plain(&Value::Object(p.clone()));
        if !content.trim().is_empty() {
            docs.push(Doc { kind: "proposal", title: "proposal".into(), content, ..Default::default() });
        }
    }
    for e in run["exchanges"].as_array().into_iter().flatten() {
        let step = s(&e["step"]).unwrap_or_default();
        let model = s(&e["model"]);
        let mut prompt = String::new();
        if let Some(sys) = e["system"].as_str() {
            prompt.push_str(sys);
            prompt.push_str("\n\n");
        }
        prompt.push_str(e["prompt"].as_str().unwrap_or(""));
        for (kind, content) in [
            ("prompt", prompt),
            ("answer", e["response"].as_str().unwrap_or("").to_string()),
            ("reasoning", e["reasoning"].as_str().unwrap_or("").to_string()),
        ] {
            if !content.trim().is_empty() {
                docs.push(Doc {
                    kind,
                    title: format!("{step} · {kind}"),
                    content,
                    model: model.clone(),
                    step: Some(step.clone()),
                });
            }
        }
    }
    for st in run["steps"].as_array().into_iter().flatten() {
        let step = s(&st["id"]).unwrap_or_default();
        let model = s(&st["model"]);
        if matches!(st["type"].as_str(), Some("judge" | "verify")) && !st["output"].is_null() {
            docs.push(Doc {
                kind: "verdict",
                title: format!("{step} · verdict"),
                content: plain(&st["output"]),
                model: model.clone(),
                step: Some(step.clone()),
            });
        }
        if let Some(err) = st["error"].as_str().filter(|e| !e.is_empty()) {
            docs.push(Doc {
                kind: "error",
                title: format!("{step} · error"),
                content: err.to_string(),
                model,
                step: Some(step),
            });
        }
    }
    for d in run["defects"].as_array().into_iter().flatten() {
        let step = s(&d["step"]);
        docs.push(Doc {
            kind: "defect",
            title: format!("{} · defects", step.as_deref().unwrap_or("check")),
            content: d["report"].as_str().unwrap_or("").to_string(),
            model: s(&d["model"]),
            step,
        });
    }
    for d in run["decisions"].as_array().into_iter().flatten() {
        let step = s(&d["step"]).unwrap_or_default();
        let decision = d["decision"].as_str().unwrap_or("");
        let mut content = format!("{decision} at {step} ({})", d["gate"].as_str().unwrap_or(""));
        if let Some(note) = d["note"].as_str().filter(|n| !n.trim().is_empty()) {
            content.push_str(": ");
            content.push_str(note);
        }
        docs.push(Doc {
            kind: "decision",
            title: format!("{step} · {decision}"),
            content,
            model: None,
            step: Some(step),
        });
    }
    // The run's last word (an agent's answer; what became of a proposal).
    if let Some(t) = vars["answer"].as_str().filter(|t| !t.trim().is_empty()) {
        docs.push(Doc { kind: "answer", title: "answer".into(), content: t.to_string(), ..Default::default() });
    }
    if let Some(g) = run["gate"].as_object() {
        let step = g.get("step").and_then(Value::as_str).unwrap_or("").to_string();
        let mut content = g.get("text").and_then(Value::as_str).unwrap_or("").to_string();
        if let Some(note) = g.get("note").and_then(Value::as_str) {
            content.push_str("\n\n");
            content.push_str(note);
        }
        docs.push(Doc {
            kind: "gate",
            title: format!("{step} · waiting at a gate"),
            content,
            model: None,
            step: Some(step),
        });
    }
    if let Some(err) = run["error"].as_str().filter(|e| !e.is_empty()) {
        docs.push(Doc { kind: "error", title: "run · error".into(), content: err.to_string(), ..Default::default() });
    }
    docs
}

/// A JSON value's words, for the index: strings as they are, objects as `key: value` lines.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m.iter().map(|(k, v)| format!("{k}: {}", plain(v))).collect::<Vec<_>>().join("\n"),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join("; "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The words of a history event, or `None` for one that says nothing (a snapshot of a save).
fn event_text(kind: &str, actor: &str, path: &str, container: Option<&str>, payload: &Value) -> Option<String> {
    let message: Vec<&str> = ["description", "message", "note", "reason", "summary"]
        .iter()
        .filter_map(|k| payload[*k].as_str())
        .filter(|m| !m.trim().is_empty())
        .collect();
    if kind == "snapshot" && message.is_empty() {
        return None;
    }
    let mut text = format!("{kind} {path} by {actor}");
    if let Some(c) = container {
        text.push_str(&format!(" ({c})"));
    }
    for m in message {
        text.push_str(": ");
        text.push_str(m);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_words_never_fts_syntax() {
        assert_eq!(fts_query("lamp room", " AND ").as_deref(), Some("\"lamp\" AND \"room\""));
        assert_eq!(fts_query("\"lamp room\" storm", " OR ").as_deref(), Some("\"lamp room\" OR \"storm\""));
        assert_eq!(
            fts_query("NEAR(a b) OR c*", " AND ").as_deref(),
            Some("\"NEAR\" AND \"a\" AND \"b\" AND \"OR\" AND \"c\"")
        );
        assert_eq!(fts_query("  \"\" ** ", " AND "), None);
    }

    #[test]
    fn a_run_record_gives_its_documents() {
        let run = serde_json::json!({
            "vars": { "request": "tighten the storm", "question": "" },
            "exchanges": [{ "step": "draft", "model": "local/m", "system": "You write.", "prompt": "Draft the storm",
                            "response": "Rain hit the lamp room.", "reasoning": "" }],
            "steps": [{ "id": "check", "type": "judge", "output": { "confidence": 0.5, "issues": ["too wet"] }, "error": null }],
            "defects": [{ "step": "check", "report": "Names not in the story: Zed", "model": "local/m" }],
            "decisions": [{ "step": "review", "gate": "review_prompt", "decision": "reject", "note": "too long" }],
            "error": "rejected"
        });
        let kinds: Vec<&str> = run_docs(&run).iter().map(|d| d.kind).collect();
        assert_eq!(kinds, ["request", "prompt", "answer", "verdict", "defect", "decision", "error"]);
        let docs = run_docs(&run);
        assert_eq!(docs[1].content, "You write.\n\nDraft the storm");
        assert_eq!(docs[3].content, "confidence: 0.5\nissues: too wet");
        assert_eq!(docs[5].content, "reject at review (review_prompt): too long");
    }
}
