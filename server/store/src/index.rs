//! The derived index at `.showrunner/index.db` (SQLite, WAL).
//!
//! It holds what later layers query without re-reading the project: containers (buckets),
//! aliases, relations, scenes, mentions, an FTS5 full-text index over scene text and bucket
//! bodies, and the project's memory of runs and history that [`crate::search`] fills. It is
//! derived: deleting it loses nothing, and a schema change rebuilds it. Updates are
//! incremental by content hash: only files whose bytes changed (or all scenes' mentions, when
//! the dictionary of names changed) are rewritten, in one transaction.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use showrunner_model::analysis::{Analysis, FileKind};
use showrunner_model::scene::SceneFormat;

use crate::StoreError;

/// Bump when the schema or the meaning of a column changes: the index is then rebuilt.
pub const SCHEMA_VERSION: i64 = 4;

const SCHEMA: &str = r#"
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, hash INTEGER NOT NULL);
CREATE TABLE containers(
    file INTEGER NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, parent TEXT,
    summary TEXT, body TEXT, data TEXT NOT NULL);
CREATE INDEX containers_file ON containers(file);
CREATE INDEX containers_id ON containers(id);
CREATE INDEX containers_parent ON containers(parent);
CREATE TABLE aliases(file INTEGER NOT NULL, alias TEXT NOT NULL, bucket TEXT NOT NULL);
CREATE INDEX aliases_file ON aliases(file);
CREATE INDEX aliases_alias ON aliases(alias);
CREATE TABLE relations(file INTEGER NOT NULL, source TEXT NOT NULL, type TEXT NOT NULL, target TEXT NOT NULL);
CREATE INDEX relations_file ON relations(file);
CREATE INDEX relations_source ON relations(source);
CREATE INDEX relations_target ON relations(target);
CREATE TABLE scenes(
    file INTEGER PRIMARY KEY, id TEXT NOT NULL, format TEXT NOT NULL, parent TEXT, pov TEXT,
    words INTEGER NOT NULL, timeline TEXT NOT NULL);
