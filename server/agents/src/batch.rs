//! Batches: one run of a pipeline per scene of some targets, queued in the project's run store
//! ([`Queue`], the one way runs are queued — batches and plans alike) and worked by whichever
//! process takes them (`showrunner batch`, or a language server). What the CLI and the editors
//! share: which scenes the targets and a `--where` filter mean ([`scenes_of`], [`Filter`]), how
//! a taken run gets its scene's context ([`prepare`]), and a batch's counts ([`Counts`]).

use std::path::Path;

use serde_json::Value;
use showrunner_model::analysis::Analysis;
use showrunner_model::story::Story;
use showrunner_model::target::Target;
use showrunner_pipeline::def::Pipeline;
use showrunner_pipeline::{Run, RunError};
use showrunner_store::runs::{RunRow, Runs};

use crate::studio::{new_run_id, run_context, scene_vars};

/// The scenes (indices into `analysis.scenes`, each once, in the order named) of `targets`
/// that `filter` lets through; an error says which target is unknown or that none is left.
pub fn scenes_of(a: &Analysis, targets: &[String], filter: Option<&str>) -> Result<Vec<usize>, String> {
    if targets.is_empty() {
        return Err(
            "say which scenes: scene files or ids, folders, or parts of the story (e.g. `ch03`, `season-1`, `.` for all)"
                .into(),
        );
    }
    let filter = filter.map(Filter::parse).transpose()?;
    let story = Story::new(a);
    let mut scenes: Vec<usize> = Vec::new();
    for t in targets {
        scenes.extend(Target::resolve(a, Some(t))?.scenes(a, &story));
    }
    let mut seen = std::collections::HashSet::new();
    scenes.retain(|s| seen.insert(*s));
    if let Some(f) = &filter {
        scenes.retain(|&s| f.holds(a, s));
    }
    if scenes.is_empty() {
        return Err(format!("no scene to run on{}", if filter.is_some() { " (--where left none)" } else { "" }));
    }
    Ok(scenes)
}

/// Checks that `pipeline` can run in a batch (a batch has no selection).
pub fn batchable(pipeline: &Pipeline) -> Result<(), String> {
    if pipeline.needs_selection() {
        return Err(format!(
            "`{}` works on a selection, which a batch does not have: run it on one scene with a selection",
            pipeline.id
        ));
    }
    Ok(())
}

/// How a batch's runs are queued: in which batch, how urgent, on which model.
pub struct Queue<'a> {
    pub runs: &'a Runs,
    pub batch: &'a str,
    pub priority: i64,
    /// The model for every model step (above the cascade).
    pub model: Option<&'a str>,
}

impl Queue<'_> {
    /// Queues one run of `pipeline` per scene, each taken only after the runs it `needs`; their
    /// ids. The scene's context is gathered when a worker takes the run (`vars` null until
    /// then): in parallel, and as the story is then.
    pub fn scenes(
        &self,
        a: &Analysis,
        pipeline: &Pipeline,
        scenes: &[usize],
        needs: &[String],
        judged: bool,
    ) -> Result<Vec<String>, RunError> {
        let pipeline = if judged { pipeline.judged() } else { pipeline.clone() };
        let mut ids = Vec::with_capacity(scenes.len());
        for &s in scenes {
            let path = &a.files[a.scenes[s].file].path;
            let mut run = Run::new(&new_run_id(&pipeline.id), &pipeline, path, Value::Null);
            run.model_override = self.model.map(str::to_string);
            run.judged = judged;
            let data = serde_json::to_value(&run).map_err(|e| RunError::Store(e.to_string()))?;
            self.runs
                .enqueue(&run.id, &run.pipeline, &run.scene, self.priority, Some(self.batch), needs, &data)
                .map_err(RunError::store)?;
            ids.push(run.id);
        }
        Ok(ids)
    }
}

/// Readies a run a worker took: a queued run's scene context is gathered now (its `vars` are
/// null until then), as the story is now; one whose scene is gone cannot run.
pub fn prepare(root: &Path, a: &Analysis, run: &mut Run) -> Result<(), String> {
    if run.vars.is_null() {
        let s = a.scene_at(&run.scene).ok_or_else(|| format!("the scene {} is gone", run.scene))?;
        let (context, _, _) = run_context(root, a, s, None, &run.pipeline);
        run.vars = scene_vars(a, s, &context, None, None);
    }
    run.prepare_resume();
    Ok(())
}

