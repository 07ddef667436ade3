//! The `goals` part of the stats: project words against the project goal and its deadline, words
//! written today against the daily goal (or the quota the deadline implies, as Scrivener
//! computes it) and words of the current writing session against the session goal. The words at
//! the start of the day and of the session come from the saved history
//! (`showrunner_store::progress`); this module only does the arithmetic, so the CLI and every
//! editor show the same numbers.

use serde::Serialize;
use showrunner_model::goals::{Date, GoalsConfig};
use showrunner_model::text::group_digits;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Goals {
    /// Today, the writer's local date (`YYYY-MM-DD`).
    pub date: String,
    /// Words in every scene now.
    pub words: usize,
    /// `goals.project_words`.
    pub project_goal: Option<u64>,
    /// `words` as a whole percentage of the project goal.
    pub project_percent: Option<u32>,
    /// `goals.deadline` (`YYYY-MM-DD`).
    pub deadline: Option<String>,
    /// Days until the deadline, today and the deadline included (0 or less once it has passed).
    pub days_left: Option<i64>,
    /// Words to write today: `goals.daily_words`, or else the quota from the deadline.
    pub daily_goal: Option<u64>,
    /// Whether `daily_goal` is the quota derived from the project goal and the deadline:
    /// (project goal − words at the start of today) ÷ days left, rounded up.
    pub daily_from_deadline: bool,
    /// Words written today (negative when more was cut than written).
    pub today: i64,
    pub today_percent: Option<u32>,
    /// `goals.session_words`.
    pub session_goal: Option<u64>,
    /// Words written in the current writing session.
    pub session: i64,
    pub session_percent: Option<u32>,
    /// When the current session began (its first save, Unix milliseconds); `null` when no save
    /// is recent enough (a session ends after 30 minutes without a save).
    pub session_started: Option<i64>,
    /// Words in the scene of the request's `uri` (unsaved text counts).
    pub scene_words: Option<usize>,
    /// Words in the request's `range` of that scene.
    pub selection_words: Option<usize>,
}

/// What the history says about the start of the day and of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Starts {
    pub today: Date,
    pub day_start_words: usize,
    pub session_start_words: usize,
    pub session_started: Option<i64>,
}

fn percent(done: i64, goal: Option<u64>) -> Option<u32> {
    let goal = goal.filter(|&g| g > 0)?;
    Some((done.max(0) as u128 * 100 / u128::from(goal)).min(u128::from(u32::MAX)) as u32)
}

/// The goals' numbers for a project with `words` words now.
pub fn goals(cfg: &GoalsConfig, words: usize, starts: &Starts) -> Goals {
    let days_left = cfg.deadline.map(|d| d.days() - starts.today.days() + 1);
    let quota = match (cfg.project_words, days_left) {
        (Some(goal), Some(days)) => {
            let remaining = goal.saturating_sub(starts.day_start_words as u64);
            Some(if days >= 1 { remaining.div_ceil(days as u64) } else { remaining })
        }
        _ => None,
    };
    let daily_goal = cfg.daily_words.or(quota);
    let today = words as i64 - starts.day_start_words as i64;
    let session = words as i64 - starts.session_start_words as i64;
    Goals {
        date: starts.today.to_string(),
        words,
        project_goal: cfg.project_words,
        project_percent: percent(words as i64, cfg.project_words),
        deadline: cfg.deadline.map(|d| d.to_string()),
        days_left,
        daily_goal,
        daily_from_deadline: cfg.daily_words.is_none() && quota.is_some(),
        today,
        today_percent: percent(today, daily_goal),
        session_goal: cfg.session_words,
        session,
        session_percent: percent(session, cfg.session_words),
        session_started: starts.session_started,
        scene_words: None,
        selection_words: None,
    }
}

fn signed(n: i64) -> String {
    if n < 0 {
        format!("−{}", group_digits(n.unsigned_abs() as usize))
    } else {
        group_digits(n as usize)
    }
}

fn of(done: i64, goal: Option<u64>, pct: Option<u32>) -> String {
    match (goal, pct) {
        (Some(g), Some(p)) => format!("{} of {} ({p}%)", signed(done), group_digits(g as usize)),
        _ => signed(done),
    }
}

/// The goals as lines for a terminal.
pub fn to_text(g: &Goals) -> String {
    let mut out = String::from("Goals\n");
    out.push_str(&format!("  Project   {} words", of(g.words as i64, g.project_goal, g.project_percent)));
    if let (Some(deadline), Some(days)) = (&g.deadline, g.days_left) {
        let left = match days {
            d if d < 1 => "passed".to_string(),
            1 => "today".to_string(),
            d => format!("{d} days left"),
        };
        out.push_str(&format!(", due {deadline} ({left})"));
    }
    out.push('\n');
    let quota = if g.daily_from_deadline { " — the deadline's daily quota" } else { "" };
    out.push_str(&format!("  Today     {} words{quota}  ({})\n", of(g.today, g.daily_goal, g.today_percent), g.date));
    let session = if g.session_started.is_some() { "" } else { "  (no save in the last 30 minutes)" };
    out.push_str(&format!("  Session   {} words{session}\n", of(g.session, g.session_goal, g.session_percent)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_from_the_deadline_counts_today() {
        let cfg = GoalsConfig {
            project_words: Some(90_000),
            deadline: Date::parse("2027-03-01"),
            daily_words: None,
            session_words: Some(500),
        };
        let starts = Starts {
            today: Date::parse("2027-02-26").unwrap(),
            day_start_words: 80_001,
            session_start_words: 80_300,
            session_started: Some(1),
        };
        let g = goals(&cfg, 80_501, &starts);
        // 2027 is no leap year: Feb 26, 27, 28 and Mar 1 are left; 9,999 ÷ 4 rounded up.
        assert_eq!(g.days_left, Some(4));
        assert_eq!((g.daily_goal, g.daily_from_deadline), (Some(2_500), true));
        assert_eq!((g.today, g.today_percent), (500, Some(20)));
        assert_eq!((g.session, g.session_percent), (201, Some(40)));
        assert_eq!(g.project_percent, Some(89));
        let text = to_text(&g);
        assert!(text.contains("Project   80,501 of 90,000 (89%) words, due 2027-03-01 (4 days left)"), "{text}");
        assert!(
            text.contains("Today     500 of 2,500 (20%) words — the deadline's daily quota  (2027-02-26)"),
            "{text}"
        );

        // A daily goal wins over the quota; a passed deadline asks for everything left.
        let g = goals(&GoalsConfig { daily_words: Some(1_000), ..cfg.clone() }, 80_000, &starts);
        assert_eq!((g.daily_goal, g.daily_from_deadline, g.today, g.today_percent), (Some(1_000), false, -1, Some(0)));
        let late = Starts { today: Date::parse("2027-03-05").unwrap(), ..starts };
        let g = goals(&cfg, 80_001, &late);
        assert_eq!((g.days_left, g.daily_goal), (Some(-3), Some(9_999)));
        assert!(to_text(&g).contains("(passed)"));
        let g = goals(&GoalsConfig::default(), 10, &starts);
        assert_eq!((g.daily_goal, g.today_percent, g.project_percent), (None, None, None));
        assert!(to_text(&g).contains("Today     −79,991 words  (2027-02-26)"), "{}", to_text(&g));
    }
}
