//! THE export plan: which scenes an export holds, in reading order, grouped into chapters, with
//! the metadata every format prints. Every format renders a [`Plan`]; nothing else decides what
//! an export contains.
//!
//! A target is the project (none, `.`, or the project's name), a structure id (season, arc, act,
//! chapter), a scene id, or a scene's path relative to the project root. Scenes come from the
//! analysis of the files as saved on the current timeline: their bodies only (frontmatter and
//! Fountain title pages stripped, line ends made `\n`); an AI edit that waits at a gate or sits
//! unsaved in an editor is in no file, so never in an export.

use showrunner_model::analysis::Analysis;
use showrunner_model::scene::SceneFormat;
use showrunner_model::story::Story;

use crate::ExportError;

/// What the export is of (read as every command reads its target).
pub use showrunner_model::target::Target;

/// The title page's and metadata's facts, from `showrunner.yaml` (`title:`, `author:`,
/// `contact:`) and the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub title: String,
    pub author: Option<String>,
    pub contact: Option<String>,
    /// The project's name (EPUB's identifier is made from it).
    pub project: String,
    /// The project's first language (`linking: { language }`; `en` by default).
    pub language: String,
    /// The manuscript's typeface (`manuscript: { font }`).
    pub font: showrunner_model::config::ManuscriptFont,
    /// The paper docx and pdf are set on (`manuscript: { paper }`).
    pub paper: showrunner_model::config::Paper,
}

impl Meta {
    /// The surname for a manuscript's running header: the last word of `author:`.
    pub fn surname(&self) -> Option<&str> {
        self.author.as_deref().and_then(|a| a.split_whitespace().last())
    }

    /// A manuscript's running header before its page number: "Surname / TITLE / ".
    pub fn running_head(&self) -> String {
        let mut head = String::new();
        if let Some(s) = self.surname() {
            head.push_str(s);
            head.push_str(" / ");
        }
        head.push_str(&self.title.to_uppercase());
        head.push_str(" / ");
        head
    }

    /// The contact block of a manuscript's title page, line by line (the author's name when
    /// no contact is given).
    pub fn contact_lines(&self) -> Vec<String> {
        match (&self.contact, &self.author) {
            (Some(c), _) => c.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
            (None, Some(a)) => vec![a.clone()],
            (None, None) => Vec::new(),
        }
    }
}

/// A manuscript title page's word count: "about 88,000 words".
pub fn about_words(words: usize) -> String {
    format!("about {} words", thousands(rounded_words(words)))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedScene {
    pub id: String,
    /// Relative to the project root.
    pub path: String,
    pub format: SceneFormat,
    pub title: Option<String>,
    /// The body as saved: frontmatter or title page stripped, `\r\n` and `\r` made `\n`.
    pub body: String,
    pub words: usize,
    /// A Fountain scene's title page (`(key, value)`, keys lower-cased, `draft_date`); empty
    /// for Markdown or a script without one.
    pub title_page: Vec<(String, String)>,
}

/// Scenes under one innermost structure node (their chapter), in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// The structure id (none for scenes outside the structure).
    pub id: Option<String>,
    /// The heading an export prints; none for a one-scene export or scenes outside the structure.
    pub title: Option<String>,
    pub scenes: Vec<PlannedScene>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub target: Target,
    pub meta: Meta,
    pub chapters: Vec<Chapter>,
}

impl Plan {
    pub fn scenes(&self) -> impl Iterator<Item = &PlannedScene> {
        self.chapters.iter().flat_map(|c| c.scenes.iter())
    }

    pub fn words(&self) -> usize {
        self.scenes().map(|s| s.words).sum()
    }

    /// A name for the output file: the target's id (or the project's title), as a slug.
    pub fn file_stem(&self) -> String {
        let raw = match &self.target {
            Target::Project => self.meta.title.as_str(),
            Target::Structure { id, .. } | Target::Scene { id, .. } => id.as_str(),
            Target::Folder { path } => path.rsplit('/').next().unwrap_or(path),
        };
        showrunner_model::id::slugify(raw).unwrap_or_else(|| "export".to_string())
    }

    /// Whether every scene is a Fountain screenplay.
    pub fn is_screenplay(&self) -> bool {
        self.scenes().next().is_some() && self.scenes().all(|s| s.format == SceneFormat::Fountain)
    }
}