/// A batch's runs by what they are doing.
#[derive(Default, Debug, Clone, PartialEq, serde::Serialize)]
pub struct Counts {
    pub total: usize,
    pub done: usize,
    pub running: usize,
    pub waiting: usize,
    /// Failed, or interrupted (their process died): `retry-failed` takes both up again.
    pub failed: usize,
    pub queued: usize,
    pub cancelled: usize,
}

impl Counts {
    pub fn of(rows: &[RunRow]) -> Counts {
        let mut c = Counts { total: rows.len(), ..Counts::default() };
        for r in rows {
            match r.live_state() {
                "succeeded" => c.done += 1,
                "running" => c.running += 1,
                "waiting" => c.waiting += 1,
                "failed" | "interrupted" => c.failed += 1,
                "cancelled" => c.cancelled += 1,
                _ => c.queued += 1,
            }
        }
        c
    }

    /// Whether no run of the batch will move without a human or a retry.
    pub fn settled(&self) -> bool {
        self.running == 0 && self.queued == 0
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} done · {} running · {} waiting at a gate · {} failed · {} queued",
            self.done, self.total, self.running, self.waiting, self.failed, self.queued
        )?;
        if self.cancelled > 0 {
            write!(f, " · {} cancelled", self.cancelled)?;
        }
        Ok(())
    }
}

/// `--where`: comparisons of a scene's fields joined with `and`.
pub struct Filter(Vec<(String, String, String)>);

const OPS: &[&str] = &["==", "!=", "<=", ">=", "^=", "<", ">"];

impl Filter {
    pub fn parse(expr: &str) -> Result<Filter, String> {
        let mut terms = Vec::new();
        for part in expr.split(" and ") {
            let part = part.trim();
            let Some((at, op)) = OPS.iter().filter_map(|op| part.find(op).map(|i| (i, *op))).min_by_key(|(i, _)| *i)
            else {
                return Err(format!("--where: `{part}` is no comparison; write e.g. `words == 0`, `pov == alice`, `path ^= story/ch03/`"));
            };
            let field = part[..at].trim().to_string();
            let value = part[at + op.len()..].trim().trim_matches(|c| c == '"' || c == '\'').to_string();
            if !matches!(field.as_str(), "words" | "pov" | "id" | "path" | "title") {
                return Err(format!("--where: no field `{field}`; scenes have words, pov, id, path, title"));
            }
            if field == "words" && value.parse::<usize>().is_err() {
                return Err(format!("--where: `words` is compared with a number, not `{value}`"));
            }
            terms.push((field, op.to_string(), value));
        }
        Ok(Filter(terms))
    }

    pub fn holds(&self, a: &Analysis, s: usize) -> bool {
        let scene = &a.scenes[s].scene;
        self.0.iter().all(|(field, op, value)| {
            if field == "words" {
                return compare(&scene.word_count, op, &value.parse::<usize>().unwrap_or(0));
            }
            let have = match field.as_str() {
                "pov" => scene.pov.as_ref().map(|p| p.value.as_str()).unwrap_or(""),
                "id" => scene.id.value.as_str(),
                "path" => a.files[a.scenes[s].file].path.as_str(),
                _ => scene.title.as_deref().unwrap_or(""),
            };
            match op.as_str() {
                "^=" => have.starts_with(value.as_str()),
                _ => compare(have, op, value.as_str()),
            }
        })
    }
}

/// `have OP want` for the comparisons of `--where` (`^=` is for text only: false here).
fn compare<T: Ord + ?Sized>(have: &T, op: &str, want: &T) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let o = have.cmp(want);
    match op {
        "==" => o == Equal,
        "!=" => o != Equal,
        "<" => o == Less,
        ">" => o == Greater,
        "<=" => o != Greater,
        ">=" => o != Less,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_compares_numbers_and_text() {
        assert!(compare(&3usize, "<", &5) && compare(&5usize, "<=", &5) && !compare(&5usize, ">", &5));
        assert!(compare(&0usize, "==", &0) && compare(&1usize, "!=", &0) && compare(&7usize, ">=", &5));
        assert!(!compare(&3usize, "^=", &3), "`^=` is for text");
        assert!(compare("alice", "<", "tom") && compare("tom", "==", "tom") && !compare("tom", "!=", "tom"));
        let f = Filter::parse("words >= 10 and path ^= story/ch01/").unwrap();
        assert_eq!(f.0.len(), 2);
        assert_eq!((f.0[1].0.as_str(), f.0[1].1.as_str(), f.0[1].2.as_str()), ("path", "^=", "story/ch01/"));
    }
}
