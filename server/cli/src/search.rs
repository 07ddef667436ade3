//! `showrunner search QUERY`: the story and the project's memory (runs, history), through the
//! one search in `store::search`.

use std::io::Write;

use anyhow::{bail, Result};
use showrunner_model::goals::Date;
use showrunner_store::discover::project_of;
use showrunner_store::load_project;
use showrunner_store::search::{day_ms, search_project, Query, Scope};

use crate::Format;

#[derive(clap::Args)]
pub struct SearchArgs {
    /// Words to find (every word must match; "quoted words" match as a phrase)
    query: String,
    /// Where to search: the story (scenes, buckets, research), the runs (prompts, answers,
    /// reasoning, verdicts, defects, decisions, history events), or all
    #[arg(long = "in", value_name = "WHERE", default_value = "all")]
    scope: String,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Only hits of this kind (a bucket kind, `scene`, `prompt`, `answer`, `reasoning`,
    /// `verdict`, `defect`, `decision`, `gate`, `error`, `request`, `event`); repeatable
    #[arg(long = "kind", value_name = "KIND")]
    kinds: Vec<String>,
    /// Runs of this pipeline only (e.g. draft-scene, agent:editor)
    #[arg(long)]
    pipeline: Option<String>,
    /// Runs with this model only (provider/model, or the model's name)
    #[arg(long)]
    model: Option<String>,
    /// Said on or after this day (YYYY-MM-DD, UTC)
    #[arg(long, value_name = "DAY")]
    since: Option<String>,
    /// Said before the end of this day (YYYY-MM-DD, UTC)
    #[arg(long, value_name = "DAY")]
    until: Option<String>,
    /// History events of this timeline only
    #[arg(long)]
    timeline: Option<String>,
    /// At most this many hits
    #[arg(long, default_value = "20")]
    limit: usize,
    /// The project (default: the current folder's)
    #[arg(long, default_value = ".")]
    dir: std::path::PathBuf,
}

const DAY_MS: i64 = 86_400_000;

fn day(s: &str, what: &str, end: bool) -> Result<i64> {
    match day_ms(s, end) {
        Some(ms) => Ok(ms),
        None => bail!("--{what} `{s}` should be a day, YYYY-MM-DD"),
    }
}

pub fn run(args: &SearchArgs) -> Result<bool> {
    let scope: Scope = args.scope.parse().map_err(anyhow::Error::msg)?;
    let q = Query {
        text: args.query.clone(),
        scope,
        kinds: args.kinds.clone(),
        pipeline: args.pipeline.clone(),
        model: args.model.clone(),
        scene: None,
        since: args.since.as_deref().map(|s| day(s, "since", false)).transpose()?,
        until: args.until.as_deref().map(|s| day(s, "until", true)).transpose()?,
        timeline: args.timeline.clone(),
        limit: args.limit,
    };
    let root = project_of(&args.dir)?;
    let project = load_project(&root);
    let hits = search_project(&root, &project.analysis, &project.hashes, &q)?;
    let mut out = std::io::stdout().lock();
    if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &hits)?;
        writeln!(out)?;
        return Ok(true);
    }
    if hits.is_empty() {
        writeln!(out, "Nothing matches “{}”.", args.query)?;
        return Ok(true);
    }
    for h in &hits {
        let mut head = format!("{} [{}]", h.title, h.kind);
        if let Some(p) = &h.path {
            head.push_str(&format!(" {p}"));
        }
        if let Some(r) = &h.run {
            head.push_str(&format!(" · run {r}"));
        }
        if let Some(m) = &h.model {
            head.push_str(&format!(" · {m}"));
        }
        if let Some(t) = h.time {
            let d = Date::from_days(t.div_euclid(DAY_MS));
            head.push_str(&format!(" · {d}"));
        }
        writeln!(out, "{head}")?;
        writeln!(out, "    {}", h.snippet.split_whitespace().collect::<Vec<_>>().join(" "))?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_are_utc_midnights() {
        assert_eq!(super::day("1970-01-02", "since", false).unwrap(), super::DAY_MS);
        assert_eq!(super::day("1970-01-02", "until", true).unwrap(), 2 * super::DAY_MS);
        assert!(super::day("yesterday", "since", false).unwrap_err().to_string().contains("YYYY-MM-DD"));
    }
}