CREATE INDEX scenes_parent ON scenes(parent);
CREATE TABLE mentions(scene INTEGER NOT NULL, bucket TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, alias TEXT NOT NULL);
CREATE INDEX mentions_scene ON mentions(scene);
CREATE INDEX mentions_bucket ON mentions(bucket);
CREATE VIRTUAL TABLE fts USING fts5(title, content, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE memrows(rowid INTEGER PRIMARY KEY, run TEXT NOT NULL);
CREATE INDEX memrows_run ON memrows(run);
CREATE VIRTUAL TABLE memory USING fts5(
    title, content, kind UNINDEXED, run UNINDEXED, pipeline UNINDEXED, scene UNINDEXED, model UNINDEXED,
    step UNINDEXED, time UNINDEXED, timeline UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');
"#;

pub struct Index {
    pub(crate) conn: Connection,
}

/// What a sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStats {
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
    /// Every scene's mentions were rewritten because names or aliases changed.
    pub relinked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionRow {
    pub scene_path: String,
    pub start: usize,
    pub end: usize,
    pub alias: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    pub relation: String,
    pub bucket: String,
    /// `true` when the relation points from the asked bucket to `bucket`.
    pub outgoing: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub path: String,
    pub title: String,
    /// BM25 rank (lower is better, as SQLite reports it).
    pub rank: f64,
}

impl Index {
    /// Opens (or creates) the index at `path`. A file with another schema version, or one that
    /// is not a usable database, is replaced: the index is derived data.
    pub fn open(path: &Path) -> Result<Index, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(dir.to_path_buf(), e))?;
        }
        match Self::open_checked(path) {
            Ok(index) => Ok(index),
            // Another process holding the file is not a reason to replace it.
            Err(StoreError::Sql(e)) if crate::sqlite::is_busy(&e) => Err(StoreError::Sql(e)),
            Err(_) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                Self::open_checked(path)
            }
        }
    }

    pub fn open_in_memory() -> Result<Index, StoreError> {
        let conn = Connection::open_in_memory()?;
        let mut index = Index { conn };
        index.ensure_schema()?;
        Ok(index)
    }

    fn open_checked(path: &Path) -> Result<Index, StoreError> {
        let conn = crate::sqlite::open(path, std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut index = Index { conn };
        index.ensure_schema()?;
        Ok(index)
    }

    fn ensure_schema(&mut self) -> Result<(), StoreError> {
        let version: i64 = self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == SCHEMA_VERSION {
            // Touch a table so a corrupt file is noticed here, not later.
            self.conn.query_row("SELECT count(*) FROM files", [], |r| r.get::<_, i64>(0))?;
            return Ok(());
        }
        let tx = crate::sqlite::write_transaction(&mut self.conn)?;
        // Another process may have built the schema while this one waited for the lock.
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        let old: Vec<(String, String)> = {
            let mut stmt = tx.prepare("SELECT type, name FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'fts_%' AND name NOT LIKE 'memory_%'")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (ty, name) in old {
            tx.execute_batch(&format!("DROP {} IF EXISTS \"{}\";", ty.to_uppercase(), name.replace('"', "\"\"")))?;
        }
        tx.execute_batch(SCHEMA)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(())
    }

    /// Brings the index in line with `analysis`; `hashes[i]` is the hash of `analysis.files[i]`.
    pub fn sync(&mut self, analysis: &Analysis, hashes: &[u64]) -> Result<SyncStats, StoreError> {
        let mut stats = SyncStats::default();
        let tx = crate::sqlite::write_transaction(&mut self.conn)?;
        let known: HashMap<String, (i64, i64)> = {
            let mut stmt = tx.prepare("SELECT path, id, hash FROM files")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))))?;
            rows.collect::<Result<_, _>>()?
        };
        let fingerprint = dictionary_fingerprint(analysis).to_string();
        let old_fingerprint: Option<String> =
            tx.query_row("SELECT value FROM meta WHERE key = 'dictionary'", [], |r| r.get(0)).optional()?;
        stats.relinked = old_fingerprint.as_deref() != Some(fingerprint.as_str());

        // Which files changed, and their row ids.
        let mut file_ids: Vec<i64> = vec![0; analysis.files.len()];
        let mut changed: HashSet<usize> = HashSet::new();
        let present: HashSet<&str> = analysis.files.iter().map(|f| f.path.as_str()).collect();
        for (path, (id, _)) in &known {
            if !present.contains(path.as_str()) {
                delete_file_rows(&tx, *id, true)?;
                stats.removed += 1;
            }
        }
        for (i, f) in analysis.files.iter().enumerate() {
            let hash = hashes.get(i).copied().unwrap_or(0) as i64;
            match known.get(&f.path) {
                Some(&(id, old)) if old == hash && f.text().is_some() => {
                    file_ids[i] = id;
                    stats.unchanged += 1;
                }
                Some(&(id, _)) => {
                    delete_file_rows(&tx, id, false)?;
                    tx.execute(
                        "UPDATE files SET hash = ?1, kind = ?2 WHERE id = ?3",
                        params![hash, kind_name(f.kind), id],
                    )?;
                    file_ids[i] = id;
                    changed.insert(i);
                }
                None => {
                    tx.execute(
                        "INSERT INTO files(path, kind, hash) VALUES (?1, ?2, ?3)",
                        params![f.path, kind_name(f.kind), hash],
                    )?;
                    file_ids[i] = tx.last_insert_rowid();
                    changed.insert(i);
                }
            }
        }
        stats.changed = changed.len();

        {
            let mut ins_container = tx.prepare_cached(
                "INSERT INTO containers(file, id, kind, name, parent, summary, body, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut ins_alias = tx.prepare_cached("INSERT INTO aliases(file, alias, bucket) VALUES (?1, ?2, ?3)")?;
            let mut ins_relation =
                tx.prepare_cached("INSERT INTO relations(file, source, type, target) VALUES (?1, ?2, ?3, ?4)")?;
            let mut ins_fts = tx.prepare_cached("INSERT INTO fts(rowid, title, content) VALUES (?1, ?2, ?3)")?;
            for entry in analysis.buckets.iter().filter(|b| changed.contains(&b.file)) {
                let b = &entry.bucket;
                let id = file_ids[entry.file];
                let data = bucket_data(b);
                ins_container.execute(params![
                    id,
                    b.id.value,
                    b.kind.value,
                    b.name.value,
                    b.parent.as_ref().map(|p| p.value.as_str()),
                    b.summary,
                    b.body,
                    data
                ])?;
                for n in b.names() {
                    ins_alias.execute(params![id, n.value, b.id.value])?;
                }
                for r in &b.relations {
                    ins_relation.execute(params![id, b.id.value, r.rel_type, r.target.value])?;
                }
                let title: Vec<&str> = b.names().map(|n| n.value.as_str()).collect();
                let mut content = String::new();
                for part in [b.summary.as_deref(), b.body.as_deref()].into_iter().flatten() {
                    content.push_str(part);
                    content.push('\n');
                }
                for k in &b.keywords {
                    content.push_str(&k.value);
                    content.push('\n');
                }
                ins_fts.execute(params![id, title.join(" | "), content])?;
            }
            let mut ins_scene = tx.prepare_cached(
                "INSERT INTO scenes(file, id, format, parent, pov, words, timeline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for s in analysis.scenes.iter().filter(|s| changed.contains(&s.file)) {
                let sc = &s.scene;
                let id = file_ids[s.file];
                let timeline =
                    serde_json::Value::Object(sc.timeline.iter().map(|(k, v)| (k.clone(), (*v).into())).collect());
                let format = match sc.format {
                    SceneFormat::Markdown => "markdown",
                    SceneFormat::Fountain => "fountain",
                };
                ins_scene.execute(params![
                    id,
                    sc.id.value,
                    format,
                    sc.parent.as_ref().map(|p| p.value.as_str()),
                    sc.pov.as_ref().map(|p| p.value.as_str()),
                    sc.word_count as i64,
                    timeline.to_string()
                ])?;
                let text = analysis.text(s.file);
                ins_fts.execute(params![id, sc.title.as_deref().unwrap_or(&sc.id.value), &text[sc.body.clone()]])?;
            }
        }

        // Mentions: of changed scenes, or of every scene when the names changed.
        if stats.relinked {
            tx.execute("DELETE FROM mentions", [])?;
        }
        {
            let mut ins_mention = tx
                .prepare_cached("INSERT INTO mentions(scene, bucket, start, end, alias) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for s in analysis.scenes.iter().filter(|s| stats.relinked || changed.contains(&s.file)) {
                let id = file_ids[s.file];
                for m in &s.mentions {
                    let bucket = &analysis.buckets[m.bucket as usize].bucket.id.value;
                    let alias = &analysis.dictionary.entry(m.alias).alias;
                    ins_mention.execute(params![id, bucket, m.start as i64, m.end as i64, alias])?;
                }
            }
        }
        tx.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('dictionary', ?1)", params![fingerprint])?;
        tx.commit()?;
        Ok(stats)
    }

    /// Every mention of a bucket: `(scene path, range, alias)`, in path and position order.
    pub fn mentions_of(&self, bucket: &str) -> Result<Vec<MentionRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.path, m.start, m.end, m.alias FROM mentions m JOIN files f ON f.id = m.scene WHERE m.bucket = ?1 ORDER BY f.path, m.start",
        )?;
        let rows = stmt.query_map([bucket], |r| {
            Ok(MentionRow {
                scene_path: r.get(0)?,
                start: r.get::<_, i64>(1)? as usize,
                end: r.get::<_, i64>(2)? as usize,
                alias: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Buckets mentioned in a scene, with how often, most mentioned first.
    pub fn buckets_in_scene(&self, scene_path: &str) -> Result<Vec<(String, usize)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.bucket, count(*) AS n FROM mentions m JOIN files f ON f.id = m.scene WHERE f.path = ?1 GROUP BY m.bucket ORDER BY n DESC, m.bucket",
        )?;
        let rows = stmt.query_map([scene_path], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Buckets one relation away, in either direction.
    pub fn neighbours(&self, bucket: &str) -> Result<Vec<Neighbour>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT type, target, 1 FROM relations WHERE source = ?1 UNION ALL SELECT type, source, 0 FROM relations WHERE target = ?1 ORDER BY 2, 1",
        )?;
        let rows = stmt.query_map([bucket], |r| {
            Ok(Neighbour { relation: r.get(0)?, bucket: r.get(1)?, outgoing: r.get::<_, i64>(2)? == 1 })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Direct children of a container: `(id, kind)` of buckets and scenes whose parent it is.
    pub fn children(&self, parent: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind FROM containers WHERE parent = ?1 UNION ALL SELECT s.id, 'scene' FROM scenes s WHERE s.parent = ?1 ORDER BY 1",
        )?;
        let rows = stmt.query_map([parent], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Full-text search (FTS5 with BM25) over scene text and bucket names, summaries and bodies.
    /// The query is taken as plain words, not FTS syntax.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, StoreError> {
        let terms: Vec<String> =
            query.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(|t| format!("\"{t}\"")).collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let fts_query = terms.join(" OR ");
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.path, fts.title, bm25(fts) AS rank FROM fts JOIN files f ON f.id = fts.rowid WHERE fts MATCH ?1 ORDER BY rank LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![fts_query, limit as i64], |r| {
            Ok(SearchHit { path: r.get(0)?, title: r.get(1)?, rank: r.get(2)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number of rows in a table (for tests and stats).
    pub fn count(&self, table: &str) -> Result<usize, StoreError> {
        let allowed = ["files", "containers", "aliases", "relations", "scenes", "mentions", "fts"];
        if !allowed.contains(&table) {
            return Ok(0);
        }
        let n: i64 = self.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        Ok(n as usize)
    }
}

fn delete_file_rows(tx: &rusqlite::Transaction<'_>, id: i64, and_file: bool) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM containers WHERE file = ?1",
        "DELETE FROM aliases WHERE file = ?1",
        "DELETE FROM relations WHERE file = ?1",
        "DELETE FROM scenes WHERE file = ?1",
        "DELETE FROM mentions WHERE scene = ?1",
        "DELETE FROM fts WHERE rowid = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([id])?;
    }
    if and_file {
        tx.prepare_cached("DELETE FROM files WHERE id = ?1")?.execute([id])?;
    }
    Ok(())
}

fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Config => "config",
        FileKind::Bucket => "bucket",
        FileKind::Scene(SceneFormat::Markdown) => "scene",
        FileKind::Scene(SceneFormat::Fountain) => "fountain",
        FileKind::Other => "other",
    }
}

/// The rest of a bucket, as JSON, for consumers that need every field.
fn bucket_data(b: &showrunner_model::bucket::Bucket) -> String {
    let positions =
        |p: &[(String, i64)]| serde_json::Value::Object(p.iter().map(|(k, v)| (k.clone(), (*v).into())).collect());
    serde_json::json!({
        "aliases": b.aliases.iter().map(|a| &a.value).collect::<Vec<_>>(),
        "tags": b.tags,
        "attributes": b.attributes.iter().map(|a| (a.key.value.clone(), a.value.clone())).collect::<serde_json::Map<_, _>>(),
        "relations": b.relations.iter().map(|r| serde_json::json!({"type": r.rel_type, "target": r.target.value})).collect::<Vec<_>>(),
        "keywords": b.keywords.iter().map(|k| &k.value).collect::<Vec<_>>(),
        "sources": b.sources,
        "timeline_positions": positions(&b.timeline_positions),
        "model_preference": b.model_preference,
        "version": b.version,
    })
    .to_string()
}

/// A hash of every (alias, bucket id) pair: when it changes, every scene must be relinked.
fn dictionary_fingerprint(analysis: &Analysis) -> u64 {
    let mut pairs: Vec<(&str, &str)> = analysis
        .buckets
        .iter()
        .flat_map(|b| b.bucket.names().map(move |n| (n.value.as_str(), b.bucket.id.value.as_str())))
        .collect();
    pairs.sort_unstable();
    let mut bytes = Vec::new();
    for (a, id) in pairs {
        bytes.extend_from_slice(a.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(id.as_bytes());
        bytes.push(1);
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}