/// `\r\n` and lone `\r` as `\n`.
pub fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Plans the export of `target` (see the module documentation).
pub fn plan(analysis: &Analysis, target: Option<&str>) -> Result<Plan, ExportError> {
    let story = Story::new(analysis);
    let cfg = &analysis.config;
    let meta = Meta {
        title: cfg.export_title().to_string(),
        author: cfg.author.clone().filter(|a| !a.trim().is_empty()),
        contact: cfg.contact.clone().filter(|c| !c.trim().is_empty()),
        project: cfg.name.clone(),
        language: cfg.linking.languages.first().cloned().unwrap_or_else(|| "en".to_string()),
        font: cfg.manuscript_font,
        paper: cfg.paper,
    };
    let target = Target::resolve(analysis, target).map_err(ExportError::Target)?;
    let chosen = target.scenes(analysis, &story);
    if chosen.is_empty() {
        return Err(ExportError::Empty(match &target {
            Target::Scene { path, .. } => format!("scene {path} is not part of the story"),
            other => format!("{} has no scenes", other.describe(&meta.project)),
        }));
    }
    let mut chapters: Vec<Chapter> = Vec::new();
    for s in chosen {
        let entry = &analysis.scenes[s];
        let file = &analysis.files[entry.file];
        let text = file.text().unwrap_or("");
        let body = text.get(entry.scene.body.clone()).unwrap_or("");
        let planned = PlannedScene {
            id: entry.scene.id.value.clone(),
            path: file.path.clone(),
            format: entry.scene.format,
            title: entry.scene.title.clone(),
            body: normalize_newlines(body).trim_matches('\n').to_string(),
            words: entry.scene.word_count,
            // The title page's own lines, as the analysis found them (not the whole script again).
            title_page: match (entry.scene.format, entry.scene.frontmatter.clone().and_then(|r| text.get(r))) {
                (SceneFormat::Fountain, Some(page)) => {
                    showrunner_model::fountain::title_page(&normalize_newlines(page))
                }
                _ => Vec::new(),
            },
        };
        let chapter = story.chain(analysis, s).first().map(|&b| &analysis.buckets[b].bucket);
        let id = chapter.map(|b| b.id.value.clone());
        let title = match &target {
            Target::Scene { .. } => None,
            _ => chapter.map(|b| b.name.value.clone()),
        };
        match chapters.last_mut() {
            Some(last) if last.id == id => last.scenes.push(planned),
            _ => chapters.push(Chapter { id, title, scenes: vec![planned] }),
        }
    }
    Ok(Plan { target, meta, chapters })
}

/// The word count a title page shows, rounded as agents and editors expect: to the nearest 100
/// for short works, to the nearest 1,000 for a novel (40,000 words and more); never 0.
pub fn rounded_words(words: usize) -> usize {
    let step = if words >= 40_000 { 1000 } else { 100 };
    (((words + step / 2) / step) * step).max(step)
}

/// `123456` → `123,456` (the model's one digit grouper).
pub use showrunner_model::text::group_digits as thousands;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_head_is_surname_title_page() {
        let meta = |author: Option<&str>| Meta {
            title: "The Keeper's Daughter".into(),
            author: author.map(str::to_string),
            contact: None,
            project: "storm".into(),
            language: "en".into(),
            font: Default::default(),
            paper: Default::default(),
        };
        assert_eq!(meta(Some("Zoë Łukasz-Brontë")).running_head(), "Łukasz-Brontë / THE KEEPER'S DAUGHTER / ");
        assert_eq!(meta(Some("李雷")).surname(), Some("李雷"));
        assert_eq!(meta(None).running_head(), "THE KEEPER'S DAUGHTER / ");
        assert_eq!(meta(Some("李雷")).contact_lines(), ["李雷"]);
        assert_eq!(about_words(87_500), "about 88,000 words");
    }

    #[test]
    fn word_counts_round_as_agents_expect() {
        assert_eq!(rounded_words(0), 100);
        assert_eq!(rounded_words(1_249), 1_200);
        assert_eq!(rounded_words(1_250), 1_300);
        assert_eq!(rounded_words(39_949), 39_900);
        assert_eq!(rounded_words(87_499), 87_000);
        assert_eq!(rounded_words(87_500), 88_000);
        assert_eq!(thousands(88_000), "88,000");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
